# The scheduled verify (docs/runbook.md#alarms): an EventBridge Scheduler schedule invokes the audit function's
# `live` alias every var.verify_interval_minutes with the input SCHEDULED_VERIFY_INPUT (services/audit/handler.ts),
# which runs the incremental verification of GET /number/verify — under its lease, within the audit function's
# reserved concurrency — and logs "verify passed" or "verify found violations", the lines the verify alarms count
# (alarms.tf). So verify-not-run alarms only when verification really stopped.

resource "aws_scheduler_schedule" "verify" {
  name                = "${var.project}-verify"
  description         = "Runs the incremental verify of the ledger on the audit function."
  schedule_expression = "rate(${var.verify_interval_minutes} minutes)"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_alias.live["audit"].arn
    role_arn = aws_iam_role.verify_schedule.arn
    # services/audit/handler.ts SCHEDULED_VERIFY_INPUT: anything else is answered as an HTTP event would be.
    input = jsonencode({ task = "verify" })

    retry_policy {
      # The next run goes on from the same checkpoint; a couple of retries cover a throttled invocation (the
      # audit function's concurrency is small on purpose).
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 300
    }
  }
}

# The schedule's role may invoke the audit function's alias and nothing else. Its name falls under the `-lambda-`
# roles the deploy role may create and pass to the Scheduler, so it carries the Lambda permissions boundary too.
data "aws_iam_policy_document" "verify_schedule_assume_role" {
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
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "verify_schedule" {
  statement {
    sid       = "InvokeAuditLambda"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_alias.live["audit"].arn]
  }
}

resource "aws_iam_role" "verify_schedule" {
  name                 = "${var.project}-lambda-verify-schedule"
  assume_role_policy   = data.aws_iam_policy_document.verify_schedule_assume_role.json
  permissions_boundary = aws_iam_policy.lambda_boundary.arn
}

resource "aws_iam_role_policy" "verify_schedule" {
  name   = "${var.project}-verify-schedule"
  role   = aws_iam_role.verify_schedule.id
  policy = data.aws_iam_policy_document.verify_schedule.json
}
