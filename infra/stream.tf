# The ledger stream → projector event source mapping, and the queue where records that could never be
# projected end up. The projector is idempotent and order-insensitive
# (docs/architecture.md#the-projection-and-why-it-converges), so redelivery is safe; what must never happen is
# one bad record blocking the shard for good. Hence: report the failed record (ReportBatchItemFailures), split
# a failing batch to isolate it (bisect), give up after a bounded number of retries or a bounded age, and send
# its coordinates to the failure queue for a person to look at.

resource "aws_sqs_queue" "projector_failures" {
  name = "${var.project}-projector-failures"
  # The longest SQS keeps a message: two weeks to notice the alarm and replay the record.
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_lambda_event_source_mapping" "projector" {
  event_source_arn = aws_dynamodb_table.ledger.stream_arn
  # The alias: a new projector version takes batches only as CodeDeploy shifts it in (deploy.tf).
  function_name = aws_lambda_alias.live["projector"].arn
  # From the oldest record the stream still holds, so that no event written before the mapping existed is
  # left unprojected.
  starting_position = "TRIM_HORIZON"

  # 100 records (the Lambda default) keeps a batch to about 2 s of writes; 1 s of batching lets a burst
  # of commands share an invocation while keeping the read model at most about a second behind.
  batch_size                         = 100
  maximum_batching_window_in_seconds = 1
  # One poller per shard: ordering within a counter's records is not required but costs nothing to keep.
  parallelization_factor = 1

  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  # 10 retries (with bisection, enough to narrow a batch of 100 to the one bad record and retry it a few
  # times); one hour of age, well inside the stream's 24 h retention, so nothing expires unprojected.
  maximum_retry_attempts        = 10
  maximum_record_age_in_seconds = 3600

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.projector_failures.arn
    }
  }

  # The role must be able to read the stream and send to the queue before the mapping starts polling.
  depends_on = [aws_iam_role_policy.lambda]
}
