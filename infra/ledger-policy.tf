# The ledger is append-only, enforced on the table itself (docs/architecture.md#append-only-enforced-where-it-can-be).
# The roles' own policies already deny UpdateItem and DeleteItem on the ledger (iam-lambda.tf,
# github-deploy.tf), but an identity policy binds only the role it is attached to: an operator, a new role, a
# leaked deploy role could still be allowed to rewrite. A resource-based policy on the table binds every
# principal of the account, and an explicit Deny in it wins over any Allow anywhere:
#
#   1. No principal but the command Lambda's role writes an item of the ledger, by any write action.
#   2. Nobody, the command role included, updates, deletes, batch-writes or writes through PartiQL.
#   3. Nobody puts an item outside TransactWriteItems. A Put inside a transaction is authorised as
#      dynamodb:PutItem with dynamodb:EnclosingOperation = TransactWriteItems (DynamoDB developer guide, "Using
#      IAM with DynamoDB transactions"); a plain PutItem has no such key, and a negated condition operator is
#      true when the key is absent, so StringNotEquals denies it.
#   4. Nobody turns on time to live: TTL deletes items by an attribute's value, and `version` is a number.
#   5. The deploy role cannot replace or delete this policy: a change to it is an administrator's act.
#
# Lock-out: only item writes, TTL and this policy's own actions are denied, so Terraform still describes,
# updates and tags the table, and no Terraform resource writes a ledger item (the initial aggregate is in the
# counters table). Statement 5 names only the deploy role; an administrator changes or deletes the policy as
# usual, and the account's root user can always delete a table's resource policy, whatever it denies
# (DeleteResourcePolicy, DynamoDB API reference). Recovery: docs/runbook.md#the-ledger-resource-policy.
#
# What it cannot stop: the table's own control plane. UpdateTable can turn the stream off (the pipeline needs
# UpdateTable; CloudTrail records it), and a point-in-time restore makes a new table, not this one. Those
# leave no stream record; the hash chain and the signed digests catch what they change.

data "aws_iam_policy_document" "ledger_append_only" {
  statement {
    sid    = "OnlyTheCommandRoleWrites"
    effect = "Deny"
    actions = [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:PartiQLInsert",
      "dynamodb:PartiQLUpdate",
      "dynamodb:PartiQLDelete",
    ]
    resources = [aws_dynamodb_table.ledger.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    # aws:PrincipalArn of a Lambda's session is its role's ARN. A condition, not a NotPrincipal: it does not
    # depend on the role's unique id, so recreating the role does not silently void the exception.
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.lambda["command"].arn]
    }
  }

  statement {
    sid    = "NoEventIsRewritten"
    effect = "Deny"
    actions = [
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:PartiQLInsert",
      "dynamodb:PartiQLUpdate",
      "dynamodb:PartiQLDelete",
    ]
    resources = [aws_dynamodb_table.ledger.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }

  statement {
    sid       = "AppendOnlyInATransaction"
    effect    = "Deny"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.ledger.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "dynamodb:EnclosingOperation"
      values   = ["TransactWriteItems"]
    }
  }

  statement {
    sid       = "NoEventExpires"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateTimeToLive"]
    resources = [aws_dynamodb_table.ledger.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }

  statement {
    sid       = "DeployRoleCannotLiftThis"
    effect    = "Deny"
    actions   = ["dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy"]
    resources = [aws_dynamodb_table.ledger.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.github_deploy.arn]
    }
  }
}

resource "aws_dynamodb_resource_policy" "ledger" {
  resource_arn = aws_dynamodb_table.ledger.arn
  policy       = data.aws_iam_policy_document.ledger_append_only.json
}
