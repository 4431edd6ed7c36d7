// `npm start`'s own promises, on the real entry point (local/main.ts) in a process of its own: it says how to
// install Java when there is none, refuses bad configuration by naming the variable, and on SIGTERM stops
// cleanly — DynamoDB Local included — with exit code 0.

import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../local/dynamodb-local";

const REPOSITORY_ROOT = resolve(import.meta.dirname, "../..");
const STARTUP_TIMEOUT_MS = 45_000;

interface Started {
  readonly exited: Promise<number | null>;
  readonly output: () => string;
  readonly kill: (signal: NodeJS.Signals) => void;
}

const running = new Set<Started>();

function start(environment: Record<string, string>): Started {
  const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
    cwd: REPOSITORY_ROOT,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", LOG_LEVEL: "silent", ...environment },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const started: Started = { exited, output: () => output, kill: (signal) => child.kill(signal) };
  running.add(started);
  void exited.then(() => running.delete(started));
  return started;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolveAnswer(true);
    });
    socket.once("error", () => resolveAnswer(false));
  });
}

afterEach(async () => {
  for (const started of running) {
    started.kill("SIGKILL");
    await started.exited;
  }
});

describe("npm start (local/main.ts)", () => {
  it("without Java, says how to install it and exits non-zero", async () => {
    // A PATH with nothing on it: node itself is started by its absolute path.
    const started = start({ PATH: mkdtempSync(join(tmpdir(), "no-java-")), PORT: "0" });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/Java 17/);
    expect(started.output()).toMatch(/apt-get install -y openjdk-17-jre-headless/);
    expect(started.output()).toMatch(/DYNAMODB_ENDPOINT/);
  });

  it("refuses a bad configuration value by naming the variable, and exits non-zero", async () => {
    const started = start({ PATH: process.env.PATH ?? "", PORT: "not-a-port" });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/PORT must be an integer/);
    expect(started.output()).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("serves, then stops on SIGTERM with exit code 0, DynamoDB Local included", async () => {
    const port = await freePort();
    const started = start({
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      DATA_DIR: mkdtempSync(join(tmpdir(), "counter-ledger-start-")),
      LOG_LEVEL: "info",
    });
    const deadlineMs = Date.now() + STARTUP_TIMEOUT_MS;
    while (!/counter-ledger is up/.test(started.output())) {
      if (Date.now() > deadlineMs) throw new Error(`npm start did not come up:\n${started.output()}`);
      await new Promise((wake) => setTimeout(wake, 100));
    }
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await health.json()).toEqual({ status: "ok" });
    const dynamoDbPort = Number(
      /"dynamoDbEndpoint":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(started.output())?.[1],
    );
    expect(await portAnswers(dynamoDbPort)).toBe(true);

    started.kill("SIGTERM");
    expect(await started.exited).toBe(0);
    expect(await portAnswers(port)).toBe(false);
    expect(await portAnswers(dynamoDbPort)).toBe(false);
  });
});
