// The hash chain (I7) on DynamoDB Local, written by the real committer. What the issue found: a past event
// turned into its opposite with every later value, hash and the aggregate fixed up to match — and a rollback of
// the tail with the aggregate set back — both pass a replay of the ledger alone; both are found against a head
// a digest committed to earlier. And a ledger from before the chain gets its head caught up, once, by the next
// command, so the chain covers it too.

import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { chainedHashOf, GENESIS_HASH, type ChainHead } from "../../services/ledger/domain/chain";
import type { Action } from "../../services/ledger/domain/decider";
import type { LedgerEvent } from "../../services/ledger/domain/event";
import { requestFingerprint } from "../../services/ledger/domain/fingerprint";
import { verifyLedger } from "../../services/ledger/storage/replay";
import { LedgerReader } from "../../services/ledger/storage/store";
import { COUNTERS, LEDGER } from "../../services/ledger/storage/tables";
import { ALICE, BOB, actorOfClaims } from "../../testkit/claims";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";
import { ledgerOf, writeLedger } from "../support/ledger-fixtures";
import { readLedger } from "../support/invariants";
import { createTestStore, type TestStore } from "../support/store";

let store: TestStore;
let serial = 0;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
});

/** `count` commands through the real committer, alternating alice and bob, on a counter of its own. */
async function committedCounter(count: number): Promise<{ counterId: string; heads: ChainHead[] }> {
  const counterId = `chain-${++serial}`;
  const committer = new Committer({ client: store.client, config: { ...store.config, counterId } });
  const reader = new LedgerReader(store.client, store.config.tables, store.config.bounds);
  const heads: ChainHead[] = [];
  for (let index = 0; index < count; index++) {
    const action: Action = index % 4 === 3 ? "decrement" : "increment";
    const outcome = await committer.commit({
      action,
      counterId,
      idempotencyKey: `key-${index}`,
      actor: actorOfClaims(index % 2 === 0 ? ALICE : BOB),
      requestFingerprint: requestFingerprint(action),
      requestId: `request-${index}`,
    });
    expect(outcome.kind).toBe("applied");
    heads.push((await reader.readAggregate(counterId)).head);
  }
  return { counterId, heads };
}

function verify(counterId: string, trustedHeads?: readonly ChainHead[]) {
  return verifyLedger({
    client: store.client,
    tables: store.config.tables,
    counterId,
    bounds: store.config.bounds,
    trustedHeads,
  });
}

function kinds(report: Awaited<ReturnType<typeof verify>>): { kind: string; version?: number }[] {
  return report.problems.map(({ kind, version }) => ({ kind, version }));
}

/** The events of one counter, in version order, as stored. */
async function eventsOf(counterId: string): Promise<Record<string, unknown>[]> {
  const all = await readLedger({ ...store, config: { ...store.config, counterId } });
  return all as unknown as Record<string, unknown>[];
}

async function putAggregate(counterId: string, last: Record<string, unknown>): Promise<void> {
  await store.client.send(
    new PutCommand({
      TableName: store.config.tables.counters,
      Item: {
        [COUNTERS.partitionKey]: counterId,
        value: last.valueAfter,
        version: last.version,
        updatedAt: last.at,
        lastEventId: last.eventId,
        headVersion: last.version,
        headHash: last.hash,
      },
    }),
  );
}

describe("the hash chain on DynamoDB Local", () => {
  it("is written by the committer: each event linked to the one before, the aggregate holding the head", async () => {
    const { counterId, heads } = await committedCounter(6);
    const events = await eventsOf(counterId);
    expect(events.map((event) => event.previousHash)).toEqual([
      GENESIS_HASH,
      ...events.slice(0, -1).map((event) => event.hash),
    ]);
    expect(heads.map((head) => head.hash)).toEqual(events.map((event) => event.hash));
    expect((await verify(counterId)).problems).toEqual([]);
  });

  it("a consistent rewrite passes a replay alone, and is found against an earlier signed head", async () => {
    const { counterId, heads } = await committedCounter(30);
    const signed = heads[19]!; // version 20, as a digest would have signed it
    // The forger turns version 10 into a decrement and fixes up every later value and hash, and the aggregate.
    const events = await eventsOf(counterId);
    let previousHash = events[8]!.hash as string;
    let value = events[8]!.valueAfter as number;
    for (const event of events.slice(9)) {
      const forged: Record<string, unknown> =
        event.version === 10 ? { ...event, action: "decrement", delta: -1 } : { ...event };
      forged.valueBefore = value;
      forged.valueAfter = value + (forged.delta as number);
      forged.previousHash = previousHash;
      forged.hash = chainedHashOf(forged, previousHash);
      value = forged.valueAfter as number;
      previousHash = forged.hash as string;
      await store.client.send(new PutCommand({ TableName: store.config.tables.ledger, Item: forged }));
      Object.assign(event, forged);
    }
    await putAggregate(counterId, events.at(-1)!);
    expect((await verify(counterId)).ok, "undetectable from the ledger alone").toBe(true);
    expect(kinds(await verify(counterId, [heads[5]!, signed]))).toEqual([
      { kind: "digestMismatch", version: 20 },
    ]);
  });

  it("a rollback of the tail with the aggregate set back passes a replay alone, and is found as rolledBack", async () => {
    const { counterId, heads } = await committedCounter(12);
    const events = await eventsOf(counterId);
    for (const event of events.slice(8)) {
      await store.client.send(
        new DeleteCommand({
          TableName: store.config.tables.ledger,
          Key: { [LEDGER.partitionKey]: event.eventId },
        }),
      );
    }
    await putAggregate(counterId, events[7]!);
    expect((await verify(counterId)).ok).toBe(true);
    expect(kinds(await verify(counterId, [heads[11]!]))).toEqual([{ kind: "rolledBack", version: 9 }]);
  });

  it("catches the head of a ledger from before the chain up once, so the chain covers its older events", async () => {
    const counterId = `chain-${++serial}`;
    const { events, state } = ledgerOf(
      counterId,
      ["increment", "increment", "decrement"],
      store.config.bounds,
    );
    const older = events.map(({ previousHash: _previous, hash: _hash, ...event }) => ({
      ...event,
      schemaVersion: 2,
    }));
    await writeLedger(store, counterId, older, state);
    const committer = new Committer({ client: store.client, config: { ...store.config, counterId } });
    const outcome = await committer.commit({
      action: "increment",
      counterId,
      idempotencyKey: "after-the-upgrade",
      actor: actorOfClaims(ALICE),
      requestFingerprint: requestFingerprint("increment"),
      requestId: "request-after",
    });
    expect(outcome.kind).toBe("applied");
    let head = GENESIS_HASH;
    for (const event of older) head = chainedHashOf(event, head);
    expect((outcome as { event: LedgerEvent & { previousHash: string } }).event.previousHash).toBe(head);
    const reader = new LedgerReader(store.client, store.config.tables, store.config.bounds);
    expect((await reader.readAggregate(counterId)).head.version).toBe(4);
    expect((await verify(counterId)).problems).toEqual([]);
    // An older event changed afterwards breaks the link of the first chained one.
    await store.client.send(
      new UpdateCommand({
        TableName: store.config.tables.ledger,
        Key: { [LEDGER.partitionKey]: older[1]!.eventId },
        UpdateExpression: "SET requestId = :forged",
        ExpressionAttributeValues: { ":forged": "forged" },
      }),
    );
    expect(kinds(await verify(counterId))).toEqual([{ kind: "previousHashMismatch", version: 4 }]);
  });
});
