// The deploy workflow (.github/workflows/deploy.yml) and Dependabot's configuration, parsed and held to
// infra/README.md's delivery rules: every action pinned to a commit SHA with its release in a comment, no AWS
// credentials in the jobs that run the project's and its dependencies' code (test, scan, build, web), the plan
// role for plan and the deploy role only in the reviewed environment, the plan's lock file carried to apply,
// and the scans that fail a deploy. The trust policies these jobs depend on are in iam.test.ts.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPOSITORY_ROOT } from "../../../scripts/build";
import {
  asString,
  isBlock,
  loadTerraform,
  single,
  type HclBlock,
  type Terraform,
} from "../../support/terraform";

const WORKFLOW_PATH = join(REPOSITORY_ROOT, ".github", "workflows", "deploy.yml");
const DEPENDABOT_PATH = join(REPOSITORY_ROOT, ".github", "dependabot.yml");

/**
 * The releases the workflow pins, each tag's commit as `git rev-parse <tag>^{commit}` gives it in the action's
 * repository. A new pin (Dependabot's) updates this table too, so a SHA never goes without its release.
 */
const RELEASES: Record<string, Record<string, string>> = {
  "actions/checkout": { "v4.4.0": "11d5960a326750d5838078e36cf38b85af677262" },
  "actions/setup-node": { "v4.4.0": "49933ea5288caeca8642d1e84afbd3f7d6820020" },
  "actions/upload-artifact": { "v4.6.2": "ea165f8d65b6e75b540449e92b4886f43607fa02" },
  "actions/download-artifact": { "v4.3.0": "d3f86a106a0bac45b974a628896c90dbdf5c8093" },
  "aws-actions/configure-aws-credentials": { "v4.3.1": "7474bc4690e29a8392af63c5b98e7449536d5c3a" },
  "hashicorp/setup-terraform": { "v3.1.2": "b9cd54a3c349d3f38e8881555d616ced269862dd" },
  "trufflesecurity/trufflehog": { "v3.97.0": "bcfcf73aaf4759d4dadc2783177c245a02792318" },
};

const AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials";
/** The jobs that run code from the repository or npm: they get neither an OIDC token nor AWS credentials. */
const JOBS_WITHOUT_AWS = ["test", "scan", "build", "web"];

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, unknown>;
}
interface Job {
  readonly needs?: string | string[];
  readonly environment?: unknown;
  readonly permissions?: Record<string, string>;
  readonly env?: Record<string, unknown>;
  readonly steps: Step[];
}
interface Workflow {
  readonly permissions: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const workflowText = readFileSync(WORKFLOW_PATH, "utf8");
const workflow = parse(workflowText) as Workflow;
let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

function job(name: string): Job {
  const found = workflow.jobs[name];
  if (found === undefined) throw new Error(`deploy.yml has no job ${name}`);
  return found;
}

function actionOf(step: Step): string | undefined {
  return step.uses?.split("@")[0];
}

function stepsUsing(jobName: string, action: string): Step[] {
  return job(jobName).steps.filter((step) => actionOf(step) === action);
}

function runs(jobName: string): string {
  return job(jobName)
    .steps.map((step) => step.run ?? "")
    .join("\n");
}

describe("actions are pinned (.github/workflows/deploy.yml)", () => {
  it("every `uses:` names a full 40-hex commit SHA, with the release it is in a `# vX.Y.Z` comment", () => {
    const lines = workflowText.split("\n").filter((line) => /^\s*(-\s+)?uses:/.test(line));
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it("each SHA is the commit of the release its comment names", () => {
    for (const line of workflowText.split("\n").filter((candidate) => /uses:/.test(candidate))) {
      const match = /uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # (v[\d.]+)$/.exec(line);
      expect(match, line).not.toBeNull();
      const [, action, sha, version] = match!;
      expect(RELEASES[action!]?.[version!], `${action} ${version}`).toBe(sha);
    }
  });

  it("the parsed workflow sees the same steps: no `uses:` the line check could miss", () => {
    const uses = Object.values(workflow.jobs).flatMap((candidate) =>
      candidate.steps.flatMap((step) => (step.uses === undefined ? [] : [step.uses])),
    );
    const lines = workflowText.split("\n").filter((line) => /^\s*(-\s+)?uses:/.test(line));
    expect(uses).toHaveLength(lines.length);
    for (const use of uses) expect(use).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });
});

describe("who gets AWS credentials", () => {
  it("the workflow grants only `contents: read` by default", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
  });

  it("test, scan, build and web have no OIDC token and no AWS credentials step", () => {
    for (const name of JOBS_WITHOUT_AWS) {
      const candidate = job(name);
      expect(candidate.permissions?.["id-token"], name).toBeUndefined();
      expect(stepsUsing(name, AWS_CREDENTIALS_ACTION), name).toEqual([]);
      expect(candidate.environment, name).toBeUndefined();
      expect(JSON.stringify(candidate), name).not.toMatch(/AWS_(PLAN|DEPLOY)_ROLE_ARN|secrets\./);
    }
    // Every job is one of these or plan/apply: a new job must be placed deliberately.
    expect(Object.keys(workflow.jobs).sort()).toEqual([...JOBS_WITHOUT_AWS, "plan", "apply"].sort());
  });

  it("plan runs on main without an environment, with the plan role", () => {
    const plan = job("plan");
    expect(plan.environment).toBeUndefined();
    expect(plan.permissions).toEqual({ contents: "read", "id-token": "write" });
    const credentials = stepsUsing("plan", AWS_CREDENTIALS_ACTION);
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.with?.["role-to-assume"]).toBe("${{ vars.AWS_PLAN_ROLE_ARN }}");
    expect(runs("plan")).toMatch(/terraform plan -input=false -out=deploy\.tfplan/);
    expect(runs("plan")).not.toMatch(/terraform apply|aws s3|aws cloudfront/);
  });

  it("apply runs in the environment the deploy role trusts, and nothing else takes the deploy role", () => {
    const apply = job("apply");
    const environment = asString(terraform.variable("github_environment").default, "github_environment");
    expect(apply.environment).toBe(environment);
    expect(apply.permissions).toEqual({ contents: "read", "id-token": "write" });
    const credentials = stepsUsing("apply", AWS_CREDENTIALS_ACTION);
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.with?.["role-to-assume"]).toBe("${{ vars.AWS_DEPLOY_ROLE_ARN }}");
    const takers = Object.entries(workflow.jobs)
      .filter(([, candidate]) => JSON.stringify(candidate).includes("AWS_DEPLOY_ROLE_ARN"))
      .map(([name]) => name);
    expect(takers).toEqual(["apply"]);
    // Apply needs the plan (and everything before it): the reviewed plan is what runs.
    expect([job("apply").needs].flat()).toEqual(expect.arrayContaining(["plan", "web"]));
    expect([job("plan").needs].flat()).toEqual(["build"]);
    expect([job("build").needs].flat().sort()).toEqual(["scan", "test"]);
  });

  it("no job installs npm packages after AWS credentials are in its environment", () => {
    for (const [name, candidate] of Object.entries(workflow.jobs)) {
      const credentialsAt = candidate.steps.findIndex((step) => actionOf(step) === AWS_CREDENTIALS_ACTION);
      if (credentialsAt < 0) continue;
      const after = candidate.steps.slice(credentialsAt).map((step) => step.run ?? "");
      for (const command of after) expect(command, name).not.toMatch(/\bnpm (ci|install|run)\b|\bnpx\b/);
    }
  });
});

describe("what moves between jobs", () => {
  function uploads(jobName: string): Record<string, unknown>[] {
    return stepsUsing(jobName, "actions/upload-artifact").map((step) => step.with ?? {});
  }

  it("build uploads the Lambda zips; plan and apply use those", () => {
    expect(uploads("build")).toEqual([expect.objectContaining({ name: "lambdas", path: "dist/*.zip" })]);
    for (const name of ["plan", "apply"]) {
      const downloads = stepsUsing(name, "actions/download-artifact").map((step) => step.with);
      expect(downloads, name).toContainEqual({ name: "lambdas", path: "dist" });
    }
    expect(runs("apply")).not.toMatch(/npm run build/);
  });

  it("plan saves the plan with the lock file `terraform init` wrote; apply installs from that lock file only", () => {
    const [saved] = uploads("plan");
    expect(saved?.name).toBe("plan");
    expect(String(saved?.path).trim().split("\n").sort()).toEqual([
      "infra/.terraform.lock.hcl",
      "infra/deploy.tfplan",
    ]);
    expect(saved?.["include-hidden-files"]).toBe(true);
    expect(stepsUsing("apply", "actions/download-artifact").map((step) => step.with)).toContainEqual({
      name: "plan",
      path: "infra",
    });
    expect(runs("apply")).toMatch(/terraform init -input=false -lockfile=readonly/);
    expect(runs("apply")).toMatch(/terraform apply -input=false deploy\.tfplan/);
  });
});

describe("scans that fail a deploy", () => {
  it("a known high or critical advisory in a production dependency fails the scan job", () => {
    expect(runs("scan")).toMatch(/npm audit --omit=dev --audit-level=(high|critical)/);
  });

  it("a secret in the pushed commits fails the scan job", () => {
    const [scan] = stepsUsing("scan", "trufflesecurity/trufflehog");
    expect(scan?.with?.extra_args).toMatch(/--results=verified,unknown/);
    // The scanner's image is pinned to the release of the pinned action, not `latest`.
    expect(scan?.with?.version).toBe("3.97.0");
    const checkout = stepsUsing("scan", "actions/checkout")[0];
    expect(checkout?.with?.["fetch-depth"]).toBe(0);
  });

  it("Dependabot watches npm, the workflow's actions and the Terraform providers", () => {
    const config = parse(readFileSync(DEPENDABOT_PATH, "utf8")) as {
      version: number;
      updates: { "package-ecosystem": string; directory: string; schedule: { interval: string } }[];
    };
    expect(config.version).toBe(2);
    const watched = config.updates.map((update) => `${update["package-ecosystem"]} ${update.directory}`);
    expect(watched.sort()).toEqual(["github-actions /", "npm /", "terraform /infra"]);
    for (const update of config.updates) expect(update.schedule.interval).toMatch(/^(daily|weekly)$/);
  });
});

describe("provider versions (infra/versions.tf)", () => {
  it("the AWS provider is pinned to one minor version (patch releases only)", () => {
    const terraformBlock = single(terraform.root.terraform, "terraform block");
    const providers = single(terraformBlock.required_providers, "required_providers");
    const aws = providers.aws;
    expect(isBlock(aws)).toBe(true);
    expect((aws as HclBlock).source).toBe("hashicorp/aws");
    expect((aws as HclBlock).version).toMatch(/^~> \d+\.\d+\.0$/);
  });
});
