// Signed digests in infra/digest.tf: the Object Lock bucket (compliance mode with a retention, versioned,
// private), the KMS key (ECC_NIST_P256, SIGN_VERIFY), the schedule (its target, its rate), and least privilege:
// the digest Lambda may read the head, sign with the one key and create objects in the one bucket — nothing else.

import { beforeAll, describe, expect, it } from "vitest";
import { LAMBDA_ENTRIES } from "../../../scripts/build";
import { loadTerraform, single, type Terraform } from "../../support/terraform";

const KEY = "${aws_kms_key.digest.arn}";
const BUCKET_OBJECTS = "${aws_s3_bucket.digests.arn}/*";
/** The schedule runs the digest Lambda's `live` alias (infra/lambda.tf), which CodeDeploy moves. */
const DIGEST_LAMBDA = '${aws_lambda_alias.live["digest"].arn}';

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

describe("the digest archive (infra/digest.tf)", () => {
  it("is a bucket with Object Lock in COMPLIANCE mode and a default retention, versioned, private", () => {
    const bucket = terraform.resource("aws_s3_bucket", "digests");
    expect(bucket.object_lock_enabled).toBe(true);
    const lock = terraform.resource("aws_s3_bucket_object_lock_configuration", "digests");
    expect(lock.bucket).toBe("${aws_s3_bucket.digests.id}");
    const retention = single(single(lock.rule, "rule").default_retention, "default_retention");
    expect(retention).toEqual({ mode: "COMPLIANCE", days: "${var.digest_retention_days}" });
    expect(terraform.variable("digest_retention_days").default).toBeGreaterThanOrEqual(365);
    const versioning = terraform.resource("aws_s3_bucket_versioning", "digests");
    expect(single(versioning.versioning_configuration, "versioning_configuration").status).toBe("Enabled");
    expect(terraform.resource("aws_s3_bucket_public_access_block", "digests")).toMatchObject({
      bucket: "${aws_s3_bucket.digests.id}",
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("is signed by an asymmetric KMS key: ECC_NIST_P256 for SIGN_VERIFY (ES256), its public key an output", () => {
    const key = terraform.resource("aws_kms_key", "digest");
    expect(key.customer_master_key_spec).toBe("ECC_NIST_P256");
    expect(key.key_usage).toBe("SIGN_VERIFY");
    expect(terraform.output("digest_public_key_pem").value).toBe(
      "${data.aws_kms_public_key.digest.public_key_pem}",
    );
    expect(terraform.output("digest_key_arn").value).toBe(KEY);
    expect(terraform.output("digest_bucket").value).toBe("${aws_s3_bucket.digests.id}");
  });

  it("is written by the digest Lambda, which the schedule runs every digest_interval_minutes", () => {
    expect(LAMBDA_ENTRIES.find((entry) => entry.name === "digest")?.entryPath).toBe(
      "services/digest/handler.ts",
    );
    // The scheduled_invoke module (schedules.test.ts): its role may invoke target_arn alone.
    const call = terraform.moduleCall("digest_schedule");
    expect(call.source).toBe("./modules/scheduled_invoke");
    expect(call.schedule_expression).toBe("rate(${var.digest_interval_minutes} minutes)");
    expect(terraform.variable("digest_interval_minutes").default).toBe(5);
    expect(call.target_arn).toBe(DIGEST_LAMBDA);
    expect(call.role_name).toBe("${var.project}-lambda-digest-schedule");
    expect(call.permissions_boundary_arn).toBe("${aws_iam_policy.lambda_boundary.arn}");
    // The digest handler reads no input: the Scheduler's default event.
    expect(call.input).toBeUndefined();
    const environment = terraform.local("lambda_environment");
    expect(environment).toMatchObject({
      DIGEST_KMS_KEY_ID: KEY,
      DIGEST_BUCKET: "${aws_s3_bucket.digests.id}",
    });
  });
});

describe("least privilege of the digest (infra/digest.tf, iam-lambda.tf)", () => {
  it("the digest Lambda reads the head and the ledger's leaves, keeps Merkle subtrees, signs with the one key, creates objects only with If-None-Match", () => {
    expect(terraform.allowedGrants("digest")).toEqual(
      [
        "dynamodb:GetItem ${aws_dynamodb_table.counters.arn}",
        "dynamodb:Query ${aws_dynamodb_table.ledger.arn}/index/byVersion",
        "dynamodb:BatchGetItem ${aws_dynamodb_table.read_model.arn}",
        "dynamodb:PutItem ${aws_dynamodb_table.read_model.arn}",
        `kms:GetPublicKey ${KEY}`,
        `kms:Sign ${KEY}`,
        `s3:PutObject ${BUCKET_OBJECTS}`,
        'logs:CreateLogStream ${aws_cloudwatch_log_group.lambda["digest"].arn}:*',
        'logs:PutLogEvents ${aws_cloudwatch_log_group.lambda["digest"].arn}:*',
        "xray:PutTraceSegments *",
        "xray:PutTelemetryRecords *",
      ].sort(),
    );
    const put = terraform
      .policyStatements("digest")
      .find((statement) => statement.actions.includes("s3:PutObject"));
    expect(put?.conditions).toEqual([{ test: "StringEquals", variable: "s3:if-none-match", values: ["*"] }]);
    // The Merkle tree's kept subtrees: their own partitions of the read model, nothing else of it.
    const kept = terraform
      .policyStatements("digest")
      .find((statement) => statement.actions.includes("dynamodb:PutItem"));
    expect(kept?.conditions).toEqual([
      { test: "ForAllValues:StringLike", variable: "dynamodb:LeadingKeys", values: ["*#merkle"] },
    ]);
    expect(terraform.local("lambda_policies")).toMatchObject({
      digest: "${data.aws_iam_policy_document.digest.json}",
    });
  });

  it("the audit Lambda may sign with the key (GET /number/digest), the query Lambda only publish its public half", () => {
    expect(terraform.allowedGrants("audit").filter((grant) => grant.startsWith("kms:"))).toEqual([
      `kms:GetPublicKey ${KEY}`,
      `kms:Sign ${KEY}`,
    ]);
    // GET /number/digest/keys; the query Lambda serves no route that signs.
    expect(terraform.allowedGrants("query").filter((grant) => grant.startsWith("kms:"))).toEqual([
      `kms:GetPublicKey ${KEY}`,
    ]);
    for (const name of ["command", "projector", "identity"]) {
      expect(
        terraform.allowedGrants(name).filter((grant) => /^(kms|s3):/.test(grant)),
        name,
      ).toEqual([]);
    }
  });

  it("no role may delete a digest, change its retention or bypass the lock", () => {
    const forbidden =
      /^s3:(DeleteObject|DeleteObjectVersion|PutObjectRetention|BypassGovernanceRetention|PutBucketObjectLockConfiguration)$/;
    // A resource that is, or may match, the digest bucket or its objects.
    const digestBucket = (resource: string) => /digest|^\*$|s3:::\*/.test(resource);
    const found: string[] = [];
    for (const name of terraform.policyDocumentNames()) {
      for (const statement of terraform.policyStatements(name)) {
        if (statement.effect !== "Allow" || !statement.resources.some(digestBucket)) continue;
        for (const action of statement.actions.filter((action) => forbidden.test(action))) {
          found.push(`${name} ${action} ${statement.resources.join(" ")}`);
        }
      }
    }
    // Only the deploy role sets the bucket's lock configuration, which compliance mode never lets it weaken.
    expect(found).toEqual([
      "deploy_digest s3:PutBucketObjectLockConfiguration arn:${local.partition}:s3:::${local.digest_bucket_name}",
    ]);
  });
});
