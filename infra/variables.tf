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
  description = "Requests one IP address may make to the web UI in a 5-minute window before WAF blocks it."
  type        = number
  # A person loading the UI makes a handful of requests; 1000 in 5 minutes is a script, not a reader.
  default = 1000
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
  description = "Alarm when more than this share (%) of the API's answers are 429, in 3 of 5 minutes."
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
