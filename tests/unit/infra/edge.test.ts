// The API behind the site's CloudFront distribution (infra/web.tf, api.tf, lambda.tf), held to issue 13's first
// item: the API's paths on the distribution, never cached, writes allowed; WAF rate rules per IP and per token
// with AWS's managed rule groups and a 429 problem; the direct execute-api endpoint refused (the secret origin
// header, known to the API's functions only); the UI on its own origin; and the audit routes' throttles within
// what the audit function's reserved concurrency can serve.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROBLEMS, problemTypeOf } from "../../../contract/problems";
import { problemSchema } from "../../../contract/schemas";
import { REPOSITORY_ROOT } from "../../../scripts/build";
import { ORIGIN_VERIFY_HEADER } from "../../../services/ledger/http/origin";
import { ROUTES } from "../../../services/ledger/http/routes";
import {
  asBlock,
  asString,
  asStrings,
  blocks,
  expressionOf,
  loadTerraform,
  single,
  type HclBlock,
  type Terraform,
} from "../../support/terraform";

/** CloudFront's managed policies, as the CloudFront Developer Guide lists them. */
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

const distribution = (): HclBlock => terraform.resource("aws_cloudfront_distribution", "web");

/** A `dynamic "<name>"` block written once: its for_each and its content. */
/** The `dynamic "<name>"` block of a resource; where it has several, the one over `forEach`. */
function dynamicBlock(
  resource: HclBlock,
  name: string,
  forEach?: string,
): { forEach: string; content: HclBlock } {
  const all = blocks(asBlock(resource.dynamic, "dynamic")[name], `dynamic ${name}`);
  const chosen = forEach === undefined ? all : all.filter((dynamic) => dynamic.for_each === forEach);
  const dynamic = single(chosen, `dynamic ${name}${forEach === undefined ? "" : ` over ${forEach}`}`);
  return { forEach: asString(dynamic.for_each, `${name} for_each`), content: single(dynamic.content, name) };
}

/** CloudFront's path pattern matching: `*` any characters, `?` one, case-sensitive, the whole path. */
function matchesPattern(pattern: string, path: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(path);
}

function apiPathPatterns(): string[] {
  return asStrings(terraform.local("api_path_patterns"), "api_path_patterns");
}

describe("the API on the site's distribution (infra/web.tf)", () => {
  it("an origin for API Gateway's host over HTTPS with TLS 1.2, beside the bucket", () => {
    const origins = blocks(distribution().origin, "origin");
    expect(origins.map((origin) => origin.origin_id)).toEqual(["web-bucket", "api"]);
    const api = origins.find((origin) => origin.origin_id === "api")!;
    expect(api.domain_name).toBe("${local.api_origin_domain}");
    expect(terraform.local("api_origin_domain")).toBe(
      '${trimprefix(aws_apigatewayv2_api.http.api_endpoint, "https://")}',
    );
    const custom = single(api.custom_origin_config, "custom_origin_config");
    expect(custom.origin_protocol_policy).toBe("https-only");
    expect(custom.origin_ssl_protocols).toEqual(["TLSv1.2"]);
  });

  it("every route of routes.ts is on a path the distribution sends to the API, and no UI file is", () => {
    const patterns = apiPathPatterns();
    for (const route of ROUTES) {
      const path = route.path.replace(/\{[^}]+\}/g, "a-key");
      expect(
        patterns.some((pattern) => matchesPattern(pattern, path)),
        route.path,
      ).toBe(true);
    }
    for (const file of ["/", "/index.html", "/config.json", "/silent-renew.html", "/assets/index.js"]) {
      expect(
        patterns.some((pattern) => matchesPattern(pattern, file)),
        file,
      ).toBe(false);
    }
    const { forEach, content } = dynamicBlock(distribution(), "ordered_cache_behavior");
    expect(forEach).toBe("${local.api_path_patterns}");
    expect(content.path_pattern).toBe("${ordered_cache_behavior.value}");
    expect(content.target_origin_id).toBe("api");
  });

  it("the API's behaviours cache nothing and forward everything but Host, Authorization included", () => {
    const { content } = dynamicBlock(distribution(), "ordered_cache_behavior");
    expect(content.cache_policy_id).toBe("${local.cache_policy_caching_disabled}");
    expect(terraform.local("cache_policy_caching_disabled")).toBe(CACHING_DISABLED);
    expect(content.origin_request_policy_id).toBe("${local.origin_request_policy_all_viewer_except_host}");
    expect(terraform.local("origin_request_policy_all_viewer_except_host")).toBe(
      ALL_VIEWER_EXCEPT_HOST_HEADER,
    );
    // No legacy TTLs or forwarded values beside the policies, which would bring caching back.
    for (const legacy of ["forwarded_values", "min_ttl", "default_ttl", "max_ttl"]) {
      expect(content, legacy).not.toHaveProperty(legacy);
    }
  });

  it("writes are allowed and never redirected: every method, HTTPS only, with the security headers", () => {
    const { content } = dynamicBlock(distribution(), "ordered_cache_behavior");
    expect(asStrings(content.allowed_methods, "allowed_methods")).toEqual(
      expect.arrayContaining(["GET", "HEAD", "OPTIONS", "POST"]),
    );
    expect(content.cached_methods).toEqual(["GET", "HEAD"]);
    expect(content.viewer_protocol_policy).toBe("https-only");
    expect(content.response_headers_policy_id).toBe("${aws_cloudfront_response_headers_policy.security.id}");
  });

  it("the UI calls its own origin: api_url is the site's, the deploy workflow builds with an empty base URL", () => {
    expect(terraform.output("api_url").value).toBe("${local.site_origin}");
    const workflow = readFileSync(join(REPOSITORY_ROOT, ".github/workflows/deploy.yml"), "utf8");
    expect(workflow).toMatch(/VITE_API_BASE_URL: ""/);
    // No CORS: no other origin may read the API's answers in a browser.
    expect(terraform.resource("aws_apigatewayv2_api", "http")).not.toHaveProperty("cors_configuration");
  });
});

describe("the direct execute-api endpoint, refused (infra/web.tf, lambda.tf; services/ledger/http/origin.ts)", () => {
  it("CloudFront adds the secret header the handlers check, under the name they read", () => {
    const api = blocks(distribution().origin, "origin").find((origin) => origin.origin_id === "api")!;
    const header = single(api.custom_header, "custom_header");
    expect(header.name).toBe("${local.origin_verify_header}");
    expect(terraform.local("origin_verify_header")).toBe(ORIGIN_VERIFY_HEADER);
    expect(header.value).toBe("${local.origin_verify_secret}");
    // Never printed in a plan (the deploy workflow's log).
    expect(terraform.local("origin_verify_secret")).toBe("${sensitive(terraform_data.origin_verify.output)}");
  });

  it("the secret is random, made once and kept (not a new one on every plan)", () => {
    const secret = terraform.resource("terraform_data", "origin_verify");
    expect(secret.input).toBe("${uuid()}");
    expect(single(secret.lifecycle, "lifecycle").ignore_changes).toEqual(["${input}"]);
  });

  it("the API's functions, and only they, get it as ORIGIN_VERIFY", () => {
    expect(terraform.local("api_environment")).toEqual({
      ORIGIN_VERIFY: "${local.origin_verify_secret}",
    });
    expect(terraform.local("api_functions")).toBe("${toset(values(local.api_routes))}");
    const lambda = terraform.resource("aws_lambda_function", "service");
    const variables = expressionOf(single(lambda.environment, "environment").variables, "variables");
    expect(variables.replace(/\s+/g, " ")).toBe(
      "merge(local.lambda_environment, { for name, value in local.api_environment : name => value if contains(local.api_functions, each.key) })",
    );
    // The environment every function shares does not carry it.
    expect(terraform.local("lambda_environment")).not.toHaveProperty("ORIGIN_VERIFY");
  });
});

describe("WAF on the distribution (infra/web.tf)", () => {
  const acl = (): HclBlock => terraform.resource("aws_wafv2_web_acl", "web");

  /** The rate rules are one dynamic block over local.waf_rate_rules: each rule's entry there, and the block. */
  function rateRules(): { entries: Record<string, HclBlock>; rule: HclBlock; statement: HclBlock } {
    const { forEach, content } = dynamicBlock(acl(), "rule", "${local.waf_rate_rules}");
    expect(forEach).toBe("${local.waf_rate_rules}");
    const entries = Object.fromEntries(
      Object.entries(asBlock(terraform.local("waf_rate_rules"), "waf_rate_rules")).map(([name, entry]) => [
        name,
        asBlock(entry, name),
      ]),
    );
    const statement = single(
      single(content.statement, "statement").rate_based_statement,
      "rate_based_statement",
    );
    return { entries, rule: content, statement };
  }

  it("the rate rules are per IP and per token, each under its own name and metric, with its own limit", () => {
    const { entries, rule, statement } = rateRules();
    expect(Object.keys(entries)).toEqual(["rate-per-ip", "rate-per-token"]);
    expect(rule.name).toBe("${rule.key}");
    expect(rule.priority).toBe("${rule.value.priority}");
    expect(single(rule.visibility_config, "visibility_config").metric_name).toBe(
      "${var.project}-${rule.key}",
    );
    expect(statement.limit).toBe("${rule.value.limit}");
    expect(statement.evaluation_window_sec).toBe("${local.waf_rate_window_seconds}");
    expect(terraform.local("waf_rate_window_seconds")).toBe(300);
    // A rule without a header counts client addresses; one with a header counts that header's values.
    expect(statement.aggregate_key_type).toBe('${rule.value.header == null ? "IP" : "CUSTOM_KEYS"}');
    // No scope-down: the rules count every request.
    expect(statement).not.toHaveProperty("scope_down_statement");
  });

  it("rate-limits every client address, site and API, over a 5-minute window", () => {
    expect(rateRules().entries["rate-per-ip"]).toEqual({
      priority: 1,
      limit: "${var.waf_rate_limit_per_5_minutes}",
      header: null,
    });
  });

  it("rate-limits every access token: the Authorization header is the aggregation key", () => {
    const { entries, statement } = rateRules();
    expect(entries["rate-per-token"]).toEqual({
      priority: 2,
      limit: "${var.waf_rate_limit_per_token_per_5_minutes}",
      header: "authorization",
    });
    const customKey = single(asBlock(statement.dynamic, "dynamic").custom_key, "dynamic custom_key");
    // One key, the header, for a rule that names one; none (so the IP) for a rule that does not.
    expect(customKey.for_each).toBe("${rule.value.header == null ? [] : [rule.value.header]}");
    const key = single(single(customKey.content, "custom_key").header, "header");
    expect(key.name).toBe("${custom_key.value}");
    expect(single(key.text_transformation, "text_transformation").type).toBe("NONE");
  });

  it("a token's limit is at most an address's, and both defaults leave room for a few busy tabs", () => {
    const perIp = terraform.variable("waf_rate_limit_per_5_minutes").default as number;
    const perToken = terraform.variable("waf_rate_limit_per_token_per_5_minutes").default as number;
    expect(perToken).toBeLessThanOrEqual(perIp);
    // A busy tab reads about once a second (web/src/poll-policy.ts): 300 requests in 5 minutes.
    expect(perToken).toBeGreaterThanOrEqual(3 * 300);
    const precondition = single(single(acl().lifecycle, "lifecycle").precondition, "precondition");
    expect(precondition.condition).toBe(
      "${var.waf_rate_limit_per_token_per_5_minutes <= var.waf_rate_limit_per_5_minutes}",
    );
  });

  it("AWS's managed rule groups: IP reputation, the common rules and known bad inputs, blocking", () => {
    const { forEach, content } = dynamicBlock(acl(), "rule", "${local.waf_managed_rule_groups}");
    expect(forEach).toBe("${local.waf_managed_rule_groups}");
    const groups = asBlock(terraform.local("waf_managed_rule_groups"), "waf_managed_rule_groups");
    expect(Object.values(groups).map((group) => asBlock(group, "group").name)).toEqual(
      expect.arrayContaining([
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
      ]),
    );
    const managed = single(single(content.statement, "statement").managed_rule_group_statement, "managed");
    expect(managed).toEqual({ vendor_name: "AWS", name: "${rule.value.name}" });
    // `none`: each group's own actions apply (`count` would only watch).
    expect(single(content.override_action, "override_action")).toEqual({ none: [{}] });
    // Every rule has its own priority.
    const priorities = [
      ...Object.values(groups).map((group) => asBlock(group, "group").priority),
      ...Object.values(rateRules().entries).map((rule) => rule.priority),
      ...blocks(acl().rule, "rule").map((rule) => rule.priority),
    ];
    expect(priorities).toHaveLength(5);
    expect(new Set(priorities).size).toBe(priorities.length);
  });

  it("a client over a limit gets a 429 problem with Retry-After and the request id it names", () => {
    const body = single(acl().custom_response_body, "custom_response_body");
    expect(body.content).toBe("${jsonencode(local.waf_throttled_problem)}");
    expect(body.content_type).toBe("APPLICATION_JSON");
    const requestId = terraform.local("waf_throttled_request_id");
    const problem = { ...asBlock(terraform.local("waf_throttled_problem"), "problem"), requestId };
    expect(problemSchema.parse(problem)).toMatchObject({
      type: problemTypeOf("throttled"),
      title: PROBLEMS.throttled.title,
      status: 429,
    });
    // Every rate rule: they are one block.
    const block = single(single(rateRules().rule.action, "action").block, "block");
    const response = single(block.custom_response, "custom_response");
    expect(response.response_code).toBe(429);
    expect(response.custom_response_body_key).toBe(body.key);
    const headers = Object.fromEntries(
      blocks(response.response_header, "response_header").map((header) => [
        asString(header.name, "name"),
        asString(header.value, "value"),
      ]),
    );
    expect(headers).toEqual({
      "Retry-After": "${tostring(local.waf_retry_after_seconds)}",
      "X-Request-Id": "${local.waf_throttled_request_id}",
    });
    expect(terraform.local("waf_retry_after_seconds")).toBeGreaterThan(0);
  });

  it("the distribution is behind this web ACL", () => {
    expect(distribution().web_acl_id).toBe("${aws_wafv2_web_acl.web.arn}");
    expect(acl().scope).toBe("CLOUDFRONT");
  });
});

describe("the audit routes' throttles, sized to the audit function's reserved concurrency (infra/api.tf)", () => {
  const AUDIT_ROUTE_COUNT = ROUTES.filter((route) => route.lambda === "audit").length;

  /** The expression of local.audit_route_rate_per_second, which auditRate computes. */
  const RATE_EXPRESSION =
    "floor( 100 * var.audit_reserved_concurrency / (var.audit_request_seconds * length(local.audit_routes)) ) / 100";

  /** local.audit_route_rate_per_second for the given variables (its expression is held to RATE_EXPRESSION). */
  function auditRate(concurrency: number, seconds: number): number {
    return Math.floor((100 * concurrency) / (seconds * AUDIT_ROUTE_COUNT)) / 100;
  }

  it("the rate is derived from the audit function's variables, nothing written by hand", () => {
    const expression = expressionOf(terraform.local("audit_route_rate_per_second"), "rate");
    expect(expression.replace(/\s+/g, " ")).toBe(RATE_EXPRESSION);
  });

  it("each audit route has its own bucket, from the locals", () => {
    expect(terraform.local("audit_routes")).toBe(
      '${sort([for route, function in local.api_routes : route if function == "audit"])}',
    );
    const stage = terraform.resource("aws_apigatewayv2_stage", "default");
    const { forEach, content } = dynamicBlock(stage, "route_settings");
    expect(forEach).toBe("${local.audit_route_throttles}");
    expect(content.route_key).toBe("${route_settings.key}");
    expect(content.throttling_rate_limit).toBe("${route_settings.value.rate_per_second}");
    expect(content.throttling_burst_limit).toBe("${route_settings.value.burst}");
    expect(terraform.local("audit_route_throttles")).toBe(
      "${{\n    for route in local.audit_routes : route => {\n      rate_per_second = local.audit_route_rate_per_second\n      burst           = var.audit_reserved_concurrency\n    }\n  }}",
    );
  });

  it("together they admit no more than the reserved environments serve, for every allowed setting", () => {
    for (const concurrency of [1, 2]) {
      for (let seconds = 1; seconds <= 29; seconds += 1) {
        const rate = auditRate(concurrency, seconds);
        // Little's law: requests in flight = rate × duration, summed over the routes, within the environments.
        expect(rate * seconds * AUDIT_ROUTE_COUNT, `${concurrency} × ${seconds} s`).toBeLessThanOrEqual(
          concurrency,
        );
        expect(rate, `${concurrency} × ${seconds} s`).toBeGreaterThan(0);
      }
    }
    // The defaults: 2 environments, 5 s, three routes: 0.13 requests a second each, bursts of 2.
    expect(
      auditRate(
        terraform.variable("audit_reserved_concurrency").default as number,
        terraform.variable("audit_request_seconds").default as number,
      ),
    ).toBe(0.13);
  });

  it("an audit request is taken to last no longer than the audit function may run, and each bucket is below the stage's", () => {
    const validation = single(terraform.variable("audit_request_seconds").validation, "validation");
    expect(validation.condition).toBe("${var.audit_request_seconds >= 1 && var.audit_request_seconds <= 29}");
    const lambdas = asBlock(terraform.local("lambdas"), "lambdas");
    expect(asBlock(lambdas.audit, "audit").timeout_seconds).toBe(29);
    const stageRate = terraform.variable("api_throttle_rate_per_second").default as number;
    expect(auditRate(2, 1)).toBeLessThan(stageRate);
  });
});
