# An EventBridge Scheduler schedule that invokes one Lambda alias at a fixed rate, and the role it takes to do so,
# which may invoke that alias and nothing else. Used by the scheduled verify (verify.tf) and the scheduled digest
# (digest.tf). The role's name is the caller's: it falls under the `-lambda-` roles the deploy role may create and
# pass to the Scheduler (github-deploy.tf), so it carries the Lambda permissions boundary too.

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

resource "aws_scheduler_schedule" "this" {
  name                = var.name
  description         = var.description
  schedule_expression = var.schedule_expression

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.target_arn
    role_arn = aws_iam_role.this.arn
    input    = var.input

    # A couple of retries cover a throttled invocation; the next run comes at the next tick anyway.
    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 300
    }
  }
}

# Only the Scheduler, acting for this account, takes the role.
data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "SchedulerService"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

data "aws_iam_policy_document" "invoke" {
  statement {
    sid       = var.invoke_statement_sid
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [var.target_arn]
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.permissions_boundary_arn
}

resource "aws_iam_role_policy" "this" {
  name   = var.role_policy_name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.invoke.json
}
