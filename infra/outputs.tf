# What a deployment tells its operator and the deploy workflow.

output "api_url" {
  description = "Base URL of the HTTP API (the routes of docs/api.md hang off it): the site's own origin, through CloudFront and WAF."
  value       = local.site_origin
}

output "execute_api_url" {
  description = "API Gateway's own URL, which CloudFront forwards to: every call made to it directly is refused (403)."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "site_url" {
  description = "URL of the web UI."
  value       = local.site_origin
}

output "web_bucket" {
  description = "Bucket the deploy workflow syncs web/dist into."
  value       = aws_s3_bucket.web.id
}

output "web_distribution_id" {
  description = "CloudFront distribution the deploy workflow invalidates."
  value       = aws_cloudfront_distribution.web.id
}

output "deploy_role_arn" {
  description = "Role the workflow's apply job assumes in the GitHub environment (repository variable AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.github_deploy.arn
}

output "plan_role_arn" {
  description = "Role the workflow's plan job assumes (set it as the repository variable AWS_PLAN_ROLE_ARN)."
  value       = aws_iam_role.github_plan.arn
}

output "log_bucket" {
  description = "Bucket of CloudFront's standard logs (prefix cloudfront/)."
  value       = aws_s3_bucket.logs.id
}

output "projector_failure_queue_url" {
  description = "Where ledger records the projector gave up on wait for a person."
  value       = aws_sqs_queue.projector_failures.url
}

output "issuer" {
  description = "The Cognito user pool's issuer: the `iss` of its tokens, the authority of the web UI's config.json."
  value       = local.issuer
}

output "login_url" {
  description = "The hosted sign-in page for the web UI's app client; it returns to the site after sign-in."
  value       = "${local.auth_origin}/login?client_id=${aws_cognito_user_pool_client.web.id}&response_type=code&scope=openid&redirect_uri=${urlencode("${local.site_origin}/")}"
}

output "user_pool_id" {
  description = "The Cognito user pool, for `aws cognito-idp admin-create-user` and `admin-add-user-to-group`."
  value       = aws_cognito_user_pool.users.id
}

output "web_client_id" {
  description = "The web UI's app client (public, authorization code with PKCE)."
  value       = aws_cognito_user_pool_client.web.id
}

output "digest_bucket" {
  description = "The Object Lock (compliance) bucket the digest Lambda writes each signed digest to."
  value       = aws_s3_bucket.digests.id
}

output "digest_key_arn" {
  description = "The KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs digests; its private key never leaves KMS."
  value       = aws_kms_key.digest.arn
}

output "digest_public_key_pem" {
  description = "The public key that verifies digests (also GET /number/digest/keys, as a JWKS)."
  value       = data.aws_kms_public_key.digest.public_key_pem
}

output "alarm_topic_arn" {
  description = "The SNS topic every alarm notifies; subscribe more endpoints to it than alarm_email if needed."
  value       = module.alarm_topic.topic_arn
}

output "edge_alarm_topic_arn" {
  description = "The SNS topic (us-east-1) the edge's WAF alarm notifies; alarm_email is subscribed to it too."
  value       = module.edge_alarm_topic.topic_arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard of the API, the functions, the tables, the projector and verify."
  value       = aws_cloudwatch_dashboard.operations.dashboard_name
}

output "codedeploy_application" {
  description = "The CodeDeploy application whose deployment groups move the functions' `live` aliases."
  value       = aws_codedeploy_app.lambda.name
}

output "lambda_deployments" {
  description = "Per function: its name, the version this apply published, and the deployment group that shifts `live` to it (the deploy workflow reads this)."
  value = {
    for name in keys(local.lambdas) : name => {
      function_name    = aws_lambda_function.service[name].function_name
      target_version   = aws_lambda_function.service[name].version
      deployment_group = aws_codedeploy_deployment_group.lambda[name].deployment_group_name
    }
  }
}
