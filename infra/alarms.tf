# The alarms that say the ledger needs a person, and where they go. Every alarm of infra/ in the chosen region
# (this file, guardrails.tf) notifies one SNS topic, on alarm and on recovery; `alarm_email` subscribes an
# address to it. The edge's alarm lives in us-east-1 with WAF's metrics and notifies a topic there
# (alarms-edge.tf). tests/unit/infra/alarms.test.ts holds every aws_cloudwatch_metric_alarm to its region's
# topic. What each alarm means and what to do: docs/runbook.md#alarms. Missing data is "not breaching" unless
# said otherwise: no traffic is not an incident. The functions' Errors and Throttles alarms also stop a canary
# deploy and roll it back (deploy.tf).

locals {
  alarm_actions = [module.alarm_topic.topic_arn]

  # The tables and the one index whose throttling alarms: a throttled GSI write throttles the table's writes.
  dynamodb_throttle_targets = {
    ledger            = { TableName = aws_dynamodb_table.ledger.name }
    ledger-by-version = { TableName = aws_dynamodb_table.ledger.name, GlobalSecondaryIndexName = "byVersion" }
    counters          = { TableName = aws_dynamodb_table.counters.name }
    read-model        = { TableName = aws_dynamodb_table.read_model.name }
    quotas            = { TableName = aws_dynamodb_table.quotas.name }
  }

  # The API's stage-wide metrics (AWS/ApiGateway, HTTP APIs: `Count`, `4xx`, `5xx` by ApiId and Stage).
  api_dimensions = {
    ApiId = aws_apigatewayv2_api.http.id
    Stage = aws_apigatewayv2_stage.default.name
  }

  # Where verify's result is logged: the audit function serves GET /number/verify (api.tf).
  verify_log_group = aws_cloudwatch_log_group.lambda["audit"].name
  # The phrases verify's handler logs (services/query/verify.ts), one line per completed run (as the projector logs
  # LEDGER_REWRITE_MESSAGE): a quoted term matches the phrase anywhere in a line, in the Text and the JSON log
  # formats alike, where a JSON filter on the `request` line would not match under the Text format.
  verify_passed_phrase     = "verify passed"
  verify_violations_phrase = "verify found violations"
}

# --- where alarms go ------------------------------------------------------------------------------------------

# The topic every alarm of the chosen region notifies (modules/alarm_topic: encrypted under a key CloudWatch may
# use, published to by this account's alarms alone, `alarm_email` subscribed).
module "alarm_topic" {
  source = "./modules/alarm_topic"

  name            = "${var.project}-alarms"
  key_description = "${var.project}: encrypts the alarm topic"
  email           = var.alarm_email
  account_id      = local.account_id
  partition       = local.partition
}

# These were resources of this file before the module: moved, so that the topic (and its confirmed
# subscription) is kept rather than deleted and created again.
moved {
  from = aws_kms_key.alarms
  to   = module.alarm_topic.aws_kms_key.this
}

moved {
  from = aws_kms_alias.alarms
  to   = module.alarm_topic.aws_kms_alias.this
}

moved {
  from = aws_sns_topic.alarms
  to   = module.alarm_topic.aws_sns_topic.this
}

moved {
  from = aws_sns_topic_policy.alarms
  to   = module.alarm_topic.aws_sns_topic_policy.this
}

moved {
  from = aws_sns_topic_subscription.alarm_email
  to   = module.alarm_topic.aws_sns_topic_subscription.email
}

# --- the functions ----------------------------------------------------------------------------------------------

# Every function of lambda.tf, a new one included: a thrown error or a timeout of a whole invocation.
resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = local.lambdas

  alarm_name          = "${var.project}-${each.key}-errors"
  alarm_description   = "The ${each.key} Lambda failed invocations (a thrown error or a timeout): docs/runbook.md#alarms."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.service[each.key].function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# The two alarms these replace had the same names: moved, so that Terraform does not create the new one and
# then delete it by name with the old.
moved {
  from = aws_cloudwatch_metric_alarm.projector_errors
  to   = aws_cloudwatch_metric_alarm.lambda_errors["projector"]
}

moved {
  from = aws_cloudwatch_metric_alarm.command_throttles
  to   = aws_cloudwatch_metric_alarm.lambda_throttles["command"]
}

# Throttled invocations: the account's or the function's concurrency is exhausted.
resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  for_each = local.lambdas

  alarm_name          = "${var.project}-${each.key}-throttles"
  alarm_description   = "The ${each.key} Lambda was throttled: account or function concurrency is exhausted (docs/runbook.md#alarms)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.service[each.key].function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- the tables ------------------------------------------------------------------------------------------------

# On-demand tables throttle too: a hot partition (about 1000 write units a second per partition) or the
# table's or account's on-demand ceiling. Read and write throttle events together, per table and per index.
resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  for_each = local.dynamodb_throttle_targets

  alarm_name          = "${var.project}-dynamodb-${each.key}-throttles"
  alarm_description   = "DynamoDB throttled reads or writes of ${each.key}: docs/runbook.md#alarms."
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "throttled"
    expression  = "FILL(reads, 0) + FILL(writes, 0)"
    label       = "Throttle events of ${each.key}"
    return_data = true
  }

  metric_query {
    id = "reads"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      dimensions  = each.value
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "writes"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      dimensions  = each.value
      stat        = "Sum"
      period      = 60
    }
  }
}

# --- the API ------------------------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "command_5xx" {
  alarm_name        = "${var.project}-command-5xx"
  alarm_description = "POST /number answered 5xx (internal error, contention or store unavailable)."
  namespace         = "AWS/ApiGateway"
  metric_name       = "5xx"
  # Route-level dimensions, from the stage's detailed metrics.
  dimensions = {
    ApiId    = aws_apigatewayv2_api.http.id
    Stage    = aws_apigatewayv2_stage.default.name
    Method   = "POST"
    Resource = "/number"
  }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  # A few 503s under contention are the contract working; sustained 5xx is not.
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}


# The share of the API's answers that are 5xx, over every route; only once there are 20 requests a minute, so
# that one failed request of three is not an incident.
resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.project}-api-5xx-rate"
  alarm_description   = "More than ${var.api_5xx_rate_alarm_percent}% of the API's answers were 5xx: docs/runbook.md#alarms."
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.api_5xx_rate_alarm_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)"
    label       = "5xx, % of requests"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      dimensions  = local.api_dimensions
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = local.api_dimensions
      stat        = "Sum"
      period      = 60
    }
  }
}

# HTTP APIs publish no metric of their own for 429: it is counted in `4xx` with 400, 401, 403, 404, 409 and 422.
# The stage's access log (api.tf) has each answer's status, so a metric filter counts the 429s: the stage's
# throttle and the handlers' own 429s alike.
resource "aws_cloudwatch_log_metric_filter" "api_429" {
  name           = "${var.project}-api-429"
  log_group_name = aws_cloudwatch_log_group.api_access.name
  pattern        = "{ $.status = \"429\" }"

  metric_transformation {
    name      = "Api429"
    namespace = var.project
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "api_429_rate" {
  alarm_name          = "${var.project}-api-429-rate"
  alarm_description   = "More than ${var.api_429_rate_alarm_percent}% of the API's answers were 429 (throttled): docs/runbook.md#alarms."
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.api_429_rate_alarm_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= 20, 100 * FILL(throttled, 0) / requests, 0)"
    label       = "429, % of requests"
    return_data = true
  }

  metric_query {
    id = "throttled"
    metric {
      namespace   = var.project
      metric_name = "Api429"
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = local.api_dimensions
      stat        = "Sum"
      period      = 60
    }
  }

  depends_on = [aws_cloudwatch_log_metric_filter.api_429]
}

# --- the projector and the ledger ---------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "projector_iterator_age" {
  alarm_name          = "${var.project}-projector-iterator-age"
  alarm_description   = "The read model is falling behind the ledger: the oldest unprojected record is too old."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = aws_lambda_function.service["projector"].function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.projector_iterator_age_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "projector_failure_queue" {
  alarm_name          = "${var.project}-projector-failure-queue"
  alarm_description   = "Ledger records the projector gave up on are waiting in the failure queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.projector_failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# The ledger is append-only: the projector logs every MODIFY or REMOVE record of the ledger stream at error
# with the phrase below (LEDGER_REWRITE_MESSAGE, services/projector/rewrite.ts), and this filter counts those
# lines. A quoted term matches the phrase anywhere in the line, so it works with the functions' Text log format.
resource "aws_cloudwatch_log_metric_filter" "ledger_rewritten" {
  name           = "${var.project}-ledger-rewritten"
  log_group_name = aws_cloudwatch_log_group.lambda["projector"].name
  pattern        = "\"ledger event rewritten\""

  metric_transformation {
    name      = "LedgerEventsRewritten"
    namespace = var.project
    value     = "1"
    unit      = "Count"
  }
}

# One rewritten event is an incident: alarm on the first, in the minute it is projected.
resource "aws_cloudwatch_metric_alarm" "ledger_rewritten" {
  alarm_name          = "${var.project}-ledger-rewritten"
  alarm_description   = "A ledger event was changed or deleted after it was written (docs/runbook.md#a-ledger-event-was-rewritten)."
  namespace           = var.project
  metric_name         = "LedgerEventsRewritten"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  depends_on = [aws_cloudwatch_log_metric_filter.ledger_rewritten]
}

# --- verify ---------------------------------------------------------------------------------------------------------

# A completed verify run logs one of two phrases (local.verify_*_phrase); these filters count them. The
# schedule of verify.tf runs one every var.verify_interval_minutes, so verify_not_run fires when
# verification stopped (docs/runbook.md#alarms).
resource "aws_cloudwatch_log_metric_filter" "verify_passed" {
  name           = "${var.project}-verify-passed"
  log_group_name = local.verify_log_group
  pattern        = "\"${local.verify_passed_phrase}\""

  metric_transformation {
    name      = "VerifyPassed"
    namespace = var.project
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_log_metric_filter" "verify_violations" {
  name           = "${var.project}-verify-violations"
  log_group_name = local.verify_log_group
  pattern        = "\"${local.verify_violations_phrase}\""

  metric_transformation {
    name      = "VerifyViolations"
    namespace = var.project
    value     = "1"
    unit      = "Count"
  }
}

# Verify found an invariant broken: the first report of it alarms.
resource "aws_cloudwatch_metric_alarm" "verify_not_ok" {
  alarm_name          = "${var.project}-verify-not-ok"
  alarm_description   = "Verify reported violations of the ledger's invariants: docs/runbook.md#alarms."
  namespace           = var.project
  metric_name         = "VerifyViolations"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  depends_on = [aws_cloudwatch_log_metric_filter.verify_violations]
}

# No passing verify in var.verify_alarm_hours hours. Here missing data is breaching: a verify that did not run
# checked nothing, which is the incident.
resource "aws_cloudwatch_metric_alarm" "verify_not_run" {
  alarm_name          = "${var.project}-verify-not-run"
  alarm_description   = "No verify has passed in ${var.verify_alarm_hours} hours: docs/runbook.md#alarms."
  namespace           = var.project
  metric_name         = "VerifyPassed"
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = var.verify_alarm_hours
  datapoints_to_alarm = var.verify_alarm_hours
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  depends_on = [aws_cloudwatch_log_metric_filter.verify_passed]
}
