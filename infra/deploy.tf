# Gradual deploys of the functions. Every apply that changes a function publishes a new version (lambda.tf,
# `publish`), but callers invoke the `live` alias, which Terraform leaves where it is. The deploy workflow then
# asks CodeDeploy to move each changed function's alias to its new version (`aws deploy create-deployment`,
# .github/workflows/deploy.yml): var.lambda_deployment_config sends a share of the invocations to the new
# version first (10% for 5 minutes by default), then all. If one of the function's alarms fires meanwhile, or
# the deployment fails or is stopped, CodeDeploy points the alias back at the previous version.
#
# Each function has its own deployment group, with the alarms that speak for it: its Errors and Throttles, and
# what a bad version of it would break further on (the API's 5xx for the HTTP functions, the projector's lag,
# failure queue and rewritten-event alarms for the projector). A function added to lambda.tf gets a group with
# its own two alarms without further ado.

locals {
  deployment_alarms = {
    for name in keys(local.lambdas) : name => concat(
      [
        aws_cloudwatch_metric_alarm.lambda_errors[name].alarm_name,
        aws_cloudwatch_metric_alarm.lambda_throttles[name].alarm_name,
      ],
      lookup(local.deployment_extra_alarms, name, []),
    )
  }

  deployment_extra_alarms = {
    command = [aws_cloudwatch_metric_alarm.command_5xx.alarm_name, aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name]
    query   = [aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name]
    projector = [
      aws_cloudwatch_metric_alarm.projector_iterator_age.alarm_name,
      aws_cloudwatch_metric_alarm.projector_failure_queue.alarm_name,
      aws_cloudwatch_metric_alarm.ledger_rewritten.alarm_name,
    ]
  }
}

resource "aws_codedeploy_app" "lambda" {
  name             = var.project
  compute_platform = "Lambda"
}

# CodeDeploy's service role: read the alarms, move the aliases; what AWS's AWSCodeDeployRoleForLambdaLimited
# grants, on this project's functions and alarms only. Under the `-lambda-` names and the Lambda permissions
# boundary (iam-lambda.tf), like every role the pipeline may create.
data "aws_iam_policy_document" "codedeploy_assume_role" {
  statement {
    sid     = "CodeDeployService"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "codedeploy" {
  statement {
    sid     = "ShiftTheLiveAliases"
    effect  = "Allow"
    actions = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]
    # The project's functions by name, a new one included. The wildcard covers both the function's ARN and its
    # alias's (`…:live`), whichever of the two IAM authorizes an alias action on.
    resources = ["${local.arn_prefix.lambda}:function:${var.project}-*"]
  }

  statement {
    sid       = "ReadTheRollbackAlarms"
    effect    = "Allow"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["${local.arn_prefix.cloudwatch}:alarm:${var.project}-*"]
  }
}

resource "aws_iam_role" "codedeploy" {
  name                 = "${var.project}-lambda-codedeploy"
  assume_role_policy   = data.aws_iam_policy_document.codedeploy_assume_role.json
  permissions_boundary = aws_iam_policy.lambda_boundary.arn
}

resource "aws_iam_role_policy" "codedeploy" {
  name   = "${var.project}-codedeploy"
  role   = aws_iam_role.codedeploy.id
  policy = data.aws_iam_policy_document.codedeploy.json
}

resource "aws_codedeploy_deployment_group" "lambda" {
  for_each = local.lambdas

  app_name               = aws_codedeploy_app.lambda.name
  deployment_group_name  = each.key
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = var.lambda_deployment_config

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  # An alarm stops the deployment; a stopped or failed deployment moves the alias back.
  alarm_configuration {
    enabled = true
    alarms  = local.deployment_alarms[each.key]
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  depends_on = [aws_iam_role_policy.codedeploy]
}
