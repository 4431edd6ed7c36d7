# One CloudWatch dashboard of what the alarms watch (alarms.tf), beside the alarms' own states: the API's
# traffic and errors, every function's invocations, errors, throttles and duration, the tables' throttling,
# the projector's lag and failure queue, verify and rewritten ledger events. Every function of lambda.tf is on
# it without further ado.
#
# Below them, the application's own metrics (services/ledger/telemetry.ts, METRICS): commands by outcome,
# conflicts and retries, group-commit batch size, commit latency, projector lag from commit to read model and
# failed records, verify runs by result and duration, throttles by reason. The functions write them as EMF lines
# (Powertools' Metrics) in local.application_metrics_namespace, where the log metric filters of alarms.tf write
# too; each carries Powertools' `service` dimension (the function's name), and the metrics with a dimension of
# their own are found with SEARCH, so that a new outcome or reason appears without a change here.

locals {
  application_metrics_namespace = var.project

  # SEARCH expressions of the metrics that carry a dimension of their own (Outcome, Result, Reason).
  application_search = {
    for name, search in { Commands = ["Outcome", 60], VerifyRuns = ["Result", 3600], Throttles = ["Reason", 60] } :
    name => "SEARCH('{\"${local.application_metrics_namespace}\",${search[0]},service} MetricName=\"${name}\"', 'Sum', ${search[1]})"
  }

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
    # The application's own metrics (services/ledger/telemetry.ts), from local.application_metrics_namespace.
    {
      type = "metric", x = 12, y = 22, width = 12, height = 6
      properties = {
        title   = "Commands by outcome (per minute)"
        region  = var.region
        period  = 60
        metrics = [[{ expression = local.application_search.Commands, id = "commands", label = "" }]]
      }
    },
    {
      type = "metric", x = 0, y = 28, width = 8, height = 6
      properties = {
        title  = "Transactions: conflicts and retries (per minute)"
        region = var.region
        stat   = "Sum"
        period = 60
        metrics = [
          [local.application_metrics_namespace, "TransactionConflicts", "service", "command"],
          [local.application_metrics_namespace, "CommitRetries", "service", "command"],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 28, width = 8, height = 6
      properties = {
        title  = "Group commit: events per transaction (average, maximum)"
        region = var.region
        period = 60
        metrics = [
          [local.application_metrics_namespace, "BatchSize", "service", "command", { stat = "Average" }],
          [local.application_metrics_namespace, "BatchSize", "service", "command", { stat = "Maximum" }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 28, width = 8, height = 6
      properties = {
        title  = "Commit latency p50, p99 (ms)"
        region = var.region
        period = 60
        metrics = [
          [local.application_metrics_namespace, "CommitLatency", "service", "command", { stat = "p50" }],
          [local.application_metrics_namespace, "CommitLatency", "service", "command", { stat = "p99" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 34, width = 8, height = 6
      properties = {
        title  = "Projector: lag commit → read model p50, p99 (ms), failed records"
        region = var.region
        period = 60
        metrics = [
          [local.application_metrics_namespace, "ProjectorLag", "service", "projector", { stat = "p50" }],
          [local.application_metrics_namespace, "ProjectorLag", "service", "projector", { stat = "p99" }],
          [local.application_metrics_namespace, "ProjectorFailedRecords", "service", "projector", { stat = "Sum", yAxis = "right" }],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 34, width = 8, height = 6
      properties = {
        title  = "Verify: runs by result, duration (ms, maximum)"
        region = var.region
        period = 3600
        metrics = [
          [{ expression = local.application_search.VerifyRuns, id = "runs", label = "" }],
          [local.application_metrics_namespace, "VerifyDuration", "service", "audit", { stat = "Maximum", yAxis = "right", period = 3600 }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 34, width = 8, height = 6
      properties = {
        title  = "Throttles by reason (per minute; the API's 429s and Lambda's throttles beside them)"
        region = var.region
        period = 60
        metrics = concat(
          [[{ expression = local.application_search.Throttles, id = "throttles", label = "" }]],
          [[local.application_metrics_namespace, "Api429", { stat = "Sum" }]],
          [for name in local.dashboard_functions : ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.service[name].function_name, { stat = "Sum" }]],
        )
      }
    },
    # WAF's blocks, by the rule that blocked (web.tf): the rate rules' are the 429s the edge alarm counts
    # (alarms-edge.tf), the managed rule groups' are 403s. WAF publishes them in us-east-1, hence the region.
    {
      type = "metric", x = 0, y = 40, width = 24, height = 6
      properties = {
        title   = "WAF: blocked requests by rule (per minute; rate rules answer 429, managed rule groups 403)"
        region  = "us-east-1"
        stat    = "Sum"
        period  = 60
        metrics = [for rule in local.waf_rule_metric_names : ["AWS/WAFV2", "BlockedRequests", "WebACL", local.waf_web_acl_metric_name, "Rule", rule]]
      }
    },
  ]

  # Every alarm of infra/, the edge's (us-east-1) included: an alarm's ARN names its region. Whether the alarm
  # status widget shows an alarm of another region than the dashboard's could not be confirmed from AWS's
  # documentation here; the WAF widget above shows the edge alarm's metrics either way.
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
      aws_cloudwatch_metric_alarm.waf_429_rate.arn,
    ],
  )
}

resource "aws_cloudwatch_dashboard" "operations" {
  dashboard_name = var.project
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
