# A plan of the whole configuration against mocked AWS providers: no account, no credentials, no network.
# It proves what parsing alone cannot: every argument exists in the AWS provider's schema and passes its
# validation, every reference resolves, and the graph has no cycle. tests/integration/infra/terraform-cli.test.ts runs it
# (`terraform test`) wherever Terraform and the AWS provider are installed.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }

  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }

  # Mocked policy documents must still be JSON objects: the IAM resources validate them at plan time.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

mock_provider "aws" {
  alias = "us_east_1"

  # The edge's alarm topic policy (modules/alarm_topic) is a policy document of this provider.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  github_repository = "example/counter-ledger"
  state_bucket      = "example-terraform-state"
  # The test run writes placeholder zips here; a real deploy reads ../dist.
  artifacts_directory = "dist"
}

run "plan" {
  command = plan

  assert {
    condition     = length(aws_apigatewayv2_route.route) == 11
    error_message = "ten routes of docs/api.md and $default"
  }

  assert {
    condition     = toset(keys(aws_lambda_function.service)) == toset(["command", "query", "audit", "projector", "identity", "digest"])
    error_message = "one function per Lambda"
  }

  assert {
    condition     = aws_lambda_function.service["audit"].reserved_concurrent_executions == 2 && aws_lambda_function.service["query"].reserved_concurrent_executions == -1 && aws_lambda_function.service["command"].reserved_concurrent_executions == -1
    error_message = "the audit function reserves 2 by default; the query and command functions reserve none"
  }

  assert {
    condition     = length(aws_lambda_permission.api_audit) == 3 && length(aws_iam_role.lambda) == 6
    error_message = "API Gateway may invoke the audit function through its three routes; it has a role of its own"
  }

  assert {
    condition     = aws_dynamodb_table.quotas.ttl[0].enabled && aws_dynamodb_table.quotas.ttl[0].attribute_name == "expiresAt" && aws_lambda_function.service["command"].environment[0].variables["QUOTA_COMMANDS_PER_MINUTE"] == "600" && aws_lambda_function.service["command"].environment[0].variables["QUOTAS_TABLE"] == "counter-ledger-quotas"
    error_message = "the quotas table expires past minutes by TTL, and the command function counts 600 a minute per user in it by default"
  }

  assert {
    condition     = aws_apigatewayv2_route.route["POST /number"].authorization_type == "JWT" && aws_apigatewayv2_route.route["POST /number"].authorization_scopes == toset(["counter:write"])
    error_message = "POST /number needs a token with counter:write"
  }

  assert {
    condition     = aws_apigatewayv2_route.route["GET /number"].authorization_type == "NONE" && aws_apigatewayv2_route.route["$default"].authorization_type == "NONE"
    error_message = "GET /number is public by default, and $default has no authorizer"
  }

  assert {
    condition     = aws_cognito_user_pool.users.lambda_config[0].pre_token_generation_config[0].lambda_version == "V2_0"
    error_message = "the pre token generation trigger gets the V2_0 event"
  }

  assert {
    condition     = aws_s3_bucket_object_lock_configuration.digests.rule[0].default_retention[0].mode == "COMPLIANCE" && module.digest_schedule.schedule_expression == "rate(5 minutes)"
    error_message = "digests are kept in compliance mode and written every 5 minutes by default"
  }

  assert {
    condition     = aws_lambda_event_source_mapping.projector.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "the projector reports item failures"
  }

  assert {
    condition     = aws_dynamodb_table.ledger.name == "counter-ledger-ledger"
    error_message = "the default table names are those of services/ledger/storage/tables.ts"
  }

  # The site on the default *.cloudfront.net name: CloudFront holds it at TLSv1 (web.tf), so that is what is asked.
  assert {
    condition     = aws_cloudfront_distribution.web.viewer_certificate[0].cloudfront_default_certificate && aws_cloudfront_distribution.web.viewer_certificate[0].minimum_protocol_version == "TLSv1"
    error_message = "without a certificate of its own the site uses CloudFront's default certificate"
  }

  assert {
    condition     = aws_s3_bucket_versioning.web.versioning_configuration[0].status == "Enabled" && aws_cloudwatch_log_group.waf.name == "aws-waf-logs-counter-ledger"
    error_message = "the web bucket is versioned and WAF logs to an aws-waf-logs- group"
  }

  assert {
    condition     = alltrue([for name, function in aws_lambda_function.service : function.publish && aws_lambda_alias.live[name].name == "live"]) && length(aws_lambda_alias.live) == length(aws_lambda_function.service)
    error_message = "every function publishes versions and has a live alias"
  }

  assert {
    condition     = length(aws_codedeploy_deployment_group.lambda) == length(aws_lambda_function.service) && alltrue([for group in aws_codedeploy_deployment_group.lambda : group.auto_rollback_configuration[0].enabled && contains(group.auto_rollback_configuration[0].events, "DEPLOYMENT_STOP_ON_ALARM") && group.deployment_config_name == "CodeDeployDefault.LambdaCanary10Percent5Minutes"])
    error_message = "one canary deployment group per function, rolled back on alarm"
  }

  assert {
    condition     = contains(aws_codedeploy_deployment_group.lambda["command"].alarm_configuration[0].alarms, "counter-ledger-command-errors") && contains(aws_codedeploy_deployment_group.lambda["projector"].alarm_configuration[0].alarms, "counter-ledger-projector-iterator-age")
    error_message = "a function's deployment group watches its own alarms"
  }

  assert {
    condition     = module.alarm_topic.topic_name == "counter-ledger-alarms" && length(module.alarm_topic.email_endpoints) == 0 && length(aws_cloudwatch_metric_alarm.lambda_errors) == length(aws_lambda_function.service) && length(aws_cloudwatch_metric_alarm.dynamodb_throttles) == 5
    error_message = "the alarm topic always exists, with no subscription by default; every function and table has its alarms"
  }

  # WAF's 429s alarm in us-east-1, where WAF publishes a CloudFront web ACL's metrics, to a topic there.
  assert {
    condition     = module.edge_alarm_topic.topic_name == "counter-ledger-edge-alarms" && length(module.edge_alarm_topic.email_endpoints) == 0 && aws_cloudwatch_metric_alarm.waf_429_rate.alarm_name == "counter-ledger-waf-429-rate" && length(aws_cloudwatch_metric_alarm.waf_429_rate.metric_query) == 6
    error_message = "the edge's alarm topic always exists, with no subscription by default, and WAF's 429 rate alarms"
  }

  # The API on the site's distribution: its four path patterns to the API origin, uncached, writes allowed.
  assert {
    condition     = length(aws_cloudfront_distribution.web.ordered_cache_behavior) == 4 && alltrue([for behavior in aws_cloudfront_distribution.web.ordered_cache_behavior : behavior.target_origin_id == "api" && behavior.cache_policy_id == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" && contains(behavior.allowed_methods, "POST") && behavior.viewer_protocol_policy == "https-only"])
    error_message = "the API's paths go to the API origin, uncached, with POST allowed, over HTTPS only"
  }

  assert {
    condition     = length(aws_apigatewayv2_api.http.cors_configuration) == 0
    error_message = "the API is served from the site's own origin, so it has no CORS"
  }

  # The secret header reaches the API functions only.
  assert {
    condition     = alltrue([for name in ["command", "query", "audit"] : contains(keys(aws_lambda_function.service[name].environment[0].variables), "ORIGIN_VERIFY")]) && alltrue([for name in ["projector", "identity", "digest"] : !contains(keys(aws_lambda_function.service[name].environment[0].variables), "ORIGIN_VERIFY")])
    error_message = "only the functions behind the API know the origin secret"
  }

  assert {
    condition     = length(aws_wafv2_web_acl.web.rule) == 5 && one(aws_wafv2_web_acl.web.custom_response_body).key == "throttled"
    error_message = "three managed rule groups and two rate rules, with a 429 problem body"
  }
}

# An e-mail address for the alarms: one subscription to the topic.
run "alarm_email" {
  command = plan

  variables {
    alarm_email = "ops@example.com"
  }

  assert {
    condition     = length(module.alarm_topic.email_endpoints) == 1 && module.alarm_topic.email_endpoints[0] == "ops@example.com"
    error_message = "alarm_email subscribes the address by e-mail"
  }

  assert {
    condition     = length(module.edge_alarm_topic.email_endpoints) == 1 && module.edge_alarm_topic.email_endpoints[0] == "ops@example.com"
    error_message = "alarm_email subscribes the address to the edge's alarm topic too"
  }
}

run "alarm_email_must_be_an_address" {
  command = plan

  variables {
    alarm_email = "ops"
  }

  expect_failures = [var.alarm_email]
}

# A custom domain: its certificate, SNI, the TLS 1.2 floor, and the API's CORS and the sign-in redirects follow it.
run "custom_domain" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    domain_names    = ["counter.example.com"]
  }

  assert {
    condition     = aws_cloudfront_distribution.web.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021" && aws_cloudfront_distribution.web.viewer_certificate[0].ssl_support_method == "sni-only" && !aws_cloudfront_distribution.web.viewer_certificate[0].cloudfront_default_certificate
    error_message = "a custom domain is served with its certificate, over SNI, TLS 1.2 at least"
  }

  assert {
    condition     = aws_cloudfront_distribution.web.aliases == toset(["counter.example.com"]) && output.api_url == "https://counter.example.com" && output.site_url == "https://counter.example.com"
    error_message = "the domain is the distribution's alias, and the API is served from it"
  }
}

run "certificate_needs_its_domain" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
  }

  expect_failures = [aws_cloudfront_distribution.web]
}

run "certificate_outside_us_east_1_is_refused" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    domain_names    = ["counter.example.com"]
  }

  expect_failures = [var.certificate_arn]
}

# The audit function's concurrency is contained, not scaled: 1 or 2, nothing else.
run "audit_concurrency_is_small" {
  command = plan

  variables {
    audit_reserved_concurrency = 10
  }

  expect_failures = [var.audit_reserved_concurrency]
}
