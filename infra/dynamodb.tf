# The four tables of services/ledger/storage/tables.ts, as they run on AWS, and the counter's initial aggregate.
# Keys, attribute types, the byVersion index and the stream view must match tableDefinitions() exactly: the
# infra tests compare them. Every table is on-demand (nothing to pay at rest but storage), has point-in-time
# recovery (35 days of restore points: the ledger is the system of record), deletion protection (a
# `terraform destroy` or a console slip cannot drop it) and encryption under the AWS managed KMS key
# (aws/dynamodb), so key use shows in CloudTrail without a customer key to run.

resource "aws_dynamodb_table" "ledger" {
  name         = local.table_names.ledger
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "eventId"
  # STANDARD, or STANDARD_INFREQUENT_ACCESS once storage is most of the ledger's bill (variables.tf). The class
  # covers the byVersion index too; switching is online and nothing else changes (no item moves, no delete).
  table_class = var.ledger_table_class

  attribute {
    name = "eventId"
    type = "S"
  }

  attribute {
    name = "counterId"
    type = "S"
  }

  attribute {
    name = "version"
    type = "N"
  }

  # (counterId, version): one counter's ledger in version order, for replay and verification.
  global_secondary_index {
    name            = "byVersion"
    hash_key        = "counterId"
    range_key       = "version"
    projection_type = "ALL"
  }

  # The projector needs only the new image of an INSERT; old images too, because the ledger is append-only:
  # a MODIFY or REMOVE is tampering, and the old image is the evidence of what was overwritten or deleted
  # (the projector logs it and alarms.tf alarms on it). The table's resource policy is in ledger-policy.tf.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  deletion_protection_enabled = true
}

resource "aws_dynamodb_table" "counters" {
  name         = local.table_names.counters
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "counterId"

  attribute {
    name = "counterId"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  deletion_protection_enabled = true
}

resource "aws_dynamodb_table" "read_model" {
  name         = local.table_names.read_model
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "counterId"
  # entry 0 is the projected state, entry n the audit entry of version n.
  range_key = "entry"

  attribute {
    name = "counterId"
    type = "S"
  }

  attribute {
    name = "entry"
    type = "N"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  deletion_protection_enabled = true
}

# Per-user quotas (services/command/quota.ts): one item per user and one-minute window, charged by the command
# Lambda in the command's own transaction. A table of its own, apart from the aggregate's partition
# (docs/decisions.md#per-user-quotas-counted-in-the-commands-transaction). TTL removes past windows (within
# days of `expiresAt`, an hour after the window ends; nothing reads a past window). Recovery and deletion
# protection as every table: a restore must not hand every user a fresh quota for the minute, and the tests
# hold every table to the same protections.
resource "aws_dynamodb_table" "quotas" {
  name         = local.table_names.quotas
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "quotaId"

  attribute {
    name = "quotaId"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  deletion_protection_enabled = true
}

# The counter starts at its lower bound, version 0 (the decider's initial state; counter_min is also the
# handlers' COUNTER_MIN, lambda.tf). The provider creates it with a condition `attribute_not_exists`, so it
# never overwrites a live aggregate; but on every later plan it would read the live value back and "correct"
# it — hence ignore_changes. prevent_destroy: destroying this resource would delete the aggregate while the
# ledger stays, breaking invariant I1.
resource "aws_dynamodb_table_item" "initial_aggregate" {
  table_name = aws_dynamodb_table.counters.name
  hash_key   = aws_dynamodb_table.counters.hash_key

  item = jsonencode({
    counterId = { S = var.counter_id }
    value     = { N = tostring(var.counter_min) }
    version   = { N = "0" }
  })

  lifecycle {
    ignore_changes  = [item]
    prevent_destroy = true

    # The handlers refuse such bounds at start-up; refuse them at plan time, before anything is created.
    precondition {
      condition     = var.counter_min < var.counter_max
      error_message = "counter_min must be below counter_max."
    }
  }
}
