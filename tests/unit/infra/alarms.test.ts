// The alarms of infra/ reach someone, and watch what issue 13 asks of them: every alarm notifies the SNS topic
// of its own region (the main one, or the edge's in us-east-1 for WAF's alarm; each always exists, encrypted
// under a key CloudWatch may use, with an e-mail subscription when alarm_email is set); every function's
// errors and throttles, every table's and the byVersion index's throttling, the API's 5xx and 429 rates, WAF's
// 429s, verify not ok or not run; and the dashboard shows them. docs/runbook.md#alarms says what each means.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { VERIFY_PASSED_MESSAGE, VERIFY_VIOLATIONS_MESSAGE } from "../../../services/query/verify";
import {
  INFRA_DIRECTORY,
  asArray,
  asBlock,
  asString,
  blocks,
  loadTerraform,
  single,
  type HclBlock,
  type Terraform,
} from "../../support/terraform";

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

/** The provider of the resources that live in us-east-1 (WAF of a CloudFront distribution, and its alarm). */
const US_EAST_1 = "${aws.us_east_1}";
/** The alarms of us-east-1: WAF's metrics of a CloudFront-scoped web ACL are published there alone. */
const EDGE_ALARMS = ["waf_429_rate"];

/** The topics' ARNs, as the module calls give them. */
const MAIN_TOPIC = "${module.alarm_topic.topic_arn}";
const EDGE_TOPIC = "${module.edge_alarm_topic.topic_arn}";

/** The topic module both calls use (infra/modules/alarm_topic). */
function alarmTopic(): Terraform {
  return terraform.module("alarm_topic");
}

function alarms(): Record<string, HclBlock> {
  return terraform.resourcesOfType("aws_cloudwatch_metric_alarm");
}

function alarm(name: string): HclBlock {
  return terraform.resource("aws_cloudwatch_metric_alarm", name);
}

/** The `metric { … }` of each `metric_query` of an alarm, by the query's id. */
function queriedMetrics(alarmName: string): Record<string, HclBlock> {
  return Object.fromEntries(
    blocks(alarm(alarmName).metric_query, `${alarmName} metric_query`)
      .filter((query) => query.metric !== undefined)
      .map((query) => [asString(query.id, "id"), single(query.metric, `${alarmName} metric`)]),
  );
}

function returnedExpression(alarmName: string): string {
  const returned = blocks(alarm(alarmName).metric_query, "metric_query").filter(
    (query) => query.return_data === true,
  );
  expect(returned, alarmName).toHaveLength(1);
  return asString(returned[0]?.expression, `${alarmName} expression`);
}

describe("every alarm reaches someone (infra/alarms.tf)", () => {
  it("every aws_cloudwatch_metric_alarm in infra/ notifies the alarm topic, on alarm and on recovery", () => {
    // Counted in the text too, so that an alarm the parser did not see cannot slip past.
    const written = readdirSync(INFRA_DIRECTORY)
      .filter((file) => file.endsWith(".tf"))
      .flatMap((file) =>
        [
          ...readFileSync(join(INFRA_DIRECTORY, file), "utf8").matchAll(
            /resource "aws_cloudwatch_metric_alarm" "(\w+)"/g,
          ),
        ].map((match) => match[1]),
      );
    expect(Object.keys(alarms()).sort()).toEqual([...written].sort());
    // Thirteen blocks; the functions' and tables' alarms are one block each, for_each.
    expect(written.length).toBeGreaterThanOrEqual(13);
    for (const [name, block] of Object.entries(alarms())) {
      // An alarm can notify only a topic of its own region: the chosen region's alarms the main topic, the
      // alarms of us-east-1 the edge's topic there.
      const actions = block.provider === US_EAST_1 ? "${local.edge_alarm_actions}" : "${local.alarm_actions}";
      expect(block.alarm_actions, name).toBe(actions);
      expect(block.ok_actions, name).toBe(actions);
      expect(block.count, name).toBeUndefined();
    }
    // Which alarms live in us-east-1 is a list here, so that moving one out of it (or into it) is seen.
    const edge = Object.entries(alarms()).filter(([, block]) => block.provider !== undefined);
    expect(edge.map(([name, block]) => [name, block.provider])).toEqual(
      EDGE_ALARMS.map((name) => [name, US_EAST_1]),
    );
    expect(terraform.local("alarm_actions")).toEqual([MAIN_TOPIC]);
    expect(terraform.local("edge_alarm_actions")).toEqual([EDGE_TOPIC]);
    // The topics: the main one in the chosen region (the default provider), the edge's in us-east-1.
    expect(terraform.moduleCall("alarm_topic").providers).toBeUndefined();
    expect(terraform.moduleCall("edge_alarm_topic").providers).toEqual({ aws: US_EAST_1 });
  });

  it("WAF's alarm notifies the edge topic in us-east-1, never the main region's topic, and never no one", () => {
    const waf = alarm("waf_429_rate");
    expect(waf.provider).toBe(US_EAST_1);
    for (const field of ["alarm_actions", "ok_actions"]) {
      const reference = asString(waf[field], `waf_429_rate ${field}`);
      // The local it names resolves to the edge topic alone: not the main topic, not an empty list.
      const local = /^\$\{local\.(\w+)\}$/.exec(reference)?.[1];
      expect(local, field).toBeDefined();
      const topics = asArray(terraform.local(local ?? ""), `local.${String(local)}`);
      expect(topics, field).toEqual([EDGE_TOPIC]);
      expect(topics, field).not.toContain(MAIN_TOPIC);
    }
  });

  it("both topics are the one module, with this account, alarm_email and names that never collide", () => {
    const calls = { alarm_topic: "${var.project}-alarms", edge_alarm_topic: "${var.project}-edge-alarms" };
    for (const [name, topic] of Object.entries(calls)) {
      expect(terraform.moduleCall(name), name).toMatchObject({
        source: "./modules/alarm_topic",
        name: topic,
        email: "${var.alarm_email}",
        account_id: "${local.account_id}",
        partition: "${local.partition}",
      });
    }
    // The main topic's key keeps its description: changing it would be a needless update of a deployed key.
    expect(terraform.moduleCall("alarm_topic").key_description).toBe(
      "${var.project}: encrypts the alarm topic",
    );
    expect(terraform.variable("alarm_email").default).toBe("");
    // What the files held before the module is moved into it: the topic and its confirmed subscription stay.
    const moved = blocks(terraform.root.moved, "moved").map(
      (block) => `${String(block.from)} → ${String(block.to)}`,
    );
    for (const [before, after] of [
      ["aws_kms_key.alarms", "aws_kms_key.this"],
      ["aws_kms_alias.alarms", "aws_kms_alias.this"],
      ["aws_sns_topic.alarms", "aws_sns_topic.this"],
      ["aws_sns_topic_policy.alarms", "aws_sns_topic_policy.this"],
      ["aws_sns_topic_subscription.alarm_email", "aws_sns_topic_subscription.email"],
    ])
      expect(moved).toContain(`\${${before}} → \${module.alarm_topic.${after}}`);
  });

  it("a topic always exists, encrypted under a rotated customer managed key that CloudWatch may use", () => {
    const topic = alarmTopic().resource("aws_sns_topic", "this");
    expect(topic.count).toBeUndefined();
    expect(topic.name).toBe("${var.name}");
    // Not alias/aws/sns: its policy cannot let CloudWatch encrypt, and alarms would fail to notify.
    expect(topic.kms_master_key_id).toBe("${aws_kms_key.this.arn}");
    const key = alarmTopic().resource("aws_kms_key", "this");
    expect(key.enable_key_rotation).toBe(true);
    expect(key.policy).toBe("${jsonencode(local.key_policy)}");
    expect(alarmTopic().resource("aws_kms_alias", "this")).toMatchObject({
      name: "alias/${var.name}",
      target_key_id: "${aws_kms_key.this.key_id}",
    });
    const statements = asArray(
      asBlock(alarmTopic().local("key_policy"), "key_policy").Statement,
      "Statement",
    ).map((statement) => asBlock(statement, "statement"));
    const cloudWatch = statements.filter((statement) =>
      JSON.stringify(statement.Principal).includes("cloudwatch.amazonaws.com"),
    );
    expect(cloudWatch).toEqual([
      {
        Sid: "CloudWatchPublishesAlarms",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": "${var.account_id}" } },
      },
    ]);
    // Nothing but the account itself (KMS's default statement) and CloudWatch.
    expect(statements.map((statement) => statement.Principal)).toEqual([
      { AWS: "arn:${var.partition}:iam::${var.account_id}:root" },
      { Service: "cloudwatch.amazonaws.com" },
    ]);
    const publishers = alarmTopic().policyStatements("publish");
    expect(publishers).toHaveLength(1);
    expect(publishers[0]?.actions).toEqual(["sns:Publish"]);
    expect(publishers[0]?.resources).toEqual(["${aws_sns_topic.this.arn}"]);
    expect(publishers[0]?.principals).toEqual([
      { type: "Service", identifiers: ["cloudwatch.amazonaws.com"] },
    ]);
    expect(publishers[0]?.conditions).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: ["${var.account_id}"] },
    ]);
    expect(alarmTopic().resource("aws_sns_topic_policy", "this")).toMatchObject({
      arn: "${aws_sns_topic.this.arn}",
      policy: "${data.aws_iam_policy_document.publish.json}",
    });
  });

  it("alarm_email subscribes that address by e-mail, and only when it is set", () => {
    const subscription = alarmTopic().resource("aws_sns_topic_subscription", "email");
    expect(subscription.count).toBe('${var.email == "" ? 0 : 1}');
    expect(subscription.topic_arn).toBe("${aws_sns_topic.this.arn}");
    expect(subscription.protocol).toBe("email");
    expect(subscription.endpoint).toBe("${var.email}");
  });
});

describe("what the alarms watch (infra/alarms.tf)", () => {
  it("every function of lambda.tf has an Errors and a Throttles alarm, a new one included", () => {
    for (const [name, metric] of [
      ["lambda_errors", "Errors"],
      ["lambda_throttles", "Throttles"],
    ] as const) {
      const block = alarm(name);
      expect(block.for_each, name).toBe("${local.lambdas}");
      expect(block.namespace, name).toBe("AWS/Lambda");
      expect(block.metric_name, name).toBe(metric);
      expect(block.dimensions, name).toEqual({
        FunctionName: "${aws_lambda_function.service[each.key].function_name}",
      });
      expect(block.alarm_name, name).toMatch(/^\$\{var\.project\}-\$\{each\.key\}-/);
      expect(block.threshold, name).toBe(1);
      expect(block.comparison_operator, name).toBe("GreaterThanOrEqualToThreshold");
    }
  });

  it("read and write throttling of every table and of the byVersion index alarms", () => {
    const targets = asBlock(terraform.local("dynamodb_throttle_targets"), "targets");
    const tables = Object.keys(terraform.resourcesOfType("aws_dynamodb_table"));
    const watched = Object.values(targets).map((target) => asBlock(target, "target"));
    for (const table of tables) {
      expect(
        watched.some(
          (target) =>
            target.TableName === `\${aws_dynamodb_table.${table}.name}` &&
            target.GlobalSecondaryIndexName === undefined,
        ),
        table,
      ).toBe(true);
    }
    // Every index of every table, by its name.
    for (const table of tables) {
      for (const index of blocks(
        terraform.resource("aws_dynamodb_table", table).global_secondary_index,
        `${table} indexes`,
      )) {
        expect(watched, `${table} ${String(index.name)}`).toContainEqual({
          TableName: `\${aws_dynamodb_table.${table}.name}`,
          GlobalSecondaryIndexName: index.name,
        });
      }
    }
    const block = alarm("dynamodb_throttles");
    expect(block.for_each).toBe("${local.dynamodb_throttle_targets}");
    const metrics = queriedMetrics("dynamodb_throttles");
    expect(
      Object.values(metrics)
        .map((metric) => `${String(metric.namespace)} ${String(metric.metric_name)}`)
        .sort(),
    ).toEqual(["AWS/DynamoDB ReadThrottleEvents", "AWS/DynamoDB WriteThrottleEvents"]);
    for (const metric of Object.values(metrics)) expect(metric.dimensions).toBe("${each.value}");
    expect(returnedExpression("dynamodb_throttles")).toBe("FILL(reads, 0) + FILL(writes, 0)");
    expect(block.threshold).toBe(1);
  });

  it("the API's 5xx rate: the stage's 5xx over its Count, once there is traffic", () => {
    expect(terraform.local("api_dimensions")).toEqual({
      ApiId: "${aws_apigatewayv2_api.http.id}",
      Stage: "${aws_apigatewayv2_stage.default.name}",
    });
    const metrics = queriedMetrics("api_5xx_rate");
    expect(metrics.errors).toMatchObject({ namespace: "AWS/ApiGateway", metric_name: "5xx", stat: "Sum" });
    expect(metrics.requests).toMatchObject({
      namespace: "AWS/ApiGateway",
      metric_name: "Count",
      stat: "Sum",
    });
    for (const metric of Object.values(metrics)) expect(metric.dimensions).toBe("${local.api_dimensions}");
    expect(returnedExpression("api_5xx_rate")).toBe(
      "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)",
    );
    expect(alarm("api_5xx_rate").threshold).toBe("${var.api_5xx_rate_alarm_percent}");
  });

  it("the API's 429 rate: 429s counted from the stage's access log (HTTP APIs have no 429 metric) over its Count", () => {
    const filter = terraform.resource("aws_cloudwatch_log_metric_filter", "api_429");
    expect(filter.log_group_name).toBe("${aws_cloudwatch_log_group.api_access.name}");
    expect(filter.pattern).toBe('{ $.status = "429" }');
    // The access log writes the status under that name (api.tf).
    const access = single(
      terraform.resource("aws_apigatewayv2_stage", "default").access_log_settings,
      "access log",
    );
    expect(access.destination_arn).toBe("${aws_cloudwatch_log_group.api_access.arn}");
    expect(asString(access.format, "format")).toMatch(/\bstatus\s+=\s+"\$context\.status"/);
    const transformation = single(filter.metric_transformation, "metric_transformation");
    const metrics = queriedMetrics("api_429_rate");
    expect(metrics.throttled).toMatchObject({
      namespace: transformation.namespace,
      metric_name: transformation.name,
      stat: "Sum",
    });
    expect(metrics.requests).toMatchObject({ namespace: "AWS/ApiGateway", metric_name: "Count" });
    expect(returnedExpression("api_429_rate")).toBe(
      "IF(requests >= 20, 100 * FILL(throttled, 0) / requests, 0)",
    );
    expect(alarm("api_429_rate").threshold).toBe("${var.api_429_rate_alarm_percent}");
  });

  it("WAF's 429 rate: the rate rules' blocks over every request WAF judged, by the web ACL's own metric names", () => {
    const acl = terraform.resource("aws_wafv2_web_acl", "web");
    expect(acl).toMatchObject({ provider: US_EAST_1, scope: "CLOUDFRONT" });
    // The dimensions name the web ACL and its rules by their metric names (visibility_config), not by any Region:
    // a CloudFront-scoped web ACL's metrics carry none.
    const aclMetricName = single(acl.visibility_config, "web ACL visibility_config").metric_name;
    expect(aclMetricName).toBe("${var.project}-web");
    expect(terraform.local("waf_web_acl_metric_name")).toBe(
      "${aws_wafv2_web_acl.web.visibility_config[0].metric_name}",
    );
    // The rules that answer 429: the dynamic block over local.waf_rate_rules, whose metric is named by its key.
    const rateRules = blocks(asBlock(acl.dynamic, "dynamic").rule, "dynamic rules").filter(
      (rule) => rule.for_each === "${local.waf_rate_rules}",
    );
    const content = single(single(rateRules, "rate rules").content, "rate rule");
    const response = single(
      single(single(content.action, "action").block, "block").custom_response,
      "custom_response",
    );
    expect(response.response_code).toBe(429);
    expect(single(content.visibility_config, "visibility_config").metric_name).toBe(
      "${var.project}-${rule.key}",
    );
    const names = Object.keys(asBlock(terraform.local("waf_rate_rules"), "waf_rate_rules"));
    expect(names).toEqual(["rate-per-ip", "rate-per-token"]);
    expect(terraform.local("waf_rate_rule_metric_names")).toEqual({
      per_ip: "${var.project}-rate-per-ip",
      per_token: "${var.project}-rate-per-token",
    });

    const metrics = queriedMetrics("waf_429_rate");
    expect(Object.keys(metrics).sort()).toEqual(["allowed", "blocked", "per_ip", "per_token"]);
    for (const [id, metric] of Object.entries(metrics)) {
      expect(metric, id).toMatchObject({ namespace: "AWS/WAFV2", stat: "Sum", period: 60 });
      const dimensions = asBlock(metric.dimensions, `${id} dimensions`);
      expect(Object.keys(dimensions).sort(), id).toEqual(["Rule", "WebACL"]);
      expect(dimensions.WebACL, id).toBe("${local.waf_web_acl_metric_name}");
    }
    expect(metrics.per_ip).toMatchObject({
      metric_name: "BlockedRequests",
      dimensions: { Rule: "${local.waf_rate_rule_metric_names.per_ip}" },
    });
    expect(metrics.per_token).toMatchObject({
      metric_name: "BlockedRequests",
      dimensions: { Rule: "${local.waf_rate_rule_metric_names.per_token}" },
    });
    expect(metrics.allowed).toMatchObject({ metric_name: "AllowedRequests", dimensions: { Rule: "ALL" } });
    expect(metrics.blocked).toMatchObject({ metric_name: "BlockedRequests", dimensions: { Rule: "ALL" } });
    const requests = blocks(alarm("waf_429_rate").metric_query, "metric_query").find(
      (query) => query.id === "requests",
    );
    expect(requests?.expression).toBe("FILL(allowed, 0) + FILL(blocked, 0)");
    expect(returnedExpression("waf_429_rate")).toBe(
      "IF(requests >= 20, 100 * (FILL(per_ip, 0) + FILL(per_token, 0)) / requests, 0)",
    );
    expect(alarm("waf_429_rate")).toMatchObject({
      threshold: "${var.api_429_rate_alarm_percent}",
      comparison_operator: "GreaterThanThreshold",
      treat_missing_data: "notBreaching",
    });
  });

  it("verify not ok alarms on the first report of violations; not run alarms on silence (missing data breaches)", () => {
    const routes = asBlock(terraform.local("api_routes"), "api_routes");
    const verifier = asString(routes["GET /number/verify"], "verify route");
    // The filters read the log group of the function that serves verify: move the route, move the filters.
    expect(terraform.local("verify_log_group")).toBe(
      `\${aws_cloudwatch_log_group.lambda["${verifier}"].name}`,
    );
    const passed = terraform.resource("aws_cloudwatch_log_metric_filter", "verify_passed");
    const violations = terraform.resource("aws_cloudwatch_log_metric_filter", "verify_violations");
    for (const filter of [passed, violations])
      expect(filter.log_group_name).toBe("${local.verify_log_group}");
    expect(passed.pattern).toBe('"${local.verify_passed_phrase}"');
    expect(violations.pattern).toBe('"${local.verify_violations_phrase}"');
    // The phrases are the very lines the verify handler logs (services/query/verify.ts).
    expect(terraform.local("verify_passed_phrase")).toBe(VERIFY_PASSED_MESSAGE);
    expect(terraform.local("verify_violations_phrase")).toBe(VERIFY_VIOLATIONS_MESSAGE);

    const notOk = alarm("verify_not_ok");
    expect(notOk.metric_name).toBe(single(violations.metric_transformation, "transformation").name);
    expect(notOk).toMatchObject({ threshold: 1, comparison_operator: "GreaterThanOrEqualToThreshold" });
    const notRun = alarm("verify_not_run");
    expect(notRun.metric_name).toBe(single(passed.metric_transformation, "transformation").name);
    expect(notRun).toMatchObject({
      threshold: 1,
      comparison_operator: "LessThanThreshold",
      treat_missing_data: "breaching",
      period: 3600,
      evaluation_periods: "${var.verify_alarm_hours}",
    });
  });

  it("the projector's iterator age, the failure queue and rewritten ledger events alarm", () => {
    expect(alarm("projector_iterator_age")).toMatchObject({
      namespace: "AWS/Lambda",
      metric_name: "IteratorAge",
    });
    expect(alarm("projector_failure_queue")).toMatchObject({
      namespace: "AWS/SQS",
      metric_name: "ApproximateNumberOfMessagesVisible",
    });
    expect(alarm("ledger_rewritten").metric_name).toBe("LedgerEventsRewritten");
  });
});

describe("the dashboard (infra/dashboard.tf)", () => {
  it("shows every alarm's state, and the functions' metrics for each function of lambda.tf", () => {
    const dashboard = terraform.resource("aws_cloudwatch_dashboard", "operations");
    expect(dashboard.dashboard_body).toBe("${jsonencode({ widgets = local.dashboard_widgets })}");
    const arns = asString(terraform.local("dashboard_alarm_arns"), "dashboard_alarm_arns");
    for (const name of Object.keys(alarms())) {
      const reference = new RegExp(`aws_cloudwatch_metric_alarm\\.${name}(\\.arn|\\s*:)`);
      expect(arns, name).toMatch(reference);
    }
    expect(terraform.local("dashboard_functions")).toBe("${sort(keys(local.lambdas))}");
    const widgets = asArray(terraform.local("dashboard_widgets"), "widgets").map((widget) =>
      asBlock(widget, "widget"),
    );
    const titles = widgets.map((widget) => String(asBlock(widget.properties, "properties").title));
    expect(titles).toEqual(
      expect.arrayContaining([
        "Alarms",
        "Lambda: errors",
        "Lambda: throttles",
        "DynamoDB: throttle events (tables and byVersion)",
      ]),
    );
    // WAF's blocks by rule, from us-east-1 where WAF publishes them: every rule of the web ACL.
    const waf = widgets
      .map((widget) => asBlock(widget.properties, "properties"))
      .find((properties) => String(properties.title).startsWith("WAF: blocked requests by rule"));
    expect(waf).toMatchObject({ region: "us-east-1", stat: "Sum" });
    expect(waf?.metrics).toBe(
      '${[for rule in local.waf_rule_metric_names : ["AWS/WAFV2", "BlockedRequests", "WebACL", local.waf_web_acl_metric_name, "Rule", rule]]}',
    );
    const ruleNames = Object.keys(asBlock(terraform.local("waf_rate_rules"), "rate rules"));
    const managed = Object.keys(asBlock(terraform.local("waf_managed_rule_groups"), "managed rule groups"));
    // Those are all the web ACL's rules: none is written out beside the two dynamic blocks.
    expect(terraform.resource("aws_wafv2_web_acl", "web").rule).toBeUndefined();
    expect([...managed, ...ruleNames].sort()).toEqual([
      "aws-managed-common",
      "aws-managed-ip-reputation",
      "aws-managed-known-bad-inputs",
      "rate-per-ip",
      "rate-per-token",
    ]);
    // The list is built from the web ACL's own: the managed groups' rules are named as their metrics are.
    const ruleList = asString(terraform.local("waf_rule_metric_names"), "waf_rule_metric_names");
    expect(ruleList).toContain(
      '[for name in keys(local.waf_managed_rule_groups) : "${var.project}-${name}"]',
    );
    expect(ruleList).toContain("values(local.waf_rate_rule_metric_names)");
    const managedRules = blocks(
      asBlock(terraform.resource("aws_wafv2_web_acl", "web").dynamic, "dynamic").rule,
      "dynamic rules",
    ).filter((rule) => rule.for_each === "${local.waf_managed_rule_groups}");
    const managedRule = single(managedRules, "dynamic managed rule");
    const content = single(managedRule.content, "dynamic rule content");
    expect(single(content.visibility_config, "visibility_config").metric_name).toBe(
      "${var.project}-${rule.key}",
    );
    expect(terraform.local("application_metrics_namespace")).toBe("${var.project}");
  });
});
