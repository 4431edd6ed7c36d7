// Gradual deploys (infra/lambda.tf, infra/deploy.tf, .github/workflows/deploy.yml): every function is published
// and every caller invokes its `live` alias, which only CodeDeploy moves, a canary share first, and moves back
// when one of the function's alarms fires or the deployment fails. The pipeline cannot move an alias itself.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPOSITORY_ROOT } from "../../../scripts/build";
import {
  INFRA_DIRECTORY,
  asString,
  asStrings,
  loadTerraform,
  single,
  type Terraform,
} from "../../support/terraform";

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

function alias(name: string, attribute: string): string {
  return `\${aws_lambda_alias.live["${name}"].${attribute}}`;
}

describe("every function is published and reached through its live alias (infra/lambda.tf)", () => {
  it("each function publishes a version; each has a `live` alias that Terraform creates and then leaves to CodeDeploy", () => {
    const lambda = terraform.resource("aws_lambda_function", "service");
    expect(lambda.for_each).toBe("${local.lambdas}");
    expect(lambda.publish).toBe(true);
    const live = terraform.resource("aws_lambda_alias", "live");
    expect(live.for_each).toBe("${local.lambdas}");
    expect(live.name).toBe("live");
    expect(live.function_name).toBe("${aws_lambda_function.service[each.key].function_name}");
    expect(live.function_version).toBe("${aws_lambda_function.service[each.key].version}");
    const lifecycle = single(live.lifecycle, "lifecycle");
    expect(asStrings(lifecycle.ignore_changes, "ignore_changes")).toEqual(
      expect.arrayContaining(["${function_version}", "${routing_config}"]),
    );
  });

  it("the API's integrations, their permissions, the stream mapping, Cognito's trigger and the digest schedule name the alias", () => {
    const integration = terraform.resource("aws_apigatewayv2_integration", "lambda");
    expect(integration.integration_uri).toBe("${aws_lambda_alias.live[each.key].invoke_arn}");
    for (const [permission, name] of [
      ["api_command", "command"],
      ["api_query", "query"],
      ["cognito_pre_token_generation", "identity"],
    ] as const) {
      expect(terraform.resource("aws_lambda_permission", permission).qualifier, permission).toBe(
        alias(name, "name"),
      );
    }
    expect(terraform.resource("aws_lambda_event_source_mapping", "projector").function_name).toBe(
      alias("projector", "arn"),
    );
    // The schedules invoke through the scheduled_invoke module, whose target is the call's target_arn.
    expect(terraform.moduleCall("digest_schedule").target_arn).toBe(alias("digest", "arn"));
    expect(terraform.moduleCall("verify_schedule").target_arn).toBe(alias("audit", "arn"));
  });

  it("nothing in infra/ invokes a function unqualified ($LATEST): no reference to a function's arn or invoke_arn", () => {
    const unqualified = readdirSync(INFRA_DIRECTORY)
      .filter((file) => file.endsWith(".tf"))
      .flatMap((file) =>
        readFileSync(join(INFRA_DIRECTORY, file), "utf8")
          .split("\n")
          .filter((line) =>
            /aws_lambda_function\.service\[[^\]]*\]\.(arn|invoke_arn|qualified_arn)\b/.test(line),
          )
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(unqualified).toEqual([]);
  });
});

describe("CodeDeploy shifts the alias and rolls back on alarms (infra/deploy.tf)", () => {
  it("one Lambda deployment group per function: canary by default, traffic-shifted, rolled back on failure or alarm", () => {
    expect(terraform.resource("aws_codedeploy_app", "lambda").compute_platform).toBe("Lambda");
    const group = terraform.resource("aws_codedeploy_deployment_group", "lambda");
    expect(group.for_each).toBe("${local.lambdas}");
    expect(group.app_name).toBe("${aws_codedeploy_app.lambda.name}");
    expect(group.deployment_config_name).toBe("${var.lambda_deployment_config}");
    expect(terraform.variable("lambda_deployment_config").default).toBe(
      "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    );
    expect(single(group.deployment_style, "deployment_style")).toEqual({
      deployment_type: "BLUE_GREEN",
      deployment_option: "WITH_TRAFFIC_CONTROL",
    });
    const rollback = single(group.auto_rollback_configuration, "auto_rollback_configuration");
    expect(rollback.enabled).toBe(true);
    expect([...asStrings(rollback.events, "events")].sort()).toEqual([
      "DEPLOYMENT_FAILURE",
      "DEPLOYMENT_STOP_ON_ALARM",
    ]);
    const alarms = single(group.alarm_configuration, "alarm_configuration");
    expect(alarms.enabled).toBe(true);
    expect(alarms.alarms).toBe("${local.deployment_alarms[each.key]}");
  });

  it("each function's group watches at least its own Errors and Throttles alarms", () => {
    const expression = asString(terraform.local("deployment_alarms"), "deployment_alarms");
    expect(expression).toMatch(/for name in keys\(local\.lambdas\)/);
    expect(expression).toContain("aws_cloudwatch_metric_alarm.lambda_errors[name].alarm_name");
    expect(expression).toContain("aws_cloudwatch_metric_alarm.lambda_throttles[name].alarm_name");
    const extra = terraform.local("deployment_extra_alarms") as Record<string, string[]>;
    expect(extra.command).toContain("${aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name}");
    expect(extra.projector).toEqual(
      expect.arrayContaining([
        "${aws_cloudwatch_metric_alarm.projector_iterator_age.alarm_name}",
        "${aws_cloudwatch_metric_alarm.projector_failure_queue.alarm_name}",
      ]),
    );
    // CodeDeploy takes at most ten alarms per group.
    for (const [name, list] of Object.entries(extra)) expect(list.length + 2, name).toBeLessThanOrEqual(10);
  });

  it("CodeDeploy's role moves only the project's aliases and reads only its alarms, under the boundary", () => {
    const role = terraform.resource("aws_iam_role", "codedeploy");
    expect(role.name).toBe("${var.project}-lambda-codedeploy");
    expect(role.permissions_boundary).toBe("${aws_iam_policy.lambda_boundary.arn}");
    const grants = terraform
      .policyStatements("codedeploy")
      .flatMap((statement) =>
        statement.actions.flatMap((action) => statement.resources.map((r) => `${action} ${r}`)),
      )
      .sort();
    expect(grants).toEqual([
      "cloudwatch:DescribeAlarms ${local.arn_prefix.cloudwatch}:alarm:${var.project}-*",
      "lambda:GetAlias ${local.arn_prefix.lambda}:function:${var.project}-*",
      "lambda:GetProvisionedConcurrencyConfig ${local.arn_prefix.lambda}:function:${var.project}-*",
      "lambda:UpdateAlias ${local.arn_prefix.lambda}:function:${var.project}-*",
    ]);
    // The boundary allows exactly that much to the `-lambda-` roles, and no more.
    const bounded = terraform
      .policyStatements("lambda_boundary")
      .filter((statement) => statement.sid.startsWith("GradualDeploy"))
      .flatMap((statement) =>
        statement.actions.flatMap((action) => statement.resources.map((r) => `${action} ${r}`)),
      )
      .sort();
    expect(bounded).toEqual(grants);
    const trust = terraform.policyStatements("codedeploy_assume_role");
    expect(trust.map((statement) => statement.principals)).toEqual([
      [{ type: "Service", identifiers: ["codedeploy.amazonaws.com"] }],
    ]);
  });

  it("the deploy role starts deployments in this application's groups only, and never moves an alias itself", () => {
    const deployStatements = terraform
      .policyDocumentNames()
      .filter((name) => name.startsWith("deploy_") || name.startsWith("plan_"))
      .flatMap((name) => terraform.policyStatements(name))
      .filter((statement) => statement.effect === "Allow");
    const granted = (action: string) =>
      deployStatements.filter((statement) => statement.actions.includes(action)).flatMap((s) => s.resources);
    expect(granted("lambda:UpdateAlias")).toEqual([]);
    expect(granted("codedeploy:CreateDeployment")).toEqual([
      "${local.arn_prefix.codedeploy}:deploymentgroup:${var.project}/*",
    ]);
    // The alarm topic is read-only to the pipeline: a commit to main cannot silence the alarms.
    const snsWrites = deployStatements.flatMap((statement) =>
      statement.actions.filter((action) => action.startsWith("sns:") && !/^sns:(Get|List)/.test(action)),
    );
    expect(snsWrites).toEqual([]);
    // And explicitly denied, with deleting or disabling the topic's key.
    const silencing = terraform
      .policyStatements("deploy_operations")
      .find((statement) => statement.sid === "AlarmsCannotBeSilenced");
    expect(silencing?.effect).toBe("Deny");
    expect(silencing?.conditions).toEqual([]);
    // Both topics and both keys: the main region's and the edge's in us-east-1 (alarms-edge.tf).
    expect(silencing?.resources).toEqual([
      "${local.arn_prefix.sns}:${var.project}-alarms",
      "${module.alarm_topic.key_arn}",
      "${local.edge_alarm_topic_arn}",
      "${module.edge_alarm_topic.key_arn}",
    ]);
    expect(terraform.local("edge_alarm_topic_arn")).toBe(
      "${local.arn_prefix.sns_edge}:${var.project}-edge-alarms",
    );
    expect(silencing?.actions).toEqual(
      expect.arrayContaining([
        "sns:DeleteTopic",
        "sns:Unsubscribe",
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
      ]),
    );
    const passes = deployStatements.filter((statement) =>
      statement.conditions.some((condition) => condition.values.includes("codedeploy.amazonaws.com")),
    );
    expect(passes.map((statement) => [statement.actions, statement.resources])).toEqual([
      [["iam:PassRole"], ["${local.arn_prefix.iam}:role/${var.project}-lambda-*"]],
    ]);
  });
});

describe("the deploy workflow shifts the aliases through CodeDeploy (.github/workflows/deploy.yml)", () => {
  interface Step {
    readonly name?: string;
    readonly run?: string;
  }
  const workflow = parse(
    readFileSync(join(REPOSITORY_ROOT, ".github", "workflows", "deploy.yml"), "utf8"),
  ) as { jobs: Record<string, { environment?: unknown; steps: Step[] }> };

  it("after terraform apply and before the UI upload, the apply job deploys each changed function and waits for it", () => {
    const apply = workflow.jobs.apply;
    expect(apply?.environment).toBe("production");
    const steps = apply?.steps ?? [];
    const at = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step.run ?? ""));
    const applied = at(/terraform apply/);
    const shifted = at(/aws deploy create-deployment/);
    const uploaded = at(/aws s3 sync web\/dist/);
    expect(applied).toBeGreaterThanOrEqual(0);
    expect(shifted).toBeGreaterThan(applied);
    expect(uploaded).toBeGreaterThan(shifted);
    const script = steps[shifted]?.run ?? "";
    expect(script).toContain("terraform output -json lambda_deployments");
    expect(script).toContain('"Alias":"live","CurrentVersion":"%s","TargetVersion":"%s"');
    expect(script).toContain("aws deploy wait deployment-successful");
    // Only CodeDeploy moves an alias.
    const everything = Object.values(workflow.jobs)
      .flatMap((job) => job.steps)
      .map((step) => step.run ?? "")
      .join("\n");
    expect(everything).not.toMatch(/update-alias/);
    expect(terraform.output("lambda_deployments").value).toMatch(
      /aws_lambda_function\.service\[name\]\.version/,
    );
  });
});
