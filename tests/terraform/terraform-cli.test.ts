// Terraform's own checks of infra/, where Terraform and the AWS provider are installed: `fmt -check`,
// `validate`, and `terraform test` (infra/tests/plan.tftest.hcl: a full plan against mocked providers). They
// catch what parsing cannot — an argument the provider does not have, a value its validation refuses, a
// dependency cycle. Everything runs in a temporary copy, so infra/ never gets a `.terraform` directory.
//
// Not part of `npm test`: Terraform is in neither the npm registry nor Debian's archive, so a fresh laptop cannot
// have it. `npm run test:terraform` runs them (vitest.terraform.config.ts), and .ci/run runs that after `npm test`:
// a machine without Terraform or the provider fails here, naming what is missing; nothing skips. The parse-based
// tests in tests/unit/infra hold infra/ to its rules inside `npm test` on every machine.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAMBDA_ENTRIES, zipArchive } from "../../scripts/build";
import { INFRA_DIRECTORY } from "../support/terraform";

/** Where a machine keeps providers for offline use (`terraform providers mirror` layout). */
const PLUGIN_MIRROR_DIRECTORY = process.env.TF_PLUGIN_MIRROR ?? "/opt/tf-plugins";
const AWS_PROVIDER_DIRECTORY = join(PLUGIN_MIRROR_DIRECTORY, "registry.terraform.io", "hashicorp", "aws");
/**
 * One Terraform command's bound: `init` from a local mirror takes seconds; `terraform test` plans the whole
 * configuration once per run block (six), up to two minutes on a busy machine.
 */
const TERRAFORM_COMMAND_TIMEOUT_MS = 300_000;

function terraformOnPath(): string | undefined {
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(directory, "terraform");
    if (directory !== "" && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const terraformBinary = terraformOnPath();
const available = terraformBinary !== undefined && existsSync(AWS_PROVIDER_DIRECTORY);
const missing =
  terraformBinary === undefined ? "no terraform on PATH" : `no AWS provider under ${PLUGIN_MIRROR_DIRECTORY}`;

let workDirectory: string;
let environment: NodeJS.ProcessEnv;

/**
 * Runs one Terraform command in a process group of its own: past its bound the whole group is killed, so the
 * provider plugins Terraform started (about 500 MB each) do not outlive it. Rejects on a non-zero exit.
 */
function terraform(args: readonly string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(terraformBinary!, [...args], {
      cwd,
      env: environment,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, TERRAFORM_COMMAND_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(new Error(`terraform ${args[0] ?? ""} ended with ${code ?? signal}:\n${stdout}\n${stderr}`));
    });
  });
}

describe("terraform CLI on infra/ (offline, mocked AWS)", () => {
  beforeAll(async () => {
    if (!available)
      throw new Error(
        `npm run test:terraform needs the Terraform CLI and the AWS provider mirror: ${missing}`,
      );
    workDirectory = await mkdtemp(join(tmpdir(), "counter-ledger-terraform-"));
    const configuration = join(workDirectory, "infra");
    await mkdir(join(configuration, "tests"), { recursive: true });
    for (const file of await readdir(INFRA_DIRECTORY)) {
      if (file.endsWith(".tf")) await copyFile(join(INFRA_DIRECTORY, file), join(configuration, file));
    }
    for (const file of await readdir(join(INFRA_DIRECTORY, "tests"))) {
      await copyFile(join(INFRA_DIRECTORY, "tests", file), join(configuration, "tests", file));
    }
    // The local modules the configuration calls (module "…" { source = "./modules/…" }).
    await cp(join(INFRA_DIRECTORY, "modules"), join(configuration, "modules"), { recursive: true });
    // The plan hashes each Lambda zip; placeholders will do, the real ones are tested in bundles.test.ts.
    await mkdir(join(configuration, "dist"));
    for (const entry of LAMBDA_ENTRIES) {
      const placeholder = zipArchive([{ name: "index.mjs", data: Buffer.from("export const handler = 0;") }]);
      await writeFile(join(configuration, "dist", `${entry.name}.zip`), placeholder);
    }
    const cliConfiguration = join(workDirectory, "terraform.rc");
    await writeFile(
      cliConfiguration,
      `provider_installation {\n  filesystem_mirror {\n    path = "${PLUGIN_MIRROR_DIRECTORY}"\n  }\n}\n`,
    );
    environment = {
      PATH: process.env.PATH,
      HOME: workDirectory,
      TF_CLI_CONFIG_FILE: cliConfiguration,
      TF_IN_AUTOMATION: "1",
      CHECKPOINT_DISABLE: "1",
    };
    await terraform(["init", "-backend=false", "-input=false", "-no-color"], configuration);
  }, TERRAFORM_COMMAND_TIMEOUT_MS);

  afterAll(async () => {
    if (workDirectory !== undefined) await rm(workDirectory, { recursive: true, force: true });
  });

  it("every file is in `terraform fmt` style", async () => {
    const { stdout } = await terraform(
      ["fmt", "-check", "-recursive", "-list=true", "-no-color"],
      INFRA_DIRECTORY,
    );
    expect(stdout.trim()).toBe("");
  });

  it(
    "`terraform validate` accepts the configuration against the AWS provider's schema",
    async () => {
      const { stdout } = await terraform(["validate", "-no-color"], join(workDirectory, "infra"));
      expect(stdout).toContain("The configuration is valid.");
    },
    TERRAFORM_COMMAND_TIMEOUT_MS,
  );

  it(
    "`terraform test` plans everything against mocked providers and its assertions hold",
    async () => {
      const { stdout } = await terraform(["test", "-no-color"], join(workDirectory, "infra"));
      expect(stdout).toMatch(/Success! \d+ passed, 0 failed\./);
    },
    TERRAFORM_COMMAND_TIMEOUT_MS,
  );
});
