// The API's checkpointed verification against DynamoDB Local (docs/architecture.md#checkpointed-verification):
// the checkpoint moves only after a sound check, never backwards, and never past an audit entry still owed;
// the API does not re-check what lies before it (the CLI's full replay does) but finds a corruption after it
// with its version; a capped check goes on where it stopped; and one verification runs at a time per counter —
// within one handler (single flight) and across two handlers sharing the table (two Lambdas: the lease) — the
// others answering the last result instead of replaying.

import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../../contract/schemas";
import {
  advanceCheckpoint,
  CHECKPOINT_ENTRY,
  LEASE_ENTRY,
  readCheckpoint,
} from "../../../services/ledger/storage/checkpoint";
import { verifyLedger } from "../../../services/ledger/storage/replay";
import { LEDGER, READ_MODEL } from "../../../services/ledger/storage/tables";
import {
  createVerifyQuery,
  VERIFY_PASSED_MESSAGE,
  VERIFY_VIOLATIONS_MESSAGE,
  type VerifyDependencies,
} from "../../../services/query/verify";
import type { LogLine } from "../../../services/ledger/log";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { createTestStore, type TestStore } from "../../support/store";
import {
  eventOf,
  growCounter,
  LENGTH,
  smallPagesClient,
  soundCounter,
  updateLedgerEvent,
  versionsOf,
} from "./corruption";

let store: TestStore;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
});

/** The store's client, counting the ledger Queries sent through it: each replay reads the byVersion index. */
function countingClient(): { client: VerifyDependencies["client"]; ledgerQueries: () => number } {
  let queries = 0;
  return {
    client: {
      send: ((command: unknown) => {
        if (command instanceof QueryCommand && command.input.IndexName === LEDGER.byVersionIndex.name) {
          queries++;
        }
        return store.client.send(command as QueryCommand);
      }) as VerifyDependencies["client"]["send"],
    },
    ledgerQueries: () => queries,
  };
}

interface Handler {
  readonly verify: () => Promise<VerifyReport>;
  readonly ledgerQueries: () => number;
}

/** One handler's GET /number/verify (one Lambda's execution environment), on the shared test tables. */
function handlerFor(counterId: string, options: Partial<VerifyDependencies> = {}): Handler {
  const { client, ledgerQueries } = countingClient();
  const query = createVerifyQuery({
    client,
    config: { ...store.config, counterId },
    sleep: () => new Promise((wake) => setTimeout(wake, 5)),
    ...options,
  });
  return {
    verify: async () => {
      const response = await query();
      expect(response.statusCode).toBe(200);
      return JSON.parse(response.body ?? "") as VerifyReport;
    },
    ledgerQueries,
  };
}

/** A gate a verification waits at once it holds the lease: the test opens it when the others have asked. */
function gate(): { wait: () => Promise<void>; open: () => void; reached: Promise<void> } {
  let open = (): void => undefined;
  let arrive = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  return {
    wait: () => {
      arrive();
      return opened;
    },
    open,
    reached,
  };
}

function fullReplay(counterId: string) {
  return verifyLedger({
    client: store.client,
    tables: store.config.tables,
    counterId,
    bounds: store.config.bounds,
  });
}

describe("the verify checkpoint", () => {
  it("logs each completed verification by the phrase the alarms count: passed, or violations at error", async () => {
    const lines: LogLine[] = [];
    const log = (line: LogLine): void => void lines.push(line);
    const sound = await soundCounter(store, { prefix: "checkpoint-log" });
    await handlerFor(sound.counterId, { log }).verify();
    expect(lines).toEqual([
      expect.objectContaining({ level: "info", message: VERIFY_PASSED_MESSAGE, checkedTo: LENGTH }),
    ]);
    const broken = await soundCounter(store, { prefix: "checkpoint-log-broken" });
    await updateLedgerEvent(store, eventOf(broken.events, 3), { delta: -1 });
    await handlerFor(broken.counterId, { log }).verify();
    expect(lines.slice(1)).toEqual([
      expect.objectContaining({ level: "error", message: VERIFY_VIOLATIONS_MESSAGE }),
    ]);
    expect(lines[1]!.problems).toBeGreaterThan(0);
  });

  it("moves after a sound check to the last version, with its value, sum and event", async () => {
    const { counterId, events } = await soundCounter(store, { prefix: "checkpoint" });
    expect(await readCheckpoint(store.client, store.config.tables, counterId)).toBeUndefined();
    const report = await handlerFor(counterId).verify();
    expect(report).toMatchObject({ ok: true, checkedFrom: 1, checkedTo: LENGTH, more: false });
    expect(report.checkpointVersion).toBe(LENGTH);
    const last = eventOf(events, LENGTH);
    expect(await readCheckpoint(store.client, store.config.tables, counterId)).toEqual({
      version: LENGTH,
      value: last.valueAfter,
      ledgerSum: last.valueAfter,
      eventId: last.eventId,
      hash: (last as { hash?: string }).hash,
      verifiedAt: report.verifiedAt,
    });
    // Nothing new: nothing replayed, the checkpoint stays.
    const again = await handlerFor(counterId).verify();
    expect(again).toMatchObject({ ok: true, events: 0, checkedFrom: LENGTH + 1, checkedTo: LENGTH });
    expect(again.checkpointVersion).toBe(LENGTH);
    expect(again.ledgerSum).toBe(report.ledgerSum);
  });

  it("does not move after a check that found a violation", async () => {
    const { counterId } = await soundCounter(store, { prefix: "checkpoint" });
    await handlerFor(counterId).verify();
    const events = await growCounter(store, counterId, LENGTH + 6, { from: LENGTH + 1 });
    await updateLedgerEvent(store, eventOf(events, LENGTH + 4), { delta: 5 });
    const report = await handlerFor(counterId).verify();
    expect(report.ok).toBe(false);
    expect(versionsOf(report, "deltaInvalid")).toEqual([LENGTH + 4]);
    expect(report.checkpointVersion).toBe(LENGTH);
    expect((await readCheckpoint(store.client, store.config.tables, counterId))?.version).toBe(LENGTH);
  });

  it("never moves backwards, whoever writes it", async () => {
    const { counterId } = await soundCounter(store, { prefix: "checkpoint" });
    await handlerFor(counterId).verify();
    const at = await readCheckpoint(store.client, store.config.tables, counterId);
    expect(at?.version).toBe(LENGTH);
    const behind = {
      version: 3,
      value: 3,
      ledgerSum: 3,
      eventId: "x",
      hash: null,
      verifiedAt: at!.verifiedAt,
    };
    expect(await advanceCheckpoint(store.client, store.config.tables, counterId, behind)).toBe(false);
    expect(await advanceCheckpoint(store.client, store.config.tables, counterId, at!)).toBe(false);
    expect(await readCheckpoint(store.client, store.config.tables, counterId)).toEqual(at);
  });

  it("stops before an audit entry the projector still owes, and checks it on a later call", async () => {
    const { counterId } = await soundCounter(store, { prefix: "checkpoint", projectedUpTo: 7 });
    const lagging = await handlerFor(counterId).verify();
    expect(lagging).toMatchObject({ ok: true, checkedTo: LENGTH, lag: { versions: 5, auditEntries: 5 } });
    expect(lagging.checkpointVersion).toBe(7);
    await growCounter(store, counterId, LENGTH, { from: 8 });
    const caughtUp = await handlerFor(counterId).verify();
    expect(caughtUp).toMatchObject({ ok: true, checkedFrom: 8, checkedTo: LENGTH, events: LENGTH - 7 });
    expect(caughtUp.checkpointVersion).toBe(LENGTH);
  });

  it("leaves corruption before it to the full replay, and finds corruption after it with its version", async () => {
    const { counterId } = await soundCounter(store, { prefix: "checkpoint" });
    await handlerFor(counterId).verify();
    const events = await growCounter(store, counterId, LENGTH + 6, { from: LENGTH + 1 });
    await updateLedgerEvent(store, eventOf(events, 5), { delta: -1 });
    const before = await handlerFor(counterId).verify();
    // Documented (docs/architecture.md#checkpointed-verification): the API does not re-check below its checkpoint.
    expect(before).toMatchObject({ ok: true, checkedFrom: LENGTH + 1, checkedTo: LENGTH + 6 });
    expect(versionsOf(await fullReplay(counterId), "deltaInvalid")).toEqual([5]);

    const more = await growCounter(store, counterId, LENGTH + 12, { from: LENGTH + 7 });
    await updateLedgerEvent(store, eventOf(more, LENGTH + 9), { valueAfter: 999 });
    const after = await handlerFor(counterId).verify();
    expect(after.ok).toBe(false);
    expect(versionsOf(after, "valueAfterWrong")).toEqual([LENGTH + 9]);
    expect(after.checkedFrom).toBe(LENGTH + 7);
  });
});

describe("a capped check", () => {
  it("says how far it got, and the next call goes on from there; the aggregate is checked by the last", async () => {
    const { counterId } = await soundCounter(store, { prefix: "capped" });
    const handler = handlerFor(counterId, { eventsMax: 5 });
    const reports = [await handler.verify(), await handler.verify(), await handler.verify()];
    expect(reports.map(({ checkedFrom, checkedTo, more }) => [checkedFrom, checkedTo, more])).toEqual([
      [1, 5, true],
      [6, 10, true],
      [11, LENGTH, false],
    ]);
    expect(reports.map((report) => report.checkpointVersion)).toEqual([5, 10, LENGTH]);
    expect(reports.every((report) => report.ok && report.aggregate.version === LENGTH)).toBe(true);
    expect(reports.map((report) => report.events)).toEqual([5, 5, 2]);
  });

  it("reports a corruption in its range with its version, and again on the next call, never passing it", async () => {
    const { counterId, events } = await soundCounter(store, { prefix: "capped" });
    await updateLedgerEvent(store, eventOf(events, 8), { delta: -1 });
    const handler = handlerFor(counterId, { eventsMax: 5 });
    expect(await handler.verify()).toMatchObject({ ok: true, checkedTo: 5, checkpointVersion: 5 });
    for (let call = 0; call < 2; call++) {
      const report = await handler.verify();
      expect(report).toMatchObject({
        ok: false,
        checkedFrom: 6,
        checkedTo: 10,
        more: true,
        checkpointVersion: 5,
      });
      expect(versionsOf(report, "deltaInvalid")).toEqual([8]);
      // The aggregate is not judged on a part of the ledger.
      expect(versionsOf(report, "aggregateValue")).toEqual([]);
    }
  });

  it("checks the aggregate on the call that reaches it", async () => {
    const { counterId } = await soundCounter(store, { prefix: "capped" });
    await store.client.send(
      new PutCommand({
        TableName: store.config.tables.counters,
        Item: { counterId, value: 99, version: LENGTH },
      }),
    );
    const handler = handlerFor(counterId, { eventsMax: 5 });
    expect((await handler.verify()).ok).toBe(true);
    expect((await handler.verify()).ok).toBe(true);
    const last = await handler.verify();
    expect(versionsOf(last, "aggregateValue")).toEqual([LENGTH]);
    expect(last.checkpointVersion).toBe(10);
  });
});

describe("a check at its deadline", () => {
  it("stops after the page it is on, says how far it got, and the next call goes on from there", async () => {
    const { counterId } = await soundCounter(store, { prefix: "deadline" });
    // Pages of 5 events, and a deadline already passed when the replay starts: it reads one page each call.
    const verify = createVerifyQuery({
      client: smallPagesClient(store, 5),
      config: { ...store.config, counterId },
      deadlineMs: 0,
    });
    const reports: VerifyReport[] = [];
    for (let call = 0; call < 3; call++) {
      const response = await verify();
      expect(response.statusCode).toBe(200);
      reports.push(JSON.parse(response.body ?? "") as VerifyReport);
    }
    expect(reports.map(({ checkedFrom, checkedTo, more }) => [checkedFrom, checkedTo, more])).toEqual([
      [1, 5, true],
      [6, 10, true],
      [11, LENGTH, false],
    ]);
    expect(reports.map((report) => report.checkpointVersion)).toEqual([5, 10, LENGTH]);
    // The audit entries beyond the page it stopped at are the next call's, not extra ones.
    expect(reports.every((report) => report.ok && report.problems.length === 0)).toBe(true);
  });

  it("without a deadline reached, reads every page in one call", async () => {
    const { counterId } = await soundCounter(store, { prefix: "deadline" });
    const verify = createVerifyQuery({
      client: smallPagesClient(store, 5),
      config: { ...store.config, counterId },
    });
    const report = JSON.parse((await verify()).body ?? "") as VerifyReport;
    expect(report).toMatchObject({ ok: true, checkedFrom: 1, checkedTo: LENGTH, more: false });
  });
});

describe("one verification at a time per counter", () => {
  it("within a handler: a second request while one runs answers the last result, not a second replay", async () => {
    const { counterId } = await soundCounter(store, { prefix: "flight" });
    const held = gate();
    let holding = false;
    const handler = handlerFor(counterId, { onLeaseHeld: () => (holding ? held.wait() : Promise.resolve()) });
    const first = await handler.verify();
    const queriesAfterFirst = handler.ledgerQueries();
    await growCounter(store, counterId, LENGTH + 3, { from: LENGTH + 1 });
    holding = true;
    const running = handler.verify();
    await held.reached;
    const meanwhile = await Promise.all([handler.verify(), handler.verify()]);
    expect(meanwhile).toEqual([
      { ...first, fromLastResult: true },
      { ...first, fromLastResult: true },
    ]);
    expect(handler.ledgerQueries()).toBe(queriesAfterFirst);
    held.open();
    const second = await running;
    expect(second).toMatchObject({
      ok: true,
      fromLastResult: false,
      checkedFrom: LENGTH + 1,
      checkedTo: LENGTH + 3,
    });
  });

  it("within a handler, before any result: the second request shares the running one's", async () => {
    const { counterId } = await soundCounter(store, { prefix: "flight" });
    const held = gate();
    const handler = handlerFor(counterId, { onLeaseHeld: held.wait });
    const running = handler.verify();
    await held.reached;
    const second = handler.verify();
    held.open();
    const [one, two] = await Promise.all([running, second]);
    expect(two).toEqual(one);
    expect(one).toMatchObject({ ok: true, fromLastResult: false, checkedTo: LENGTH });
  });

  it("across two handlers sharing the table (two Lambdas): the lease; the other answers the last result", async () => {
    const { counterId } = await soundCounter(store, { prefix: "lease" });
    const held = gate();
    let holding = false;
    const lambdaA = handlerFor(counterId, { onLeaseHeld: () => (holding ? held.wait() : Promise.resolve()) });
    const lambdaB = handlerFor(counterId);
    const first = await lambdaA.verify();
    await growCounter(store, counterId, LENGTH + 3, { from: LENGTH + 1 });
    holding = true;
    const running = lambdaA.verify();
    await held.reached;
    const fromB = await lambdaB.verify();
    expect(fromB).toEqual({ ...first, fromLastResult: true });
    expect(lambdaB.ledgerQueries()).toBe(0);
    held.open();
    expect(await running).toMatchObject({ ok: true, checkedTo: LENGTH + 3, fromLastResult: false });
    // The lease is free again: B now verifies itself (nothing new since A's check).
    const own = await lambdaB.verify();
    expect(own).toMatchObject({ ok: true, fromLastResult: false, events: 0, checkpointVersion: LENGTH + 3 });
  });

  it("across two handlers, before any result: the other waits for the first result instead of replaying", async () => {
    const { counterId } = await soundCounter(store, { prefix: "lease" });
    const held = gate();
    let polls = 0;
    const lambdaA = handlerFor(counterId, { onLeaseHeld: held.wait });
    const polled = gate();
    const lambdaB = handlerFor(counterId, {
      sleep: async () => {
        if (++polls === 2) void polled.wait();
        await new Promise((wake) => setTimeout(wake, 5));
      },
    });
    const running = lambdaA.verify();
    await held.reached;
    const fromB = lambdaB.verify();
    await polled.reached;
    held.open();
    const [a, b] = await Promise.all([running, fromB]);
    expect(b).toEqual({ ...a, fromLastResult: true });
    expect(lambdaB.ledgerQueries()).toBe(0);
    expect(polls).toBeGreaterThanOrEqual(2);
  });

  it("takes over a lease whose holder died (expired), and leaves the checkpoint and lease items out of history", async () => {
    const { counterId } = await soundCounter(store, { prefix: "lease" });
    await store.client.send(
      new PutCommand({
        TableName: store.config.tables.readModel,
        Item: {
          [READ_MODEL.partitionKey]: counterId,
          [READ_MODEL.sortKey]: LEASE_ENTRY,
          holder: "a-lambda-that-died",
          expiresAtMs: Date.now() - 1,
        },
      }),
    );
    const report = await handlerFor(counterId).verify();
    expect(report).toMatchObject({ ok: true, fromLastResult: false, checkpointVersion: LENGTH });
    const lease = await store.client.send(
      new GetCommand({
        TableName: store.config.tables.readModel,
        Key: { [READ_MODEL.partitionKey]: counterId, [READ_MODEL.sortKey]: LEASE_ENTRY },
      }),
    );
    expect(lease.Item?.holder).toBeUndefined();
    expect(JSON.parse(String(lease.Item?.lastResult))).toEqual(report);
    // The audit trail the full replay reads starts at entry 1: the items at -1 and -2 are not audit entries.
    expect(CHECKPOINT_ENTRY).toBeLessThan(READ_MODEL.stateEntry);
    expect((await fullReplay(counterId)).problems).toEqual([]);
  });
});
