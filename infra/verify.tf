# The scheduled verify (docs/runbook.md#alarms): an EventBridge Scheduler schedule invokes the audit function's
# `live` alias every var.verify_interval_minutes with the input SCHEDULED_VERIFY_INPUT (services/audit/handler.ts),
# which runs the incremental verification of GET /number/verify — under its lease, within the audit function's
# reserved concurrency — and logs "verify passed" or "verify found violations", the lines the verify alarms count
# (alarms.tf). So verify-not-run alarms only when verification really stopped.

# Retries (the module's two, within 5 minutes): the next run goes on from the same checkpoint, and the audit
# function's concurrency is small on purpose, so a throttled invocation is retried rather than lost.
module "verify_schedule" {
  source = "./modules/scheduled_invoke"

  name                = "${var.project}-verify"
  description         = "Runs the incremental verify of the ledger on the audit function."
  schedule_expression = "rate(${var.verify_interval_minutes} minutes)"
  target_arn          = aws_lambda_alias.live["audit"].arn
  # services/audit/handler.ts SCHEDULED_VERIFY_INPUT: anything else is answered as an HTTP event would be.
  input = jsonencode({ task = "verify" })

  role_name                = "${var.project}-lambda-verify-schedule"
  role_policy_name         = "${var.project}-verify-schedule"
  invoke_statement_sid     = "InvokeAuditLambda"
  permissions_boundary_arn = aws_iam_policy.lambda_boundary.arn
  account_id               = local.account_id
}

# The schedule, its role and the role's policy were resources of this file before the module: moved, so that
# Terraform keeps them rather than deleting and creating them again.
moved {
  from = aws_scheduler_schedule.verify
  to   = module.verify_schedule.aws_scheduler_schedule.this
}

moved {
  from = aws_iam_role.verify_schedule
  to   = module.verify_schedule.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.verify_schedule
  to   = module.verify_schedule.aws_iam_role_policy.this
}
