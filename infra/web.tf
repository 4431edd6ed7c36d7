# The web UI and the API on one CloudFront distribution: a private, versioned S3 bucket that only CloudFront can
# read (origin access control), and the HTTP API (api.tf) on the API's paths, never cached. Served over HTTPS
# (TLS 1.2 at least with a custom domain's certificate) with security headers, behind a WAF web ACL with AWS's
# managed rule groups and rate limits per IP address and per access token; both CloudFront and WAF log every
# request. The UI calls its own origin (VITE_API_BASE_URL empty); the deploy workflow syncs web/dist into the
# bucket and invalidates the distribution.

locals {
  log_bucket_name = "${var.project}-logs-${local.account_id}"
  custom_domain   = var.certificate_arn != ""

  # CloudFront's own *.cloudfront.net certificate cannot have a TLS 1.2 floor: with it, CloudFront sets the
  # security policy to TLSv1 whatever is asked (and the provider then plans a change forever). A custom domain
  # brings its own ACM certificate (us-east-1) and gets TLSv1.2_2021: TLS 1.2 and 1.3, strong ciphers only.
  viewer_certificate_custom = {
    cloudfront_default_certificate = false
    acm_certificate_arn            = var.certificate_arn
    ssl_support_method             = "sni-only"
    minimum_protocol_version       = "TLSv1.2_2021"
  }
  viewer_certificate_default = {
    cloudfront_default_certificate = true
    acm_certificate_arn            = null
    ssl_support_method             = null
    minimum_protocol_version       = "TLSv1"
  }
  viewer_certificate = local.custom_domain ? local.viewer_certificate_custom : local.viewer_certificate_default
}

resource "aws_s3_bucket" "web" {
  # The account id makes the globally unique name predictable, so the CI role can be scoped to it.
  bucket = "${var.project}-web-${local.account_id}"
}

# Versioned: an upload that breaks the UI can be rolled back to the objects before it. Old versions go after
# web_noncurrent_version_days, so the bucket does not grow with every deploy.
resource "aws_s3_bucket_versioning" "web" {
  bucket = aws_s3_bucket.web.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "web" {
  bucket = aws_s3_bucket.web.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.web_noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.web]
}

resource "aws_s3_bucket_public_access_block" "web" {
  bucket                  = aws_s3_bucket.web.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "web" {
  bucket = aws_s3_bucket.web.id

  # ACLs off: access is decided by the bucket policy alone.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "web" {
  bucket = aws_s3_bucket.web.id

  # SSE-S3: CloudFront's origin access control cannot read objects under the AWS managed KMS key.
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "web_bucket" {
  statement {
    sid       = "CloudFrontReadsThroughOriginAccessControl"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.web.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.web.arn]
    }
  }

  statement {
    sid       = "HttpsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.web.arn, "${aws_s3_bucket.web.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "web" {
  bucket = aws_s3_bucket.web.id
  policy = data.aws_iam_policy_document.web_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.web]
}

resource "aws_cloudfront_origin_access_control" "web" {
  name                              = "${var.project}-web"
  description                       = "CloudFront signs every request to the ${var.project} web bucket."
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# --- the API on the distribution ---------------------------------------------------------------------------

locals {
  # The API's paths (services/ledger/http/routes.ts; tests/unit/infra/edge.test.ts checks that every route
  # matches one): CloudFront sends them to API Gateway, everything else to the bucket.
  api_path_patterns = ["/number", "/number/*", "/health", "/openapi.json"]

  # AWS managed policies, by their IDs. The CloudFront Developer Guide lists both policies with their IDs
  # (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html,
  # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html);
  # the excerpts of those pages read here did not reach these two IDs, which match those of every public
  # configuration found that names the policies (a wrong ID fails the first apply, not silently).
  # CachingDisabled: nothing the API answers is cached — its reads vary by token and by If-None-Match, and its
  # writes are never cacheable — and so every viewer header reaches the origin, Authorization included.
  # AllViewerExceptHostHeader: every header, cookie and query string but Host, which API Gateway needs to be its
  # own host name.
  cache_policy_caching_disabled                = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  origin_request_policy_all_viewer_except_host = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

  # API Gateway's host name, without the scheme its endpoint URL carries.
  api_origin_domain = trimprefix(aws_apigatewayv2_api.http.api_endpoint, "https://")

  # The header CloudFront adds to every request to the API, and the handlers require (ORIGIN_VERIFY,
  # services/ledger/http/origin.ts): a request to the execute-api host directly lacks it and is refused 403.
  # CloudFront overwrites a viewer's header of the same name, so it cannot be forged through the distribution.
  origin_verify_header = "x-origin-verify"
  # Sensitive: plans (printed in the deploy workflow's log) show "(sensitive value)" instead.
  origin_verify_secret = sensitive(terraform_data.origin_verify.output)
}

# The shared secret of that header: a random UUID (122 random bits) made once, on the first apply, and kept in
# the state (ignore_changes: uuid() is new on every plan). Rotate it with
# `terraform apply -replace=terraform_data.origin_verify`: until the functions' `live` aliases have moved to
# the versions with the new value, their answers through CloudFront are 403s (infra/README.md).
resource "terraform_data" "origin_verify" {
  input = uuid()

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  # Where the UI may connect: its own origin (the site and the API), and its user pool; nothing else
  # (tests/unit/infra/web.test.ts holds the list).
  csp_connect_sources = [
    "'self'",
    "https://cognito-idp.${var.region}.amazonaws.com",
    local.auth_origin,
  ]

  csp_directives = [
    "default-src 'self'",
    "script-src 'self'",
    "connect-src ${join(" ", local.csp_connect_sources)}",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ]
}

resource "aws_cloudfront_response_headers_policy" "security" {
  name = "${var.project}-security-headers"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000 # two years, as HSTS preload lists ask
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }

    # The UI loads only its own files (scripts, styles, config.json) and talks only to its own origin (which
    # serves the API) and the user pool (discovery and keys on cognito-idp, tokens on the pool's domain,
    # identity.tf).
    content_security_policy {
      content_security_policy = join("; ", local.csp_directives)
      override                = true
    }
  }
}

resource "aws_cloudfront_distribution" "web" {
  enabled             = true
  comment             = "${var.project} web UI"
  default_root_object = "index.html"
  is_ipv6_enabled     = true
  # North America and Europe edges only: the cheapest class; the UI is a few small files.
  price_class = "PriceClass_100"
  web_acl_id  = aws_wafv2_web_acl.web.arn
  # The custom domain's names, if any; the certificate must cover them.
  aliases = var.domain_names

  # Standard logs: one line per request, to the log bucket (kept log_retention_days).
  logging_config {
    bucket          = aws_s3_bucket.logs.bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  origin {
    origin_id                = "web-bucket"
    domain_name              = aws_s3_bucket.web.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.web.id
  }

  # The API: API Gateway's own host over HTTPS (TLS 1.2), with the secret header the handlers require.
  origin {
    origin_id   = "api"
    domain_name = local.api_origin_domain

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }

    custom_header {
      name  = local.origin_verify_header
      value = local.origin_verify_secret
    }
  }

  # The API's paths go to the API, uncached, with every method (POST for commands; OPTIONS and the rest reach
  # the API, which answers 405) and everything of the request but Host. HTTPS only: a command sent over plain
  # HTTP is refused, not redirected (a redirect would drop its body).
  dynamic "ordered_cache_behavior" {
    for_each = local.api_path_patterns

    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = "api"
      viewer_protocol_policy     = "https-only"
      allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = false
      cache_policy_id            = local.cache_policy_caching_disabled
      origin_request_policy_id   = local.origin_request_policy_all_viewer_except_host
      response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    }
  }

  default_cache_behavior {
    target_origin_id = "web-bucket"
    # HTTPS only: a plain-HTTP request gets a redirect and never any content.
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = "658327ea-f89d-4fab-a63d-7e88639e58f6" # AWS managed "CachingOptimized"
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = local.viewer_certificate.cloudfront_default_certificate
    acm_certificate_arn            = local.viewer_certificate.acm_certificate_arn
    ssl_support_method             = local.viewer_certificate.ssl_support_method
    minimum_protocol_version       = local.viewer_certificate.minimum_protocol_version
  }

  lifecycle {
    precondition {
      condition     = local.custom_domain == (length(var.domain_names) > 0)
      error_message = "certificate_arn and domain_names go together: a custom domain needs both, the default domain neither."
    }
  }

  depends_on = [aws_s3_bucket_ownership_controls.logs]
}

# --- WAF ---------------------------------------------------------------------------------------------------------

locals {
  # What WAF answers a client over a rate limit: a 429 problem (contract/problems.ts `throttled`; the infra tests
  # hold it to it) with Retry-After. WAF sends a custom body as application/json (it lets no rule set the
  # Content-Type); the UI reads a problem by its shape, not its media type. WAF cannot put the request's own id
  # in a fixed body, so the id names WAF as the one that answered, and X-Request-Id says the same.
  waf_throttled_request_id = "waf-rate-limit"
  waf_throttled_problem = {
    type      = "https://counter-ledger.dev/problems/throttled"
    title     = "Too many requests"
    status    = 429
    detail    = "Too many requests from this address or token; wait and try again."
    requestId = local.waf_throttled_request_id
  }
  # A rate-based rule blocks until the rate over its window falls below the limit again; a minute is what the
  # UI waits at most for a Retry-After (web/src/poll-policy.ts), and about when WAF looks again.
  waf_retry_after_seconds = 60
  # Both rate rules count requests over the last 5 minutes.
  waf_rate_window_seconds = 300

  # The rate rules, evaluated after the IP reputation list and before the other managed groups. Per client
  # address (`header = null`: the IP): every request, the site's and the API's, signed in or not. Per access
  # token: the Authorization header's value, so one signed-in client cannot take everyone's share from many
  # addresses; WAF leaves a request without the header out of that rule (the per-IP rule counts it), and a
  # made-up token is counted there and then refused by API Gateway's authorizer (401).
  waf_rate_rules = {
    "rate-per-ip"    = { priority = 1, limit = var.waf_rate_limit_per_5_minutes, header = null }
    "rate-per-token" = { priority = 2, limit = var.waf_rate_limit_per_token_per_5_minutes, header = "authorization" }
  }

  # AWS managed rule groups, in the order WAF evaluates them (after the rate rules): addresses Amazon threat
  # intelligence lists as bots and attackers (25 WCU), the OWASP-style common rules (700 WCU), and request
  # patterns of known exploits such as Log4j (200 WCU). With the two rate rules the web ACL stays under the 1500
  # WCU that WAF's base price covers.
  waf_managed_rule_groups = {
    "aws-managed-ip-reputation"    = { priority = 0, name = "AWSManagedRulesAmazonIpReputationList" }
    "aws-managed-common"           = { priority = 3, name = "AWSManagedRulesCommonRuleSet" }
    "aws-managed-known-bad-inputs" = { priority = 4, name = "AWSManagedRulesKnownBadInputsRuleSet" }
  }
}

# WAF for CloudFront must live in us-east-1 (scope CLOUDFRONT), hence the provider alias. It sees every request
# to the distribution, the site's and the API's.
resource "aws_wafv2_web_acl" "web" {
  provider = aws.us_east_1

  name  = "${var.project}-web"
  scope = "CLOUDFRONT"

  default_action {
    allow {}
  }

  custom_response_body {
    key          = "throttled"
    content      = jsonencode(local.waf_throttled_problem)
    content_type = "APPLICATION_JSON"
  }

  dynamic "rule" {
    for_each = local.waf_managed_rule_groups

    content {
      name     = rule.key
      priority = rule.value.priority

      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.value.name
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.project}-${rule.key}"
        sampled_requests_enabled   = true
      }
    }
  }

  # The rate rules (local.waf_rate_rules), alike but for their aggregation key and limit: a client over its limit
  # gets the 429 problem with Retry-After, until its rate over the window falls below the limit again.
  dynamic "rule" {
    for_each = local.waf_rate_rules

    content {
      name     = rule.key
      priority = rule.value.priority

      action {
        block {
          custom_response {
            response_code            = 429
            custom_response_body_key = "throttled"

            response_header {
              name  = "Retry-After"
              value = tostring(local.waf_retry_after_seconds)
            }

            response_header {
              name  = "X-Request-Id"
              value = local.waf_throttled_request_id
            }
          }
        }
      }

      statement {
        rate_based_statement {
          limit                 = rule.value.limit
          evaluation_window_sec = local.waf_rate_window_seconds
          aggregate_key_type    = rule.value.header == null ? "IP" : "CUSTOM_KEYS"

          # A header as the key (CUSTOM_KEYS), its value taken as sent.
          dynamic "custom_key" {
            for_each = rule.value.header == null ? [] : [rule.value.header]

            content {
              header {
                name = custom_key.value

                text_transformation {
                  priority = 0
                  type     = "NONE"
                }
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.project}-${rule.key}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.project}-web"
    sampled_requests_enabled   = true
  }

  lifecycle {
    precondition {
      condition     = var.waf_rate_limit_per_token_per_5_minutes <= var.waf_rate_limit_per_5_minutes
      error_message = "waf_rate_limit_per_token_per_5_minutes must not be more than waf_rate_limit_per_5_minutes: one token is one client."
    }
  }
}

# WAF logs: every request the web ACL judged, to CloudWatch Logs. WAF accepts only a log group whose name begins
# with aws-waf-logs-, in the web ACL's region (us-east-1 for CloudFront). The Authorization header is redacted.
resource "aws_cloudwatch_log_group" "waf" {
  provider = aws.us_east_1

  name              = "aws-waf-logs-${var.project}"
  retention_in_days = var.log_retention_days
}

resource "aws_wafv2_web_acl_logging_configuration" "web" {
  provider = aws.us_east_1

  resource_arn            = aws_wafv2_web_acl.web.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
}

# --- the edge's log bucket: CloudFront standard logs ------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  bucket = local.log_bucket_name
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# CloudFront's standard logs are delivered under a bucket ACL (the awslogsdelivery account's), which needs ACLs
# on: BucketOwnerPreferred, the bucket owner still owns every log object. Public ACLs stay blocked above.
resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  # SSE-S3: CloudFront cannot deliver logs to a bucket under SSE-KMS.
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_retention_days
    }
  }
}

data "aws_iam_policy_document" "logs_bucket" {
  statement {
    sid       = "HttpsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}
