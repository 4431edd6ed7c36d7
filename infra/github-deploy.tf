# The two roles that the deploy workflow (.github/workflows/deploy.yml) assumes through GitHub's OIDC provider:
# no stored AWS keys anywhere. Each is taken only for STS (the `aud` claim) and only by an exact `sub`:
#
#   - plan (`<project>-github-plan`): jobs of this repository's main branch (`repo:OWNER/REPO:ref:refs/heads/main`).
#     It reads: the state, every resource Terraform refreshes, and the state lock. It can change nothing else.
#   - deploy (`<project>-github-deploy`): jobs that run in this repository's GitHub environment
#     (`var.github_environment`, `repo:OWNER/REPO:environment:production`), which has required reviewers
#     (infra/README.md): a person approves each apply. It holds the write rights, spelled out by resource ARN:
#
#   - delivery: the Terraform state (one object, one lock table), upload to the one web bucket, invalidate
#     the one distribution;
#   - infrastructure: manage this project's resources, found by their `${var.project}-` names, and, where
#     AWS makes up the id (API, distribution, key), by the Project tag, required to create, change or delete.
#
# Neither can edit itself, its own policies, the OIDC provider, the Lambda permissions boundary, the guardrail
# of guardrails.tf or the alarm topics and their keys (alarms.tf, alarms-edge.tf): those are read-only to them, so a change to them
# is applied by an administrator (infra/README.md). The deploy role can create Lambda roles only under that boundary, so no commit to main can
# widen a function past the project's tables. It cannot write an item of the ledger or of the counters table
# (the aggregate), delete a table, or change point-in-time recovery; turning off deletion protection, which IAM
# cannot tell apart from other table updates, raises the guardrail's alarm.

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
    logs_waf   = "arn:${local.partition}:logs:us-east-1:${local.account_id}"
    events     = "arn:${local.partition}:events:${var.region}:${local.account_id}"
    cognito    = "arn:${local.partition}:cognito-idp:${var.region}:${local.account_id}"
    kms        = "arn:${local.partition}:kms:${var.region}:${local.account_id}"
    scheduler  = "arn:${local.partition}:scheduler:${var.region}:${local.account_id}"
    codedeploy = "arn:${local.partition}:codedeploy:${var.region}:${local.account_id}"
    sns        = "arn:${local.partition}:sns:${var.region}:${local.account_id}"
    # The edge's alarm, its topic and key live in us-east-1 with WAF's metrics (alarms-edge.tf).
    cloudwatch_edge = "arn:${local.partition}:cloudwatch:us-east-1:${local.account_id}"
    sns_edge        = "arn:${local.partition}:sns:us-east-1:${local.account_id}"
    kms_edge        = "arn:${local.partition}:kms:us-east-1:${local.account_id}"
  }

  # The one alarm of us-east-1 (alarms-edge.tf), by its name, and the edge's alarm topic.
  edge_alarm_arn       = "${local.arn_prefix.cloudwatch_edge}:alarm:${var.project}-waf-429-rate"
  edge_alarm_topic_arn = "${local.arn_prefix.sns_edge}:${var.project}-edge-alarms"

  # A dashboard's ARN names no region.
  dashboard_arn = "arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${var.project}"
}

# An account has one provider per URL; set create_github_oidc_provider = false where it already exists.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

# Plan: only a job of this repository's main branch without an environment (a job with one gets the
# environment's `sub` instead, and the deploy role below).
data "aws_iam_policy_document" "github_plan_trust" {
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

# Apply: only a job that runs in the repository's deployment environment, which GitHub starts after its
# required reviewers approve (and, with a deployment branch rule, only from main: infra/README.md).
data "aws_iam_policy_document" "github_deploy_trust" {
  statement {
    sid     = "EnvironmentOfThisRepository"
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

    # Exact match: that environment of this repository and nothing else.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]
    }
  }
}

resource "aws_iam_role" "github_plan" {
  name               = "${var.project}-github-plan"
  assume_role_policy = data.aws_iam_policy_document.github_plan_trust.json
  # A plan takes minutes; an hour bounds a leaked session.
  max_session_duration = 3600
}

resource "aws_iam_role" "github_deploy" {
  name               = "${var.project}-github-deploy"
  assume_role_policy = data.aws_iam_policy_document.github_deploy_trust.json
  # An apply (apply, upload, invalidate) takes minutes; an hour bounds a leaked session.
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

  # The ledger and the aggregate are written by the command Lambda alone: the pipeline writes no item of
  # either, by any write action (the initial aggregate is an administrator's first apply, dynamodb.tf).
  statement {
    sid    = "NoItemWritesToLedgerOrAggregate"
    effect = "Deny"
    # Every action that writes an item: the item APIs, the batch, transactions, PartiQL's writes.
    actions = [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:TransactWriteItems",
      "dynamodb:PartiQLInsert",
      "dynamodb:PartiQLUpdate",
      "dynamodb:PartiQLDelete",
    ]
    resources = [aws_dynamodb_table.ledger.arn, aws_dynamodb_table.counters.arn]
  }
}

# --- infrastructure: data, compute, identity -------------------------------------------------------------

data "aws_iam_policy_document" "deploy_infrastructure" {
  # No DeleteTable: tables also have deletion protection, but the pipeline should not even try. No
  # UpdateContinuousBackups: the only call that turns point-in-time recovery off. Terraform makes it only when
  # creating a table or changing its recovery, both an administrator's apply (infra/README.md). UpdateTable can
  # also turn deletion protection off, which IAM cannot refuse alone: guardrails.tf alarms on it.
  statement {
    sid    = "Tables"
    effect = "Allow"
    actions = [
      "dynamodb:CreateTable",
      "dynamodb:DescribeTable",
      "dynamodb:UpdateTable",
      "dynamodb:DescribeContinuousBackups",
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

  # Explicit, so that no other grant can add them: never delete a table, never change its point-in-time recovery.
  statement {
    sid       = "TablesStayRecoverable"
    effect    = "Deny"
    actions   = ["dynamodb:DeleteTable", "dynamodb:UpdateContinuousBackups", "dynamodb:DeleteBackup"]
    resources = ["${local.arn_prefix.dynamodb}:table/${var.project}-*"]
  }

  # The initial aggregate: plan and apply read it back (refresh). Writing it is an administrator's first apply
  # (deploy_delivery denies every item write to the counters table).
  statement {
    sid       = "InitialAggregateRead"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem"]
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
      # Each change publishes a version; the `live` alias is created once. No UpdateAlias: only CodeDeploy
      # moves an alias, canary first, with its alarms watching (deploy.tf).
      "lambda:PublishVersion",
      "lambda:CreateAlias",
      "lambda:GetAlias",
      "lambda:DeleteAlias",
      "lambda:ListAliases",
      "lambda:GetPolicy",
      "lambda:AddPermission",
      "lambda:RemovePermission",
      "lambda:ListTags",
      "lambda:TagResource",
      "lambda:UntagResource",
      # The audit function's reserved concurrency (lambda.tf): set, and removed if it ever is.
      "lambda:PutFunctionConcurrency",
      "lambda:DeleteFunctionConcurrency",
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
      # WAF logs only to a group named aws-waf-logs-*, in the web ACL's region (web.tf).
      "${local.arn_prefix.logs_waf}:log-group:aws-waf-logs-${var.project}",
      "${local.arn_prefix.logs_waf}:log-group:aws-waf-logs-${var.project}:*",
    ]
  }

  statement {
    sid       = "LogGroupsDescribe"
    effect    = "Allow"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.arn_prefix.logs}:log-group:*", "${local.arn_prefix.logs_waf}:log-group:*"]
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

  # The guardrail (guardrails.tf) watches the pipeline, so the pipeline may not change it.
  statement {
    sid    = "GuardrailIsReadOnly"
    effect = "Deny"
    actions = [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DisableAlarmActions",
      "cloudwatch:SetAlarmState",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
      "events:PutRule",
      "events:DeleteRule",
      "events:DisableRule",
      "events:PutTargets",
      "events:RemoveTargets",
      "events:TagResource",
      "events:UntagResource",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
    ]
    resources = [
      "${local.arn_prefix.cloudwatch}:alarm:${local.guardrail_name}",
      "${local.arn_prefix.events}:rule/${local.guardrail_name}",
      "${local.arn_prefix.logs}:log-group:/aws/events/${local.guardrail_name}",
      "${local.arn_prefix.logs}:log-group:/aws/events/${local.guardrail_name}:*",
    ]
  }

  statement {
    sid       = "GuardrailRead"
    effect    = "Allow"
    actions   = ["events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"]
    resources = ["${local.arn_prefix.events}:rule/${local.guardrail_name}"]
  }

  statement {
    sid     = "GuardrailLogRead"
    effect  = "Allow"
    actions = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"]
    resources = [
      "${local.arn_prefix.logs}:log-group:/aws/events/${local.guardrail_name}",
      "${local.arn_prefix.logs}:log-group:/aws/events/${local.guardrail_name}:*",
    ]
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
  # API Gateway ids are made up by AWS and its ARNs name no account (arn:aws:apigateway:REGION::/apis/ID), so
  # a name cannot tell this project's API from another's: the Project tag does. Creating an API needs the tag in
  # the request (default_tags puts it there); everything under an API (its routes, integrations, authorizer,
  # stage, tags) needs the tag on it. Another HTTP API of the account, untagged or tagged otherwise, is out of reach.
  statement {
    sid       = "HttpApiCreate"
    effect    = "Allow"
    actions   = ["apigateway:POST"]
    resources = ["${local.arn_prefix.apigateway}:/apis"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Project"
      values   = [var.project]
    }
  }

  statement {
    sid       = "HttpApi"
    effect    = "Allow"
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:PUT", "apigateway:DELETE"]
    resources = ["${local.arn_prefix.apigateway}:/apis/*", "${local.arn_prefix.apigateway}:/tags/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
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
      "s3:PutBucketVersioning",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging",
      "s3:GetLifecycleConfiguration",
      "s3:PutLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetBucketObjectLockConfiguration",
    ]
    resources = ["arn:${local.partition}:s3:::${var.project}-web-${local.account_id}"]
  }

  # The edge's log bucket (web.tf). CloudFront's standard logs are written under an ACL that CloudFront adds
  # when logging is turned on, by the caller's rights: hence Get/PutBucketAcl, on this one bucket.
  statement {
    sid    = "LogBucket"
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
      "s3:PutBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketVersioning",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging",
      "s3:GetLifecycleConfiguration",
      "s3:PutLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetBucketObjectLockConfiguration",
    ]
    resources = ["arn:${local.partition}:s3:::${local.log_bucket_name}"]
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
      "wafv2:PutLoggingConfiguration",
      "wafv2:GetLoggingConfiguration",
      "wafv2:DeleteLoggingConfiguration",
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

# --- operations: the dashboard, the alarm topic, gradual deploys (dashboard.tf, alarms.tf, deploy.tf) -----------

data "aws_iam_policy_document" "deploy_operations" {
  statement {
    sid       = "Dashboard"
    effect    = "Allow"
    actions   = ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"]
    resources = [local.dashboard_arn]
  }

  # The edge's alarm in us-east-1 (alarms-edge.tf), managed like the alarms of the chosen region (Alarms).
  statement {
    sid    = "EdgeAlarm"
    effect = "Allow"
    actions = [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ]
    resources = [local.edge_alarm_arn]
  }

  # The topics the alarms notify (the main one and the edge's) are read-only to the pipeline, like the
  # guardrail: a commit to main cannot silence the alarms by deleting a topic or its subscription. A change to
  # them (alarm_email included) is an administrator's apply (infra/README.md). The main topic's key is read
  # under DigestKeyManage's Project tag condition; the edge's key, in us-east-1, under EdgeAlarmKeyRead's.
  statement {
    sid    = "AlarmTopicRead"
    effect = "Allow"
    actions = [
      "sns:GetTopicAttributes",
      "sns:ListTagsForResource",
      "sns:ListSubscriptionsByTopic",
      "sns:GetSubscriptionAttributes",
    ]
    resources = ["${local.arn_prefix.sns}:${var.project}-alarms", local.edge_alarm_topic_arn]
  }

  statement {
    sid       = "EdgeAlarmKeyRead"
    effect    = "Allow"
    actions   = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
    resources = ["${local.arn_prefix.kms_edge}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  # Explicit, so that no other grant can add them: DigestKeyManage allows tag-scoped key management (deletion
  # included) on any key with the Project tag, and the alarm key is one.
  statement {
    sid    = "AlarmsCannotBeSilenced"
    effect = "Deny"
    actions = [
      "sns:DeleteTopic",
      "sns:SetTopicAttributes",
      "sns:AddPermission",
      "sns:RemovePermission",
      "sns:Subscribe",
      "sns:Unsubscribe",
      "sns:SetSubscriptionAttributes",
      "kms:ScheduleKeyDeletion",
      "kms:DisableKey",
      "kms:PutKeyPolicy",
      "kms:CreateGrant",
      "kms:RevokeGrant",
      "kms:DisableKeyRotation",
    ]
    resources = [
      "${local.arn_prefix.sns}:${var.project}-alarms",
      module.alarm_topic.key_arn,
      local.edge_alarm_topic_arn,
      module.edge_alarm_topic.key_arn,
    ]
  }

  statement {
    sid    = "DeployApplication"
    effect = "Allow"
    actions = [
      "codedeploy:CreateApplication",
      "codedeploy:GetApplication",
      "codedeploy:DeleteApplication",
      "codedeploy:RegisterApplicationRevision",
      "codedeploy:GetApplicationRevision",
      "codedeploy:ListTagsForResource",
      "codedeploy:TagResource",
      "codedeploy:UntagResource",
    ]
    resources = ["${local.arn_prefix.codedeploy}:application:${var.project}"]
  }

  # The groups of deploy.tf, and the deployments the workflow starts in them and waits for.
  statement {
    sid    = "DeploymentGroups"
    effect = "Allow"
    actions = [
      "codedeploy:CreateDeploymentGroup",
      "codedeploy:GetDeploymentGroup",
      "codedeploy:UpdateDeploymentGroup",
      "codedeploy:DeleteDeploymentGroup",
      "codedeploy:CreateDeployment",
      "codedeploy:GetDeployment",
      "codedeploy:ListTagsForResource",
      "codedeploy:TagResource",
      "codedeploy:UntagResource",
    ]
    resources = ["${local.arn_prefix.codedeploy}:deploymentgroup:${var.project}/*"]
  }

  # The predefined configurations (CodeDeployDefault.Lambda…) belong to no one; only reading them.
  statement {
    sid       = "DeploymentConfigs"
    effect    = "Allow"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = ["${local.arn_prefix.codedeploy}:deploymentconfig:*"]
  }

  # CodeDeploy's role (`<project>-lambda-codedeploy`, under the boundary) is passed to CodeDeploy.
  statement {
    sid       = "PassLambdaRolesToCodeDeploy"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = ["${local.arn_prefix.iam}:role/${var.project}-lambda-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["codedeploy.amazonaws.com"]
    }
  }
}

# --- plan: read-only, and the state lock ----------------------------------------------------------------------
#
# What `terraform plan` needs: read the state and take its lock, and read back every resource the deploy role
# manages. Every grant here is a Get, Describe or List (apigateway:GET) of a resource the deploy role's
# policies name, under the same conditions (tests/unit/infra/iam.test.ts holds the two together); the only
# writes are the lock items of the lock table.

data "aws_iam_policy_document" "plan_state" {
  statement {
    sid       = "StateBucketList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}"]
  }

  statement {
    sid       = "StateObjectRead"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}/${var.state_key}"]
  }

  # The lock is an item of the lock table: a plan takes it and releases it, like an apply.
  statement {
    sid       = "StateLock"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
    resources = ["arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.state_lock_table}"]
  }

  statement {
    sid    = "NoItemWritesToLedgerOrAggregate"
    effect = "Deny"
    # Every action that writes an item: the item APIs, the batch, transactions, PartiQL's writes.
    actions = [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:TransactWriteItems",
      "dynamodb:PartiQLInsert",
      "dynamodb:PartiQLUpdate",
      "dynamodb:PartiQLDelete",
    ]
    resources = [aws_dynamodb_table.ledger.arn, aws_dynamodb_table.counters.arn]
  }
}

data "aws_iam_policy_document" "plan_read" {
  statement {
    sid    = "ReadTables"
    effect = "Allow"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:ListTagsOfResource",
    ]
    resources = ["${local.arn_prefix.dynamodb}:table/${var.project}-*"]
  }

  statement {
    sid       = "ReadLedgerResourcePolicy"
    effect    = "Allow"
    actions   = ["dynamodb:GetResourcePolicy"]
    resources = [aws_dynamodb_table.ledger.arn]
  }

  statement {
    sid       = "ReadInitialAggregate"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.counters.arn]
  }

  statement {
    sid    = "ReadFunctions"
    effect = "Allow"
    actions = [
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:GetRuntimeManagementConfig",
      "lambda:ListVersionsByFunction",
      "lambda:GetAlias",
      "lambda:ListAliases",
      "lambda:GetPolicy",
      "lambda:ListTags",
    ]
    resources = ["${local.arn_prefix.lambda}:function:${var.project}-*"]
  }

  statement {
    sid       = "ReadProjectorMapping"
    effect    = "Allow"
    actions   = ["lambda:GetEventSourceMapping"]
    resources = ["${local.arn_prefix.lambda}:event-source-mapping:*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["${local.arn_prefix.lambda}:function:${var.project}-*"]
    }
  }

  statement {
    sid     = "ReadLogGroups"
    effect  = "Allow"
    actions = ["logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:DescribeMetricFilters"]
    resources = [
      "${local.arn_prefix.logs}:log-group:/aws/lambda/${var.project}-*",
      "${local.arn_prefix.logs}:log-group:/aws/apigateway/${var.project}",
      "${local.arn_prefix.logs}:log-group:/aws/apigateway/${var.project}:*",
      "${local.arn_prefix.logs_waf}:log-group:aws-waf-logs-${var.project}",
      "${local.arn_prefix.logs_waf}:log-group:aws-waf-logs-${var.project}:*",
    ]
  }

  statement {
    sid       = "ReadLogGroupsDescribe"
    effect    = "Allow"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.arn_prefix.logs}:log-group:*", "${local.arn_prefix.logs_waf}:log-group:*"]
  }

  # Like the deploy role's ApiAccessLogDelivery: these name no resource.
  statement {
    sid       = "ReadLogDelivery"
    effect    = "Allow"
    actions   = ["logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:DescribeResourcePolicies"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadFailureQueue"
    effect    = "Allow"
    actions   = ["sqs:GetQueueAttributes", "sqs:ListQueueTags"]
    resources = ["${local.arn_prefix.sqs}:${var.project}-*"]
  }

  statement {
    sid       = "ReadAlarms"
    effect    = "Allow"
    actions   = ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"]
    resources = ["${local.arn_prefix.cloudwatch}:alarm:${var.project}-*", local.edge_alarm_arn]
  }

  statement {
    sid       = "ReadGuardrail"
    effect    = "Allow"
    actions   = ["events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"]
    resources = ["${local.arn_prefix.events}:rule/${local.guardrail_name}"]
  }

  statement {
    sid     = "ReadGuardrailLog"
    effect  = "Allow"
    actions = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"]
    resources = [
      "${local.arn_prefix.logs}:log-group:/aws/events/${local.guardrail_name}",
      "${local.arn_prefix.logs}:log-group:/aws/events/${local.guardrail_name}:*",
    ]
  }

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

  statement {
    sid       = "ReadHttpApi"
    effect    = "Allow"
    actions   = ["apigateway:GET"]
    resources = ["${local.arn_prefix.apigateway}:/apis/*", "${local.arn_prefix.apigateway}:/tags/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  statement {
    sid    = "ReadBuckets"
    effect = "Allow"
    actions = [
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:GetBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketOwnershipControls",
      "s3:GetEncryptionConfiguration",
      "s3:GetBucketTagging",
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
    resources = [
      "arn:${local.partition}:s3:::${var.project}-web-${local.account_id}",
      "arn:${local.partition}:s3:::${local.log_bucket_name}",
      "arn:${local.partition}:s3:::${local.digest_bucket_name}",
    ]
  }

  # The same bucket as above, by its resource (the deploy role's upload names it so).
  statement {
    sid       = "ReadWebUploadList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.web.arn]
  }

  statement {
    sid       = "ReadWebConfigObject"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:GetObjectTagging"]
    resources = ["${aws_s3_bucket.web.arn}/config.json"]
  }

  statement {
    sid       = "ReadDistribution"
    effect    = "Allow"
    actions   = ["cloudfront:GetDistribution", "cloudfront:GetDistributionConfig", "cloudfront:ListTagsForResource"]
    resources = ["${local.arn_prefix.cloudfront}:distribution/*"]
  }

  statement {
    sid       = "ReadDistributionPolicies"
    effect    = "Allow"
    actions   = ["cloudfront:GetOriginAccessControl", "cloudfront:GetResponseHeadersPolicy"]
    resources = ["${local.arn_prefix.cloudfront}:origin-access-control/*", "${local.arn_prefix.cloudfront}:response-headers-policy/*"]
  }

  statement {
    sid       = "ReadWebAcl"
    effect    = "Allow"
    actions   = ["wafv2:GetWebACL", "wafv2:ListTagsForResource", "wafv2:GetLoggingConfiguration"]
    resources = ["${local.arn_prefix.wafv2}:global/webacl/${var.project}-web/*", "${local.arn_prefix.wafv2}:global/managedruleset/*/*"]
  }

  statement {
    sid       = "ReadUserPoolDomain"
    effect    = "Allow"
    actions   = ["cognito-idp:DescribeUserPoolDomain"]
    resources = ["*"]
  }

  statement {
    sid    = "ReadUserPool"
    effect = "Allow"
    actions = [
      "cognito-idp:DescribeUserPool",
      "cognito-idp:GetUserPoolMfaConfig",
      "cognito-idp:DescribeUserPoolClient",
      "cognito-idp:DescribeResourceServer",
      "cognito-idp:GetGroup",
      "cognito-idp:ListTagsForResource",
    ]
    resources = ["${local.arn_prefix.cognito}:userpool/*"]
  }

  statement {
    sid    = "ReadDigestKey"
    effect = "Allow"
    actions = [
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:GetPublicKey",
      "kms:ListResourceTags",
    ]
    resources = ["${local.arn_prefix.kms}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  statement {
    sid       = "ReadDigestKeyAliases"
    effect    = "Allow"
    actions   = ["kms:ListAliases"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadDigestSchedule"
    effect    = "Allow"
    actions   = ["scheduler:GetSchedule"]
    resources = ["${local.arn_prefix.scheduler}:schedule/default/${var.project}-*"]
  }

  statement {
    sid       = "ReadDashboard"
    effect    = "Allow"
    actions   = ["cloudwatch:GetDashboard"]
    resources = [local.dashboard_arn]
  }

  statement {
    sid    = "ReadAlarmTopic"
    effect = "Allow"
    actions = [
      "sns:GetTopicAttributes",
      "sns:ListTagsForResource",
      "sns:ListSubscriptionsByTopic",
      "sns:GetSubscriptionAttributes",
    ]
    resources = ["${local.arn_prefix.sns}:${var.project}-alarms", local.edge_alarm_topic_arn]
  }

  statement {
    sid       = "ReadEdgeAlarmKey"
    effect    = "Allow"
    actions   = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
    resources = ["${local.arn_prefix.kms_edge}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
  }

  statement {
    sid       = "ReadDeployApplication"
    effect    = "Allow"
    actions   = ["codedeploy:GetApplication", "codedeploy:GetApplicationRevision", "codedeploy:ListTagsForResource"]
    resources = ["${local.arn_prefix.codedeploy}:application:${var.project}"]
  }

  statement {
    sid       = "ReadDeploymentGroups"
    effect    = "Allow"
    actions   = ["codedeploy:GetDeploymentGroup", "codedeploy:GetDeployment", "codedeploy:ListTagsForResource"]
    resources = ["${local.arn_prefix.codedeploy}:deploymentgroup:${var.project}/*"]
  }

  statement {
    sid       = "ReadDeploymentConfigs"
    effect    = "Allow"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = ["${local.arn_prefix.codedeploy}:deploymentconfig:*"]
  }
}

locals {
  plan_policies = {
    state = data.aws_iam_policy_document.plan_state.json
    read  = data.aws_iam_policy_document.plan_read.json
  }
}

resource "aws_iam_policy" "plan" {
  for_each = local.plan_policies

  name   = "${var.project}-plan-${each.key}"
  policy = each.value
}

resource "aws_iam_role_policy_attachment" "plan" {
  for_each = local.plan_policies

  role       = aws_iam_role.github_plan.name
  policy_arn = aws_iam_policy.plan[each.key].arn
}

# --- the deploy role's policies ---------------------------------------------------------------------------------

locals {
  deploy_policies = {
    delivery       = data.aws_iam_policy_document.deploy_delivery.json
    infrastructure = data.aws_iam_policy_document.deploy_infrastructure.json
    edge           = data.aws_iam_policy_document.deploy_edge.json
    identity       = data.aws_iam_policy_document.deploy_identity.json
    digest         = data.aws_iam_policy_document.deploy_digest.json
    operations     = data.aws_iam_policy_document.deploy_operations.json
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
