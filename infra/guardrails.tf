# What IAM cannot refuse the deploy role, caught after the fact. UpdateTable both changes a table (indexes,
# streams, table class: the pipeline's job) and turns off deletion protection, and no IAM condition key tells
# the two apart; so an EventBridge rule matches every call, by anyone, that turns off deletion protection or
# point-in-time recovery on one of this project's tables, keeps the CloudTrail record of it in a log group, and
# an alarm fires on the first match. (Point-in-time recovery is also refused outright: the deploy role has no
# UpdateContinuousBackups, github-deploy.tf; the rule covers every other principal.)
#
# EventBridge receives "AWS API Call via CloudTrail" events only where CloudTrail logs management events in this
# region (a trail, or an organization trail): infra/README.md. The deploy and plan roles may only read these
# resources, so a change to them is an administrator's apply, like the roles themselves.

locals {
  guardrail_name = "${var.project}-guardrail-table-protection"
  # CloudTrail records the table as the caller named it: its name, or its ARN.
  guardrail_tables = [
    { prefix = "${var.project}-" },
    { prefix = "${local.arn_prefix.dynamodb}:table/${var.project}-" },
  ]

  guardrail_event_pattern = {
    source        = ["aws.dynamodb"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      "$or" = [
        {
          eventName         = ["UpdateTable"]
          requestParameters = { tableName = local.guardrail_tables, deletionProtectionEnabled = [false] }
        },
        {
          eventName = ["UpdateContinuousBackups"]
          requestParameters = {
            tableName                        = local.guardrail_tables
            pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled = [false] }
          }
        },
      ]
    }
  }
}

resource "aws_cloudwatch_event_rule" "table_protection_off" {
  name        = local.guardrail_name
  description = "Deletion protection or point-in-time recovery turned off on a ${var.project} table."

  event_pattern = jsonencode(local.guardrail_event_pattern)
}

# The evidence: who turned what off, when, from where (the whole CloudTrail record).
resource "aws_cloudwatch_log_group" "table_protection_off" {
  name              = "/aws/events/${local.guardrail_name}"
  retention_in_days = 365
}

data "aws_iam_policy_document" "guardrail_log_delivery" {
  statement {
    sid       = "EventBridgeWritesTheGuardrailLog"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.table_protection_off.arn}:*"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.table_protection_off.arn]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "guardrail" {
  policy_name     = local.guardrail_name
  policy_document = data.aws_iam_policy_document.guardrail_log_delivery.json
}

resource "aws_cloudwatch_event_target" "table_protection_off" {
  rule = aws_cloudwatch_event_rule.table_protection_off.name
  arn  = aws_cloudwatch_log_group.table_protection_off.arn
}

# On the rule's own metric, not on the log: the alarm fires even if delivery to the log group fails.
resource "aws_cloudwatch_metric_alarm" "table_protection_off" {
  alarm_name          = local.guardrail_name
  alarm_description   = "Deletion protection or point-in-time recovery was turned off on a ${var.project} table: turn it back on, find out who (log group ${aws_cloudwatch_log_group.table_protection_off.name})."
  namespace           = "AWS/Events"
  metric_name         = "TriggeredRules"
  dimensions          = { RuleName = aws_cloudwatch_event_rule.table_protection_off.name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
