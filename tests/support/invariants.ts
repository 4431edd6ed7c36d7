// An independent check of invariants I1–I3 and I7 on the real tables, for property tests. It reads the ledger
// with a consistent scan and recomputes everything itself: it deliberately shares no code with the
// production replay, so that a bug there cannot hide a bug here.

import { createHash } from "node:crypto";
import { ScanCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import type { TestStore } from "./store";

interface ChainHead {
  readonly version: number;
  readonly hash: string;
}

/** JSON with keys sorted at every depth, no whitespace: docs/architecture.md#the-hash-chain, written anew. */
function sortedJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${sortedJson(record[key])}`).join(",")}}`;
}

/** The hash the documented encoding gives an event linked after `previousHash`. */
function documentedHash(event: Record<string, unknown>, previousHash: string): string {
  const { hash: _hash, ...fields } = event;
  const canonical = sortedJson({ ...fields, previousHash });
  return createHash("sha256").update(`counter-ledger/event/1\n${canonical}`).digest("hex");
}

export interface StoredEvent {
  eventId: string;
  counterId: string;
  idempotencyKey: string;
  version: number;
  action: "increment" | "decrement";
  delta: number;
  valueBefore: number;
  valueAfter: number;
  requestFingerprint: string;
  /** Schema version 2 on: who made the event (absent on version 1 events). */
  actor?: { sub: string; name: string };
}

export async function readLedger(
  store: TestStore,
  counterId = store.config.counterId,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.client.send(
      new ScanCommand({
        TableName: store.config.tables.ledger,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      if (item.counterId === counterId) events.push(item as StoredEvent);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return events.sort((left, right) => left.version - right.version);
}

export async function readAggregateItem(
  store: TestStore,
  counterId = store.config.counterId,
): Promise<{ value: number; version: number }> {
  const { value, version } = await readAggregateWithHead(store, counterId);
  return { value, version };
}

/** The aggregate with the chain head it records (I7), if it records one. */
async function readAggregateWithHead(
  store: TestStore,
  counterId: string,
): Promise<{ value: number; version: number; head?: ChainHead }> {
  const output = await store.client.send(
    new GetCommand({ TableName: store.config.tables.counters, Key: { counterId }, ConsistentRead: true }),
  );
  const item = output.Item ?? { value: 0, version: 0 };
  return {
    value: Number(item.value),
    version: Number(item.version),
    ...(typeof item.headHash === "string"
      ? { head: { version: Number(item.headVersion), hash: item.headHash } }
      : {}),
  };
}

/**
 * Asserts I1–I3 and I7 and returns the ledger. `baseValue` is the value the aggregate was seeded with before the
 * first event (0 for a real counter; tests near the top bound seed it, since they cannot write a billion events).
 */
export async function expectLedgerInvariants(
  store: TestStore,
  bounds: { min: number; max: number },
  baseValue = 0,
): Promise<{ events: StoredEvent[]; aggregate: { value: number; version: number } }> {
  const events = await readLedger(store);
  const { head: recordedHead, ...aggregate } = await readAggregateWithHead(store, store.config.counterId);
  // I2: versions are exactly 1…n and the aggregate's version is n.
  expect(events.map((event) => event.version)).toEqual(events.map((_, index) => index + 1));
  expect(aggregate.version).toBe(events.length);
  // I3: each event starts where the previous ended, adds its delta, and stays in bounds.
  let previous = baseValue;
  for (const event of events) {
    expect(event.valueBefore, `valueBefore at version ${event.version}`).toBe(previous);
    expect(event.valueAfter, `valueAfter at version ${event.version}`).toBe(event.valueBefore + event.delta);
    expect(event.delta).toBe(event.action === "increment" ? 1 : -1);
    expect(event.valueAfter).toBeGreaterThanOrEqual(bounds.min);
    expect(event.valueAfter).toBeLessThanOrEqual(bounds.max);
    previous = event.valueAfter;
  }
  // I1: the aggregate is the sum of the deltas.
  const sum = events.reduce((total, event) => total + event.delta, 0);
  expect(aggregate.value).toBe(baseValue + sum);
  // One event per idempotency key (the table key guarantees it; checked all the same).
  expect(new Set(events.map((event) => event.eventId)).size).toBe(events.length);
  // I7: every event links onto the one before it, its hash is that of its contents, the aggregate names the head.
  let head = "0".repeat(64);
  for (const event of events) {
    const item = event as unknown as Record<string, unknown>;
    expect(item.previousHash, `previousHash at version ${event.version}`).toBe(head);
    head = documentedHash(item, head);
    expect(item.hash, `hash at version ${event.version}`).toBe(head);
  }
  if (events.length > 0)
    expect(recordedHead, "the aggregate's chain head").toEqual({ version: events.length, hash: head });
  return { events, aggregate };
}
