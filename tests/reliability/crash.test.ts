// Crash: the whole local runtime (`local/main.ts`, a real separate process in its own process group) is killed
// with SIGKILL at random moments under load, on a persistent DynamoDB Local, and restarted. Clients keep what
// they were told: a 200 is an acknowledgement; a lost answer is retried with the same key after the restart
// (by two clients at once). Proves: every acknowledged command is in the ledger, none is applied twice, every
// unknown outcome settles, the projection converges from the poller's checkpoint (verify ok), and no process
// of the runtime survives its kill or the test. It runs with AUTH on, as `npm start` does by default: two users'
// tokens are issued once, by the local issuer, before the first crash and stay valid across every restart (the
// signing key persists under DATA_DIR), and every event records the actor whose token sent it.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startDynamoDbLocal, type DynamoDbLocal } from "../../local/dynamodb-local";
import { seededRandom } from "../../testkit/faults";
import { createDocumentClient } from "../../services/ledger/storage/clients";
import { loadLedgerConfig } from "../../services/ledger/config";
import type { Action } from "../../services/ledger/domain/decider";
import type { EventView } from "../../services/ledger/domain/event";
import type { TestStore } from "../support/store";
import { bearer, tokenFor } from "../../testkit/identity";
import { DEFAULT_CLIENT_LIMITS, inParallel, sendCommand, type CommandRecord } from "../../testkit/client";
import { waitForConvergence } from "../../testkit/convergence";
import { expectLedgerAgreesWithClients } from "./support/ledger-check";

const SEED = Number(process.env.RELIABILITY_SEED ?? 53);
const CRASHES = 4;
const CLIENTS = 8;
/** A crash comes this long after the runtime answered its first health check. */
const CRASH_AFTER_MS_MIN = 200;
const CRASH_AFTER_MS_MAX = 1_500;
const STARTUP_TIMEOUT_MS = 45_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** Killed children of the runtime (tsx's esbuild) are reaped by init within this long. */
const GROUP_REAPED_WITHIN_MS = 3_000;
const REPOSITORY_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

let dataDirectory: string;
let dynamoDb: DynamoDbLocal | undefined;
let environment: Record<string, string>;
const children = new Set<ChildProcess>();

/** Kills a runtime's whole process group, however it was left. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function groupIsAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of the group is still there once its members had time to be reaped (esbuild's too). */
async function groupSurvives(pid: number): Promise<boolean> {
  const deadlineMs = Date.now() + GROUP_REAPED_WITHIN_MS;
  while (groupIsAlive(pid) && Date.now() < deadlineMs) await new Promise((wake) => setTimeout(wake, 50));
  return groupIsAlive(pid);
}

const killAllOnExit = (): void => children.forEach(killGroup);

beforeAll(async () => {
  process.once("exit", killAllOnExit);
  dataDirectory = mkdtempSync(join(tmpdir(), "crash-test-"));
  dynamoDb = await startDynamoDbLocal({ dataDirectory: join(dataDirectory, "dynamodb") });
  environment = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    DYNAMODB_ENDPOINT: dynamoDb.endpoint,
    AWS_REGION: "us-east-1",
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    DATA_DIR: join(dataDirectory, "runtime"),
    LOG_LEVEL: "silent",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
});

afterAll(async () => {
  for (const child of children) killGroup(child);
  process.removeListener("exit", killAllOnExit);
  await dynamoDb?.stop();
  if (dataDirectory !== undefined) rmSync(dataDirectory, { recursive: true, force: true });
});

interface Runtime {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/** Starts `local/main.ts` in its own process group and waits until /health answers 200. */
async function startRuntime(): Promise<Runtime> {
  const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
    cwd: REPOSITORY_ROOT,
    env: environment,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-4_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${environment.PORT}`;
  const deadlineMs = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`the runtime exited while starting:\n${output}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).status === 200) {
        return { child, url, output: () => output };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((wake) => setTimeout(wake, 100));
  }
  killGroup(child);
  throw new Error(`the runtime did not answer /health within ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
}

async function crash(runtime: Runtime): Promise<void> {
  const exited = new Promise<void>((done) => {
    if (runtime.child.exitCode !== null || runtime.child.signalCode !== null) done();
    else runtime.child.once("exit", () => done());
  });
  killGroup(runtime.child);
  await exited;
  children.delete(runtime.child);
}

/** The two writers of the test, and the auditor that checks the projection at the end. */
const USERS = ["alice", "bob"] as const;
type User = (typeof USERS)[number];
const tokens = new Map<User | "audrey", string>();
const authorization = (user: User | "audrey"): Record<string, string> => bearer(tokens.get(user) ?? "");

/** One POST, once: its record, or undefined when the answer was lost (a crash, a 5xx). */
async function sendOnce(
  url: string,
  user: User,
  action: Action,
  idempotencyKey: string,
): Promise<CommandRecord | undefined> {
  try {
    const response = await fetch(`${url}/number`, {
      method: "POST",
      headers: {
        ...authorization(user),
        "Content-Type": "application/json",
        "Idempotency-Key": idempotencyKey,
      },
      body: JSON.stringify({ action }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const base = { idempotencyKey, action, attempts: 1, failures: {} };
    if (response.status === 200) {
      const { event } = JSON.parse(text) as { event: EventView };
      const replayed = response.headers.get("idempotent-replayed") === "true";
      return { ...base, outcome: { kind: "applied", event, replayed } };
    }
    if (response.status === 409) return { ...base, outcome: { kind: "outOfBounds" } };
    if (response.status === 422) return { ...base, outcome: { kind: "keyReused" } };
    return undefined;
  } catch {
    return undefined;
  }
}

describe("crash: SIGKILL of the whole local runtime under load, then a restart", () => {
  it("every acknowledged command is in the ledger, none twice, unknown outcomes settle, verify ok", async () => {
    const random = seededRandom(SEED);
    const records: CommandRecord[] = [];
    /** Commands whose answer was lost, by key: retried with the same key, by the same user, after the restart. */
    const unknown = new Map<string, { readonly user: User; readonly action: Action }>();
    /** Who sent each key: the actor its event must record. */
    const senders = new Map<string, User>();
    let serial = 0;

    for (let cycle = 0; cycle <= CRASHES; cycle++) {
      const runtime = await startRuntime();
      if (cycle === 0) {
        for (const user of [...USERS, "audrey"] as const) {
          tokens.set(user, await tokenFor(runtime.url, user, "counter:write counter:audit"));
        }
      }
      // A real client retries what it never heard back about, with the same key; here two clients at once.
      const retries = [...unknown].flatMap(([key, command]) => [
        { key, ...command },
        { key, ...command },
      ]);
      const retried = await inParallel(retries, CLIENTS, ({ key, user, action }) =>
        sendOnce(runtime.url, user, action, key),
      );
      for (const record of retried) {
        if (record === undefined) continue;
        records.push(record);
        unknown.delete(record.idempotencyKey);
      }
      if (cycle === CRASHES) {
        // The last start is not crashed: settle every outcome still unknown, with the same key.
        const settled = await inParallel([...unknown], CLIENTS, ([key, { user, action }]) =>
          sendCommand(runtime.url, action, key, DEFAULT_CLIENT_LIMITS, authorization(user)),
        );
        records.push(...settled);
        for (const record of settled)
          if (record.outcome.kind !== "unknown") unknown.delete(record.idempotencyKey);
        const store = ledgerStore();
        const { appliedKeys, events } = await expectLedgerAgreesWithClients(store, records);
        expect(appliedKeys).toBeGreaterThan(CRASHES * CLIENTS);
        expect(
          events.filter((event) => event.actor?.name !== senders.get(event.idempotencyKey)),
          "every event records the user whose token sent it",
        ).toEqual([]);
        const report = await waitForConvergence(runtime.url, 60_000, authorization("audrey"));
        expect(report.checkedTo, "verified through the last version, over its incremental calls").toBe(
          appliedKeys,
        );
        store.client.destroy();
        await crash(runtime);
        expect(await groupSurvives(runtime.child.pid!)).toBe(false);
        break;
      }

      // Load until the crash: each client sends commands one after another, never waiting on a lost answer.
      const crashAfterMs =
        CRASH_AFTER_MS_MIN + Math.floor(random() * (CRASH_AFTER_MS_MAX - CRASH_AFTER_MS_MIN));
      let crashed = false;
      const load = inParallel(
        Array.from({ length: CLIENTS }, (_, client) => client),
        CLIENTS,
        async (client) => {
          while (!crashed) {
            const key = `crash-${SEED}-${cycle}-${client}-${serial++}`;
            const action: Action = random() < 0.7 ? "increment" : "decrement";
            const user = USERS[client % USERS.length] as User;
            senders.set(key, user);
            const record = await sendOnce(runtime.url, user, action, key);
            if (record === undefined) unknown.set(key, { user, action });
            else records.push(record);
          }
        },
      );
      await new Promise((wake) => setTimeout(wake, crashAfterMs));
      crashed = true; // no new commands after this; those in flight meet the kill
      await crash(runtime);
      await load;
      expect(await groupSurvives(runtime.child.pid!), "no process of the killed runtime survives").toBe(
        false,
      );
    }
    expect(unknown.size).toBe(0);
  }, 170_000);
});

/** The tables `npm start` made on the persistent DynamoDB Local, read with a client of our own. */
function ledgerStore(): TestStore {
  const config = loadLedgerConfig(environment);
  return { config, client: createDocumentClient(config), environment };
}
