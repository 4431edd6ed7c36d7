// The alarms of infra/ reach someone, and watch what issue 13 asks of them: every alarm notifies the one SNS
// topic (which always exists, encrypted under a key CloudWatch may use, with an e-mail subscription when
// alarm_email is set); every function's errors and throttles, every table's and the byVersion index's
// throttling, the API's 5xx and 429 rates, verify not ok or not run; and the dashboard shows them.
// docs/runbook.md#alarms says what each means.

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
    // Twelve blocks; the functions' and tables' alarms are one block each, for_each.
    expect(written.length).toBeGreaterThanOrEqual(12);
    for (const [name, block] of Object.entries(alarms())) {
      expect(block.alarm_actions, name).toBe("${local.alarm_actions}");
      expect(block.ok_actions, name).toBe("${local.alarm_actions}");
      expect(block.count, name).toBeUndefined();
    }
    expect(terraform.local("alarm_actions")).toEqual(["${aws_sns_topic.alarms.arn}"]);
  });

  it("the topic always exists, encrypted under a rotated customer managed key that CloudWatch may use", () => {
    const topic = terraform.resource("aws_sns_topic", "alarms");
    expect(topic.count).toBeUndefined();
    expect(topic.name).toBe("${var.project}-alarms");
    // Not alias/aws/sns: its policy cannot let CloudWatch encrypt, and alarms would fail to notify.
    expect(topic.kms_master_key_id).toBe("${aws_kms_key.alarms.arn}");
    const key = terraform.resource("aws_kms_key", "alarms");
    expect(key.enable_key_rotation).toBe(true);
    expect(key.policy).toBe("${jsonencode(local.alarm_key_policy)}");
    const statements = asArray(
      asBlock(terraform.local("alarm_key_policy"), "alarm_key_policy").Statement,
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
        Condition: { StringEquals: { "aws:SourceAccount": "${local.account_id}" } },
      },
    ]);
    // Nothing but the account itself (KMS's default statement) and CloudWatch.
    expect(statements.map((statement) => statement.Principal)).toEqual([
      { AWS: "arn:${local.partition}:iam::${local.account_id}:root" },
      { Service: "cloudwatch.amazonaws.com" },
    ]);
    const publishers = terraform.policyStatements("alarm_topic");
    expect(publishers).toHaveLength(1);
    expect(publishers[0]?.actions).toEqual(["sns:Publish"]);
    expect(publishers[0]?.principals).toEqual([
      { type: "Service", identifiers: ["cloudwatch.amazonaws.com"] },
    ]);
    expect(publishers[0]?.conditions).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: ["${local.account_id}"] },
    ]);
  });

  it("alarm_email subscribes that address by e-mail, and only when it is set", () => {
    const subscription = terraform.resource("aws_sns_topic_subscription", "alarm_email");
    expect(subscription.count).toBe('${var.alarm_email == "" ? 0 : 1}');
    expect(subscription.topic_arn).toBe("${aws_sns_topic.alarms.arn}");
    expect(subscription.protocol).toBe("email");
    expect(subscription.endpoint).toBe("${var.alarm_email}");
    expect(terraform.variable("alarm_email").default).toBe("");
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
    expect(terraform.local("application_metrics_namespace")).toBe("${var.project}");
  });
});
