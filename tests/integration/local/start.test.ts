// `npm start`'s own promises, on the real entry point (local/main.ts) in a process of its own: it says how to
// install Java when there is none, refuses bad configuration by naming the variable before Java starts, says
// in one line that a busy PORT is busy, and however it is stopped — Ctrl-C, SIGTERM to npm or to the node
// process, the terminal closing, even a SIGKILL of the node process — nothing it started keeps running.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../../local/dynamodb-local";
import { alive, descendants, portAnswers, portIsFree, processes, waitUntil } from "./processes";

const REPOSITORY_ROOT = resolve(import.meta.dirname, "../../..");
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const METADATA_FILE = "dynamodb-local-metadata.json";

interface Started {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly output: () => string;
}

const running = new Set<Started>();
/** Every process any test saw in a started tree: killed after each test, whatever the test did. */
const seen = new Set<number>();

/** The environment of a user's shell: only what npm, node and java need, and no notice silenced. */
function userEnvironment(environment: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    npm_config_update_notifier: "false",
    LOG_LEVEL: "silent",
    ...environment,
  };
}

function track(child: ChildProcess): Started {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const started: Started = { child, exited, output: () => output };
  running.add(started);
  void exited.then(() => running.delete(started));
  return started;
}

/** local/main.ts under node, as the tests of its messages need it (no npm in between). */
function startMain(environment: Record<string, string>): Started {
  return track(
    spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
      cwd: REPOSITORY_ROOT,
      env: userEnvironment(environment),
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

/**
 * `npm start` as a shell with job control runs it: in a process group of its own. `--ignore-scripts` skips
 * only `prestart` (the UI build, which these tests do not need); the tree is the one a user gets.
 */
function startNpm(environment: Record<string, string>): Started {
  return track(
    spawn("npm", ["start", "--ignore-scripts"], {
      cwd: REPOSITORY_ROOT,
      env: userEnvironment(environment),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    }),
  );
}

async function waitForServing(started: Started): Promise<void> {
  await waitUntil(
    () => /counter-ledger is serving/.test(started.output()) || started.child.exitCode !== null,
    STARTUP_TIMEOUT_MS,
  );
  if (!/counter-ledger is serving/.test(started.output())) {
    throw new Error(`npm start did not come up:\n${started.output()}`);
  }
}

/** The java processes of DynamoDB Local whose database lives under this directory. */
function javaUsing(dataDirectory: string): number[] {
  return processes()
    .filter((row) => /\bjava\b/.test(row.args) && row.args.includes(dataDirectory))
    .map((row) => row.pid);
}

afterEach(async () => {
  for (const pid of seen) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  seen.clear();
  for (const started of running) {
    started.child.kill("SIGKILL");
    await started.exited;
  }
});

describe("npm start refuses what it cannot run", () => {
  it("without Java, says how to install it and exits non-zero", async () => {
    // A PATH with nothing on it: node itself is started by its absolute path.
    const started = startMain({ PATH: mkdtempSync(join(tmpdir(), "no-java-")), PORT: "0" });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/Java 17/);
    expect(started.output()).toMatch(/apt-get install -y openjdk-17-jre-headless/);
    expect(started.output()).toMatch(/DYNAMODB_ENDPOINT/);
  });

  it("refuses a bad configuration value by naming the variable, and exits non-zero", async () => {
    const started = startMain({ PORT: "not-a-port" });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/PORT must be an integer/);
    expect(started.output()).not.toMatch(/\bat .*\.ts:\d+/);
  });

  // With no Java on PATH, a start that read its configuration after starting Java would talk of Java.
  it.each([
    ["COUNTER_MAX", "many", /COUNTER_MAX must be an integer from 0 to 1000000000/],
    ["COUNTER_MIN", "-1", /COUNTER_MIN must be an integer from 0 to 1000000000/],
    ["LOG_LEVEL", "verbose", /LOG_LEVEL must be one of debug, info, warn, error, silent/],
    ["THROTTLE_BURST", "lots", /THROTTLE_BURST must be an integer/],
    ["STREAM_BATCH_SIZE", "0", /STREAM_BATCH_SIZE must be an integer from 1 to 1000/],
    ["CORS_ORIGINS", "example.com", /CORS_ORIGINS must be/],
  ])("checks %s=%s before it starts Java", async (name, value, message) => {
    const started = startMain({ PATH: mkdtempSync(join(tmpdir(), "no-java-")), [name]: value });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(message);
    expect(started.output()).not.toMatch(/Java 17/);
    expect(started.output()).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("says in one line that a busy PORT is busy, exits non-zero, and leaves nothing running", async () => {
    const port = await freePort();
    const occupant: Server = createServer();
    await new Promise<void>((listening) => occupant.listen(port, "127.0.0.1", listening));
    try {
      const dataDirectory = mkdtempSync(join(tmpdir(), "counter-ledger-busy-"));
      const started = startMain({ PORT: String(port), DATA_DIR: dataDirectory });
      expect(await started.exited).toBe(1);
      expect(started.output().trim()).toBe(
        `PORT ${port} is already in use: stop what uses it or set PORT to another port`,
      );
      expect(javaUsing(dataDirectory)).toEqual([]);
    } finally {
      await new Promise((closed) => occupant.close(closed));
    }
  });
});

type Stop = (tree: { readonly npm: number; readonly node: number }) => void;

const WAYS: ReadonlyArray<readonly [string, Stop]> = [
  ["Ctrl-C (SIGINT to the process group)", ({ npm }) => process.kill(-npm, "SIGINT")],
  ["SIGTERM to npm alone", ({ npm }) => process.kill(npm, "SIGTERM")],
  ["SIGTERM to the node process alone", ({ node }) => process.kill(node, "SIGTERM")],
  ["the terminal closing (SIGHUP to the process group)", ({ npm }) => process.kill(-npm, "SIGHUP")],
  ["SIGKILL of the node process", ({ node }) => process.kill(node, "SIGKILL")],
];

describe("npm start stops everything it started", () => {
  it.each(WAYS)(
    "on %s",
    async (_way, stop) => {
      const port = await freePort();
      const dataDirectory = mkdtempSync(join(tmpdir(), "counter-ledger-stop-"));
      const started = startNpm({ PORT: String(port), DATA_DIR: dataDirectory });
      const npm = started.child.pid as number;
      await waitForServing(started);
      const dynamoDbPort = Number(/DynamoDB: http:\/\/127\.0\.0\.1:(\d+)/.exec(started.output())?.[1]);
      const tree = descendants(npm);
      for (const row of tree) seen.add(row.pid);
      const node = tree.find((row) => row.args.includes("--import") && row.args.includes("local/main.ts"));
      expect(node, started.output()).toBeDefined();
      expect(javaUsing(dataDirectory)).toHaveLength(1);
      expect(await portAnswers(dynamoDbPort)).toBe(true);

      stop({ npm, node: node?.pid as number });

      const pids = [npm, ...tree.map((row) => row.pid)];
      await waitUntil(() => alive(pids).length === 0, STOP_TIMEOUT_MS);
      expect(alive(pids)).toEqual([]);
      expect(javaUsing(dataDirectory)).toEqual([]);
      expect(await portAnswers(dynamoDbPort)).toBe(false);
      expect(await portIsFree(port)).toBe(true);
    },
    STARTUP_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000,
  );
});

describe("npm start, up", () => {
  it(
    "serves without the SDK's Node-version notice or DynamoDB Local's telemetry, then stops on SIGTERM with 0",
    async () => {
      const port = await freePort();
      const dataDirectory = mkdtempSync(join(tmpdir(), "counter-ledger-start-"));
      const started = startMain({ PORT: String(port), DATA_DIR: dataDirectory, LOG_LEVEL: "info" });
      await waitForServing(started);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(await health.json()).toEqual({ status: "ok" });
      const java = processes().filter((row) => javaUsing(dataDirectory).includes(row.pid));
      expect(java).toHaveLength(1);
      expect(java[0]?.args.split(/\s+/)).toContain("-disableTelemetry");

      started.child.kill("SIGTERM");
      expect(await started.exited).toBe(0);
      expect(await portIsFree(port)).toBe(true);
      expect(started.output()).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
      // DynamoDB Local's telemetry file lands in its working directory when telemetry is on.
      for (const directory of [REPOSITORY_ROOT, dataDirectory, join(dataDirectory, "dynamodb")]) {
        expect(existsSync(join(directory, METADATA_FILE)), directory).toBe(false);
      }
    },
    STARTUP_TIMEOUT_MS + 30_000,
  );
});
