// The site (infra/web.tf), held to issue 13's rules: TLS 1.2 at least wherever AWS allows a floor (a custom
// domain's certificate; CloudFront's default certificate is held at TLSv1 by AWS), a Content-Security-Policy
// that lets the UI connect to its own origin (which serves the API) and its own user pool and nothing else —
// no wildcard host,
// the security headers, a versioned bucket, and both CloudFront's and WAF's logs.

import { beforeAll, describe, expect, it } from "vitest";
import {
  asStrings,
  isBlock,
  loadTerraform,
  single,
  type HclBlock,
  type Terraform,
} from "../../support/terraform";

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

function localBlock(name: string): HclBlock {
  const value = terraform.local(name);
  if (!isBlock(value)) throw new Error(`local.${name} is not an object`);
  return value;
}

describe("TLS (infra/web.tf viewer_certificate)", () => {
  it("a custom domain gets its ACM certificate over SNI and the TLSv1.2_2021 floor", () => {
    expect(localBlock("viewer_certificate_custom")).toEqual({
      cloudfront_default_certificate: false,
      acm_certificate_arn: "${var.certificate_arn}",
      ssl_support_method: "sni-only",
      minimum_protocol_version: "TLSv1.2_2021",
    });
    expect(terraform.local("custom_domain")).toBe('${var.certificate_arn != ""}');
    expect(terraform.local("viewer_certificate")).toBe(
      "${local.custom_domain ? local.viewer_certificate_custom : local.viewer_certificate_default}",
    );
  });

  it("the distribution takes every field of its viewer certificate from that choice, and the domain's aliases", () => {
    const distribution = terraform.resource("aws_cloudfront_distribution", "web");
    const certificate = single(distribution.viewer_certificate, "viewer_certificate");
    for (const field of [
      "cloudfront_default_certificate",
      "acm_certificate_arn",
      "ssl_support_method",
      "minimum_protocol_version",
    ]) {
      expect(certificate[field], field).toBe(`\${local.viewer_certificate.${field}}`);
    }
    expect(distribution.aliases).toBe("${var.domain_names}");
    // The certificate must live where CloudFront reads certificates.
    const validation = single(terraform.variable("certificate_arn").validation, "validation");
    expect(validation.condition).toContain(":acm:us-east-1:");
  });

  it("the default certificate asks for what AWS enforces on it (TLSv1), so plans do not drift", () => {
    expect(localBlock("viewer_certificate_default")).toEqual({
      cloudfront_default_certificate: true,
      acm_certificate_arn: null,
      ssl_support_method: null,
      minimum_protocol_version: "TLSv1",
    });
  });
});

describe("response headers (infra/web.tf)", () => {
  function headers(): HclBlock {
    const policy = terraform.resource("aws_cloudfront_response_headers_policy", "security");
    return single(policy.security_headers_config, "security_headers_config");
  }

  it("every response of the distribution carries the policy", () => {
    const distribution = terraform.resource("aws_cloudfront_distribution", "web");
    const behavior = single(distribution.default_cache_behavior, "default_cache_behavior");
    expect(behavior.response_headers_policy_id).toBe("${aws_cloudfront_response_headers_policy.security.id}");
  });

  it("the Content-Security-Policy is the project's directives, enforced over the origin's", () => {
    const csp = single(headers().content_security_policy, "content_security_policy");
    expect(csp.content_security_policy).toBe('${join("; ", local.csp_directives)}');
    expect(csp.override).toBe(true);
    expect(asStrings(terraform.local("csp_directives"), "csp_directives")).toEqual([
      "default-src 'self'",
      "script-src 'self'",
      'connect-src ${join(" ", local.csp_connect_sources)}',
      "img-src 'self' data:",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ]);
  });

  it("the UI may connect to its origin (the site and the API) and its user pool, and nowhere else", () => {
    const sources = asStrings(terraform.local("csp_connect_sources"), "csp_connect_sources");
    expect(sources).toEqual([
      "'self'",
      "https://cognito-idp.${var.region}.amazonaws.com",
      "${local.auth_origin}",
    ]);
    // No wildcard host (once `https://*.execute-api…`: any API Gateway API of the region).
    for (const source of sources) expect(source, source).not.toContain("*");
    expect(sources.join(" ")).not.toContain("execute-api");
    // The pool's own domain, in this region.
    expect(terraform.local("auth_origin")).toBe(
      "https://${local.auth_domain_prefix}.auth.${var.region}.amazoncognito.com",
    );
    // No source may be a scheme or a bare wildcard, and no script may be inline or evaluated.
    const directives = asStrings(terraform.local("csp_directives"), "csp_directives").join("; ");
    expect(directives).not.toMatch(/unsafe-inline|unsafe-eval|\bhttps:(?!\/\/)|\s\*(\s|;|$)/);
  });

  it("HSTS for two years with subdomains, no sniffing, no framing, a strict referrer", () => {
    const config = headers();
    expect(single(config.strict_transport_security, "hsts")).toEqual({
      access_control_max_age_sec: 63072000,
      include_subdomains: true,
      preload: true,
      override: true,
    });
    expect(single(config.content_type_options, "content_type_options")).toEqual({ override: true });
    expect(single(config.frame_options, "frame_options")).toEqual({ frame_option: "DENY", override: true });
    expect(single(config.referrer_policy, "referrer_policy").referrer_policy).toBe(
      "strict-origin-when-cross-origin",
    );
  });
});

describe("the web bucket and the logs (infra/web.tf)", () => {
  it("the web bucket is versioned, and old versions expire", () => {
    const versioning = terraform.resource("aws_s3_bucket_versioning", "web");
    expect(versioning.bucket).toBe("${aws_s3_bucket.web.id}");
    expect(single(versioning.versioning_configuration, "versioning_configuration").status).toBe("Enabled");
    const lifecycle = terraform.resource("aws_s3_bucket_lifecycle_configuration", "web");
    const rule = single(lifecycle.rule, "rule");
    expect(single(rule.noncurrent_version_expiration, "noncurrent_version_expiration").noncurrent_days).toBe(
      "${var.web_noncurrent_version_days}",
    );
  });

  it("CloudFront writes standard logs to the project's private, HTTPS-only log bucket", () => {
    const distribution = terraform.resource("aws_cloudfront_distribution", "web");
    const logging = single(distribution.logging_config, "logging_config");
    expect(logging.bucket).toBe("${aws_s3_bucket.logs.bucket_domain_name}");
    expect(logging.include_cookies).toBe(false);
    expect(terraform.resource("aws_s3_bucket", "logs").bucket).toBe("${local.log_bucket_name}");
    const block = terraform.resource("aws_s3_bucket_public_access_block", "logs");
    for (const setting of [
      "block_public_acls",
      "block_public_policy",
      "ignore_public_acls",
      "restrict_public_buckets",
    ]) {
      expect(block[setting], setting).toBe(true);
    }
    const [httpsOnly] = terraform.policyStatements("logs_bucket");
    expect(httpsOnly?.effect).toBe("Deny");
    expect(httpsOnly?.conditions).toEqual([
      { test: "Bool", variable: "aws:SecureTransport", values: ["false"] },
    ]);
    const expiry = single(terraform.resource("aws_s3_bucket_lifecycle_configuration", "logs").rule, "rule");
    expect(single(expiry.expiration, "expiration").days).toBe("${var.log_retention_days}");
  });

  it("WAF logs the web ACL to an aws-waf-logs- group in us-east-1, with the Authorization header redacted", () => {
    const group = terraform.resource("aws_cloudwatch_log_group", "waf");
    expect(group.name).toMatch(/^aws-waf-logs-/);
    expect(group.provider).toBe("${aws.us_east_1}");
    const logging = terraform.resource("aws_wafv2_web_acl_logging_configuration", "web");
    expect(logging.provider).toBe("${aws.us_east_1}");
    expect(logging.resource_arn).toBe("${aws_wafv2_web_acl.web.arn}");
    expect(logging.log_destination_configs).toEqual(["${aws_cloudwatch_log_group.waf.arn}"]);
    const redacted = single(logging.redacted_fields, "redacted_fields");
    expect(single(redacted.single_header, "single_header").name).toBe("authorization");
  });
});
