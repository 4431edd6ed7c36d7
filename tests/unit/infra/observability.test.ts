// Metrics, logs and traces in infra/ (issue 13, items 5 and 6): every function traced by X-Ray (Active) and
// logging JSON, the application's metrics namespace handed to Powertools and shown on the dashboard — every
// metric of services/ledger/telemetry.ts — and the scheduled verify: an EventBridge schedule that invokes the
// audit function's alias with the input its handler recognises, through a role that may invoke that and nothing
// else. docs/runbook.md#alarms and #metrics say what they mean.

import { beforeAll, describe, expect, it } from "vitest";
import { SCHEDULED_VERIFY_INPUT } from "../../../services/audit/handler";
import { METRICS } from "../../../services/ledger/telemetry";
import { asString, loadTerraform, single, type Terraform } from "../../support/terraform";

const AUDIT_ALIAS = '${aws_lambda_alias.live["audit"].arn}';

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

describe("logs and traces of every function (infra/lambda.tf)", () => {
  it("every function logs in Lambda's JSON format to its own group and is traced actively by X-Ray", () => {
    const lambda = terraform.resource("aws_lambda_function", "service");
    // One block for every function of local.lambdas: a new function is held to the same.
    expect(lambda.for_each).toBe("${local.lambdas}");
    expect(single(lambda.logging_config, "logging_config")).toEqual({
      log_format: "JSON",
      log_group: "${aws_cloudwatch_log_group.lambda[each.key].name}",
    });
    expect(single(lambda.tracing_config, "tracing_config")).toEqual({ mode: "Active" });
  });

  it("every function's role may write traces, and the boundary lets it", () => {
    for (const name of ["command", "query", "audit", "projector", "identity", "digest", "lambda_boundary"]) {
      const traces = terraform.policyStatements(name).filter((statement) => statement.sid === "WriteTraces");
      expect(traces, name).toHaveLength(1);
      expect(traces[0]).toMatchObject({
        effect: "Allow",
        actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        resources: ["*"],
        conditions: [],
      });
    }
  });

  it("Powertools writes the application's metrics in the namespace the dashboard and the log filters use", () => {
    expect(terraform.local("lambda_environment")).toMatchObject({
      POWERTOOLS_METRICS_NAMESPACE: "${local.application_metrics_namespace}",
    });
    expect(
      terraform.resource("aws_cloudwatch_log_metric_filter", "verify_passed").metric_transformation,
    ).toEqual([expect.objectContaining({ namespace: "${var.project}" })]);
    expect(terraform.local("application_metrics_namespace")).toBe("${var.project}");
  });
});

describe("the dashboard shows the application's metrics (infra/dashboard.tf)", () => {
  it("every metric of services/ledger/telemetry.ts is on it, in the application's namespace", () => {
    const widgets = JSON.stringify(terraform.local("dashboard_widgets"));
    // One SEARCH per metric with a dimension: over that dimension and Powertools' `service`, in the namespace.
    const searches = asString(terraform.local("application_search"), "application_search");
    expect(searches).toContain(
      'SEARCH(\'{\\"${local.application_metrics_namespace}\\",${search[0]},service} MetricName=\\"${name}\\"\'',
    );
    for (const definition of Object.values(METRICS)) {
      if ("dimension" in definition) {
        expect(searches, definition.name).toContain(`${definition.name} = ["${definition.dimension}"`);
        expect(widgets, definition.name).toContain(`local.application_search.${definition.name}`);
      } else {
        expect(widgets, definition.name).toContain(
          `["\${local.application_metrics_namespace}","${definition.name}","service"`,
        );
      }
    }
  });
});

describe("the scheduled verify (infra/verify.tf, infra/modules/scheduled_invoke)", () => {
  it("a schedule runs the audit function's alias every verify_interval_minutes, with the handler's input", () => {
    const call = terraform.moduleCall("verify_schedule");
    expect(call.source).toBe("./modules/scheduled_invoke");
    expect(call.name).toBe("${var.project}-verify");
    expect(call.schedule_expression).toBe("rate(${var.verify_interval_minutes} minutes)");
    expect(call.target_arn).toBe(AUDIT_ALIAS);
    // The module's schedule takes them as they are (tests/unit/infra/schedules.test.ts holds it).
    const target = single(
      terraform.module("verify_schedule").resource("aws_scheduler_schedule", "this").target,
      "target",
    );
    expect(target).toMatchObject({ arn: "${var.target_arn}", input: "${var.input}" });
    // jsonencode of an object of string fields: the same fields as SCHEDULED_VERIFY_INPUT.
    const input = /^\$\{jsonencode\(\{(.*)\}\)\}$/.exec(asString(call.input, "input"))?.[1] ?? "";
    const fields: Record<string, string> = Object.fromEntries(
      [...input.matchAll(/(\w+)\s*=\s*"([^"]*)"/g)].map((match): [string, string] => [
        match[1] ?? "",
        match[2] ?? "",
      ]),
    );
    expect(fields).toEqual(SCHEDULED_VERIFY_INPUT);
  });

  it("runs often enough that verify-not-run means verification stopped", () => {
    const interval = terraform.variable("verify_interval_minutes").default as number;
    const alarmHours = terraform.variable("verify_alarm_hours").default as number;
    expect(interval).toBeGreaterThanOrEqual(2);
    // At least two runs inside the alarm's window.
    expect(interval * 2).toBeLessThanOrEqual(alarmHours * 60);
  });

  it("its role may invoke the audit function's alias and nothing else, assumed by the Scheduler of this account", () => {
    // The module's role may invoke its target_arn alone (schedules.test.ts): here, the audit function's alias.
    const call = terraform.moduleCall("verify_schedule");
    expect(call.target_arn).toBe(AUDIT_ALIAS);
    expect(call.account_id).toBe("${local.account_id}");
    expect(call.permissions_boundary_arn).toBe("${aws_iam_policy.lambda_boundary.arn}");
    // Under the `-lambda-` roles the deploy role may create and pass to the Scheduler.
    expect(call.role_name).toBe("${var.project}-lambda-verify-schedule");
    expect(call.invoke_statement_sid).toBe("InvokeAuditLambda");
    // The boundary lets a schedule invoke the audit function's alias (by name), as the digest's.
    expect(terraform.allowedGrants("lambda_boundary")).toContain(
      "lambda:InvokeFunction ${local.arn_prefix.lambda}:function:${var.project}-audit:live",
    );
  });
});
