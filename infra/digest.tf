# Signed digests (docs/api.md#digests, docs/runbook.md#digests): the KMS key that signs the head of the ledger's
# hash chain (its private key never leaves KMS; the public key is an output and GET /number/digest/keys), and
# the scheduled digest — an EventBridge Scheduler schedule runs the digest Lambda every few minutes, which
# writes each new digest as a new object to a bucket with Object Lock in COMPLIANCE mode: until its retention
# ends, no one, the account's root user included, can overwrite or delete it, nor shorten the retention.

locals {
  digest_bucket_name = "${var.project}-digests-${local.account_id}"
}

# --- the signing key -------------------------------------------------------------------------------------

# ECC_NIST_P256 with SIGN_VERIFY: ECDSA_SHA_256 signatures, which are JWS's ES256. Asymmetric keys do not
# rotate automatically; a new key would be published beside the old one in the JWKS.
resource "aws_kms_key" "digest" {
  description              = "${var.project}: signs digests of the ledger's head (ES256)"
  customer_master_key_spec = "ECC_NIST_P256"
  key_usage                = "SIGN_VERIFY"
  deletion_window_in_days  = 30
}

resource "aws_kms_alias" "digest" {
  name          = "alias/${var.project}-digest"
  target_key_id = aws_kms_key.digest.key_id
}

data "aws_kms_public_key" "digest" {
  key_id = aws_kms_key.digest.arn
}

# --- the archive -----------------------------------------------------------------------------------------

resource "aws_s3_bucket" "digests" {
  bucket              = local.digest_bucket_name
  object_lock_enabled = true
}

# Object Lock needs versioning, and keeps every version: a PutObject never replaces a locked object.
resource "aws_s3_bucket_versioning" "digests" {
  bucket = aws_s3_bucket.digests.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "digests" {
  bucket = aws_s3_bucket.digests.id

  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.digest_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.digests]
}

resource "aws_s3_bucket_public_access_block" "digests" {
  bucket                  = aws_s3_bucket.digests.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "digests" {
  bucket = aws_s3_bucket.digests.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "digests" {
  bucket = aws_s3_bucket.digests.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# --- the schedule ----------------------------------------------------------------------------------------

# Retries (the module's two, within 5 minutes): the next run writes the same head anyway.
module "digest_schedule" {
  source = "./modules/scheduled_invoke"

  name                = "${var.project}-digest"
  description         = "Writes a signed digest of the ledger's head to the Object Lock bucket when the head moved."
  schedule_expression = "rate(${var.digest_interval_minutes} minutes)"
  target_arn          = aws_lambda_alias.live["digest"].arn

  role_name                = "${var.project}-lambda-digest-schedule"
  role_policy_name         = "${var.project}-digest-schedule"
  invoke_statement_sid     = "InvokeDigestLambda"
  permissions_boundary_arn = aws_iam_policy.lambda_boundary.arn
  account_id               = local.account_id
}

# Resources of this file before the module: moved, so that Terraform keeps them.
moved {
  from = aws_scheduler_schedule.digest
  to   = module.digest_schedule.aws_scheduler_schedule.this
}

moved {
  from = aws_iam_role.digest_schedule
  to   = module.digest_schedule.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.digest_schedule
  to   = module.digest_schedule.aws_iam_role_policy.this
}

# --- the digest Lambda's own policy (its role is iam-lambda.tf's, one per Lambda) -------------------------

# It reads the head (version and headHash) from the aggregate, signs it with the key, and creates objects in
# the bucket — only new ones: the If-None-Match condition makes a PutObject that would add a version to an
# existing key fail. It cannot read, list, delete or change the retention of anything there.
data "aws_iam_policy_document" "digest" {
  statement {
    sid       = "ReadHead"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.counters.arn]
  }

  # Each run computes the digest's Merkle root, which keeps the tree's subtree hashes filled for the API:
  # the ledger's leaves in version order, and the kept hashes under `<counterId>#merkle` partitions only
  # (services/ledger/storage/merkle.ts), each written once with a condition.
  statement {
    sid       = "ReadLedgerInVersionOrder"
    effect    = "Allow"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.ledger.arn}/index/byVersion"]
  }

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

  statement {
    sid       = "SignDigests"
    effect    = "Allow"
    actions   = ["kms:Sign", "kms:GetPublicKey"]
    resources = [aws_kms_key.digest.arn]
  }

  statement {
    sid       = "CreateDigestObjects"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.digests.arn}/*"]

    condition {
      test     = "StringEquals"
      variable = "s3:if-none-match"
      values   = ["*"]
    }
  }

  # Active tracing (lambda.tf): X-Ray's write actions have no resource to scope them to.
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
    resources = ["${aws_cloudwatch_log_group.lambda["digest"].arn}:*"]
  }

  statement {
    sid       = "LedgerIsAppendOnly"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}
