# The knobs of a deployment. Every one has a default that works for a first deploy except those that only
# the deployer can know: the GitHub repository and the Terraform state bucket.

variable "project" {
  description = "Name prefix of every resource, and the value of the Project tag that scopes the CI role."
  type        = string
  default     = "counter-ledger"

  validation {
    # Table, function, role and queue names all derive from it; 20 characters leaves room for suffixes.
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.project))
    error_message = "project must be 2-20 characters of a-z, 0-9 and -, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of everything except the CloudFront WAF web ACL (always us-east-1)."
  type        = string
  default     = "us-east-1"
}

variable "counter_id" {
  description = "The counter the handlers serve (COUNTER_ID); its aggregate item is created at counter_min, version 0."
  type        = string
  default     = "default"
}

variable "counter_min" {
  description = "The counter's lower bound (COUNTER_MIN): a new counter starts there. Fixed once the counter has events."
  type        = number
  default     = 0

  validation {
    condition     = var.counter_min == floor(var.counter_min) && var.counter_min >= 0 && var.counter_min <= 1000000000
    error_message = "counter_min must be an integer from 0 to 1000000000."
  }
}

variable "counter_max" {
  description = "The counter's upper bound (COUNTER_MAX), above counter_min. Fixed once the counter has events."
  type        = number
  default     = 1000000000

  validation {
    condition     = var.counter_max == floor(var.counter_max) && var.counter_max >= 0 && var.counter_max <= 1000000000
    error_message = "counter_max must be an integer from 0 to 1000000000."
  }
}

variable "artifacts_directory" {
  description = "Where `npm run build` wrote the Lambda zips, relative to this directory."
  type        = string
  default     = "../dist"
}

variable "log_retention_days" {
  description = "Retention of the Lambda and API access log groups."
  type        = number
  # A month covers an incident investigation; longer is cheap but rarely read.
  default = 30
}

variable "api_throttle_rate_per_second" {
  description = "Stage-wide steady request rate of the HTTP API."
  type        = number
  # One counter's aggregate item takes about 500 transactional commits a second
  # (docs/architecture.md#where-aws-differs-from-dynamodb-local); staying well below it leaves headroom for
  # reads and bounds what abuse can cost.
  default = 100
}

variable "quota_commands_per_minute" {
  description = "Each user's commands (POST /number) per clock minute, counted exactly in the store; past it 429 with Retry-After. 0 turns it off."
  type        = number
  # Ten a second for a whole minute: no person at the UI gets near it (one command at a time), and a few
  # users' worth stays below one counter's ceiling of about 500 commits a second.
  default = 600

  validation {
    condition     = var.quota_commands_per_minute == floor(var.quota_commands_per_minute) && var.quota_commands_per_minute >= 0 && var.quota_commands_per_minute <= 1000000
    error_message = "quota_commands_per_minute must be an integer from 0 (off) to 1000000."
  }
}

variable "api_throttle_burst_requests" {
  description = "Stage-wide burst of the HTTP API (token bucket size)."
  type        = number
  default     = 200
}

variable "audit_reserved_concurrency" {
  description = "Reserved concurrency of the audit Lambda (GET /number/verify, event proofs, GET /number/digest): how many run at once, at most."
  type        = number
  # Two: one verification and one proof or digest at a time; a third request is refused (API Gateway answers
  # 500, docs/api.md#when-a-function-is-at-its-concurrency) rather than taking concurrency from GET /number.
  # local/limits.ts AUDIT_CONCURRENCY_DEFAULT is the same number.
  default = 2

  validation {
    condition     = contains([1, 2], var.audit_reserved_concurrency)
    error_message = "audit_reserved_concurrency must be 1 or 2: the audit routes are contained, not scaled."
  }
}

variable "audit_request_seconds" {
  description = "How long an audit request (verify, a proof, the digest) is taken to hold one of the audit function's environments, in seconds: it sizes the audit routes' throttles (api.tf)."
  type        = number
  # Proofs and the digest may fill the Merkle tree for up to 5 s, and an incremental verify of a few thousand
  # events after its checkpoint takes about as long; a full replay takes up to the 20 s deadline, and a
  # request beyond the environments is refused by Lambda anyway. With 2 environments: 0.4 requests a second.
  default = 5

  validation {
    # No longer than the audit function's 29 s timeout (lambda.tf).
    condition     = var.audit_request_seconds >= 1 && var.audit_request_seconds <= 29
    error_message = "audit_request_seconds must be from 1 to 29 (the audit function's timeout)."
  }
}

variable "certificate_arn" {
  description = "ACM certificate (in us-east-1) of the site's custom domain; empty serves the *.cloudfront.net name."
  type        = string
  # Only a certificate of your own gives the TLS 1.2 floor (web.tf): CloudFront's default one is held at TLSv1.
  default = ""

  validation {
    condition     = var.certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN in us-east-1 (CloudFront's region), or empty."
  }
}

variable "domain_names" {
  description = "The site's custom domain names (CloudFront aliases), covered by certificate_arn; the first is the site's origin."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.domain_names : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", name))])
    error_message = "domain_names must be lower-case host names such as counter.example.com."
  }
}

variable "web_noncurrent_version_days" {
  description = "Days a replaced or deleted object of the web bucket is kept (to roll a deploy back) before it expires."
  type        = number
  default     = 30
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one IP address may make to the site and its API in a 5-minute window before WAF answers 429."
  type        = number
  # An open tab reads GET /number about once a second while the number moves and 4 times a minute when idle
  # (web/src/poll-policy.ts): at most about 300 requests in 5 minutes, so 2000 lets a handful of busy tabs
  # behind one address (an office's NAT) through, and stops a script at under 7 requests a second.
  default = 2000

  validation {
    # WAF's own bounds of a rate-based rule's limit (100 is the least that every WAF release accepts).
    condition     = var.waf_rate_limit_per_5_minutes == floor(var.waf_rate_limit_per_5_minutes) && var.waf_rate_limit_per_5_minutes >= 100 && var.waf_rate_limit_per_5_minutes <= 2000000000
    error_message = "waf_rate_limit_per_5_minutes must be an integer from 100 to 2000000000."
  }
}

variable "waf_rate_limit_per_token_per_5_minutes" {
  description = "Requests one access token (the Authorization header) may make in a 5-minute window before WAF answers 429."
  type        = number
  # One signed-in person: a few tabs at once, each at most about 300 requests in 5 minutes. Less than the per-IP
  # limit, so that one user cannot take an address's whole allowance; requests without a token are not counted
  # here, only per IP.
  default = 1000

  validation {
    condition = var.waf_rate_limit_per_token_per_5_minutes == floor(var.waf_rate_limit_per_token_per_5_minutes) && var.waf_rate_limit_per_token_per_5_minutes >= 100 && var.waf_rate_limit_per_token_per_5_minutes <= 2000000000
    # That it is at most the per-IP limit is the web ACL's precondition (web.tf).
    error_message = "waf_rate_limit_per_token_per_5_minutes must be an integer from 100 to 2000000000."
  }
}

variable "projector_iterator_age_alarm_ms" {
  description = "Alarm when the oldest unprojected ledger record is older than this."
  type        = number
  # The projector normally runs seconds behind; a minute means it is stuck or failing.
  default = 60000
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (SNS sends it a confirmation first); empty subscribes none."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address, or empty."
  }
}

variable "api_5xx_rate_alarm_percent" {
  description = "Alarm when more than this share (%) of the API's answers are 5xx, in 3 of 5 minutes."
  type        = number
  # A few 503s under contention are the contract working (clients retry with their keys); 1% is not that.
  default = 1
}

variable "api_429_rate_alarm_percent" {
  description = "Alarm when more than this share (%) of the API's answers, or of the requests WAF judged, are 429, in 3 of 5 minutes."
  type        = number
  # A tab or a script over its quota now and then is expected; a tenth of all answers is clients starved.
  default = 10
}

variable "verify_alarm_hours" {
  description = "Alarm when no verify has passed in this many hours (1 to 24)."
  type        = number
  default     = 24

  validation {
    # An alarm looks back at most a day: 24 periods of an hour.
    condition     = var.verify_alarm_hours == floor(var.verify_alarm_hours) && var.verify_alarm_hours >= 1 && var.verify_alarm_hours <= 24
    error_message = "verify_alarm_hours must be an integer from 1 to 24."
  }
}

variable "verify_interval_minutes" {
  description = "Minutes between scheduled verifications of the ledger (verify.tf); well under verify_alarm_hours."
  type        = number
  default     = 60

  validation {
    # `rate(1 minutes)` is not a valid expression (it would be `rate(1 minute)`), so 2 is the least.
    condition     = var.verify_interval_minutes == floor(var.verify_interval_minutes) && var.verify_interval_minutes >= 2 && var.verify_interval_minutes <= 1440
    error_message = "verify_interval_minutes must be an integer from 2 to 1440."
  }
}

variable "lambda_deployment_config" {
  description = "CodeDeploy configuration that shifts each function's `live` alias to a new version (deploy.tf)."
  type        = string
  # 10% of invocations for 5 minutes, then all: long enough for the Errors alarms (2 bad minutes of 5) to fire.
  default = "CodeDeployDefault.LambdaCanary10Percent5Minutes"

  validation {
    condition     = can(regex("^CodeDeployDefault\\.Lambda(Canary|Linear|AllAtOnce)", var.lambda_deployment_config))
    error_message = "lambda_deployment_config must be one of CodeDeploy's predefined Lambda configurations (CodeDeployDefault.Lambda…)."
  }
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose main branch may deploy through the OIDC role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "github_environment" {
  description = "The GitHub environment (with required reviewers) whose jobs may take the deploy role; deploy.yml's apply job runs in it."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.github_environment))
    error_message = "github_environment must be a plain environment name such as production."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC identity provider; false if the account already has one."
  type        = bool
  default     = true
}

variable "state_bucket" {
  description = "S3 bucket of the Terraform state (the same as in `terraform init -backend-config`)."
  type        = string
}

variable "state_key" {
  description = "Key of the Terraform state object in the state bucket."
  type        = string
  default     = "counter-ledger/terraform.tfstate"
}

variable "state_lock_table" {
  description = "DynamoDB table that locks the Terraform state."
  type        = string
  default     = "counter-ledger-terraform-locks"
}

variable "public_read" {
  description = "Whether GET /number is open to anyone (PUBLIC_READ); false makes it need a valid token, with no scope."
  type        = bool
  default     = true
}

variable "self_sign_up" {
  description = "Whether people may sign themselves up on the hosted sign-in pages; false means by invitation only."
  type        = bool
  # A counter that anyone may sign up to change is a public counter: invitation only unless chosen.
  default = false
}

variable "cognito_feature_plan" {
  description = "The user pool's feature plan: ESSENTIALS, or PLUS to add threat protection (identity.tf says what each costs)."
  type        = string
  default     = "ESSENTIALS"

  validation {
    # Lite cannot customize access tokens, which the audit scope depends on (identity.tf).
    condition     = contains(["ESSENTIALS", "PLUS"], var.cognito_feature_plan)
    error_message = "cognito_feature_plan must be ESSENTIALS or PLUS (Lite cannot run the pre token generation trigger's V2_0 event)."
  }
}

variable "digest_interval_minutes" {
  description = "Minutes between scheduled digests (the digest Lambda writes one only when the head moved)."
  type        = number
  default     = 5

  validation {
    # `rate(1 minutes)` is not a valid expression (it would be `rate(1 minute)`), so 2 is the least.
    condition     = var.digest_interval_minutes == floor(var.digest_interval_minutes) && var.digest_interval_minutes >= 2 && var.digest_interval_minutes <= 1440
    error_message = "digest_interval_minutes must be an integer from 2 to 1440."
  }
}

variable "digest_retention_days" {
  description = "Object Lock retention (COMPLIANCE mode) of each digest: it cannot be deleted or shortened before then, by anyone."
  type        = number
  # Seven years: a common retention of financial records. Compliance mode cannot be undone: choose with care.
  default = 2557

  validation {
    condition     = var.digest_retention_days == floor(var.digest_retention_days) && var.digest_retention_days >= 1 && var.digest_retention_days <= 36500
    error_message = "digest_retention_days must be an integer from 1 to 36500."
  }
}

variable "ledger_table_class" {
  description = "Table class of the ledger (and its byVersion index): STANDARD, or STANDARD_INFREQUENT_ACCESS for a ledger whose storage is most of its bill."
  type        = string
  # Standard-IA stores for about 60% less ($0.10 instead of $0.25 per GB-month in us-east-1) and charges about
  # 25% more per write (list prices when written, not confirmed against AWS's pricing page here);
  # README#what-it-costs has the arithmetic per million events and commands.
  default = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], var.ledger_table_class)
    error_message = "ledger_table_class must be STANDARD or STANDARD_INFREQUENT_ACCESS."
  }
}
