# The HTTP API of docs/api.md on API Gateway (HTTP API, payload format 2.0). The route table is
# services/ledger/http/routes.ts `ROUTES` — the infra tests check that the keys and functions below are the
# same. The query Lambda also takes `$default`, where it answers 404 and 405 problems
# (docs/api.md#anything-else). The routes whose cost grows with the ledger — verification and the routes that
# may fill the Merkle tree — go to the audit Lambda, whose reserved concurrency contains them
# (docs/architecture.md#the-audit-function); each function refuses the other's routes.
#
# Clients reach the API through the site's CloudFront distribution (web.tf: its API path behaviours, no
# caching, and the WAF web ACL with its per-IP and per-token rate rules): HTTP APIs can have no WAF and no
# resource policy of their own. CloudFront adds a secret header to every request it forwards (web.tf), and the
# handlers refuse a request without it, so a call to API Gateway's own execute-api host is refused (403).
# Behind WAF, the stage throttles below bound each route, the audit routes to what the audit function's
# reserved concurrency can serve.

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

  # The site's origin (its custom domain's first name, else the distribution's), which serves the API too: the
  # UI calls its own origin, so the API needs no CORS, and the distribution may name the API as its origin
  # (CORS naming the distribution back would be a dependency cycle).
  site_origin = "https://${length(var.domain_names) > 0 ? var.domain_names[0] : aws_cloudfront_distribution.web.domain_name}"

  # Per-route throttles of the audit routes, sized to the audit function's reserved concurrency (Little's law:
  # the mean number of requests in flight is their rate times their duration). Together the audit routes admit
  # at most audit_reserved_concurrency / audit_request_seconds requests a second — the rate that keeps that
  # many environments busy — shared equally, rounded down to a hundredth; a route's burst is never more than
  # the environments there are. A burst above them is still refused by Lambda (docs/api.md).
  audit_routes = sort([for route, function in local.api_routes : route if function == "audit"])
  audit_route_rate_per_second = floor(
    100 * var.audit_reserved_concurrency / (var.audit_request_seconds * length(local.audit_routes))
  ) / 100
  audit_route_throttles = {
    for route in local.audit_routes : route => {
      rate_per_second = local.audit_route_rate_per_second
      burst           = var.audit_reserved_concurrency
    }
  }
}

# No CORS: the only page that calls the API is served from the same origin (web.tf), and a browser on any other
# origin gets no CORS headers, so it cannot read an answer.
resource "aws_apigatewayv2_api" "http" {
  name          = var.project
  protocol_type = "HTTP"
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

  # The audit routes' own buckets (locals above), inside the stage's.
  dynamic "route_settings" {
    for_each = local.audit_route_throttles

    content {
      route_key                = route_settings.key
      throttling_rate_limit    = route_settings.value.rate_per_second
      throttling_burst_limit   = route_settings.value.burst
      detailed_metrics_enabled = true
    }
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
      # CloudFront's edge address: the client's own is in CloudFront's and WAF's logs (web.tf).
      sourceIp       = "$context.identity.sourceIp"
      responseLength = "$context.responseLength"
    })
  }

  # A route's settings name its route key, which must exist first.
  depends_on = [aws_apigatewayv2_route.route]
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
