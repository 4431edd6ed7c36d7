# One CloudWatch dashboard of what the alarms watch (alarms.tf), beside the alarms' own states: the API's
# traffic and errors, every function's invocations, errors, throttles and duration, the tables' throttling,
# the projector's lag and failure queue, verify and rewritten ledger events. Every function of lambda.tf is on
# it without further ado.
#
# The application's own metrics (commands by outcome, conflicts and retries, group-commit batch size, commit
# latency, projector lag from commit to read model, verify duration; issue 13, item 5) belong in the
# local.application_metrics_namespace namespace, where the log metric filters of alarms.tf already write: their
# widgets go in the row marked below once the functions publish them.

locals {
  application_metrics_namespace = var.project

  dashboard_functions = sort(keys(local.lambdas))

  # A metric widget of the dashboard's JSON (CloudWatch dashboard body structure).
  dashboard_widgets = [
    {
      type = "alarm", x = 0, y = 0, width = 24, height = 4
      properties = {
        title  = "Alarms"
        alarms = local.dashboard_alarm_arns
      }
    },
    {
      type = "metric", x = 0, y = 4, width = 12, height = 6
      properties = {
        title  = "API: requests, 4xx, 5xx, 429 (per minute)"
        region = var.region
        stat   = "Sum"
        period = 60
        metrics = [
          ["AWS/ApiGateway", "Count", "ApiId", aws_apigatewayv2_api.http.id, "Stage", aws_apigatewayv2_stage.default.name],
          ["AWS/ApiGateway", "4xx", "ApiId", aws_apigatewayv2_api.http.id, "Stage", aws_apigatewayv2_stage.default.name],
          ["AWS/ApiGateway", "5xx", "ApiId", aws_apigatewayv2_api.http.id, "Stage", aws_apigatewayv2_stage.default.name],
          [local.application_metrics_namespace, "Api429"],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 4, width = 12, height = 6
      properties = {
        title  = "API: latency p50, p99 (ms)"
        region = var.region
        period = 60
        metrics = [
          ["AWS/ApiGateway", "Latency", "ApiId", aws_apigatewayv2_api.http.id, "Stage", aws_apigatewayv2_stage.default.name, { stat = "p50" }],
          ["AWS/ApiGateway", "Latency", "ApiId", aws_apigatewayv2_api.http.id, "Stage", aws_apigatewayv2_stage.default.name, { stat = "p99" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 10, width = 8, height = 6
      properties = {
        title   = "Lambda: errors"
        region  = var.region
        stat    = "Sum"
        period  = 60
        metrics = [for name in local.dashboard_functions : ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.service[name].function_name]]
      }
    },
    {
      type = "metric", x = 8, y = 10, width = 8, height = 6
      properties = {
        title   = "Lambda: throttles"
        region  = var.region
        stat    = "Sum"
        period  = 60
        metrics = [for name in local.dashboard_functions : ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.service[name].function_name]]
      }
    },
    {
      type = "metric", x = 16, y = 10, width = 8, height = 6
      properties = {
        title   = "Lambda: duration p99 (ms)"
        region  = var.region
        stat    = "p99"
        period  = 60
        metrics = [for name in local.dashboard_functions : ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.service[name].function_name]]
      }
    },
    {
      type = "metric", x = 0, y = 16, width = 12, height = 6
      properties = {
        title  = "DynamoDB: throttle events (tables and byVersion)"
        region = var.region
        stat   = "Sum"
        period = 60
        metrics = flatten([
          for target in values(local.dynamodb_throttle_targets) : [
            for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] : concat(["AWS/DynamoDB", metric], flatten([for key, value in target : [key, value]]))
          ]
        ])
      }
    },
    {
      type = "metric", x = 12, y = 16, width = 12, height = 6
      properties = {
        title  = "Projector: iterator age (ms, max) and failure queue"
        region = var.region
        period = 60
        metrics = [
          ["AWS/Lambda", "IteratorAge", "FunctionName", aws_lambda_function.service["projector"].function_name, { stat = "Maximum" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.projector_failures.name, { stat = "Maximum", yAxis = "right" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 22, width = 12, height = 6
      properties = {
        title  = "Verify and the ledger: passed, violations, rewritten events"
        region = var.region
        stat   = "Sum"
        period = 3600
        metrics = [
          [local.application_metrics_namespace, "VerifyPassed"],
          [local.application_metrics_namespace, "VerifyViolations"],
          [local.application_metrics_namespace, "LedgerEventsRewritten"],
        ]
      }
    },
    # The application's own metrics (issue 13, item 5) go here, from local.application_metrics_namespace.
    {
      type = "text", x = 12, y = 22, width = 12, height = 6
      properties = {
        markdown = "**Application metrics** (namespace `${local.application_metrics_namespace}`): commands by outcome, conflicts and retries, batch size, commit latency, projector lag and verify duration go in this row once the functions publish them. What each alarm means: docs/runbook.md, Alarms."
      }
    },
  ]

  dashboard_alarm_arns = concat(
    [for alarm in aws_cloudwatch_metric_alarm.lambda_errors : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.lambda_throttles : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.dynamodb_throttles : alarm.arn],
    [
      aws_cloudwatch_metric_alarm.command_5xx.arn,
      aws_cloudwatch_metric_alarm.api_5xx_rate.arn,
      aws_cloudwatch_metric_alarm.api_429_rate.arn,
      aws_cloudwatch_metric_alarm.projector_iterator_age.arn,
      aws_cloudwatch_metric_alarm.projector_failure_queue.arn,
      aws_cloudwatch_metric_alarm.ledger_rewritten.arn,
      aws_cloudwatch_metric_alarm.verify_not_ok.arn,
      aws_cloudwatch_metric_alarm.verify_not_run.arn,
      aws_cloudwatch_metric_alarm.table_protection_off.arn,
    ],
  )
}

resource "aws_cloudwatch_dashboard" "operations" {
  dashboard_name = var.project
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
