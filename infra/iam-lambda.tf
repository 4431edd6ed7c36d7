# One execution role per Lambda, each allowed exactly what its handler does and nothing else
# (docs/decisions.md#three-tables-and-iam-written-as-it-really-works). Never widen one role to make another
# work; never grant an action on `*`.
#
# IAM has no `dynamodb:TransactWriteItems` action: a transaction is authorised by the item actions inside it.
# So the command role holds `PutItem` on the ledger and `UpdateItem` on counters only under the condition
# `dynamodb:EnclosingOperation = TransactWriteItems`: outside a transaction neither is allowed. Every role also
# carries an explicit deny of `UpdateItem` and `DeleteItem` on the ledger, which no later allow can override:
# the ledger is append-only, whatever anyone grants.

data "aws_iam_policy_document" "lambda_assume_role" {
  statement {
    sid     = "LambdaService"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# --- command: POST /number ---------------------------------------------------------------------------

data "aws_iam_policy_document" "command" {
  statement {
    sid       = "ReadAggregateAndLedgerEvent"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.counters.arn, aws_dynamodb_table.ledger.arn]
  }

  statement {
    sid       = "AppendLedgerEventInTransaction"
    effect    = "Allow"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.ledger.arn]

    condition {
      test     = "StringEquals"
      variable = "dynamodb:EnclosingOperation"
      values   = ["TransactWriteItems"]
    }
  }

  statement {
    sid       = "MoveAggregateInTransaction"
    effect    = "Allow"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.counters.arn]

    condition {
      test     = "StringEquals"
      variable = "dynamodb:EnclosingOperation"
      values   = ["TransactWriteItems"]
    }
  }

  # The user's quota item for the minute, charged in the same transaction as the events it counts
  # (services/command/transaction.ts): outside one, nothing may touch it.
  statement {
    sid       = "ChargeQuotaInTransaction"
    effect    = "Allow"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.quotas.arn]

    condition {
      test     = "StringEquals"
      variable = "dynamodb:EnclosingOperation"
      values   = ["TransactWriteItems"]
    }
  }

  # Active tracing (lambda.tf): Lambda and the Tracer send segments with the function's role. X-Ray's write
  # actions have no resource to scope them to.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["command"].arn}:*"]
  }

  statement {
    sid       = "LedgerIsAppendOnly"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

# --- query: the cheap reads and $default ----------------------------------------------------------------

# It reads and writes nothing else: the routes that replay the ledger or fill the Merkle tree, and with them
# every write of derived data and every signature, are the audit function's (below).
data "aws_iam_policy_document" "query" {
  # The aggregate (GET /number, GET /health) and one ledger event by its id (GET /number/events/{key}).
  statement {
    sid       = "ReadAggregateAndOneEvent"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.counters.arn, aws_dynamodb_table.ledger.arn]
  }

  # GET /number/history: the projected state entry and the audit trail, a page at a time.
  statement {
    sid       = "ReadHistory"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.read_model.arn]
  }

  # GET /number/digest/keys publishes the digest key's public half; signing is the audit function's.
  statement {
    sid       = "PublishDigestKey"
    effect    = "Allow"
    actions   = ["kms:GetPublicKey"]
    resources = [aws_kms_key.digest.arn]
  }

  # Active tracing (lambda.tf): Lambda and the Tracer send segments with the function's role. X-Ray's write
  # actions have no resource to scope them to.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["query"].arn}:*"]
  }

  statement {
    sid       = "LedgerIsAppendOnly"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

# --- audit: GET /number/verify, event proofs, GET /number/digest -------------------------------------------

data "aws_iam_policy_document" "audit" {
  statement {
    sid     = "ReadWhatItChecks"
    effect  = "Allow"
    actions = ["dynamodb:GetItem", "dynamodb:Query"]
    # The aggregate (the head a replay ends at, a digest signs), one ledger event (a proof's), the ledger in
    # version order through the byVersion index (the replay, the Merkle tree's leaves), and the read model (the
    # audit trail and projected state verify checks, its checkpoint and lease).
    resources = [
      aws_dynamodb_table.counters.arn,
      aws_dynamodb_table.ledger.arn,
      "${aws_dynamodb_table.ledger.arn}/index/byVersion",
      aws_dynamodb_table.read_model.arn,
    ]
  }

  # GET /number/verify keeps its checkpoint and its lease in the read model, at sort keys -1 and -2
  # (services/ledger/storage/checkpoint.ts). IAM cannot narrow a grant to sort keys; the read model is derived
  # data that verify checks against the ledger, and the ledger and the aggregate stay out of reach.
  statement {
    sid       = "VerifyCheckpointAndLease"
    effect    = "Allow"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.read_model.arn]
  }

  # GET /number/digest and the event proofs read and keep the Merkle tree's subtree hashes in the read model,
  # under partitions `<counterId>#merkle` only (services/ledger/storage/merkle.ts): each written once, with a
  # condition, never updated. The ledger's leaves come through the byVersion index above.
  statement {
    sid       = "KeepMerkleSubtrees"
    effect    = "Allow"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.read_model.arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["*#merkle"]
    }
  }

  # GET /number/digest signs the head with the digest key, at most once per head (digest.tf); a check against
  # a digest verifies it with the public key.
  statement {
    sid       = "SignDigests"
    effect    = "Allow"
    actions   = ["kms:Sign", "kms:GetPublicKey"]
    resources = [aws_kms_key.digest.arn]
  }

  # Active tracing (lambda.tf): Lambda and the Tracer send segments with the function's role. X-Ray's write
  # actions have no resource to scope them to.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["audit"].arn}:*"]
  }

  statement {
    sid       = "LedgerIsAppendOnly"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

# --- projector: ledger stream → read model ------------------------------------------------------------

data "aws_iam_policy_document" "projector" {
  # The event source mapping polls the stream with the function's own role.
  statement {
    sid     = "ReadLedgerStream"
    effect  = "Allow"
    actions = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    resources = [
      aws_dynamodb_table.ledger.stream_arn,
    ]
  }

  statement {
    sid       = "ListLedgerStreams"
    effect    = "Allow"
    actions   = ["dynamodb:ListStreams"]
    resources = ["${aws_dynamodb_table.ledger.arn}/stream/*"]
  }

  # Put the audit entry and move the state forward; GetItem only to compare an existing audit entry with a
  # redelivered event (services/projector/projection.ts). Nothing outside the read model.
  statement {
    sid       = "WriteReadModel"
    effect    = "Allow"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.read_model.arn]
  }

  # The mapping's on-failure destination sends with the function's role too.
  statement {
    sid       = "SendToFailureQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.projector_failures.arn]
  }

  # Active tracing (lambda.tf): Lambda and the Tracer send segments with the function's role. X-Ray's write
  # actions have no resource to scope them to.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["projector"].arn}:*"]
  }

  statement {
    sid       = "LedgerIsAppendOnly"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

# --- identity: Cognito's pre token generation trigger ------------------------------------------------

# It reads nothing and writes nothing but its log: the scopes it decides on come in the event.
data "aws_iam_policy_document" "identity" {
  # Active tracing (lambda.tf): Lambda and the Tracer send segments with the function's role. X-Ray's write
  # actions have no resource to scope them to.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda["identity"].arn}:*"]
  }

  statement {
    sid       = "LedgerIsAppendOnly"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

locals {
  lambda_policies = {
    command   = data.aws_iam_policy_document.command.json
    query     = data.aws_iam_policy_document.query.json
    audit     = data.aws_iam_policy_document.audit.json
    projector = data.aws_iam_policy_document.projector.json
    identity  = data.aws_iam_policy_document.identity.json
    # The scheduled digest (digest.tf): its policy document is there.
    digest = data.aws_iam_policy_document.digest.json
  }
}

resource "aws_iam_role" "lambda" {
  for_each = local.lambda_policies

  # The `-lambda-` infix is what the CI role's IAM rights are scoped to; the CI role itself is not under it.
  name                 = "${var.project}-lambda-${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume_role.json
  permissions_boundary = aws_iam_policy.lambda_boundary.arn
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.lambda_policies

  name   = "${var.project}-${each.key}"
  role   = aws_iam_role.lambda[each.key].id
  policy = each.value
}

# The most any Lambda role of this project can ever be allowed, whatever its own policy says. The CI role may
# create and change Lambda roles only with this boundary attached, so a change pushed to main cannot grant a
# function (and through it, the pipeline) more than the project's own tables, stream, queue and logs.
data "aws_iam_policy_document" "lambda_boundary" {
  statement {
    sid    = "ProjectTables"
    effect = "Allow"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:Query",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]
    resources = [
      aws_dynamodb_table.ledger.arn,
      "${aws_dynamodb_table.ledger.arn}/index/byVersion",
      "${aws_dynamodb_table.ledger.arn}/stream/*",
      aws_dynamodb_table.counters.arn,
      aws_dynamodb_table.read_model.arn,
      aws_dynamodb_table.quotas.arn,
    ]
  }

  statement {
    sid       = "FailureQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.projector_failures.arn]
  }

  statement {
    sid     = "ProjectLogs"
    effect  = "Allow"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "${aws_cloudwatch_log_group.lambda["command"].arn}:*",
      "${aws_cloudwatch_log_group.lambda["query"].arn}:*",
      "${aws_cloudwatch_log_group.lambda["audit"].arn}:*",
      "${aws_cloudwatch_log_group.lambda["projector"].arn}:*",
      "${aws_cloudwatch_log_group.lambda["identity"].arn}:*",
      "${aws_cloudwatch_log_group.lambda["digest"].arn}:*",
    ]
  }

  # Signed digests (digest.tf): the one key, new objects in the one bucket, and the schedule's invocation of
  # the digest Lambda.
  statement {
    sid       = "DigestKey"
    effect    = "Allow"
    actions   = ["kms:Sign", "kms:GetPublicKey"]
    resources = [aws_kms_key.digest.arn]
  }

  statement {
    sid       = "DigestObjects"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.digests.arn}/*"]
  }

  statement {
    sid     = "DigestSchedule"
    effect  = "Allow"
    actions = ["lambda:InvokeFunction"]
    # By name: a reference to the function would make the boundary depend on the roles it bounds.
    resources = ["${local.arn_prefix.lambda}:function:${var.project}-digest:live"]
  }

  # The scheduled verify (verify.tf) invokes the audit function.
  statement {
    sid       = "VerifySchedule"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = ["${local.arn_prefix.lambda}:function:${var.project}-audit:live"]
  }

  # Traces (lambda.tf: tracing_config Active). X-Ray's write actions have no resource to scope them to.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # CodeDeploy's role (deploy.tf) moves the functions' `live` aliases and reads the alarms that stop it.
  statement {
    sid       = "GradualDeploys"
    effect    = "Allow"
    actions   = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]
    resources = ["${local.arn_prefix.lambda}:function:${var.project}-*"]
  }

  statement {
    sid       = "GradualDeployAlarms"
    effect    = "Allow"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["${local.arn_prefix.cloudwatch}:alarm:${var.project}-*"]
  }

  statement {
    sid       = "LedgerIsAppendOnly"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

resource "aws_iam_policy" "lambda_boundary" {
  name        = "${var.project}-lambda-boundary"
  description = "Permissions boundary of every ${var.project} Lambda role."
  policy      = data.aws_iam_policy_document.lambda_boundary.json
}
