# Where alarms go: an SNS topic encrypted under a customer managed key that CloudWatch may use, published to only
# by the CloudWatch alarms of this account, with an e-mail subscription when an address is given. Used twice
# (alarms.tf): the chosen region's topic, and the edge's in us-east-1 (an alarm notifies only a topic of its own
# region). Both are read-only to the deploy pipeline (github-deploy.tf, AlarmsCannotBeSilenced).

terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

# CloudWatch can publish to an encrypted topic only under a customer managed key whose policy lets it use the
# key: the AWS managed key of SNS (aws/sns) has a fixed policy without CloudWatch, and alarms would fail to
# notify. One symmetric key, rotated yearly, used by SNS and CloudWatch of this account alone.
# A key policy, written out rather than as an aws_iam_policy_document: in a key policy `Resource: "*"` is the key
# itself, and the first statement is KMS's default one (the account administers the key through IAM).
locals {
  key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchPublishesAlarms"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
    ]
  }
}

resource "aws_kms_key" "this" {
  description             = var.key_description
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = jsonencode(local.key_policy)
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = aws_kms_key.this.arn
}

# Only CloudWatch alarms of this account publish to the topic.
data "aws_iam_policy_document" "publish" {
  statement {
    sid       = "CloudWatchAlarmsOfThisAccount"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.publish.json
}

# The address gets a confirmation mail from SNS, one per topic; nothing is delivered to it until the link in it
# is followed.
resource "aws_sns_topic_subscription" "email" {
  count = var.email == "" ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.email
}
