# The alarms that say the ledger needs a person: the write path failing or throttled, the projector failing
# or falling behind, and records it gave up on. Each notifies var.alarm_topic_arn when one is given.
# Missing data is "not breaching": no traffic is not an incident.

locals {
  alarm_actions = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
}

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

resource "aws_cloudwatch_metric_alarm" "command_throttles" {
  alarm_name          = "${var.project}-command-throttles"
  alarm_description   = "The command Lambda was throttled: account or function concurrency is exhausted."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.service["command"].function_name }
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

resource "aws_cloudwatch_metric_alarm" "projector_errors" {
  alarm_name          = "${var.project}-projector-errors"
  alarm_description   = "The projector failed whole invocations (a thrown error or a timeout)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.service["projector"].function_name }
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
