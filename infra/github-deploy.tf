# The role that the deploy workflow (.github/workflows/deploy.yml) assumes through GitHub's OIDC provider:
# no stored AWS keys anywhere. Only this repository's main branch can take it (the `sub` claim), only for
# STS (the `aud` claim), and what it may do is spelled out by resource ARN:
#
#   - delivery: the Terraform state (one object, one lock table), upload to the one web bucket, invalidate
#     the one distribution;
#   - infrastructure: manage this project's resources, found by their `${var.project}-` names, and, where
#     AWS makes up the id (API, distribution), by this account and region, with the Project tag required to
#     change or delete a distribution.
#
# It can never edit itself, its own policies, the OIDC provider or the Lambda permissions boundary: those are
# read-only to it, so a change to them is applied by an administrator (infra/README.md). It can create Lambda
# roles only under that boundary, so no commit to main can widen a function past the project's tables. It
# cannot delete a table or delete any item.

locals {
  github_oidc_provider_arn = (
    var.create_github_oidc_provider
    ? aws_iam_openid_connect_provider.github[0].arn
    : "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
  )

  arn_prefix = {
    dynamodb   = "arn:${local.partition}:dynamodb:${var.region}:${local.account_id}"
    lambda     = "arn:${local.partition}:lambda:${var.region}:${local.account_id}"
    logs       = "arn:${local.partition}:logs:${var.region}:${local.account_id}"
    sqs        = "arn:${local.partition}:sqs:${var.region}:${local.account_id}"
    cloudwatch = "arn:${local.partition}:cloudwatch:${var.region}:${local.account_id}"
    iam        = "arn:${local.partition}:iam::${local.account_id}"
    apigateway = "arn:${local.partition}:apigateway:${var.region}:"
    cloudfront = "arn:${local.partition}:cloudfront::${local.account_id}"
    wafv2      = "arn:${local.partition}:wafv2:us-east-1:${local.account_id}"
    cognito    = "arn:${local.partition}:cognito-idp:${var.region}:${local.account_id}"
    kms        = "arn:${local.partition}:kms:${var.region}:${local.account_id}"
    scheduler  = "arn:${local.partition}:scheduler:${var.region}:${local.account_id}"
  }
}

# An account has one provider per URL; set create_github_oidc_provider = false where it already exists.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "github_assume_role" {
  statement {
    sid     = "MainBranchOfThisRepository"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Exact match: no other repository, branch, tag, pull request or environment.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:ref:refs/heads/main"]
    }
  }
}

resource "aws_iam_role" "github_deploy" {
  name               = "${var.project}-github-deploy"
  assume_role_policy = data.aws_iam_policy_document.github_assume_role.json
  # A deploy (plan, apply, upload, invalidate) takes minutes; an hour bounds a leaked session.
  max_session_duration = 3600
}

# --- delivery: state, web upload, invalidation -----------------------------------------------------------

data "aws_iam_policy_document" "deploy_delivery" {
  # Listing is unconditioned: `terraform init` lists workspace prefixes (env:/), not only the state key.
  statement {
    sid       = "StateBucketList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}"]
  }

  statement {
    sid       = "StateObject"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}/${var.state_key}"]
  }

  # The lock table may sit in another region than the stack, hence the region wildcard in the ARN.
  statement {
    sid       = "StateLock"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.state_lock_table}"]
  }

  statement {
    sid       = "WebUploadList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.web.arn]
  }

  statement {
    sid       = "WebUploadObjects"
    effect    = "Allow"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.web.arn}/*"]
  }

  statement {
    sid       = "WebInvalidation"
    effect    = "Allow"
    actions   = ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"]
    resources = [aws_cloudfront_distribution.web.arn]
  }

  statement {
    sid       = "LedgerIsAppendOnly"
    effect    = "Deny"
    actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.ledger.arn]
  }
}

# --- infrastructure: data, compute, identity -------------------------------------------------------------

data "aws_iam_policy_document" "deploy_infrastructure" {
  # No DeleteTable: tables also have deletion protection, but the pipeline should not even try.
  statement {
    sid    = "Tables"
    effect = "Allow"
    actions = [
      "dynamodb:CreateTable",
      "dynamodb:DescribeTable",
      "dynamodb:UpdateTable",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:UpdateContinuousBackups",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:ListTagsOfResource",
      "dynamodb:TagResource",
      "dynamodb:UntagResource",
    ]
    resources = ["${local.arn_prefix.dynamodb}:table/${var.project}-*"]
  }

  # The ledger's resource policy (ledger-policy.tf) is read-only to the pipeline: with PutResourcePolicy it
  # could grant itself writes to the ledger. An administrator applies a change to it (infra/README.md).
  statement {
    sid       = "LedgerResourcePolicyRead"
    effect    = "Allow"
    actions   = ["dynamodb:GetResourcePolicy"]
    resources = [aws_dynamodb_table.ledger.arn]
  }

  # The initial aggregate: the provider creates it with attribute_not_exists and reads it back. No delete.
  statement {
    sid       = "InitialAggregate"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.counters.arn]
  }

  statement {
    sid    = "Functions"
    effect = "Allow"
    actions = [
      "lambda:CreateFunction",
      "lambda:DeleteFunction",
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:GetRuntimeManagementConfig",
      "lambda:ListVersionsByFunction",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:GetPolicy",
      "lambda:AddPermission",
      "lambda:RemovePermission",
      "lambda:ListTags",
      "lambda:TagResource",
      "lambda:UntagResource",
    ]
    resources = ["${local.arn_prefix.lambda}:function:${var.project}-*"]
  }

  statement {
    sid    = "ProjectorMapping"
    effect = "Allow"
    actions = [
      "lambda:GetEventSourceMapping",
      "lambda:UpdateEventSourceMapping",
      "lambda:DeleteEventSourceMapping",
    ]
    resources = ["${local.arn_prefix.lambda}:event-source-mapping:*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn_prefix.lambda}:function:${var.project}-*"]
    }
  }

  # CreateEventSourceMapping names no resource (there is no mapping yet); the condition names the function.
  statement {
    sid       = "ProjectorMappingCreate"
    effect    = "Allow"
    actions   = ["lambda:CreateEventSourceMapping"]
    resources = ["*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn_prefix.lambda}:function:${var.project}-*"]
    }
  }

  statement {
    sid    = "LogGroups"
    effect = "Allow"
    actions = [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "logs:TagResource",
      "logs:TagLogGroup",
      "logs:UntagResource",
      "logs:UntagLogGroup",
      "logs:PutMetricFilter",
      "logs:DeleteMetricFilter",
      "logs:DescribeMetricFilters",
    ]
    resources = [
      "${local.arn_prefix.logs}:log-group:/aws/lambda/${var.project}-*",
      "${local.arn_prefix.logs}:log-group:/aws/apigateway/${var.project}",
      "${local.arn_prefix.logs}:log-group:/aws/apigateway/${var.project}:*",
    ]
  }

  statement {
    sid       = "LogGroupsDescribe"
    effect    = "Allow"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.arn_prefix.logs}:log-group:*"]
  }

  # API Gateway's access logging goes through CloudWatch Logs' vended-log delivery, whose actions name no
  # resource at all.
  statement {
    sid    = "ApiAccessLogDelivery"
    effect = "Allow"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
    ]
    resources = ["*"]
  }

  statement {
    sid    = "FailureQueue"
    effect = "Allow"
    actions = [
      "sqs:CreateQueue",
      "sqs:DeleteQueue",
      "sqs:GetQueueAttributes",
      "sqs:SetQueueAttributes",
      "sqs:ListQueueTags",
      "sqs:TagQueue",
      "sqs:UntagQueue",
    ]
    resources = ["${local.arn_prefix.sqs}:${var.project}-*"]
  }

  statement {
    sid    = "Alarms"
    effect = "Allow"
    actions = [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ]
    resources = ["${local.arn_prefix.cloudwatch}:alarm:${var.project}-*"]
  }

  # Lambda roles: only under the `-lambda-` names, and only with the project's permissions boundary.
  statement {
    sid    = "LambdaRolesUnderBoundary"
    effect = "Allow"
    actions = [
      "iam:CreateRole",
      "iam:PutRolePolicy",
      "iam:PutRolePermissionsBoundary",
    ]
    resources = ["${local.arn_prefix.iam}:role/${var.project}-lambda-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [aws_iam_policy.lambda_boundary.arn]
    }
  }

  statement {
    sid    = "LambdaRoles"
    effect = "Allow"
    actions = [
      "iam:DeleteRole",
      "iam:DeleteRolePolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
    ]
    resources = ["${local.arn_prefix.iam}:role/${var.project}-lambda-*"]
  }

  statement {
    sid       = "PassLambdaRolesToLambda"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn_prefix.iam}:role/${var.project}-lambda-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  # Plan reads every resource, its own role and the boundary included; reading is all it may do to them.
  statement {
    sid    = "ReadProjectIdentity"
    effect = "Allow"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:ListPolicyVersions",
      "iam:GetOpenIDConnectProvider",
    ]
    resources = [
      "${local.arn_prefix.iam}:role/${var.project}-*",
      "${local.arn_prefix.iam}:policy/${var.project}-*",
      local.github_oidc_provider_arn,
    ]
  }
}

# --- infrastructure: API and web edge --------------------------------------------------------------------

data "aws_iam_policy_document" "deploy_edge" {
  # API Gateway ids are made up by AWS; the API and its routes, integrations and stage live under /apis.
  statement {
    sid       = "HttpApi"
    effect    = "Allow"
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:PUT", "apigateway:DELETE"]
    resources = ["${local.arn_prefix.apigateway}:/apis", "${local.arn_prefix.apigateway}:/apis/*", "${local.arn_prefix.apigateway}:/tags/*"]
  }

  statement {
    sid    = "WebBucket"
    effect = "Allow"
    actions = [
      "s3:CreateBucket",
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:GetBucketPolicy",
      "s3:PutBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:PutBucketPublicAccessBlock",
      "s3:GetBucketOwnershipControls",
      "s3:PutBucketOwnershipControls",
      "s3:GetEncryptionConfiguration",
      "s3:PutEncryptionConfiguration",
      "s3:GetBucketTagging",
      "s3:PutBucketTagging",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketVersioning",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetBucketObjectLockConfiguration",
    ]
    resources = ["arn:${local.partition}:s3:::${var.project}-web-${local.account_id}"]
  }

  statement {
    sid    = "WebDistributionCreateAndRead"
    effect = "Allow"
    actions = [
      "cloudfront:CreateDistribution",
      "cloudfront:GetDistribution",
      "cloudfront:GetDistributionConfig",
      "cloudfront:ListTagsForResource",
      "cloudfront:TagResource",
    ]
    resources = ["${local.arn_prefix.cloudfront}:distribution/*"]
  }

  # Changing or deleting a distribution needs the Project tag on it: another team's distribution is safe.
  statement {
    sid       = "WebDistributionChange"
    effect    = "Allow"
    actions   = ["cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution", "cloudfront:UntagResource"]
    resources = ["${local.arn_prefix.cloudfront}:distribution/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  statement {
    sid    = "WebDistributionPolicies"
    effect = "Allow"
    actions = [
      "cloudfront:CreateOriginAccessControl",
      "cloudfront:GetOriginAccessControl",
      "cloudfront:UpdateOriginAccessControl",
      "cloudfront:DeleteOriginAccessControl",
      "cloudfront:CreateResponseHeadersPolicy",
      "cloudfront:GetResponseHeadersPolicy",
      "cloudfront:UpdateResponseHeadersPolicy",
      "cloudfront:DeleteResponseHeadersPolicy",
    ]
    resources = [
      "${local.arn_prefix.cloudfront}:origin-access-control/*",
      "${local.arn_prefix.cloudfront}:response-headers-policy/*",
    ]
  }

  statement {
    sid    = "WebAcl"
    effect = "Allow"
    actions = [
      "wafv2:CreateWebACL",
      "wafv2:GetWebACL",
      "wafv2:UpdateWebACL",
      "wafv2:DeleteWebACL",
      "wafv2:ListTagsForResource",
      "wafv2:TagResource",
      "wafv2:UntagResource",
    ]
    resources = [
      "${local.arn_prefix.wafv2}:global/webacl/${var.project}-web/*",
      "${local.arn_prefix.wafv2}:global/managedruleset/*/*",
    ]
  }
}

# --- infrastructure: the user pool (identity.tf) ------------------------------------------------------------

data "aws_iam_policy_document" "deploy_identity" {
  # CreateUserPool names no resource (the pool does not exist yet), nor does DescribeUserPoolDomain (it names
  # a domain, not a pool).
  statement {
    sid       = "UserPoolCreate"
    effect    = "Allow"
    actions   = ["cognito-idp:CreateUserPool", "cognito-idp:DescribeUserPoolDomain"]
    resources = ["*"]
  }

  # Pool ids are made up by AWS: this account's pools in this region. No DeleteUserPool: the users are data,
  # and the pool has deletion protection besides; deleting it is an administrator's act (infra/README.md).
  statement {
    sid    = "UserPool"
    effect = "Allow"
    actions = [
      "cognito-idp:DescribeUserPool",
      "cognito-idp:UpdateUserPool",
      "cognito-idp:GetUserPoolMfaConfig",
      "cognito-idp:SetUserPoolMfaConfig",
      "cognito-idp:CreateUserPoolDomain",
      "cognito-idp:UpdateUserPoolDomain",
      "cognito-idp:DeleteUserPoolDomain",
      "cognito-idp:CreateUserPoolClient",
      "cognito-idp:DescribeUserPoolClient",
      "cognito-idp:UpdateUserPoolClient",
      "cognito-idp:DeleteUserPoolClient",
      "cognito-idp:CreateResourceServer",
      "cognito-idp:DescribeResourceServer",
      "cognito-idp:UpdateResourceServer",
      "cognito-idp:DeleteResourceServer",
      "cognito-idp:CreateGroup",
      "cognito-idp:GetGroup",
      "cognito-idp:UpdateGroup",
      "cognito-idp:DeleteGroup",
      "cognito-idp:ListTagsForResource",
      "cognito-idp:TagResource",
      "cognito-idp:UntagResource",
    ]
    resources = ["${local.arn_prefix.cognito}:userpool/*"]
  }

  # The web UI's config.json (identity.tf); PutObject on the bucket is a delivery right already.
  statement {
    sid       = "WebConfigObject"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"]
    resources = ["${aws_s3_bucket.web.arn}/config.json"]
  }
}

# --- infrastructure: signed digests (digest.tf) ---------------------------------------------------------------

data "aws_iam_policy_document" "deploy_digest" {
  # CreateKey names no key yet: it is allowed only with the Project tag on the new key (default_tags).
  statement {
    sid       = "DigestKeyCreate"
    effect    = "Allow"
    actions   = ["kms:CreateKey"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Project"
      values   = [var.project]
    }
  }

  # Managing a key, only one that carries the Project tag. No kms:Sign: the pipeline signs nothing.
  statement {
    sid    = "DigestKeyManage"
    effect = "Allow"
    actions = [
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:GetPublicKey",
      "kms:ListResourceTags",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:EnableKey",
      "kms:UpdateKeyDescription",
      "kms:ScheduleKeyDeletion",
      "kms:CreateAlias",
      "kms:DeleteAlias",
    ]
    resources = ["${local.arn_prefix.kms}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  # An alias is its own resource besides the key's (CreateAlias and DeleteAlias need both).
  statement {
    sid       = "DigestKeyAlias"
    effect    = "Allow"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["${local.arn_prefix.kms}:alias/${var.project}-digest"]
  }

  statement {
    sid       = "DigestKeyAliasList"
    effect    = "Allow"
    actions   = ["kms:ListAliases"]
    resources = ["*"]
  }

  # The bucket: created with Object Lock, versioned, private. No DeleteBucket, no object deletion, no
  # PutObjectRetention or BypassGovernanceRetention: the pipeline can neither remove digests nor shorten them.
  statement {
    sid    = "DigestBucket"
    effect = "Allow"
    actions = [
      "s3:CreateBucket",
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:GetBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:PutBucketPublicAccessBlock",
      "s3:GetBucketOwnershipControls",
      "s3:PutBucketOwnershipControls",
      "s3:GetEncryptionConfiguration",
      "s3:PutEncryptionConfiguration",
      "s3:GetBucketTagging",
      "s3:PutBucketTagging",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketVersioning",
      "s3:PutBucketVersioning",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetBucketObjectLockConfiguration",
      "s3:PutBucketObjectLockConfiguration",
    ]
    resources = ["arn:${local.partition}:s3:::${local.digest_bucket_name}"]
  }

  statement {
    sid    = "DigestSchedule"
    effect = "Allow"
    actions = [
      "scheduler:CreateSchedule",
      "scheduler:GetSchedule",
      "scheduler:UpdateSchedule",
      "scheduler:DeleteSchedule",
    ]
    resources = ["${local.arn_prefix.scheduler}:schedule/default/${var.project}-*"]
  }

  # The schedule's role (`<project>-lambda-digest-schedule`, under the boundary) is passed to the Scheduler.
  statement {
    sid       = "PassLambdaRolesToScheduler"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn_prefix.iam}:role/${var.project}-lambda-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["scheduler.amazonaws.com"]
    }
  }
}

locals {
  deploy_policies = {
    delivery       = data.aws_iam_policy_document.deploy_delivery.json
    infrastructure = data.aws_iam_policy_document.deploy_infrastructure.json
    edge           = data.aws_iam_policy_document.deploy_edge.json
    identity       = data.aws_iam_policy_document.deploy_identity.json
    digest         = data.aws_iam_policy_document.deploy_digest.json
  }
}

# Managed policies rather than inline ones: together they exceed the 10 KiB a role's inline policies may hold.
resource "aws_iam_policy" "deploy" {
  for_each = local.deploy_policies

  name   = "${var.project}-deploy-${each.key}"
  policy = each.value
}

resource "aws_iam_role_policy_attachment" "deploy" {
  for_each = local.deploy_policies

  role       = aws_iam_role.github_deploy.name
  policy_arn = aws_iam_policy.deploy[each.key].arn
}
