// Shared by the projection tests: arbitrary ledgers made with the real domain, written straight into the
// ledger and counters tables, and the stream records of their INSERTs in the real event shape
// (tests/fixtures/aws-events/dynamodb-stream-insert-modify.json). Nothing here stands in for DynamoDB.

import { BatchWriteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import {
  decide,
  evolve,
  initialState,
  type Action,
  type Bounds,
  type CounterState,
} from "../../services/ledger/domain/decider";
import { GENESIS_HASH } from "../../services/ledger/domain/chain";
import { createEvent, type CurrentLedgerEvent } from "../../services/ledger/domain/event";
import { requestFingerprint } from "../../services/ledger/domain/fingerprint";
import { ANONYMOUS_ACTOR } from "../../services/ledger/http/caller";
import { ALICE, BOB, actorOfClaims } from "../../testkit/claims";
import { READ_MODEL } from "../../services/ledger/storage/tables";
import { readFixture } from "./fixtures";
import type { TestStore } from "./store";

const streamEvent = readFixture<DynamoDBStreamEvent>("dynamodb-stream-insert-modify.json");

/** Who makes the events of `ledgerOf`, in turn: two users and the anonymous actor of AUTH=off. */
export const LEDGER_ACTORS = [actorOfClaims(ALICE), actorOfClaims(BOB), ANONYMOUS_ACTOR] as const;

/** The events the domain decides for these actions from a new counter; refused actions leave no event. */
export function ledgerOf(
  counterId: string,
  actions: readonly Action[],
  bounds: Bounds,
  firstCommitMs = Date.parse("2026-01-01T00:00:00.000Z"),
): { events: CurrentLedgerEvent[]; state: CounterState } {
  const events: CurrentLedgerEvent[] = [];
  let state = initialState(bounds);
  for (const [index, action] of actions.entries()) {
    const decision = decide(action, state, bounds);
    if (decision.kind !== "applied") continue;
    const idempotencyKey = `key-${index}`;
    const command = {
      action,
      counterId,
      idempotencyKey,
      actor: LEDGER_ACTORS[index % LEDGER_ACTORS.length]!,
      requestFingerprint: requestFingerprint(action),
      requestId: `request-${index}`,
    };
    const previousHash = events.at(-1)?.hash ?? GENESIS_HASH;
    const event = createEvent(
      command,
      decision.change,
      new Date(firstCommitMs + index * 1_000),
      previousHash,
    );
    events.push(event);
    state = evolve(state, decision.change);
  }
  return { events, state };
}

/** Writes ledger items as they are (sound or deliberately broken) and the aggregate. */
export async function writeLedger(
  store: TestStore,
  counterId: string,
  items: readonly Record<string, unknown>[],
  aggregate: CounterState & { lastEventId?: string },
): Promise<void> {
  for (let start = 0; start < items.length; start += 25) {
    const chunk = items.slice(start, start + 25);
    await store.client.send(
      new BatchWriteCommand({
        RequestItems: { [store.config.tables.ledger]: chunk.map((item) => ({ PutRequest: { Item: item } })) },
      }),
    );
  }
  const last = items.at(-1);
  await store.client.send(
    new PutCommand({
      TableName: store.config.tables.counters,
      Item: {
        counterId,
        value: aggregate.value,
        version: aggregate.version,
        updatedAt: typeof last?.at === "string" ? last.at : null,
        lastEventId: aggregate.lastEventId ?? (typeof last?.eventId === "string" ? last.eventId : null),
      },
    }),
  );
}

/** The stream record of a ledger INSERT (or another event name), on the fixture's envelope. */
export function streamRecordOf(
  item: Record<string, unknown>,
  sequenceNumber: number | bigint,
  eventName: "INSERT" | "MODIFY" | "REMOVE" = "INSERT",
): DynamoDBRecord {
  const template = streamEvent.Records[0];
  if (template === undefined) throw new Error("the stream fixture has no record");
  const image = marshall(item) as unknown as Record<string, AttributeValue>;
  const at = typeof item.at === "string" ? Date.parse(item.at) : Date.now();
  return {
    ...template,
    eventID: `event-${sequenceNumber}`,
    eventName,
    eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/ledger/stream/2026-01-01T00:00:00.000",
    dynamodb: {
      ...template.dynamodb,
      // Rounded down to the minute, as DynamoDB Local does: nothing may rely on it.
      ApproximateCreationDateTime: Math.floor(at / 60_000) * 60,
      Keys: { eventId: image.eventId ?? { S: "unknown" } },
      NewImage: image,
      SequenceNumber: String(sequenceNumber).padStart(21, "0"),
      SizeBytes: JSON.stringify(item).length,
      StreamViewType: "NEW_IMAGE",
    },
  };
}

/** A counter's audit entries in version order (consistent read). */
export async function readAuditTrail(
  store: TestStore,
  counterId: string,
): Promise<Record<string, unknown>[]> {
  const entries: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.client.send(
      new QueryCommand({
        TableName: store.config.tables.readModel,
        KeyConditionExpression: "#counterId = :counterId AND #entry > :state",
        ExpressionAttributeNames: { "#counterId": READ_MODEL.partitionKey, "#entry": READ_MODEL.sortKey },
        ExpressionAttributeValues: { ":counterId": counterId, ":state": READ_MODEL.stateEntry },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    entries.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return entries;
}

/** Polls until the check passes or the time is up; answers the last value seen. */
export async function eventually<T>(
  read: () => Promise<T>,
  passes: (value: T) => boolean,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (passes(value) || Date.now() > deadline) return value;
    await new Promise((wake) => setTimeout(wake, intervalMs));
  }
}
