// `npm run reproject` against DynamoDB Local: with the audit trail deleted and the projected state reset, a
// rebuild from version 1 makes verify ok again; from N it restores versions N and up only; a second run
// changes nothing; a run interrupted after some pages resumes from its checkpoint and completes; it runs
// beside the stream projector without harm; it never overwrites an audit entry that holds another event.
// The command itself runs as a child process (as a user types it), the interruption in process.

import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { auditEntryOf } from "../../services/ledger/domain/audit";
import type { Action } from "../../services/ledger/domain/decider";
import type { LedgerEvent } from "../../services/ledger/domain/event";
import { auditEntryKey, stateEntryKey } from "../../services/ledger/storage/read-model";
import { verifyLedger } from "../../services/ledger/storage/replay";
import { createProjectorHandler } from "../../services/projector/handler";
import { insertRecordOf, reproject } from "../../services/projector/reproject";
import { readArguments } from "../../scripts/reproject-arguments";
import { CHECKPOINT_FILE_NAME, fileCheckpoint } from "../../scripts/reproject-checkpoint";
import { ledgerOf, readAuditTrail, writeLedger } from "../support/ledger-fixtures";
import { createTestStore, type TestStore } from "../support/store";

const run = promisify(execFile);
const tsx = resolve("node_modules/.bin/tsx");
const ACTIONS: Action[] = [
  "increment",
  "increment",
  "increment",
  "decrement",
  "increment",
  "increment",
  "decrement",
  "increment",
  "increment",
  "increment",
];

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "reproject-test-"));
  directories.push(directory);
  return directory;
}

interface Seeded {
  readonly store: TestStore;
  readonly counterId: string;
  readonly events: LedgerEvent[];
}

/** A fresh store whose counter has a sound ledger of ACTIONS, projected, then its read model destroyed. */
async function seededWithoutProjection(): Promise<Seeded> {
  const store = await createTestStore();
  const counterId = store.config.counterId;
  const { events, state } = ledgerOf(counterId, ACTIONS, store.config.bounds);
  await writeLedger(store, counterId, events, state);
  const project = createProjectorHandler({
    client: store.client,
    tables: store.config.tables,
    log: () => undefined,
  });
  await project({ Records: events.map(insertRecordOf) });
  expect((await verify(store)).ok).toBe(true);
  // What the runbook's situation leaves: no audit entries, the projected state back at the start.
  for (const event of events) {
    await store.client.send(
      new DeleteCommand({
        TableName: store.config.tables.readModel,
        Key: auditEntryKey(counterId, event.version),
      }),
    );
  }
  await store.client.send(
    new DeleteCommand({ TableName: store.config.tables.readModel, Key: stateEntryKey(counterId) }),
  );
  expect(await readAuditTrail(store, counterId)).toEqual([]);
  return { store, counterId, events };
}

function verify(store: TestStore) {
  return verifyLedger({
    client: store.client,
    tables: store.config.tables,
    counterId: store.config.counterId,
    bounds: store.config.bounds,
  });
}

async function readModel({ store, counterId }: Seeded) {
  const state = await store.client.send(
    new GetCommand({
      TableName: store.config.tables.readModel,
      Key: stateEntryKey(counterId),
      ConsistentRead: true,
    }),
  );
  return { state: state.Item, trail: await readAuditTrail(store, counterId) };
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function reprojectCommand(store: TestStore | undefined, args: readonly string[]): Promise<Outcome> {
  const environment = { ...process.env, ...store?.environment, LOG_LEVEL: "silent" };
  try {
    const { stdout, stderr } = await run(tsx, ["scripts/reproject.ts", ...args], { env: environment });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("npm run reproject", () => {
  it("from version 1 rebuilds every audit entry and the projected state: verify is ok again; a second run changes nothing", async () => {
    const seeded = await seededWithoutProjection();
    const { store, counterId, events } = seeded;
    // Verification sees a projection that is all behind (lag, not a violation): nothing is projected.
    expect((await verify(store)).lag).toEqual({ versions: events.length, auditEntries: events.length });

    const first = await reprojectCommand(store, ["--from-version", "1"]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain(`reprojected ${events.length} events, versions 1 to ${events.length}`);
    const rebuilt = await readModel(seeded);
    expect(rebuilt.trail).toEqual(events.map(auditEntryOf));
    const last = events.at(-1)!;
    expect(rebuilt.state).toEqual({
      counterId,
      entry: 0,
      value: last.valueAfter,
      version: last.version,
      at: last.at,
      eventId: last.eventId,
    });
    expect(await verify(store)).toMatchObject({
      ok: true,
      problems: [],
      lag: { versions: 0, auditEntries: 0 },
    });
    // Done: no checkpoint is left behind to skip versions next time.
    await expect(readFile(join(store.environment.DATA_DIR!, CHECKPOINT_FILE_NAME))).rejects.toThrow(/ENOENT/);

    const second = await reprojectCommand(store, ["--from-version", "1"]);
    expect(second.code).toBe(0);
    expect(await readModel(seeded)).toEqual(rebuilt);
  });

  it("from version N restores versions N and up only, and moves the state to the last", async () => {
    const seeded = await seededWithoutProjection();
    const { store, counterId, events } = seeded;
    const result = await reproject({
      client: store.client,
      tables: store.config.tables,
      counterId,
      bounds: store.config.bounds,
      fromVersion: 6,
    });
    expect(result).toEqual({ kind: "done", events: 5, startedAfter: 5, throughVersion: 10 });
    const { trail, state } = await readModel(seeded);
    expect(trail).toEqual(events.filter((event) => event.version >= 6).map(auditEntryOf));
    expect(state).toMatchObject({ version: 10, value: events.at(-1)!.valueAfter });
  });

  it("interrupted after some pages, resumes from its checkpoint and completes", async () => {
    const seeded = await seededWithoutProjection();
    const { store, counterId, events } = seeded;
    const path = join(await temporaryDirectory(), "checkpoint.json");
    const options = {
      client: store.client,
      tables: store.config.tables,
      counterId,
      bounds: store.config.bounds,
      fromVersion: 1,
      pageEvents: 3,
      checkpoint: fileCheckpoint(path, { counterId, tables: store.config.tables, fromVersion: 1 }),
    };
    const interrupted = await reproject({ ...options, pagesMax: 2 });
    expect(interrupted).toEqual({ kind: "stopped", events: 6, startedAfter: 0, throughVersion: 6 });
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ doneThroughVersion: 6 });
    expect((await readModel(seeded)).trail.map((entry) => entry.version)).toEqual([1, 2, 3, 4, 5, 6]);

    const progress: number[] = [];
    const resumed = await reproject({
      ...options,
      onProgress: ({ eventsDone }) => progress.push(eventsDone),
    });
    expect(resumed).toEqual({ kind: "done", events: 4, startedAfter: 6, throughVersion: 10 });
    expect(progress).toEqual([0, 3, 4]);
    expect((await readModel(seeded)).trail).toEqual(events.map(auditEntryOf));
    expect(await verify(store)).toMatchObject({ ok: true });
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });

  it("refuses a checkpoint of another run rather than skip versions", async () => {
    const seeded = await seededWithoutProjection();
    const { store, counterId } = seeded;
    const path = join(await temporaryDirectory(), "checkpoint.json");
    const tables = store.config.tables;
    await fileCheckpoint(path, { counterId, tables, fromVersion: 1 }).save(4);
    const outcome = await reprojectCommand(store, ["--from-version", "3", "--checkpoint", path]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/checkpoint of another reprojection .*--from-version 1/);
    expect((await readModel(seeded)).trail).toEqual([]);
  });

  it("beside the stream projector projecting the same records, the result is the same read model", async () => {
    const seeded = await seededWithoutProjection();
    const { store, counterId, events } = seeded;
    const project = createProjectorHandler({
      client: store.client,
      tables: store.config.tables,
      log: () => undefined,
    });
    const [projected, rebuilt] = await Promise.all([
      project({ Records: events.map(insertRecordOf) }),
      reproject({
        client: store.client,
        tables: store.config.tables,
        counterId,
        bounds: store.config.bounds,
        fromVersion: 1,
        pageEvents: 2,
      }),
    ]);
    expect(projected).toEqual({ batchItemFailures: [] });
    expect(rebuilt.kind).toBe("done");
    expect((await readModel(seeded)).trail).toEqual(events.map(auditEntryOf));
    expect(await verify(store)).toMatchObject({ ok: true });
  });

  it("never overwrites an audit entry that holds another event: exit 2, naming the version", async () => {
    const seeded = await seededWithoutProjection();
    const { store, counterId, events } = seeded;
    const impostor = { ...auditEntryOf(events[2]!), valueAfter: 999 };
    await store.client.send(new PutCommand({ TableName: store.config.tables.readModel, Item: impostor }));
    const outcome = await reprojectCommand(store, ["--from-version", "1"]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/^could not reproject at version 3: conflict: .*valueAfter/);
    const entry = await store.client.send(
      new GetCommand({ TableName: store.config.tables.readModel, Key: auditEntryKey(counterId, 3) }),
    );
    expect(entry.Item).toEqual(impostor);
  });

  it("refuses unknown flags and a missing or bad --from-version: a one-line usage error, exit 2", async () => {
    const outcome = await reprojectCommand(undefined, ["--from-version", "1", "--force"]);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe("");
    const lines = outcome.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^usage error: .*--force.*\(npm run reproject -- --help\)$/);
    // The rest of the argument rules, in process: the same function the command calls.
    for (const args of [
      [],
      ["--from-version", "0"],
      ["--from-version", "two"],
      ["--from-version", "1", "extra"],
    ]) {
      expect(readArguments(args), args.join(" ")).toMatchObject({ kind: "usageError" });
    }
    expect(readArguments(["--from-version", "12", "--checkpoint", "c.json"])).toEqual({
      kind: "reproject",
      fromVersion: 12,
      checkpoint: "c.json",
    });
    expect(readArguments(["-h"])).toEqual({ kind: "help" });
  });
});
