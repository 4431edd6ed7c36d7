// The ledger is append-only on AWS as far as AWS can enforce it (infra/ledger-policy.tf): the table's
// resource policy denies every item write to every principal but the command role, every rewrite to everyone,
// and a Put outside a transaction; the stream carries old images (the same view type as tables.ts), and a
// MODIFY or REMOVE the projector logs is counted by a metric filter into an alarm. Parsed from the Terraform,
// statement by statement, so that dropping an action, a condition or the exception fails here.

import { beforeAll, describe, expect, it } from "vitest";
import { LEDGER } from "../../../services/ledger/storage/tables";
import { LEDGER_REWRITE_MESSAGE } from "../../../services/projector/rewrite";
import { asString, single, type IamStatement, type Terraform, loadTerraform } from "../../support/terraform";

const LEDGER_ARN = "${aws_dynamodb_table.ledger.arn}";
const COMMAND_ROLE = '${aws_iam_role.lambda["command"].arn}';
const DEPLOY_ROLE = "${aws_iam_role.github_deploy.arn}";
const EVERYONE = [{ type: "*", identifiers: ["*"] }];

/** Every action that writes an item of a table: the item APIs, the batch, and PartiQL's writes. */
const ITEM_WRITES = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:PartiQLInsert",
  "dynamodb:PartiQLUpdate",
  "dynamodb:PartiQLDelete",
];
/** What the command role never needs: everything but PutItem. */
const REWRITES = ITEM_WRITES.filter((action) => action !== "dynamodb:PutItem");

let terraform: Terraform;
let statements: IamStatement[];
beforeAll(async () => {
  terraform = await loadTerraform();
  statements = terraform.policyStatements("ledger_append_only");
});

function statement(sid: string): IamStatement {
  const found = statements.filter((candidate) => candidate.sid === sid);
  expect(found, sid).toHaveLength(1);
  return found[0]!;
}

/** A deny with no condition that applies to everyone on the ledger table. */
function expectUnconditionalDenyOfEveryone(denial: IamStatement): void {
  expect(denial.effect).toBe("Deny");
  expect(denial.principals).toEqual(EVERYONE);
  expect(denial.resources).toEqual([LEDGER_ARN]);
}

describe("the ledger's resource policy (infra/ledger-policy.tf)", () => {
  it("is attached to the ledger table, and made of the append-only document", () => {
    const policy = terraform.resource("aws_dynamodb_resource_policy", "ledger");
    expect(policy.resource_arn).toBe(LEDGER_ARN);
    expect(policy.policy).toBe("${data.aws_iam_policy_document.ledger_append_only.json}");
    // Not set: DynamoDB's own guard against a policy that removes the caller's rights to it stays on.
    expect(policy.confirm_remove_self_resource_access).toBeUndefined();
  });

  it("denies every item write to every principal but the command Lambda's role", () => {
    const denial = statement("OnlyTheCommandRoleWrites");
    expectUnconditionalDenyOfEveryone(denial);
    expect([...denial.actions].sort()).toEqual([...ITEM_WRITES].sort());
    // aws:PrincipalArn is the role's ARN for its sessions; the exception is that one role and nothing else.
    expect(denial.conditions).toEqual([
      { test: "ArnNotEquals", variable: "aws:PrincipalArn", values: [COMMAND_ROLE] },
    ]);
  });

  it("denies update, delete, batch write and PartiQL writes to everyone, the command role included", () => {
    const denial = statement("NoEventIsRewritten");
    expectUnconditionalDenyOfEveryone(denial);
    expect(denial.conditions).toEqual([]);
    expect([...denial.actions].sort()).toEqual([...REWRITES].sort());
  });

  it("denies a PutItem outside TransactWriteItems to everyone (dynamodb:EnclosingOperation)", () => {
    const denial = statement("AppendOnlyInATransaction");
    expectUnconditionalDenyOfEveryone(denial);
    expect(denial.actions).toEqual(["dynamodb:PutItem"]);
    // Negated: true for a plain PutItem, which carries no enclosing operation at all.
    expect(denial.conditions).toEqual([
      { test: "StringNotEquals", variable: "dynamodb:EnclosingOperation", values: ["TransactWriteItems"] },
    ]);
  });

  it("leaves the command role exactly what it does: PutItem on the ledger inside a transaction", () => {
    // Its identity policy allows that and only that on the ledger (iam-lambda.tf); nothing here may deny it.
    const commandGrants = terraform
      .policyStatements("command")
      .filter((grant) => grant.effect === "Allow" && grant.resources.includes(LEDGER_ARN));
    const writes = commandGrants.filter((grant) =>
      grant.actions.some((action) => ITEM_WRITES.includes(action)),
    );
    expect(writes.map((grant) => grant.actions)).toEqual([["dynamodb:PutItem"]]);
    expect(writes[0]?.conditions).toEqual([
      { test: "StringEquals", variable: "dynamodb:EnclosingOperation", values: ["TransactWriteItems"] },
    ]);
    const deniesPutInTransaction = statements.filter(
      (denial) =>
        denial.actions.includes("dynamodb:PutItem") &&
        !denial.conditions.some(
          (condition) =>
            (condition.test === "ArnNotEquals" && condition.values.includes(COMMAND_ROLE)) ||
            (condition.test === "StringNotEquals" && condition.values.includes("TransactWriteItems")),
        ),
    );
    expect(deniesPutInTransaction).toEqual([]);
  });

  it("denies time to live on the ledger to everyone: TTL would delete events by a numeric attribute", () => {
    const denial = statement("NoEventExpires");
    expectUnconditionalDenyOfEveryone(denial);
    expect(denial.conditions).toEqual([]);
    expect(denial.actions).toEqual(["dynamodb:UpdateTimeToLive"]);
  });

  it("lets no one but an administrator change it, and locks nobody out of managing the table", () => {
    const denial = statement("DeployRoleCannotLiftThis");
    expect(denial.effect).toBe("Deny");
    expect([...denial.actions].sort()).toEqual([
      "dynamodb:DeleteResourcePolicy",
      "dynamodb:PutResourcePolicy",
    ]);
    expect(denial.conditions).toEqual([
      { test: "ArnEquals", variable: "aws:PrincipalArn", values: [DEPLOY_ROLE] },
    ]);
    // Lock-out: nothing else of the control plane is denied to anyone, so Terraform still manages the table.
    const denied = new Set(statements.flatMap((candidate) => candidate.actions));
    expect([...denied].sort()).toEqual(
      [
        ...ITEM_WRITES,
        "dynamodb:UpdateTimeToLive",
        "dynamodb:PutResourcePolicy",
        "dynamodb:DeleteResourcePolicy",
      ].sort(),
    );
    expect(statements.every((candidate) => candidate.effect === "Deny")).toBe(true);
    // The deploy role reads the policy (plan) and is granted nothing that writes it.
    const deployGrants = terraform
      .policyDocumentNames()
      .filter((name) => name.startsWith("deploy_"))
      .flatMap((name) => terraform.policyStatements(name))
      .filter((grant) => grant.effect === "Allow")
      .flatMap((grant) =>
        grant.actions
          .filter((action) => action.includes("ResourcePolicy") && action.startsWith("dynamodb:"))
          .map((action) => `${action} ${grant.resources.join(",")}`),
      );
    expect(deployGrants).toEqual([`dynamodb:GetResourcePolicy ${LEDGER_ARN}`]);
  });

  it("no Terraform resource writes an item of the ledger (the initial aggregate goes to counters)", () => {
    const items = Object.values(terraform.resourcesOfType("aws_dynamodb_table_item"));
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(item.table_name).not.toContain("aws_dynamodb_table.ledger");
  });
});

describe("the ledger stream keeps old images, and a rewrite alarms", () => {
  it("the stream view type is NEW_AND_OLD_IMAGES, in tables.ts and in the Terraform alike", () => {
    expect(LEDGER.streamViewType).toBe("NEW_AND_OLD_IMAGES");
    const table = terraform.resource("aws_dynamodb_table", "ledger");
    expect(table.stream_enabled).toBe(true);
    expect(table.stream_view_type).toBe(LEDGER.streamViewType);
  });

  it("a metric filter on the projector's log group counts the projector's rewrite line", () => {
    const filter = terraform.resource("aws_cloudwatch_log_metric_filter", "ledger_rewritten");
    expect(filter.log_group_name).toBe('${aws_cloudwatch_log_group.lambda["projector"].name}');
    // A quoted term: the exact phrase, anywhere in the line (the Lambda Text format prefixes the JSON).
    expect(filter.pattern).toBe(`"${LEDGER_REWRITE_MESSAGE}"`);
    expect(LEDGER_REWRITE_MESSAGE).toMatch(/^[a-z ]+$/);
    const transformation = single(filter.metric_transformation, "metric_transformation");
    expect(transformation.value).toBe("1");

    const alarm = terraform.resource("aws_cloudwatch_metric_alarm", "ledger_rewritten");
    expect(alarm.namespace).toBe(transformation.namespace);
    expect(alarm.metric_name).toBe(transformation.name);
    expect(alarm.statistic).toBe("Sum");
    // The first rewritten event alarms.
    expect(alarm.threshold).toBe(1);
    expect(alarm.comparison_operator).toBe("GreaterThanOrEqualToThreshold");
    expect(alarm.evaluation_periods).toBe(1);
    expect(alarm.alarm_actions).toBe("${local.alarm_actions}");
    expect(asString(alarm.alarm_description, "alarm_description")).toContain("docs/runbook.md#");
  });
});
