# The web UI: a private, versioned S3 bucket that only CloudFront can read (origin access control), served over
# HTTPS (TLS 1.2 at least with a custom domain's certificate) with security headers, behind a WAF web ACL; both
# CloudFront and WAF log every request. The deploy workflow builds the UI with the API's URL (VITE_API_BASE_URL
# = output api_url), syncs web/dist into the bucket and invalidates the distribution.

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

locals {
  # Where the UI may connect: nothing else (tests/unit/infra/web.test.ts holds the list).
  csp_connect_sources = [
    "'self'",
    "https://*.execute-api.${var.region}.amazonaws.com",
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

    # The UI loads only its own files (scripts, styles, config.json) and talks only to its own origin, this
    # region's API Gateway and the user pool (discovery and keys on cognito-idp, tokens on the pool's domain,
    # identity.tf). The API's own host name cannot be named here: the API's CORS names this distribution, and
    # the distribution names this policy (a cycle); infra/README.md says so.
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

# WAF for CloudFront must live in us-east-1 (scope CLOUDFRONT), hence the provider alias.
resource "aws_wafv2_web_acl" "web" {
  provider = aws.us_east_1

  name  = "${var.project}-web"
  scope = "CLOUDFRONT"

  default_action {
    allow {}
  }

  rule {
    name     = "aws-managed-common"
    priority = 1

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.project}-aws-managed-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "rate-per-ip"
    priority = 2

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit                 = var.waf_rate_limit_per_5_minutes
        evaluation_window_sec = 300
        aggregate_key_type    = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.project}-rate-per-ip"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.project}-web"
    sampled_requests_enabled   = true
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
