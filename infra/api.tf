# The HTTP API of docs/api.md on API Gateway (HTTP API, payload format 2.0). The route table is
# services/ledger/http/routes.ts `ROUTES` — the infra tests check that the keys and functions below are the
# same. The query Lambda also takes `$default`, where it answers 404 and 405 problems
# (docs/api.md#anything-else). The routes whose cost grows with the ledger — verification and the routes that
# may fill the Merkle tree — go to the audit Lambda, whose reserved concurrency contains them
# (docs/architecture.md#the-audit-function); each function refuses the other's routes.
#
# API Gateway HTTP APIs cannot have a WAF web ACL; the API's guard is the stage throttling below.

locals {
  api_routes = {
    "POST /number"                   = "command"
    "GET /number"                    = "query"
    "GET /number/events/{key}"       = "query"
    "GET /number/events/{key}/proof" = "audit"
    "GET /number/history"            = "query"
    "GET /number/verify"             = "audit"
    "GET /number/digest"             = "audit"
    "GET /number/digest/keys"        = "query"
    "GET /health"                    = "query"
    "GET /openapi.json"              = "query"
    "$default"                       = "query"
  }

  # Which routes need a token, and which scopes (any one of them): contract/auth.ts ROUTE_ACCESS, route by
  # route, with `needsToken`'s rule for GET /number (a token only with public_read = false). The infra tests
  # hold this table to ROUTE_ACCESS. `$default` answers 404 and 405 only, and has no authorizer (as locally).
  route_authorization = {
    "POST /number"                   = { authorizer = true, scopes = ["counter:write"] }
    "GET /number"                    = { authorizer = !var.public_read, scopes = [] }
    "GET /number/events/{key}"       = { authorizer = true, scopes = ["counter:write", "counter:audit"] }
    "GET /number/events/{key}/proof" = { authorizer = true, scopes = ["counter:write", "counter:audit"] }
    "GET /number/history"            = { authorizer = true, scopes = ["counter:audit"] }
    "GET /number/verify"             = { authorizer = true, scopes = ["counter:audit"] }
    "GET /number/digest"             = { authorizer = !var.public_read, scopes = [] }
    "GET /number/digest/keys"        = { authorizer = false, scopes = [] }
    "GET /health"                    = { authorizer = false, scopes = [] }
    "GET /openapi.json"              = { authorizer = false, scopes = [] }
    "$default"                       = { authorizer = false, scopes = [] }
  }

  # CORS for the web UI's origin only (the CloudFront distribution of web.tf), nothing else; the UI sends its
  # access token in Authorization and may read a refusal's WWW-Authenticate.
  site_origin = "https://${length(var.domain_names) > 0 ? var.domain_names[0] : aws_cloudfront_distribution.web.domain_name}"
}

resource "aws_apigatewayv2_api" "http" {
  name          = var.project
  protocol_type = "HTTP"

  # API Gateway answers the preflight itself, for this origin only.
  cors_configuration {
    allow_origins  = [local.site_origin]
    allow_methods  = ["GET", "POST"]
    allow_headers  = ["authorization", "content-type", "idempotency-key", "if-none-match"]
    expose_headers = ["etag", "idempotency-key", "idempotent-replayed", "location", "retry-after", "www-authenticate", "x-request-id"]
    max_age        = 3600
  }
}

resource "aws_apigatewayv2_integration" "lambda" {
  for_each = toset(["command", "query", "audit"])

  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_alias.live[each.key].invoke_arn
  payload_format_version = "2.0"
}

# API Gateway checks the token before any Lambda runs, as the local gateway does (local/authorizer.ts): the
# signature against the pool's JWKS, `iss`, `client_id` (Cognito access tokens carry no `aud`), `exp` and `nbf`,
# and that the token's `scope` claim has one of the route's scopes. It answers 401 or 403 itself; the handlers
# check the same table again (services/ledger/http/caller.ts).
resource "aws_apigatewayv2_authorizer" "cognito" {
  api_id           = aws_apigatewayv2_api.http.id
  name             = "${var.project}-cognito"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = local.issuer
    audience = [aws_cognito_user_pool_client.web.id]
  }
}

resource "aws_apigatewayv2_route" "route" {
  for_each = local.api_routes

  api_id    = aws_apigatewayv2_api.http.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.lambda[each.value].id}"

  authorization_type   = local.route_authorization[each.key].authorizer ? "JWT" : "NONE"
  authorizer_id        = local.route_authorization[each.key].authorizer ? aws_apigatewayv2_authorizer.cognito.id : null
  authorization_scopes = local.route_authorization[each.key].authorizer && length(local.route_authorization[each.key].scopes) > 0 ? local.route_authorization[each.key].scopes : null
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.project}"
  retention_in_days = var.log_retention_days
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  # Applies to every route; a request over the bucket is answered 429 by API Gateway before any Lambda runs.
  default_route_settings {
    throttling_rate_limit  = var.api_throttle_rate_per_second
    throttling_burst_limit = var.api_throttle_burst_requests
    # Per-route metrics: the command 5xx alarm watches POST /number alone.
    detailed_metrics_enabled = true
  }

  # One JSON line per request; no headers, no body, no query string (which could carry a cursor).
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      latencyMs          = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      sourceIp           = "$context.identity.sourceIp"
      responseLength     = "$context.responseLength"
    })
  }
}

# Only this API may invoke the functions (their `live` alias); the command only through its one route, the audit
# function only through its three.
resource "aws_lambda_permission" "api_command" {
  statement_id  = "AllowApiGatewayPostNumber"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.service["command"].function_name
  qualifier     = aws_lambda_alias.live["command"].name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/POST/number"
}

resource "aws_lambda_permission" "api_query" {
  statement_id  = "AllowApiGatewayQueryRoutes"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.service["query"].function_name
  qualifier     = aws_lambda_alias.live["query"].name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}

resource "aws_lambda_permission" "api_audit" {
  # `*` stands for the key in the source ARN of GET /number/events/{key}/proof.
  for_each = {
    VerifyRoute = "GET/number/verify"
    ProofRoute  = "GET/number/events/*/proof"
    DigestRoute = "GET/number/digest"
  }

  statement_id  = "AllowApiGateway${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.service["audit"].function_name
  qualifier     = aws_lambda_alias.live["audit"].name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/${each.value}"
}
