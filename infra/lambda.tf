# The Lambdas, from the zips that `npm run build` writes (scripts/build.ts: `index.mjs` exporting
# `handler`). nodejs22.x on arm64 (Graviton: about 20% cheaper per GB-second than x86 for the same work).
# Each has its own log group with a retention, created here so that it is not left to grow forever, and its
# own role (iam-lambda.tf).

locals {
  lambdas = {
    # 512 MB: CPU grows with memory, and a command is one consistent read plus one transaction, dominated by
    # SDK start-up on a cold start; 512 MB halves that against 128 MB for little more per invocation.
    # 10 s: the conflict-retry budget is 2 s (services/ledger/domain/limits.ts COMMIT_RETRY_BUDGET_MS) plus a few
    # DynamoDB round trips with SDK retries; a hung call ends well before API Gateway's 30 s limit.
    command = { memory_size_mb = 512, timeout_seconds = 10 }
    # 512 MB, 10 s: GET /number and the other cheap reads are one or two DynamoDB reads each (a history page is
    # one Query), dominated by SDK start-up on a cold start, as the command's; 10 s covers SDK retries, and a
    # stuck read ends long before API Gateway's 30 s. The expensive routes are the audit function's.
    query = { memory_size_mb = 512, timeout_seconds = 10 }
    # 1024 MB, 29 s, at most var.audit_reserved_concurrency at once: GET /number/verify replays up to 20 000
    # events after its checkpoint (or up to 100 000 against a digest) and is CPU-bound on decoding; the proof
    # and digest routes may fill the Merkle tree for 5 s. 29 s is the most that API Gateway's 30 s integration
    # timeout lets a client see an answer from, and the replay stops itself before it
    # (docs/architecture.md#the-audit-function). Its reserved concurrency both guarantees it that many
    # environments and caps it there, so no rate of these routes can take the account's concurrency from the
    # query and command functions.
    audit = { memory_size_mb = 1024, timeout_seconds = 29, reserved_concurrency = var.audit_reserved_concurrency }
    # 256 MB, 60 s: a batch is at most 100 records of two small writes each (about 2 s); the rest is room for
    # throttled writes. A timeout fails the batch, which is then bisected and retried (stream.tf).
    projector = { memory_size_mb = 256, timeout_seconds = 60 }
    # 128 MB, 5 s: Cognito's pre token generation trigger (identity.tf) renames a few scopes; Cognito itself
    # waits 5 seconds for a trigger's answer before it fails the sign-in.
    identity = { memory_size_mb = 128, timeout_seconds = 5 }
    # 256 MB, 30 s: one consistent read, one KMS Sign and one S3 PutObject every few minutes (digest.tf).
    digest = { memory_size_mb = 256, timeout_seconds = 30 }
  }

  lambda_environment = {
    LEDGER_TABLE     = aws_dynamodb_table.ledger.name
    COUNTERS_TABLE   = aws_dynamodb_table.counters.name
    READ_MODEL_TABLE = aws_dynamodb_table.read_model.name
    QUOTAS_TABLE     = aws_dynamodb_table.quotas.name
    COUNTER_ID       = var.counter_id
    COUNTER_MIN      = tostring(var.counter_min)
    COUNTER_MAX      = tostring(var.counter_max)
    # Each user's commands per clock minute, counted in the command's transaction (0 turns it off).
    QUOTA_COMMANDS_PER_MINUTE = tostring(var.quota_commands_per_minute)
    # docs/api.md#access: tokens are checked (AUTH=off is refused on Lambda anyway); GET /number open or not;
    # the actor's display name is the Cognito access token's `username` claim.
    AUTH             = "on"
    PUBLIC_READ      = tostring(var.public_read)
    ACTOR_NAME_CLAIM = "username"
    # Signed digests (digest.tf): the key GET /number/digest and the digest Lambda sign with, and the Object
    # Lock bucket the digest Lambda writes to. Names only: what each function may do is its role's business.
    DIGEST_KMS_KEY_ID = aws_kms_key.digest.arn
    DIGEST_BUCKET     = aws_s3_bucket.digests.id
    # Stack traces through the bundle's source map (index.mjs.map, built by scripts/build.ts).
    NODE_OPTIONS = "--enable-source-maps"
    # Powertools' Metrics writes the application's metrics (services/ledger/telemetry.ts) in this namespace, as
    # CloudWatch embedded metric format lines of the function's log; the dashboard reads them there.
    POWERTOOLS_METRICS_NAMESPACE = local.application_metrics_namespace
  }

  # The functions behind the API, and only they, know the secret header CloudFront adds (web.tf): they refuse
  # a request without it (services/ledger/http/origin.ts), so the execute-api host cannot be called directly.
  api_functions = toset(values(local.api_routes))
  api_environment = {
    ORIGIN_VERIFY = local.origin_verify_secret
  }
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.lambdas

  name              = "/aws/lambda/${var.project}-${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "service" {
  for_each = local.lambdas

  function_name    = "${var.project}-${each.key}"
  role             = aws_iam_role.lambda[each.key].arn
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  handler          = "index.handler"
  filename         = "${path.module}/${var.artifacts_directory}/${each.key}.zip"
  source_code_hash = filebase64sha256("${path.module}/${var.artifacts_directory}/${each.key}.zip")
  memory_size      = each.value.memory_size_mb
  timeout          = each.value.timeout_seconds
  # Every change of code or configuration is a new numbered version; callers reach it only through the
  # `live` alias below, which CodeDeploy moves (deploy.tf).
  publish = true
  # Only the audit function reserves concurrency; -1 leaves the others on the account's unreserved pool.
  reserved_concurrent_executions = try(each.value.reserved_concurrency, -1)

  environment {
    variables = merge(local.lambda_environment, {
      for name, value in local.api_environment : name => value if contains(local.api_functions, each.key)
    })
  }

  # JSON: Lambda's own lines (START, REPORT, errors) are JSON too and carry the request id, beside the handlers'
  # one JSON line per request or batch (services/ledger/log.ts) and the EMF lines of their metrics. CloudWatch still
  # extracts EMF metrics under the JSON format with a current Powertools release
  # (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html#nodejs-logging-advanced-emf).
  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  # X-Ray: Lambda traces each invocation, and the AWS SDK clients add a subsegment per call
  # (services/ledger/telemetry.ts). The roles may write traces (iam-lambda.tf, WriteTraces).
  tracing_config {
    mode = "Active"
  }

  # The role's policy must exist before the function first runs, or its first invocations fail.
  depends_on = [aws_iam_role_policy.lambda]
}

# What every caller invokes: API Gateway, the stream mapping, Cognito and the digest schedule name this alias,
# never the function ($LATEST) itself. Terraform creates it on the first version and then leaves it alone:
# CodeDeploy shifts it to each new version, a canary at a time, and back if an alarm fires (deploy.tf).
resource "aws_lambda_alias" "live" {
  for_each = local.lambdas

  name             = "live"
  function_name    = aws_lambda_function.service[each.key].function_name
  function_version = aws_lambda_function.service[each.key].version

  lifecycle {
    # Moved by CodeDeploy (the deploy workflow), not by Terraform: applying it here would skip the canary.
    ignore_changes = [function_version, routing_config]
  }
}
