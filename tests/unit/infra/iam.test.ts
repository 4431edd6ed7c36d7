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
const LEDGER_INDEX = "${aws_dynamodb_table.ledger.arn}/index/byVersion";
const LEDGER_STREAM = "${aws_dynamodb_table.ledger.stream_arn}";
const FAILURE_QUEUE = "${aws_sqs_queue.projector_failures.arn}";
const TRANSACTION_ONLY = {
  test: "StringEquals",
  variable: "dynamodb:EnclosingOperation",
  values: ["TransactWriteItems"],
};

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
]);

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

function allStatements(): IamStatement[] {
  return terraform.policyDocumentNames().flatMap((name) => terraform.policyStatements(name));
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
    const policyBearers = [
      ...Object.values(terraform.resourcesOfType("aws_iam_role_policy")),
      ...Object.values(terraform.resourcesOfType("aws_iam_policy")),
    ];
    expect(policyBearers.length).toBeGreaterThanOrEqual(3);
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

  it("the Lambda policies name no `*` resource at all, and each writes only its own log group", () => {
    for (const name of ["command", "query", "projector", "identity", "digest"]) {
      for (const grant of grantsOf(name)) expect(grant.resource, `${name} ${grant.action}`).not.toBe("*");
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
  it("command: GetItem on counters and ledger, PutItem on the ledger and UpdateItem on counters, and nothing else", () => {
    expect(dynamoDbGrants("command")).toEqual(
      [
        `dynamodb:GetItem ${COUNTERS}`,
        `dynamodb:GetItem ${LEDGER}`,
        `dynamodb:PutItem ${LEDGER}`,
        `dynamodb:UpdateItem ${COUNTERS}`,
      ].sort(),
    );
  });

  it("command: its writes are allowed only inside TransactWriteItems (dynamodb:EnclosingOperation)", () => {
    const writes = grantsOf("command").filter(
      (grant) => grant.action === "dynamodb:PutItem" || grant.action === "dynamodb:UpdateItem",
    );
    expect(writes).toHaveLength(2);
    for (const write of writes) expect(write.conditions, write.action).toEqual([TRANSACTION_ONLY]);
    // Reads need no transaction; they must not be conditioned by mistake either.
    for (const read of grantsOf("command").filter((grant) => grant.action === "dynamodb:GetItem")) {
      expect(read.conditions).toEqual([]);
    }
  });

  it("query: reads what it serves (the byVersion index included), writes only verify's checkpoint and lease and the kept Merkle subtrees in the read model, signs digests", () => {
    const grants = dynamoDbGrants("query");
    const writes = grants.filter((grant) => !/^dynamodb:(GetItem|BatchGetItem|Query) /.test(grant));
    expect(writes).toEqual([`dynamodb:PutItem ${READ_MODEL}`, `dynamodb:UpdateItem ${READ_MODEL}`]);
    // The Merkle tree's kept subtrees (services/ledger/storage/merkle.ts): their own partitions, nothing else.
    const merkle = grantsOf("query").filter((grant) =>
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
    // Besides its reads, only signing digests with the one key (GET /number/digest; tests/unit/infra/digest.test.ts).
    const others = grantsOf("query").filter(
      (grant) => !grant.action.startsWith("logs:") && !grant.action.startsWith("dynamodb:"),
    );
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
  it("trusts only GitHub's OIDC tokens for STS from this repository's main branch, by exact match", () => {
    const [trust, ...others] = terraform.policyStatements("github_assume_role");
    expect(others).toEqual([]);
    expect(trust?.effect).toBe("Allow");
    expect(trust?.actions).toEqual(["sts:AssumeRoleWithWebIdentity"]);
    expect(trust?.conditions).toEqual(
      expect.arrayContaining([
        {
          test: "StringEquals",
          variable: "token.actions.githubusercontent.com:aud",
          values: ["sts.amazonaws.com"],
        },
        {
          test: "StringEquals",
          variable: "token.actions.githubusercontent.com:sub",
          values: ["repo:${var.github_repository}:ref:refs/heads/main"],
        },
      ]),
    );
    expect(trust?.conditions).toHaveLength(2);
    expect(trust?.principals).toEqual([
      { type: "Federated", identifiers: ["${local.github_oidc_provider_arn}"] },
    ]);
    expect(terraform.resource("aws_iam_role", "github_deploy").assume_role_policy).toBe(
      "${data.aws_iam_policy_document.github_assume_role.json}",
    );
    const provider = terraform.resource("aws_iam_openid_connect_provider", "github");
    expect(provider.url).toBe("https://token.actions.githubusercontent.com");
    expect(provider.client_id_list).toEqual(["sts.amazonaws.com"]);
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
