// Fills a counter's ledger, its audit trail, its projected state and its aggregate with real, chained events
// — the very items the committer and the projector write (createEvent, auditEntryOf), each event linked after
// the one before it — through BatchWriteItem, several requests in flight, instead of the command path's
// transactions: for the large ledgers that the bench measures verification and proofs on, and that storage
// tests need (through transactions, bench/ceiling.ts, a 1 000 000-event ledger takes a quarter of an hour here).
// What it writes is sound (I1–I3, I5, I7). It bypasses the command path's guards: only for tables of one's own.

import { BatchWriteCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ChainedState } from "../services/command/transaction";
import { GENESIS_HEAD } from "../services/ledger/domain/chain";
import type { LedgerConfig } from "../services/ledger/config";
import { auditEntryOf } from "../services/ledger/domain/audit";
import { decide, evolve } from "../services/ledger/domain/decider";
import { createEvent, type CurrentLedgerEvent } from "../services/ledger/domain/event";
import { ANONYMOUS_ACTOR } from "../services/ledger/http/caller";
import { COUNTERS, READ_MODEL } from "../services/ledger/storage/tables";

/** DynamoDB's limit of items per BatchWriteItem. */
const BATCH_ITEMS_MAX = 25;
/** BatchWriteItem requests in flight: enough to keep DynamoDB Local's threads busy. */
const REQUESTS_IN_FLIGHT = 8;
/** Events decided and hashed ahead of the writes (a bound on memory, not a tuning knob). */
const EVENTS_PER_ROUND = REQUESTS_IN_FLIGHT * BATCH_ITEMS_MAX;
const UNPROCESSED_RETRIES_MAX = 20;

type Item = Record<string, unknown>;

async function batchWrite(client: DynamoDBDocumentClient, table: string, items: readonly Item[]) {
  let requests = items.map((item) => ({ PutRequest: { Item: item } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > UNPROCESSED_RETRIES_MAX) throw new Error("the seeder's batch writes were not processed");
    if (attempt > 0) await new Promise((wake) => setTimeout(wake, 10 * attempt));
    const output = await client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
    requests = (output.UnprocessedItems?.[table] ?? []) as typeof requests;
  }
}

/** The idempotency key of the seeded event at `version` (its actor is the anonymous one). */
export function seedKeyOf(version: number): string {
  return `seed-${version}`;
}

/** The next `count` increments after `state`, decided and chained as the committer would. */
export function nextEvents(config: LedgerConfig, state: ChainedState, count: number) {
  const events: CurrentLedgerEvent[] = [];
  const at = new Date();
  let next = state;
  for (let index = 0; index < count; index++) {
    const decision = decide("increment", next, config.bounds);
    if (decision.kind !== "applied") throw new Error("the seeder reached the counter's bound");
    const command = {
      action: "increment" as const,
      counterId: config.counterId,
      idempotencyKey: seedKeyOf(next.version + 1),
      actor: ANONYMOUS_ACTOR,
      requestFingerprint: "seed",
      requestId: "seed",
    };
    const event = createEvent(command, decision.change, at, next.head.hash);
    events.push(event);
    next = { ...evolve(next, decision.change), head: { version: event.version, hash: event.hash } };
  }
  return { events, next };
}

/** The aggregate and the projected state items at the last event: what the command path and the projector leave. */
export function headItemsOf(config: LedgerConfig, last: CurrentLedgerEvent) {
  return {
    aggregate: {
      [COUNTERS.partitionKey]: config.counterId,
      value: last.valueAfter,
      version: last.version,
      updatedAt: last.at,
      lastEventId: last.eventId,
      headVersion: last.version,
      headHash: last.hash,
    },
    projected: {
      [READ_MODEL.partitionKey]: config.counterId,
      [READ_MODEL.sortKey]: READ_MODEL.stateEntry,
      value: last.valueAfter,
      version: last.version,
      at: last.at,
      eventId: last.eventId,
    },
  };
}

async function writeHeads(client: DynamoDBDocumentClient, config: LedgerConfig, last: CurrentLedgerEvent) {
  const { aggregate, projected } = headItemsOf(config, last);
  await client.send(new PutCommand({ TableName: config.tables.counters, Item: aggregate }));
  await client.send(new PutCommand({ TableName: config.tables.readModel, Item: projected }));
}

/**
 * Appends `events` increments after `from` (a new counter by default) to the ledger and the audit trail, then
 * sets the aggregate and the projected state to the last of them; `onProgress` gets the events written so far.
 * Answers the state after the last event.
 */
export async function seedLedger(
  client: DynamoDBDocumentClient,
  config: LedgerConfig,
  events: number,
  options: { from?: ChainedState; onProgress?: (written: number) => void } = {},
): Promise<ChainedState> {
  let state = options.from ?? { value: config.bounds.min, version: 0, head: GENESIS_HEAD };
  let last: CurrentLedgerEvent | undefined;
  for (let written = 0; written < events;) {
    const { events: round, next } = nextEvents(config, state, Math.min(EVENTS_PER_ROUND, events - written));
    const writes: Promise<void>[] = [];
    for (let start = 0; start < round.length; start += BATCH_ITEMS_MAX) {
      const chunk = round.slice(start, start + BATCH_ITEMS_MAX);
      writes.push(batchWrite(client, config.tables.ledger, chunk));
      writes.push(batchWrite(client, config.tables.readModel, chunk.map(auditEntryOf)));
    }
    await Promise.all(writes);
    written += round.length;
    state = next;
    last = round.at(-1) ?? last;
    options.onProgress?.(written);
  }
  if (last !== undefined) await writeHeads(client, config, last);
  return state;
}
