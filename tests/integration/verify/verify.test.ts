// Verification against DynamoDB Local: a sound ledger is proved; each kind of deliberate corruption — a
// tampered delta, a broken chain, a gap, a duplicated version, a wrong aggregate, a missing or altered audit
// entry — is reported with the version where it happens; a projector that is only behind is lag, not a
// violation; and the same report comes out of GET /number/verify and `npm run verify`.

import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { startLocalSystem } from "../../../local/system";
import { Committer } from "../../../services/command/committer";
import type { Bounds } from "../../../services/ledger/domain/decider";
import type { LedgerEvent } from "../../../services/ledger/domain/event";
import { requestFingerprint } from "../../../services/ledger/domain/fingerprint";
import { ALICE, actorOfClaims } from "../../../testkit/claims";
import { auditEntryKey } from "../../../services/ledger/storage/read-model";
import { verifyLedger } from "../../../services/ledger/storage/replay";
import { type VerificationReport } from "../../../services/ledger/domain/verification";
import { COUNTERS, LEDGER } from "../../../services/ledger/storage/tables";
import { createReadHandler } from "../../../services/query/handler";
import { httpEvent } from "../../support/fixtures";
import { createTestStore, type TestStore } from "../../support/store";
import {
  eventOf,
  growCounter,
  LENGTH,
  soundCounter as soundCounterIn,
  updateLedgerEvent as updateLedgerEventIn,
  versionsOf,
} from "./corruption";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { tokenFor } from "../../../testkit/identity";

const run = promisify(execFile);

let store: TestStore;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
});

/** A fresh counter with a sound ledger of LENGTH events, projected up to `projectedUpTo`. */
function soundCounter(projectedUpTo = LENGTH): Promise<{ counterId: string; events: LedgerEvent[] }> {
  return soundCounterIn(store, { projectedUpTo });
}

function verify(counterId: string, bounds: Bounds = store.config.bounds): Promise<VerificationReport> {
  return verifyLedger({
    client: store.client,
    tables: store.config.tables,
    counterId,
    bounds,
    sleep: () => Promise.resolve(),
  });
}

function updateLedgerEvent(event: LedgerEvent, changes: Record<string, unknown>): Promise<void> {
  return updateLedgerEventIn(store, event, changes);
}

describe("verification of a sound ledger", () => {
  it("is ok, with the totals of the ledger, the aggregate and the read model", async () => {
    const { counterId } = await soundCounter();
    const report = await verify(counterId);
    expect(report).toMatchObject({
      ok: true,
      events: LENGTH,
      ledgerSum: 8,
      aggregate: { value: 8, version: LENGTH },
      readModel: { value: 8, version: LENGTH },
      lag: { versions: 0, auditEntries: 0 },
      problems: [],
      problemsOmitted: 0,
    });
  });

  it("reports a projector that is only behind as lag, with ok left true", async () => {
    const { counterId } = await soundCounter(7);
    const report = await verify(counterId);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      readModel: { version: 7 },
      lag: { versions: 5, auditEntries: 5 },
    });
  });

  it("stays ok while commands are committed during the replay (no false alarm from the race)", async () => {
    const concurrent = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
    const committer = new Committer({ client: concurrent.client, config: concurrent.config });
    let committing = true;
    const writer = (async () => {
      for (let index = 0; committing && index < 200; index++) {
        await committer.commit({
          action: "increment",
          counterId: concurrent.config.counterId,
          idempotencyKey: randomUUID(),
          actor: actorOfClaims(ALICE),
          requestFingerprint: requestFingerprint("increment"),
          requestId: randomUUID(),
        });
      }
    })();
    const reports: VerificationReport[] = [];
    for (let round = 0; round < 5; round++) {
      reports.push(
        await verifyLedger({
          client: concurrent.client,
          tables: concurrent.config.tables,
          counterId: concurrent.config.counterId,
          bounds: concurrent.config.bounds,
        }),
      );
    }
    committing = false;
    await writer;
    expect(reports.map((report) => report.problems)).toEqual(reports.map(() => []));
    expect(reports.at(-1)?.events).toBeGreaterThan(0);
  });
});

describe("verification of a corrupted ledger names each violation and its version", () => {
  it("a tampered delta", async () => {
    const { counterId, events } = await soundCounter();
    await updateLedgerEvent(eventOf(events, 5), { delta: -1 });
    const report = await verify(counterId);
    expect(report.ok).toBe(false);
    expect(versionsOf(report, "deltaInvalid")).toEqual([5]);
    expect(versionsOf(report, "valueAfterWrong")).toEqual([5]);
    expect(versionsOf(report, "auditAltered")).toEqual([5]);
    expect(versionsOf(report, "aggregateValue")).toEqual([LENGTH]);
  });

  it("a broken chain: valueBefore and valueAfter shifted together", async () => {
    const { counterId, events } = await soundCounter();
    const event = eventOf(events, 6);
    await updateLedgerEvent(event, { valueBefore: event.valueBefore + 1, valueAfter: event.valueAfter + 1 });
    const report = await verify(counterId);
    expect(versionsOf(report, "chainBroken")).toEqual([6, 7]);
    expect(versionsOf(report, "valueAfterWrong")).toEqual([]);
  });

  it("a gap: an event deleted from the ledger", async () => {
    const { counterId, events } = await soundCounter();
    await store.client.send(
      new DeleteCommand({
        TableName: store.config.tables.ledger,
        Key: { [LEDGER.partitionKey]: eventOf(events, 4).eventId },
      }),
    );
    const report = await verify(counterId);
    expect(report.ok).toBe(false);
    expect(versionsOf(report, "versionGap")).toEqual([4]);
    expect(versionsOf(report, "auditExtra")).toEqual([4]);
    expect(report.events).toBe(LENGTH - 1);
  });

  it("a duplicated version: a second event recorded under version 6", async () => {
    const { counterId, events } = await soundCounter();
    const twin = { ...eventOf(events, 6), idempotencyKey: "twin", eventId: `${counterId}#twin` };
    await store.client.send(new PutCommand({ TableName: store.config.tables.ledger, Item: twin }));
    const report = await verify(counterId);
    expect(versionsOf(report, "duplicateVersion")).toEqual([6]);
    expect(versionsOf(report, "aggregateVersion")).toEqual([LENGTH]);
  });

  it("a wrong aggregate: its value, then its version", async () => {
    const { counterId } = await soundCounter();
    const key = { [COUNTERS.partitionKey]: counterId };
    const table = store.config.tables.counters;
    await store.client.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: "SET #value = #value + :one",
        ExpressionAttributeNames: { "#value": "value" },
        ExpressionAttributeValues: { ":one": 1 },
      }),
    );
    expect(versionsOf(await verify(counterId), "aggregateValue")).toEqual([LENGTH]);
    await store.client.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: "SET #value = #value - :one, #version = #version - :one",
        ExpressionAttributeNames: { "#value": "value", "#version": "version" },
        ExpressionAttributeValues: { ":one": 1 },
      }),
    );
    const report = await verify(counterId);
    expect(versionsOf(report, "aggregateVersion")).toEqual([LENGTH]);
    expect(versionsOf(report, "projectedAhead")).toEqual([LENGTH]);
  });

  it("a missing audit entry", async () => {
    const { counterId } = await soundCounter();
    await store.client.send(
      new DeleteCommand({ TableName: store.config.tables.readModel, Key: auditEntryKey(counterId, 3) }),
    );
    const report = await verify(counterId);
    expect(report.problems).toEqual([
      { kind: "auditMissing", version: 3, detail: expect.any(String) as unknown },
    ]);
  });

  it("an altered audit entry", async () => {
    const { counterId } = await soundCounter();
    await store.client.send(
      new UpdateCommand({
        TableName: store.config.tables.readModel,
        Key: auditEntryKey(counterId, 7),
        UpdateExpression: "SET valueAfter = :forged",
        ExpressionAttributeValues: { ":forged": 77 },
      }),
    );
    const report = await verify(counterId);
    expect(report.problems).toEqual([
      { kind: "auditAltered", version: 7, detail: expect.stringContaining("valueAfter") as unknown },
    ]);
  });

  it("an unreadable event, reported once at its version without misreading its neighbours", async () => {
    const { counterId, events } = await soundCounter();
    await updateLedgerEvent(eventOf(events, 5), { delta: "one", at: "yesterday" });
    const report = await verify(counterId);
    expect(versionsOf(report, "malformedEvent")).toEqual([5]);
    expect(report.problems.map((problem) => problem.kind).sort()).toEqual([
      "aggregateValue",
      "malformedEvent",
    ]);
    expect(report.events).toBe(LENGTH);
  });

  it("a value outside the bounds", async () => {
    const { counterId } = await soundCounter();
    const report = await verify(counterId, { min: 0, max: 5 });
    expect(versionsOf(report, "outOfBounds")).toEqual([8, 9, 10, 11, 12]);
  });
});

describe("the report outside the library", () => {
  it("GET /number/verify answers 200 with the report, ok false and the violations when corrupted after its checkpoint", async () => {
    const { counterId } = await soundCounter();
    const query = createReadHandler(
      {
        client: store.client,
        config: { ...store.config, counterId },
        log: () => undefined,
      },
      ["query", "audit"],
    );
    const sound = await query(httpEvent({ method: "GET", path: "/number/verify" }));
    expect(sound.statusCode).toBe(200);
    expect(JSON.parse(sound.body ?? "")).toMatchObject({
      ok: true,
      events: LENGTH,
      durationMs: expect.any(Number) as unknown,
    });
    // The sound check moved the checkpoint to LENGTH: the corruption lands after it, in new events.
    const events = await growCounter(store, counterId, LENGTH + 6, { from: LENGTH + 1 });
    await updateLedgerEvent(eventOf(events, LENGTH + 2), { delta: -1 });
    const corrupted = await query(httpEvent({ method: "GET", path: "/number/verify" }));
    expect(corrupted.statusCode).toBe(200);
    const report = JSON.parse(corrupted.body ?? "") as VerificationReport;
    expect(report.ok).toBe(false);
    expect(versionsOf(report, "deltaInvalid")).toEqual([LENGTH + 2]);
  });

  it("npm run verify exits 0 on a sound ledger and 1 on a corrupted one, printing the report", async () => {
    const { counterId, events } = await soundCounter();
    const tsx = resolve("node_modules/.bin/tsx");
    const environment = { ...process.env, ...store.environment, COUNTER_ID: counterId };
    const sound = await run(tsx, ["scripts/verify.ts", "--json"], { env: environment });
    expect(JSON.parse(sound.stdout)).toMatchObject({ ok: true, events: LENGTH, ledgerSum: 8 });
    await updateLedgerEvent(eventOf(events, 9), { delta: -1 });
    const corrupted = await run(tsx, ["scripts/verify.ts"], { env: environment }).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect("code" in corrupted ? corrupted.code : 0).toBe(1);
    expect(corrupted.stdout).toContain("deltaInvalid at version 9");
  });

  it("npm run verify -- --url --token asks a running system (AUTH on), with the same exit status", async () => {
    const { counterId } = await soundCounter();
    const environment = { ...store.environment, AUTH: "on", COUNTER_ID: counterId, LOG_LEVEL: "silent" };
    const directory = await mkdtemp(join(tmpdir(), "verify-test-"));
    const system = await startLocalSystem({ environment, port: 0, dataDirectory: directory });
    try {
      const tsx = resolve("node_modules/.bin/tsx");
      const env = { ...process.env, ...environment };
      const anonymous = await run(tsx, ["scripts/verify.ts", "--url", system.url], { env }).catch(
        (error: { code: number; stderr: string }) => error,
      );
      expect("code" in anonymous ? anonymous.code : 0, "no token: could not verify").toBe(2);
      expect(anonymous.stderr).toMatch(/401: it needs --token/);
      const writer = await tokenFor(system.url, "alice");
      const refused = await run(tsx, ["scripts/verify.ts", "--url", system.url, "--token", writer], {
        env,
      }).catch((error: { code: number; stderr: string }) => error);
      expect("code" in refused ? refused.code : 0, "a writer's token: could not verify").toBe(2);
      expect(refused.stderr).toMatch(/403: it needs --token/);

      const auditor = await tokenFor(system.url, "audrey", "counter:audit");
      const sound = await run(tsx, ["scripts/verify.ts", "--url", system.url, "--token", auditor], { env });
      expect(sound.stdout).toContain(`events      ${LENGTH}`);
      const events = await growCounter(store, counterId, LENGTH + 6, { from: LENGTH + 1 });
      await updateLedgerEvent(eventOf(events, LENGTH + 3), { valueAfter: 99 });
      const corrupted = await run(
        tsx,
        ["scripts/verify.ts", "--json", "--url", system.url, `--token=${auditor}`],
        { env },
      ).catch((error: { code: number; stdout: string }) => error);
      expect("code" in corrupted ? corrupted.code : 0).toBe(1);
      const report = JSON.parse(corrupted.stdout) as VerificationReport;
      expect(versionsOf(report, "valueAfterWrong")).toEqual([LENGTH + 3]);
    } finally {
      await system.stop();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
