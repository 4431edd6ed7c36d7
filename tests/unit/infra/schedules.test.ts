// The schedules of infra/ (the scheduled verify of verify.tf, the scheduled digest of digest.tf) are one module,
// infra/modules/scheduled_invoke: an EventBridge Scheduler schedule that invokes one Lambda alias, through a role
// that may invoke that alias and nothing else, that only the Scheduler of this account may take, and that carries
// the Lambda permissions boundary. Read from the module's own files (tests/support/terraform.ts follows local
// modules), and each call held to what it passes.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  INFRA_DIRECTORY,
  asBlock,
  blocks,
  loadTerraform,
  single,
  type Terraform,
} from "../../support/terraform";

const CALLS = {
  verify_schedule: { file: "verify.tf", old: "verify" },
  digest_schedule: { file: "digest.tf", old: "digest" },
} as const;

let terraform: Terraform;
let module: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
  module = terraform.module("verify_schedule");
});

describe("the scheduled_invoke module (infra/modules/scheduled_invoke)", () => {
  it("its schedule invokes target_arn at the given rate, with the given input, through its own role", () => {
    const schedule = module.resource("aws_scheduler_schedule", "this");
    expect(schedule).toMatchObject({
      name: "${var.name}",
      schedule_expression: "${var.schedule_expression}",
    });
    expect(single(schedule.flexible_time_window, "flexible_time_window").mode).toBe("OFF");
    const target = single(schedule.target, "target");
    expect(target).toMatchObject({
      arn: "${var.target_arn}",
      role_arn: "${aws_iam_role.this.arn}",
      input: "${var.input}",
    });
    // Retries are bounded: a throttled invocation is retried a little, then the next tick runs.
    expect(single(target.retry_policy, "retry_policy")).toEqual({
      maximum_retry_attempts: 2,
      maximum_event_age_in_seconds: 300,
    });
  });

  it("its role may invoke target_arn and nothing else", () => {
    expect(module.allowedGrants("invoke")).toEqual(["lambda:InvokeFunction ${var.target_arn}"]);
    expect(module.policyStatements("invoke").filter((statement) => statement.effect === "Deny")).toEqual([]);
    const policy = module.resource("aws_iam_role_policy", "this");
    expect(policy).toMatchObject({
      role: "${aws_iam_role.this.id}",
      policy: "${data.aws_iam_policy_document.invoke.json}",
    });
  });

  it("only the Scheduler of this account takes the role, which carries the permissions boundary", () => {
    const trust = module.policyStatements("assume_role");
    expect(trust).toHaveLength(1);
    expect(trust[0]?.actions).toEqual(["sts:AssumeRole"]);
    expect(trust[0]?.principals).toEqual([{ type: "Service", identifiers: ["scheduler.amazonaws.com"] }]);
    expect(trust[0]?.conditions).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: ["${var.account_id}"] },
    ]);
    expect(module.resource("aws_iam_role", "this")).toMatchObject({
      name: "${var.role_name}",
      assume_role_policy: "${data.aws_iam_policy_document.assume_role.json}",
      permissions_boundary: "${var.permissions_boundary_arn}",
    });
    // Nothing but the schedule, its role and the role's policy.
    expect(Object.keys(asBlock(module.root.resource, "resources")).sort()).toEqual([
      "aws_iam_role",
      "aws_iam_role_policy",
      "aws_scheduler_schedule",
    ]);
  });
});

describe("the calls (infra/verify.tf, infra/digest.tf)", () => {
  it("each call is the same module, under the boundary, for this account, with a `-lambda-` role of its own", () => {
    // Every call of this module is one of these (the others call modules/alarm_topic).
    const scheduled = terraform
      .moduleNames()
      .filter((name) => terraform.moduleCall(name).source === "./modules/scheduled_invoke");
    expect(scheduled.sort()).toEqual(Object.keys(CALLS).sort());
    const roles = new Set<unknown>();
    for (const name of Object.keys(CALLS)) {
      const call = terraform.moduleCall(name);
      expect(call.source, name).toBe("./modules/scheduled_invoke");
      expect(call.permissions_boundary_arn, name).toBe("${aws_iam_policy.lambda_boundary.arn}");
      expect(call.account_id, name).toBe("${local.account_id}");
      expect(String(call.role_name), name).toMatch(/^\$\{var\.project\}-lambda-[a-z-]+$/);
      expect(String(call.target_arn), name).toMatch(/^\$\{aws_lambda_alias\.live\["\w+"\]\.arn\}$/);
      roles.add(call.role_name);
    }
    expect(roles.size).toBe(Object.keys(CALLS).length);
  });

  it("the resources the files held before the module are moved into it, not deleted and created again", () => {
    const moved = blocks(terraform.root.moved, "moved").map(
      (block) => `${String(block.from)} → ${String(block.to)}`,
    );
    for (const [name, { file, old }] of Object.entries(CALLS)) {
      for (const [type, local] of [
        ["aws_scheduler_schedule", old],
        ["aws_iam_role", `${old}_schedule`],
        ["aws_iam_role_policy", `${old}_schedule`],
      ] as const) {
        expect(moved, `${file} ${type}`).toContain(`\${${type}.${local}} → \${module.${name}.${type}.this}`);
      }
      // And no copy of them is left in the file.
      expect(readFileSync(join(INFRA_DIRECTORY, file), "utf8")).not.toMatch(
        /resource "aws_(scheduler_schedule|iam_role)/,
      );
    }
  });
});
