// The running parts of infra/ as the issue specifies them: the Lambdas (runtime, architecture, sizing, table
// names, log retention), the stream → projector mapping, the HTTP API (routes against
// services/ledger/http/routes.ts, throttling, CORS, access logs), the web edge (private bucket, origin access
// control, HTTPS, security headers, WAF), the alarms and the outputs.

import { beforeAll, describe, expect, it } from "vitest";
import { ROUTES, routeKeyOf } from "../../../services/ledger/http/routes";
import { COMMIT_RETRY_BUDGET_MS } from "../../../services/ledger/domain/limits";
import { loadLedgerConfig } from "../../../services/ledger/config";
import { BUNDLE_FILE_NAME, LAMBDA_ENTRIES } from "../../../scripts/build";
import { AUDIT_CONCURRENCY_DEFAULT } from "../../../local/limits";
import { VERIFY_DEADLINE_MS } from "../../../services/query/verify";
import {
  asBlock,
  asString,
  blocks,
  loadTerraform,
  single,
  type HclBlock,
  type Terraform,
} from "../../support/terraform";

/** API Gateway ends every integration at 30 s; a Lambda allowed longer could never answer in time. */
const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS_MAX = 30;
/** DynamoDB Streams keep a record for 24 hours; a mapping must give up on a record before it expires. */
const STREAM_RETENTION_SECONDS = 24 * 60 * 60;

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

function numberDefault(variableName: string): number {
  const value = terraform.variable(variableName).default;
  if (typeof value !== "number") throw new Error(`var.${variableName} needs a numeric default`);
  return value;
}

describe("Lambdas (infra/lambda.tf)", () => {
  it("one function per bundle that scripts/build.ts makes: nodejs22.x, arm64, index.handler from dist/<name>.zip", () => {
    const lambda = terraform.resource("aws_lambda_function", "service");
    expect(lambda.for_each).toBe("${local.lambdas}");
    expect(Object.keys(asBlock(terraform.local("lambdas"), "lambdas")).sort()).toEqual(
      LAMBDA_ENTRIES.map((entry) => entry.name).sort(),
    );
    expect(lambda.runtime).toBe("nodejs22.x");
    expect(lambda.architectures).toEqual(["arm64"]);
    expect(lambda.handler).toBe(`${BUNDLE_FILE_NAME.replace(/\.mjs$/, "")}.handler`);
    expect(lambda.filename).toBe("${path.module}/${var.artifacts_directory}/${each.key}.zip");
    expect(lambda.source_code_hash).toBe(
      '${filebase64sha256("${path.module}/${var.artifacts_directory}/${each.key}.zip")}',
    );
    expect(terraform.variable("artifacts_directory").default).toBe("../dist");
  });

  it("memory and timeout are set for each, and fit the limits they were chosen against", () => {
    const lambdas = asBlock(terraform.local("lambdas"), "lambdas");
    for (const [name, settings] of Object.entries(lambdas)) {
      const { memory_size_mb: memory, timeout_seconds: timeout } = asBlock(settings, name);
      expect(memory, name).toBeGreaterThanOrEqual(128);
      expect(timeout, name).toBeGreaterThan(0);
    }
    const timeoutOf = (name: string) => asBlock(lambdas[name], name).timeout_seconds as number;
    // The command outlives its conflict-retry budget, and the API-facing functions end before API Gateway does.
    expect(timeoutOf("command") * 1000).toBeGreaterThan(COMMIT_RETRY_BUDGET_MS);
    expect(timeoutOf("command")).toBeLessThan(API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS_MAX);
    expect(timeoutOf("query")).toBeLessThan(API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS_MAX);
    expect(timeoutOf("audit")).toBeLessThan(API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS_MAX);
    // The cheap reads end well before the audit routes may.
    expect(timeoutOf("query")).toBeLessThan(timeoutOf("audit"));
    const lambda = terraform.resource("aws_lambda_function", "service");
    expect(lambda.memory_size).toBe("${each.value.memory_size_mb}");
    expect(lambda.timeout).toBe("${each.value.timeout_seconds}");
  });

  it("the environment names the four tables the way services/ledger/config.ts reads them", () => {
    const lambda = terraform.resource("aws_lambda_function", "service");
    // Shared by every function; the API's functions add the origin secret (edge.test.ts).
    expect(String(single(lambda.environment, "environment").variables)).toMatch(
      /^\$\{merge\(local\.lambda_environment, /,
    );
    expect(terraform.local("lambda_environment")).toMatchObject({
      LEDGER_TABLE: "${aws_dynamodb_table.ledger.name}",
      COUNTERS_TABLE: "${aws_dynamodb_table.counters.name}",
      READ_MODEL_TABLE: "${aws_dynamodb_table.read_model.name}",
      QUOTAS_TABLE: "${aws_dynamodb_table.quotas.name}",
      COUNTER_ID: "${var.counter_id}",
      // The bounds the initial aggregate is seeded with (infra/dynamodb.tf) are the handlers' bounds.
      COUNTER_MIN: "${tostring(var.counter_min)}",
      COUNTER_MAX: "${tostring(var.counter_max)}",
    });
    // The quota is the variable's, and its default is the handlers' (services/ledger/config.ts).
    expect(terraform.local("lambda_environment")).toMatchObject({
      QUOTA_COMMANDS_PER_MINUTE: "${tostring(var.quota_commands_per_minute)}",
    });
    expect(numberDefault("quota_commands_per_minute")).toBe(loadLedgerConfig({}).quotaCommandsPerMinute);
    // Never an endpoint override on AWS: that is for DynamoDB Local.
    expect(terraform.local("lambda_environment")).not.toHaveProperty("DYNAMODB_ENDPOINT");
  });

  it("each function logs to its own log group, which has a retention", () => {
    const lambda = terraform.resource("aws_lambda_function", "service");
    expect(single(lambda.logging_config, "logging_config").log_group).toBe(
      "${aws_cloudwatch_log_group.lambda[each.key].name}",
    );
    const group = terraform.resource("aws_cloudwatch_log_group", "lambda");
    expect(group.for_each).toBe("${local.lambdas}");
    expect(group.name).toBe("/aws/lambda/${var.project}-${each.key}");
    expect(lambda.function_name).toBe("${var.project}-${each.key}");
    expect(group.retention_in_days).toBe("${var.log_retention_days}");
    expect(numberDefault("log_retention_days")).toBeGreaterThan(0);
  });
});

describe("the audit function (infra/lambda.tf, api.tf; docs/architecture.md#the-audit-function)", () => {
  const AUDIT_ROUTES = ["GET /number/verify", "GET /number/events/{key}/proof", "GET /number/digest"];

  it("verification, event proofs and the digest go to the audit function, every other read to query", () => {
    const routes = asBlock(terraform.local("api_routes"), "api_routes");
    for (const [routeKey, lambda] of Object.entries(routes)) {
      expect(lambda, routeKey).toBe(
        AUDIT_ROUTES.includes(routeKey) ? "audit" : routeKey === "POST /number" ? "command" : "query",
      );
    }
    const integration = terraform.resource("aws_apigatewayv2_integration", "lambda");
    expect(integration.for_each).toBe('${toset(["command", "query", "audit"])}');
  });

  it("its concurrency is reserved and small (a variable of 1 or 2, by default the local gateway's limit); no other function reserves any", () => {
    const lambda = terraform.resource("aws_lambda_function", "service");
    expect(lambda.reserved_concurrent_executions).toBe("${try(each.value.reserved_concurrency, -1)}");
    const lambdas = asBlock(terraform.local("lambdas"), "lambdas");
    for (const [name, settings] of Object.entries(lambdas)) {
      const reserved = asBlock(settings, name).reserved_concurrency;
      if (name === "audit") expect(reserved).toBe("${var.audit_reserved_concurrency}");
      else expect(reserved, name).toBeUndefined();
    }
    const concurrency = numberDefault("audit_reserved_concurrency");
    expect(concurrency).toBeGreaterThanOrEqual(1);
    expect(concurrency).toBeLessThanOrEqual(2);
    expect(concurrency).toBe(AUDIT_CONCURRENCY_DEFAULT);
    // The deploy role may set it on the project's functions (and nothing more of concurrency).
    const functions = terraform
      .policyStatements("deploy_infrastructure")
      .find((statement) => statement.sid === "Functions");
    expect(functions?.actions).toEqual(
      expect.arrayContaining(["lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"]),
    );
    expect(functions?.resources).toEqual(["${local.arn_prefix.lambda}:function:${var.project}-*"]);
    const validation = single(terraform.variable("audit_reserved_concurrency").validation, "validation");
    expect(validation.condition).toBe("${contains([1, 2], var.audit_reserved_concurrency)}");
  });

  it("it has its own log group and role, like every function, and a deadline inside API Gateway's", () => {
    const lambdas = asBlock(terraform.local("lambdas"), "lambdas");
    expect(lambdas).toHaveProperty("audit");
    expect(terraform.local("lambda_policies")).toHaveProperty(
      "audit",
      "${data.aws_iam_policy_document.audit.json}",
    );
    const timeout = asBlock(lambdas.audit, "audit").timeout_seconds as number;
    expect(timeout).toBeLessThan(API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS_MAX);
    // The replay's own deadline ends it before the function's timeout cuts it off without an answer.
    expect(VERIFY_DEADLINE_MS).toBeLessThan(timeout * 1000);
  });

  it("API Gateway may invoke the audit function through its three routes only", () => {
    const permission = terraform.resource("aws_lambda_permission", "api_audit");
    expect(permission.function_name).toBe('${aws_lambda_function.service["audit"].function_name}');
    expect(permission.principal).toBe("apigateway.amazonaws.com");
    expect(permission.source_arn).toBe("${aws_apigatewayv2_api.http.execution_arn}/*/${each.value}");
    expect(Object.values(permission.for_each as Record<string, string>).sort()).toEqual(
      ["GET/number/verify", "GET/number/events/*/proof", "GET/number/digest"].sort(),
    );
  });
});

describe("ledger stream → projector (infra/stream.tf)", () => {
  it("reads the ledger's stream into the projector, reporting item failures and bisecting failed batches", () => {
    const mapping = terraform.resource("aws_lambda_event_source_mapping", "projector");
    expect(mapping.event_source_arn).toBe("${aws_dynamodb_table.ledger.stream_arn}");
    // The projector's `live` alias, which CodeDeploy moves (infra/deploy.tf), never $LATEST.
    expect(mapping.function_name).toBe('${aws_lambda_alias.live["projector"].arn}');
    expect(mapping.function_response_types).toEqual(["ReportBatchItemFailures"]);
    expect(mapping.bisect_batch_on_function_error).toBe(true);
    expect(mapping.starting_position).toBe("TRIM_HORIZON");
  });

  it("retries and record age are bounded (not the default -1, forever), inside the stream's retention", () => {
    const mapping = terraform.resource("aws_lambda_event_source_mapping", "projector");
    const retries = mapping.maximum_retry_attempts as number;
    const ageSeconds = mapping.maximum_record_age_in_seconds as number;
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(retries).toBeLessThanOrEqual(10_000);
    expect(ageSeconds).toBeGreaterThanOrEqual(60);
    expect(ageSeconds).toBeLessThan(STREAM_RETENTION_SECONDS);
  });

  it("batch size and window are chosen, and a record given up on goes to the SQS failure queue", () => {
    const mapping = terraform.resource("aws_lambda_event_source_mapping", "projector");
    expect(mapping.batch_size).toBeGreaterThanOrEqual(1);
    expect(mapping.batch_size).toBeLessThanOrEqual(1000);
    expect(mapping.maximum_batching_window_in_seconds).toBeGreaterThanOrEqual(0);
    expect(mapping.maximum_batching_window_in_seconds).toBeLessThanOrEqual(5);
    const onFailure = single(
      single(mapping.destination_config, "destination_config").on_failure,
      "on_failure",
    );
    expect(onFailure.destination_arn).toBe("${aws_sqs_queue.projector_failures.arn}");
    const queue = terraform.resource("aws_sqs_queue", "projector_failures");
    expect(queue.sqs_managed_sse_enabled).toBe(true);
  });
});

describe("HTTP API (infra/api.tf)", () => {
  it("the routes are those of services/ledger/http/routes.ts, each to its Lambda, and $default to query", () => {
    const routes = asBlock(terraform.local("api_routes"), "api_routes");
    const expected = Object.fromEntries(ROUTES.map((route) => [routeKeyOf(route), route.lambda]));
    expect(routes).toEqual({ ...expected, $default: "query" });
    const route = terraform.resource("aws_apigatewayv2_route", "route");
    expect(route.for_each).toBe("${local.api_routes}");
    expect(route.route_key).toBe("${each.key}");
    expect(route.target).toBe("integrations/${aws_apigatewayv2_integration.lambda[each.value].id}");
    const integration = terraform.resource("aws_apigatewayv2_integration", "lambda");
    expect(integration.integration_type).toBe("AWS_PROXY");
    expect(integration.payload_format_version).toBe("2.0");
    // Each function's `live` alias, which CodeDeploy moves (infra/deploy.tf), never $LATEST.
    expect(integration.integration_uri).toBe("${aws_lambda_alias.live[each.key].invoke_arn}");
  });

  it("the stage throttles every route with a bounded rate and burst", () => {
    const stage = terraform.resource("aws_apigatewayv2_stage", "default");
    expect(stage.name).toBe("$default");
    const settings = single(stage.default_route_settings, "default_route_settings");
    expect(settings.throttling_rate_limit).toBe("${var.api_throttle_rate_per_second}");
    expect(settings.throttling_burst_limit).toBe("${var.api_throttle_burst_requests}");
    const rate = numberDefault("api_throttle_rate_per_second");
    const burst = numberDefault("api_throttle_burst_requests");
    // Under the ~500 commits/s one aggregate item takes
    // (docs/architecture.md#where-aws-differs-from-dynamodb-local), and the burst holds at least a second.
    expect(rate).toBeGreaterThan(0);
    expect(rate).toBeLessThan(500);
    expect(burst).toBeGreaterThanOrEqual(rate);
  });

  it("no CORS: the API is served from the web UI's own origin, which no other origin may read from", () => {
    const api = terraform.resource("aws_apigatewayv2_api", "http");
    expect(api.protocol_type).toBe("HTTP");
    expect(api).not.toHaveProperty("cors_configuration");
    // The custom domain's first name when there is one (web.tf), else the distribution's own.
    expect(terraform.local("site_origin")).toBe(
      "https://%{if length(var.domain_names) > 0}${var.domain_names[0]}%{else}${aws_cloudfront_distribution.web.domain_name}%{endif}",
    );
  });

  it("access logs go to a log group with retention, one JSON line per request with its request id", () => {
    const stage = terraform.resource("aws_apigatewayv2_stage", "default");
    const accessLog = single(stage.access_log_settings, "access_log_settings");
    expect(accessLog.destination_arn).toBe("${aws_cloudwatch_log_group.api_access.arn}");
    expect(asString(accessLog.format, "format")).toMatch(/^\$\{jsonencode\(\{/);
    expect(asString(accessLog.format, "format")).toContain('requestId          = "$context.requestId"');
    expect(terraform.resource("aws_cloudwatch_log_group", "api_access").retention_in_days).toBe(
      "${var.log_retention_days}",
    );
  });

  it("API Gateway may invoke the command only through POST /number", () => {
    const permission = terraform.resource("aws_lambda_permission", "api_command");
    expect(permission.principal).toBe("apigateway.amazonaws.com");
    expect(permission.source_arn).toBe("${aws_apigatewayv2_api.http.execution_arn}/*/POST/number");
    expect(permission.qualifier).toBe('${aws_lambda_alias.live["command"].name}');
  });
});

describe("web edge (infra/web.tf)", () => {
  it("the bucket is private: every public access block on, ACLs off, readable by the one distribution only", () => {
    const block = terraform.resource("aws_s3_bucket_public_access_block", "web");
    for (const setting of [
      "block_public_acls",
      "block_public_policy",
      "ignore_public_acls",
      "restrict_public_buckets",
    ]) {
      expect(block[setting], setting).toBe(true);
    }
    const ownership = single(terraform.resource("aws_s3_bucket_ownership_controls", "web").rule, "rule");
    expect(ownership.object_ownership).toBe("BucketOwnerEnforced");
    const [read] = terraform
      .policyStatements("web_bucket")
      .filter((statement) => statement.effect === "Allow");
    expect(read?.actions).toEqual(["s3:GetObject"]);
    expect(read?.principals).toEqual([{ type: "Service", identifiers: ["cloudfront.amazonaws.com"] }]);
    expect(read?.conditions).toEqual([
      { test: "StringEquals", variable: "AWS:SourceArn", values: ["${aws_cloudfront_distribution.web.arn}"] },
    ]);
  });

  it("CloudFront reads through origin access control, serves HTTPS only, with the security headers policy", () => {
    const control = terraform.resource("aws_cloudfront_origin_access_control", "web");
    expect(control.signing_behavior).toBe("always");
    expect(control.signing_protocol).toBe("sigv4");
    const distribution = terraform.resource("aws_cloudfront_distribution", "web");
    // The bucket's origin; the API's is held in edge.test.ts.
    const origin = blocks(distribution.origin, "origin").find((block) => block.origin_id === "web-bucket");
    expect(origin?.origin_access_control_id).toBe("${aws_cloudfront_origin_access_control.web.id}");
    const behavior = single(distribution.default_cache_behavior, "default_cache_behavior");
    expect(["redirect-to-https", "https-only"]).toContain(behavior.viewer_protocol_policy);
    expect(behavior.response_headers_policy_id).toBe("${aws_cloudfront_response_headers_policy.security.id}");
    expect(distribution.web_acl_id).toBe("${aws_wafv2_web_acl.web.arn}");
    const headers = single(
      terraform.resource("aws_cloudfront_response_headers_policy", "security").security_headers_config,
      "security_headers_config",
    );
    const hsts = single(headers.strict_transport_security, "hsts");
    expect(hsts.access_control_max_age_sec).toBeGreaterThanOrEqual(31_536_000);
    expect(single(headers.frame_options, "frame_options").frame_option).toBe("DENY");
    expect(single(headers.content_type_options, "content_type_options").override).toBe(true);
    // The directives themselves are held in web.test.ts.
    const csp = asString(single(headers.content_security_policy, "csp").content_security_policy, "csp");
    expect(csp).toBe('${join("; ", local.csp_directives)}');
    expect(terraform.local("csp_directives")).toContain("frame-ancestors 'none'");
  });

  it("the WAF web ACL is CLOUDFRONT-scoped in us-east-1, with AWS's common rules and a per-IP rate rule", () => {
    const acl = terraform.resource("aws_wafv2_web_acl", "web");
    expect(acl.scope).toBe("CLOUDFRONT");
    expect(acl.provider).toBe("${aws.us_east_1}");
    const rules = blocks(acl.rule, "rule");
    const statements = rules.map((rule) => single(rule.statement, `${String(rule.name)} statement`));
    const managed = statements
      .flatMap((statement) => blocks(statement.managed_rule_group_statement, "managed"))
      .map((group: HclBlock) => `${String(group.vendor_name)}/${String(group.name)}`);
    // The managed rule groups are a dynamic block over local.waf_managed_rule_groups (edge.test.ts).
    expect(JSON.stringify(terraform.local("waf_managed_rule_groups"))).toContain(
      "AWSManagedRulesCommonRuleSet",
    );
    expect(managed).toEqual([]);
    // The rate rules are a dynamic block over local.waf_rate_rules too: per IP (no header) and per token
    // (edge.test.ts holds the rest).
    expect(statements).toEqual([]);
    const rate = asBlock(terraform.local("waf_rate_rules"), "waf_rate_rules");
    expect(Object.values(rate).map((rule) => asBlock(rule, "rule").header)).toEqual([null, "authorization"]);
    expect(asBlock(rate["rate-per-ip"], "rate-per-ip").limit).toBe("${var.waf_rate_limit_per_5_minutes}");
    // The alias really is us-east-1, where CloudFront-scoped web ACLs must live.
    const providers = blocks(asBlock(terraform.root.provider, "providers").aws, "aws providers");
    expect(providers.find((provider) => provider.alias === "us_east_1")?.region).toBe("us-east-1");
  });
});

describe("alarms and outputs (infra/alarms.tf, infra/outputs.tf)", () => {
  it("alarms watch command 5xx, every function's errors and throttles, IteratorAge and the failure queue", () => {
    const alarms = Object.values(terraform.resourcesOfType("aws_cloudwatch_metric_alarm")).map(
      (alarm) =>
        `${String(alarm.namespace)} ${String(alarm.metric_name)} ${JSON.stringify(alarm.dimensions)}`,
    );
    expect(alarms).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AWS\/ApiGateway 5xx .*"Method":"POST".*"Resource":"\/number"/),
        expect.stringMatching(/^AWS\/Lambda Throttles .*service\[each\.key\]/),
        expect.stringMatching(/^AWS\/Lambda Errors .*service\[each\.key\]/),
        expect.stringMatching(/^AWS\/Lambda IteratorAge .*service\[\\"projector\\"\]/),
        expect.stringMatching(/^AWS\/SQS ApproximateNumberOfMessagesVisible .*projector_failures/),
      ]),
    );
    // Each notifies its region's topic: the chosen region's, or the edge's for an alarm of us-east-1
    // (tests/unit/infra/alarms.test.ts holds each to it).
    for (const alarm of Object.values(terraform.resourcesOfType("aws_cloudwatch_metric_alarm"))) {
      expect(alarm.alarm_actions).toBe(
        alarm.provider === "${aws.us_east_1}" ? "${local.edge_alarm_actions}" : "${local.alarm_actions}",
      );
    }
    expect(terraform.variable("alarm_email").default).toBe("");
  });

  it("outputs the API URL (the site's own origin, which serves it), the site URL and API Gateway's own", () => {
    expect(terraform.output("api_url").value).toBe("${local.site_origin}");
    expect(terraform.output("site_url").value).toBe("${local.site_origin}");
    expect(terraform.output("execute_api_url").value).toBe("${aws_apigatewayv2_stage.default.invoke_url}");
  });
});
