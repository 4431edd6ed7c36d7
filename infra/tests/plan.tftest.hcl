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
    condition     = length(aws_apigatewayv2_route.route) == 10
    error_message = "nine routes of docs/api.md and $default"
  }

  assert {
    condition     = toset(keys(aws_lambda_function.service)) == toset(["command", "query", "projector", "identity", "digest"])
    error_message = "one function per Lambda"
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
    condition     = aws_s3_bucket_object_lock_configuration.digests.rule[0].default_retention[0].mode == "COMPLIANCE" && aws_scheduler_schedule.digest.schedule_expression == "rate(5 minutes)"
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
}
