// Least privilege in infra/, statement by statement: what each Lambda role may do to which table, the
// transaction-only writes of the command, the append-only ledger for every role, no wildcard action, no `*`
// resource where a name fits, the GitHub trust condition and the deploy role's scope.
// docs/decisions.md#three-tables-and-iam-written-as-it-really-works is the source of these rules.

import { beforeAll, describe, expect, it } from "vitest";
import {
  asString,
  expressionOf,
  loadTerraform,
  type IamStatement,
  type Terraform,
} from "../../support/terraform";

const LEDGER = "${aws_dynamodb_table.ledger.arn}";
const COUNTERS = "${aws_dynamodb_table.counters.arn}";
const READ_MODEL = "${aws_dynamodb_table.read_model.arn}";
const QUOTAS = "${aws_dynamodb_table.quotas.arn}";
const LEDGER_INDEX = "${aws_dynamodb_table.ledger.arn}/index/byVersion";
const LEDGER_STREAM = "${aws_dynamodb_table.ledger.stream_arn}";
const FAILURE_QUEUE = "${aws_sqs_queue.projector_failures.arn}";
const TRANSACTION_ONLY = {
  test: "StringEquals",
  variable: "dynamodb:EnclosingOperation",
  values: ["TransactWriteItems"],
};

/** What an actively traced function's role needs, and may have on `*` only (AWSXRayDaemonWriteAccess's writes). */
const X_RAY_WRITE_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

/**
 * Actions that IAM cannot scope to a resource, so `Resource: "*"` is the only way to grant them. Each must be
 * justified where it is granted (github-deploy.tf); anything else on `*` fails the test.
 */
const ACTIONS_WITHOUT_RESOURCE = new Set([
  "lambda:CreateEventSourceMapping",
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  // Creating a user pool acts on the account (no pool exists yet); describing a domain names the domain.
  "cognito-idp:CreateUserPool",
  "cognito-idp:DescribeUserPoolDomain",
  // Creating a key names no key yet (it is conditioned on the Project tag); listing aliases names none.
  "kms:CreateKey",
  "kms:ListAliases",
  // X-Ray takes segments for the account: a traced function (lambda.tf, tracing_config Active) sends them.
  ...X_RAY_WRITE_ACTIONS,
]);

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

/** infra/ and the local modules it calls (tests/support/terraform.ts follows them). */
function configurations(): Terraform[] {
  return [terraform, ...terraform.moduleNames().map((name) => terraform.module(name))];
}

function allStatements(): IamStatement[] {
  return configurations().flatMap((configuration) =>
    configuration.policyDocumentNames().flatMap((name) => configuration.policyStatements(name)),
  );
}

interface Grant {
  readonly action: string;
  readonly resource: string;
  readonly conditions: IamStatement["conditions"];
}

/** Every (action, resource) an Allow statement of the document grants, with its conditions. */
function grantsOf(documentName: string): Grant[] {
  return terraform
    .policyStatements(documentName)
    .filter((statement) => statement.effect === "Allow")
    .flatMap((statement) =>
      statement.actions.flatMap((action) =>
        statement.resources.map((resource) => ({ action, resource, conditions: statement.conditions })),
      ),
    );
}

function dynamoDbGrants(documentName: string): string[] {
  return grantsOf(documentName)
    .filter((grant) => grant.action.startsWith("dynamodb:"))
    .map((grant) => `${grant.action} ${grant.resource}`)
    .sort();
}

function expectLedgerDeny(documentName: string): void {
  const denies = terraform
    .policyStatements(documentName)
    .filter((statement) => statement.effect === "Deny" && statement.resources.includes(LEDGER));
  const deniedActions = new Set(denies.flatMap((statement) => statement.actions));
  expect(deniedActions, documentName).toContain("dynamodb:UpdateItem");
  expect(deniedActions, documentName).toContain("dynamodb:DeleteItem");
  // Unconditional: a condition could switch the deny off.
  for (const deny of denies) expect(deny.conditions, `${documentName} ${deny.sid}`).toEqual([]);
}

describe("IAM, everywhere (infra/*.tf)", () => {
  it("every role policy and managed policy is an aws_iam_policy_document, so these tests see all of them", () => {
    const policyBearers = configurations().flatMap((configuration) => [
      ...Object.values(configuration.resourcesOfType("aws_iam_role_policy")),
      ...Object.values(configuration.resourcesOfType("aws_iam_policy")),
    ]);
    expect(policyBearers.length).toBeGreaterThanOrEqual(3);
    // The schedules' role policies (infra/modules/scheduled_invoke) are among them.
    expect(terraform.moduleNames().length).toBeGreaterThanOrEqual(2);
    const locals = terraform.locals();
    for (const bearer of policyBearers) {
      let expression = expressionOf(bearer.policy, "policy");
      // `each.value` of a for_each over a local map of documents: check each entry of that map.
      if (expression === "each.value") {
        const map = /^local\.(\w+)$/.exec(expressionOf(bearer.for_each, "for_each"))?.[1];
        expect(map, "for_each of a policy must be a local map of policy documents").toBeDefined();
        for (const entry of Object.values(locals[map!] as Record<string, unknown>)) {
          expect(expressionOf(entry, "policy entry")).toMatch(/^data\.aws_iam_policy_document\.\w+\.json$/);
        }
        continue;
      }
      expression = expression.trim();
      expect(expression).toMatch(/^data\.aws_iam_policy_document\.\w+\.json$/);
    }
  });

  it("no Allow statement grants a wildcard action (no `*`, no `service:*`, no `Get*`)", () => {
    const allows = allStatements().filter((statement) => statement.effect === "Allow");
    expect(allows.length).toBeGreaterThan(20);
    const wildcards = allows.flatMap((statement) =>
      statement.actions
        .filter((action) => action.includes("*"))
        .map((action) => `${statement.sid}: ${action}`),
    );
    expect(wildcards).toEqual([]);
  });

  it("no statement names the `*` resource, except for the actions IAM cannot scope to a resource", () => {
    const offenders = allStatements()
      .filter((statement) => statement.resources.includes("*"))
      .flatMap((statement) =>
        statement.actions
          .filter((action) => !ACTIONS_WITHOUT_RESOURCE.has(action))
          .map((action) => `${statement.document}/${statement.sid}: ${action}`),
      );
    expect(offenders).toEqual([]);
  });

  it("the Lambda policies name no `*` resource but for X-Ray's writes, and each writes only its own log group", () => {
    for (const name of ["command", "query", "audit", "projector", "identity", "digest"]) {
      const traces = grantsOf(name).filter((grant) => grant.action.startsWith("xray:"));
      expect(traces.map((grant) => `${grant.action} ${grant.resource}`).sort(), name).toEqual(
        X_RAY_WRITE_ACTIONS.map((action) => `${action} *`).sort(),
      );
      for (const grant of grantsOf(name).filter((grant) => !grant.action.startsWith("xray:"))) {
        expect(grant.resource, `${name} ${grant.action}`).not.toBe("*");
      }
      const logGrants = grantsOf(name).filter((grant) => grant.action.startsWith("logs:"));
      expect(logGrants.map((grant) => grant.action).sort()).toEqual([
        "logs:CreateLogStream",
        "logs:PutLogEvents",
      ]);
      for (const grant of logGrants) {
        expect(grant.resource).toBe(`\${aws_cloudwatch_log_group.lambda["${name}"].arn}:*`);
      }
    }
  });

  it("every role's policy denies UpdateItem and DeleteItem on the ledger, unconditionally", () => {
    for (const name of [
      "command",
      "query",
      "audit",
      "projector",
      "identity",
      "digest",
      "lambda_boundary",
      "deploy_delivery",
    ]) {
      expectLedgerDeny(name);
    }
  });

  it("one role per Lambda, each with its own policy and under the project's permissions boundary", () => {
    const role = terraform.resource("aws_iam_role", "lambda");
    expect(role.for_each).toBe("${local.lambda_policies}");
    expect(role.permissions_boundary).toBe("${aws_iam_policy.lambda_boundary.arn}");
    expect(Object.keys(terraform.local("lambda_policies") as object).sort()).toEqual([
      "audit",
      "command",
      "digest",
      "identity",
      "projector",
      "query",
    ]);
    const rolePolicy = terraform.resource("aws_iam_role_policy", "lambda");
    expect(rolePolicy.role).toBe("${aws_iam_role.lambda[each.key].id}");
    const lambda = terraform.resource("aws_lambda_function", "service");
    expect(lambda.role).toBe("${aws_iam_role.lambda[each.key].arn}");
  });
});

describe("IAM, per Lambda (infra/iam-lambda.tf)", () => {
  it("command: GetItem on counters and ledger, PutItem on the ledger, UpdateItem on counters and quotas, and nothing else", () => {
    expect(dynamoDbGrants("command")).toEqual(
      [
        `dynamodb:GetItem ${COUNTERS}`,
        `dynamodb:GetItem ${LEDGER}`,
        `dynamodb:PutItem ${LEDGER}`,
        `dynamodb:UpdateItem ${COUNTERS}`,
        `dynamodb:UpdateItem ${QUOTAS}`,
      ].sort(),
    );
  });

  it("command: its writes are allowed only inside TransactWriteItems (dynamodb:EnclosingOperation)", () => {
    const writes = grantsOf("command").filter(
      (grant) => grant.action === "dynamodb:PutItem" || grant.action === "dynamodb:UpdateItem",
    );
    expect(writes).toHaveLength(3);
    for (const write of writes) expect(write.conditions, write.action).toEqual([TRANSACTION_ONLY]);
    // Reads need no transaction; they must not be conditioned by mistake either.
    for (const read of grantsOf("command").filter((grant) => grant.action === "dynamodb:GetItem")) {
      expect(read.conditions).toEqual([]);
    }
  });

  it("query: reads the aggregate, one ledger event and the history, and writes nothing at all", () => {
    expect(dynamoDbGrants("query")).toEqual(
      [
        `dynamodb:GetItem ${COUNTERS}`,
        `dynamodb:GetItem ${LEDGER}`,
        `dynamodb:GetItem ${READ_MODEL}`,
        `dynamodb:Query ${READ_MODEL}`,
      ].sort(),
    );
    // No write of any table, the read model included: verify's checkpoint and lease and the Merkle subtrees
    // are written by the audit Lambda alone; and no replay's read of the ledger in version order.
    const writes = grantsOf("query").filter((grant) =>
      [...ITEM_WRITES, "dynamodb:BatchGetItem"].includes(grant.action),
    );
    expect(writes).toEqual([]);
    expect(grantsOf("query").map((grant) => grant.resource)).not.toContain(LEDGER_INDEX);
    // Besides its reads, only the digest key's public half (GET /number/digest/keys).
    const others = grantsOf("query").filter((grant) => !/^(logs|dynamodb|xray):/.test(grant.action));
    expect(others.map((grant) => `${grant.action} ${grant.resource}`)).toEqual([
      "kms:GetPublicKey ${aws_kms_key.digest.arn}",
    ]);
  });

  it("audit: reads what it checks (the byVersion index included), writes only verify's checkpoint and lease and the kept Merkle subtrees in the read model, signs digests", () => {
    const grants = dynamoDbGrants("audit");
    const writes = grants.filter((grant) => !/^dynamodb:(GetItem|BatchGetItem|Query) /.test(grant));
    expect(writes).toEqual([`dynamodb:PutItem ${READ_MODEL}`, `dynamodb:UpdateItem ${READ_MODEL}`]);
    // The Merkle tree's kept subtrees (services/ledger/storage/merkle.ts): their own partitions, nothing else.
    const merkle = grantsOf("audit").filter((grant) =>
      ["dynamodb:PutItem", "dynamodb:BatchGetItem"].includes(grant.action),
    );
    expect(merkle.map((grant) => grant.action).sort()).toEqual(["dynamodb:BatchGetItem", "dynamodb:PutItem"]);
    for (const grant of merkle) {
      expect(grant.resource).toBe(READ_MODEL);
      expect(grant.conditions).toEqual([
        { test: "ForAllValues:StringLike", variable: "dynamodb:LeadingKeys", values: ["*#merkle"] },
      ]);
    }
    expect(grants).toEqual(
      expect.arrayContaining([
        `dynamodb:GetItem ${COUNTERS}`,
        `dynamodb:GetItem ${LEDGER}`,
        `dynamodb:Query ${LEDGER_INDEX}`,
        `dynamodb:Query ${READ_MODEL}`,
      ]),
    );
    // Never a write of the ledger or the aggregate.
    for (const grant of grantsOf("audit").filter((grant) => ITEM_WRITES.includes(grant.action))) {
      expect(grant.resource, grant.action).toBe(READ_MODEL);
    }
    const others = grantsOf("audit").filter((grant) => !/^(logs|dynamodb|xray):/.test(grant.action));
    expect(others.map((grant) => `${grant.action} ${grant.resource}`).sort()).toEqual([
      "kms:GetPublicKey ${aws_kms_key.digest.arn}",
      "kms:Sign ${aws_kms_key.digest.arn}",
    ]);
  });

  it("projector: reads the ledger stream, writes the read model only, sends failures to its queue", () => {
    const grants = grantsOf("projector");
    const streamReads = grants
      .filter((grant) =>
        ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"].includes(
          grant.action,
        ),
      )
      .map((grant) => grant.resource);
    expect(streamReads).toEqual([LEDGER_STREAM, LEDGER_STREAM, LEDGER_STREAM]);
    const tableActions = grants.filter(
      (grant) =>
        grant.action.startsWith("dynamodb:") &&
        ![
          "dynamodb:DescribeStream",
          "dynamodb:GetRecords",
          "dynamodb:GetShardIterator",
          "dynamodb:ListStreams",
        ].includes(grant.action),
    );
    expect(tableActions.length).toBeGreaterThan(0);
    for (const grant of tableActions) expect(grant.resource, grant.action).toBe(READ_MODEL);
    expect(tableActions.map((grant) => grant.action)).toEqual(
      expect.arrayContaining(["dynamodb:PutItem", "dynamodb:UpdateItem"]),
    );
    const sqs = grants.filter((grant) => grant.action.startsWith("sqs:"));
    expect(sqs).toEqual([{ action: "sqs:SendMessage", resource: FAILURE_QUEUE, conditions: [] }]);
    const ledgerStreams = grants.find((grant) => grant.action === "dynamodb:ListStreams");
    expect(ledgerStreams?.resource).toBe(`${LEDGER}/stream/*`);
  });
});

describe("the GitHub deploy role (infra/github-deploy.tf)", () => {
  function expectTrust(documentName: string, sub: string): void {
    const [trust, ...others] = terraform.policyStatements(documentName);
    expect(others, documentName).toEqual([]);
    expect(trust?.effect).toBe("Allow");
    expect(trust?.actions).toEqual(["sts:AssumeRoleWithWebIdentity"]);
    // Exactly these two conditions, each an exact match (StringEquals, one value): no wildcard, no other sub.
    expect(trust?.conditions).toEqual([
      {
        test: "StringEquals",
        variable: "token.actions.githubusercontent.com:aud",
        values: ["sts.amazonaws.com"],
      },
      { test: "StringEquals", variable: "token.actions.githubusercontent.com:sub", values: [sub] },
    ]);
    expect(trust?.principals).toEqual([
      { type: "Federated", identifiers: ["${local.github_oidc_provider_arn}"] },
    ]);
  }

  it("plan: trusts only GitHub's OIDC tokens for STS from this repository's main branch, by exact match", () => {
    expectTrust("github_plan_trust", "repo:${var.github_repository}:ref:refs/heads/main");
    expect(terraform.resource("aws_iam_role", "github_plan").assume_role_policy).toBe(
      "${data.aws_iam_policy_document.github_plan_trust.json}",
    );
    const provider = terraform.resource("aws_iam_openid_connect_provider", "github");
    expect(provider.url).toBe("https://token.actions.githubusercontent.com");
    expect(provider.client_id_list).toEqual(["sts.amazonaws.com"]);
  });

  it("apply: trusts only jobs in this repository's deployment environment, by exact match", () => {
    expectTrust("github_deploy_trust", "repo:${var.github_repository}:environment:${var.github_environment}");
    expect(terraform.resource("aws_iam_role", "github_deploy").assume_role_policy).toBe(
      "${data.aws_iam_policy_document.github_deploy_trust.json}",
    );
    expect(terraform.variable("github_environment").default).toBe("production");
    // Two roles, two trusts: nothing else in infra/ trusts GitHub.
    const trusts = terraform
      .policyDocumentNames()
      .filter((name) =>
        terraform
          .policyStatements(name)
          .some((statement) => statement.actions.includes("sts:AssumeRoleWithWebIdentity")),
      );
    expect(trusts.sort()).toEqual(["github_deploy_trust", "github_plan_trust"]);
  });

  it("the plan role holds only the plan's policies, the deploy role only the deploy policies", () => {
    const plan = terraform.resource("aws_iam_role_policy_attachment", "plan");
    expect(plan.role).toBe("${aws_iam_role.github_plan.name}");
    expect(Object.values(terraform.local("plan_policies") as object).sort()).toEqual([
      "${data.aws_iam_policy_document.plan_read.json}",
      "${data.aws_iam_policy_document.plan_state.json}",
    ]);
    const deploy = terraform.resource("aws_iam_role_policy_attachment", "deploy");
    expect(deploy.role).toBe("${aws_iam_role.github_deploy.name}");
    for (const entry of Object.values(terraform.local("deploy_policies") as object)) {
      expect(entry).toMatch(/^\$\{data\.aws_iam_policy_document\.deploy_\w+\.json\}$/);
    }
  });

  it("delivery: the one state object and lock table, upload to the one web bucket, invalidation of the one distribution", () => {
    const grants = grantsOf("deploy_delivery");
    const on = (action: string) =>
      grants
        .filter((grant) => grant.action === action)
        .map((grant) => grant.resource)
        .sort();
    expect(on("s3:PutObject")).toEqual(
      [
        "${aws_s3_bucket.web.arn}/*",
        "arn:${local.partition}:s3:::${var.state_bucket}/${var.state_key}",
      ].sort(),
    );
    expect(on("s3:DeleteObject")).toEqual(["${aws_s3_bucket.web.arn}/*"]);
    expect(on("cloudfront:CreateInvalidation")).toEqual(["${aws_cloudfront_distribution.web.arn}"]);
    expect(on("dynamodb:PutItem")).toEqual([
      "arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.state_lock_table}",
    ]);
  });

  it("may create and change Lambda roles only under the permissions boundary, and never its own role", () => {
    const infrastructure = terraform.policyStatements("deploy_infrastructure");
    const iamWrites = infrastructure.filter(
      (statement) =>
        statement.effect === "Allow" &&
        statement.actions.some((action) =>
          /^iam:(Create|Put|Delete|Update|Attach|Detach|Tag|Untag|Pass)/.test(action),
        ),
    );
    expect(iamWrites.length).toBeGreaterThan(0);
    for (const statement of iamWrites) {
      expect(statement.resources, statement.sid).toEqual([
        "${local.arn_prefix.iam}:role/${var.project}-lambda-*",
      ]);
    }
    const creates = iamWrites.filter((statement) =>
      statement.actions.some((action) => ["iam:CreateRole", "iam:PutRolePolicy"].includes(action)),
    );
    for (const statement of creates) {
      expect(statement.conditions, statement.sid).toEqual([
        {
          test: "StringEquals",
          variable: "iam:PermissionsBoundary",
          values: ["${aws_iam_policy.lambda_boundary.arn}"],
        },
      ]);
    }
    // The deploy role's own name must fall outside what it may write.
    const deployRoleName = asString(
      terraform.resource("aws_iam_role", "github_deploy").name,
      "deploy role name",
    );
    expect(deployRoleName.startsWith("${var.project}-lambda-")).toBe(false);
    const lambdaRoleName = asString(terraform.resource("aws_iam_role", "lambda").name, "lambda role name");
    expect(lambdaRoleName).toBe("${var.project}-lambda-${each.key}");
  });

  it("cannot delete a table or any item of the project's tables", () => {
    const deletes = terraform
      .policyDocumentNames()
      .filter((name) => name.startsWith("deploy_"))
      .flatMap((name) => grantsOf(name))
      .filter((grant) => ["dynamodb:DeleteTable", "dynamodb:DeleteItem"].includes(grant.action))
      .map((grant) => grant.resource);
    // Only the Terraform lock table's lock items.
    expect(deletes).toEqual([
      "arn:${local.partition}:dynamodb:*:${local.account_id}:table/${var.state_lock_table}",
    ]);
  });

  it("changes or deletes a CloudFront distribution only when it carries the project tag", () => {
    const changes = terraform
      .policyStatements("deploy_edge")
      .filter((statement) =>
        statement.actions.some((action) =>
          ["cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution"].includes(action),
        ),
      );
    expect(changes).toHaveLength(1);
    expect(changes[0]?.conditions).toEqual([
      { test: "StringEquals", variable: "aws:ResourceTag/Project", values: ["${var.project}"] },
    ]);
    expect(terraform.local("tags")).toEqual({ Project: "${var.project}" });
  });
});

/** Every action that writes an item of a table: the item APIs, the batch, transactions, PartiQL's writes. */
const ITEM_WRITES = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:TransactWriteItems",
  "dynamodb:PartiQLInsert",
  "dynamodb:PartiQLUpdate",
  "dynamodb:PartiQLDelete",
];
const PROJECT_TABLES = "${local.arn_prefix.dynamodb}:table/${var.project}-*";

function pipelineDocuments(): string[] {
  return terraform
    .policyDocumentNames()
    .filter((name) => name.startsWith("deploy_") || name.startsWith("plan_"));
}

function isReadAction(action: string): boolean {
  return /^[a-z0-9-]+:(Get|Describe|List)[A-Za-z]*$/.test(action) || action === "apigateway:GET";
}

describe("the pipeline's roles, rule by rule (infra/github-deploy.tf, guardrails.tf)", () => {
  it("neither role can write an item of the ledger or the aggregate: an unconditional deny of every item write", () => {
    for (const documentName of ["deploy_delivery", "plan_state"]) {
      const denies = terraform
        .policyStatements(documentName)
        .filter((statement) => statement.effect === "Deny" && statement.resources.includes(LEDGER));
      expect(denies, documentName).toHaveLength(1);
      expect([...denies[0]!.actions].sort(), documentName).toEqual([...ITEM_WRITES].sort());
      expect([...denies[0]!.resources].sort(), documentName).toEqual([COUNTERS, LEDGER].sort());
      expect(denies[0]!.conditions, documentName).toEqual([]);
    }
    // Each role carries the deny: the deploy role through deploy_delivery, the plan role through plan_state.
    expect(terraform.local("deploy_policies")).toHaveProperty("delivery");
    expect(terraform.local("plan_policies")).toHaveProperty("state");
    // And no Allow of theirs names an item write on those tables in the first place.
    const allowed = pipelineDocuments()
      .flatMap((name) => grantsOf(name))
      .filter((grant) => ITEM_WRITES.includes(grant.action))
      .filter((grant) => grant.resource.includes("ledger") || grant.resource.includes("counters"));
    expect(allowed).toEqual([]);
  });

  it("the deploy role still manages the tables: create, update, tag; never delete, never change point-in-time recovery", () => {
    const tables = terraform.policyStatements("deploy_infrastructure").find((s) => s.sid === "Tables");
    expect(tables?.resources).toEqual([PROJECT_TABLES]);
    expect(tables?.actions).toEqual(
      expect.arrayContaining([
        "dynamodb:CreateTable",
        "dynamodb:UpdateTable",
        "dynamodb:TagResource",
        "dynamodb:UntagResource",
      ]),
    );
    const granted = pipelineDocuments()
      .flatMap((name) => grantsOf(name))
      .map((grant) => grant.action);
    for (const action of [
      "dynamodb:UpdateContinuousBackups",
      "dynamodb:DeleteTable",
      "dynamodb:DeleteBackup",
    ]) {
      expect(granted, action).not.toContain(action);
    }
    const deny = terraform
      .policyStatements("deploy_infrastructure")
      .find((s) => s.sid === "TablesStayRecoverable");
    expect(deny?.effect).toBe("Deny");
    expect(deny?.resources).toEqual([PROJECT_TABLES]);
    expect(deny?.conditions).toEqual([]);
    expect(deny?.actions).toEqual(
      expect.arrayContaining(["dynamodb:UpdateContinuousBackups", "dynamodb:DeleteTable"]),
    );
    // What IAM cannot refuse (UpdateTable turning deletion protection off) the guardrail alarms on.
    const rule = terraform.resource("aws_cloudwatch_event_rule", "table_protection_off");
    expect(rule.event_pattern).toBe("${jsonencode(local.guardrail_event_pattern)}");
  });

  it("the guardrail matches deletion protection or point-in-time recovery turned off on the project's tables", () => {
    const pattern = terraform.local("guardrail_event_pattern") as {
      source: string[];
      "detail-type": string[];
      detail: { $or: { eventName: string[]; requestParameters: Record<string, unknown> }[] };
    };
    expect(pattern.source).toEqual(["aws.dynamodb"]);
    expect(pattern["detail-type"]).toEqual(["AWS API Call via CloudTrail"]);
    const [updateTable, updateBackups, ...others] = pattern.detail.$or;
    expect(others).toEqual([]);
    expect(updateTable).toEqual({
      eventName: ["UpdateTable"],
      requestParameters: { tableName: "${local.guardrail_tables}", deletionProtectionEnabled: [false] },
    });
    expect(updateBackups).toEqual({
      eventName: ["UpdateContinuousBackups"],
      requestParameters: {
        tableName: "${local.guardrail_tables}",
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: [false] },
      },
    });
    expect(terraform.local("guardrail_tables")).toEqual([
      { prefix: "${var.project}-" },
      { prefix: "${local.arn_prefix.dynamodb}:table/${var.project}-" },
    ]);
    // The first match alarms, on the rule's own metric, to whoever the alarms notify.
    const alarm = terraform.resource("aws_cloudwatch_metric_alarm", "table_protection_off");
    expect(alarm.namespace).toBe("AWS/Events");
    expect(alarm.metric_name).toBe("TriggeredRules");
    expect(alarm.dimensions).toEqual({ RuleName: "${aws_cloudwatch_event_rule.table_protection_off.name}" });
    expect(alarm.threshold).toBe(1);
    expect(alarm.alarm_actions).toBe("${local.alarm_actions}");
    const target = terraform.resource("aws_cloudwatch_event_target", "table_protection_off");
    expect(target.arn).toBe("${aws_cloudwatch_log_group.table_protection_off.arn}");
  });

  it("the pipeline cannot change or remove the guardrail that watches it", () => {
    const deny = terraform
      .policyStatements("deploy_infrastructure")
      .find((s) => s.sid === "GuardrailIsReadOnly");
    expect(deny?.effect).toBe("Deny");
    expect(deny?.conditions).toEqual([]);
    expect(deny?.resources).toEqual(
      expect.arrayContaining([
        "${local.arn_prefix.cloudwatch}:alarm:${local.guardrail_name}",
        "${local.arn_prefix.events}:rule/${local.guardrail_name}",
      ]),
    );
    expect(deny?.actions).toEqual(
      expect.arrayContaining([
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
        "events:PutRule",
        "events:DeleteRule",
        "events:DisableRule",
        "events:RemoveTargets",
      ]),
    );
    const eventWrites = pipelineDocuments()
      .flatMap((name) => grantsOf(name))
      .filter((grant) => grant.action.startsWith("events:") && !isReadAction(grant.action));
    expect(eventWrites).toEqual([]);
    expect(terraform.local("guardrail_name")).toBe("${var.project}-guardrail-table-protection");
  });

  it("in us-east-1 the deploy role manages the edge's alarm by its name, and only reads the edge's topic and key", () => {
    const prefixes = terraform.locals().arn_prefix as Record<string, unknown>;
    for (const service of ["cloudwatch", "sns", "kms"])
      expect(prefixes[`${service}_edge`], service).toBe(
        `arn:\${local.partition}:${service}:us-east-1:\${local.account_id}`,
      );
    // The one alarm of alarms-edge.tf, by its exact name: no other alarm of us-east-1.
    expect(terraform.local("edge_alarm_arn")).toBe(
      "${local.arn_prefix.cloudwatch_edge}:alarm:${var.project}-waf-429-rate",
    );
    expect(terraform.resource("aws_cloudwatch_metric_alarm", "waf_429_rate").alarm_name).toBe(
      "${var.project}-waf-429-rate",
    );
    const onTheEdge = (resource: string) =>
      /\$\{local\.(edge_alarm_\w+|arn_prefix\.\w+_edge)\}/.test(resource);
    const grants = (prefix: string) =>
      pipelineDocuments()
        .filter((name) => name.startsWith(prefix))
        .flatMap((name) => grantsOf(name))
        .filter((grant) => onTheEdge(grant.resource));
    const tagged = [
      { test: "StringEquals", variable: "aws:ResourceTag/Project", values: ["${var.project}"] },
    ];
    const expected = [
      ...[
        "DeleteAlarms",
        "DescribeAlarms",
        "ListTagsForResource",
        "PutMetricAlarm",
        "TagResource",
        "UntagResource",
      ].map((action) => `cloudwatch:${action} \${local.edge_alarm_arn} []`),
      ...["DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags"].map(
        (action) => `kms:${action} \${local.arn_prefix.kms_edge}:key/* ${JSON.stringify(tagged)}`,
      ),
      ...[
        "GetSubscriptionAttributes",
        "GetTopicAttributes",
        "ListSubscriptionsByTopic",
        "ListTagsForResource",
      ].map((action) => `sns:${action} \${local.edge_alarm_topic_arn} []`),
    ];
    const described = (grant: Grant) =>
      `${grant.action} ${grant.resource} ${JSON.stringify(grant.conditions)}`;
    expect(grants("deploy_").map(described).sort()).toEqual(expected);
    // Plan reads the same, and writes nothing there.
    expect(grants("plan_").map(described).sort()).toEqual(
      expected.filter((grant) => isReadAction(grant.split(" ")[0] ?? "")),
    );
  });

  it("acts only on HTTP APIs that carry the Project tag: created with it, changed only with it", () => {
    const statements = pipelineDocuments()
      .flatMap((name) => terraform.policyStatements(name))
      .filter((statement) => statement.actions.some((action) => action.startsWith("apigateway:")));
    expect(statements.length).toBeGreaterThanOrEqual(3);
    for (const statement of statements) {
      expect(statement.effect, statement.sid).toBe("Allow");
      const creates = statement.resources.includes("${local.arn_prefix.apigateway}:/apis");
      if (creates) {
        // The collection: creating an API, only with the tag in the request.
        expect(statement.resources, statement.sid).toEqual(["${local.arn_prefix.apigateway}:/apis"]);
        expect(statement.actions, statement.sid).toEqual(["apigateway:POST"]);
      }
      expect(statement.conditions, statement.sid).toEqual([
        {
          test: "StringEquals",
          variable: creates ? "aws:RequestTag/Project" : "aws:ResourceTag/Project",
          values: ["${var.project}"],
        },
      ]);
      for (const resource of statement.resources) {
        expect(resource, statement.sid).toMatch(
          /^\$\{local\.arn_prefix\.apigateway\}:\/(apis|apis\/\*|tags\/\*)$/,
        );
      }
    }
    expect(terraform.locals().arn_prefix).toHaveProperty(
      "apigateway",
      "arn:${local.partition}:apigateway:${var.region}:",
    );
  });

  it("plan is read-only: every grant a Get, Describe or List, but the state lock's items", () => {
    for (const documentName of ["plan_read", "plan_state"]) {
      for (const grant of grantsOf(documentName)) {
        if (isReadAction(grant.action)) continue;
        expect(`${documentName} ${grant.action} ${grant.resource}`).toMatch(
          /^plan_state dynamodb:(PutItem|DeleteItem) arn:\$\{local\.partition\}:dynamodb:\*:\$\{local\.account_id\}:table\/\$\{var\.state_lock_table\}$/,
        );
      }
    }
    // Only the state object is read from the state bucket; nothing there is written.
    const stateGrants = grantsOf("plan_state").filter((grant) => grant.resource.includes("var.state_bucket"));
    expect(stateGrants.map((grant) => grant.action).sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
  });

  it("plan can read back everything the deploy role manages, under the same conditions", () => {
    const key = (grant: Grant) => `${grant.action} ${grant.resource} ${JSON.stringify(grant.conditions)}`;
    const planGrants = new Set([...grantsOf("plan_read"), ...grantsOf("plan_state")].map(key));
    const deployReads = terraform
      .policyDocumentNames()
      .filter((name) => name.startsWith("deploy_"))
      .flatMap((name) => grantsOf(name))
      .filter((grant) => isReadAction(grant.action))
      // Invalidations are the upload's, after apply; plan never reads one.
      .filter((grant) => grant.action !== "cloudfront:GetInvalidation");
    expect(deployReads.length).toBeGreaterThan(60);
    const missing = deployReads.filter((grant) => !planGrants.has(key(grant))).map(key);
    expect(missing).toEqual([]);
  });
});
