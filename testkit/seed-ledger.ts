// Fills a counter's ledger fast, for benches and storage tests that need many events: real chained events
// (createEvent, the command path's own), written with BatchWriteItem rather than one transaction per batch, and
// the aggregate moved to the new head. It bypasses the command path's guards: only for tables of one's own.

import {
  BatchWriteCommand,
  PutCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import type { ChainHead } from "../services/ledger/domain/chain";
import { createEvent } from "../services/ledger/domain/event";
import type { LedgerConfig } from "../services/ledger/config";
import { ANONYMOUS_ACTOR } from "../services/ledger/http/caller";

const BATCH_ITEMS_MAX = 25;
const BATCHES_IN_FLIGHT = 8;

/** Appends `count` chained events after `head` with BatchWriteItem, then moves the aggregate to the new head. */
export async function appendEvents(
  client: DynamoDBDocumentClient,
  config: LedgerConfig,
  head: ChainHead,
  count: number,
): Promise<ChainHead> {
  const at = new Date();
  let next = head;
  const items = [];
  for (let index = 0; index < count; index += 1) {
    const version = next.version + 1;
    const change = {
      action: "increment" as const,
      delta: 1 as const,
      version,
      valueBefore: version - 1,
      valueAfter: version,
    };
    const command = {
      action: "increment" as const,
      counterId: config.counterId,
      idempotencyKey: `proof-${version}`,
      actor: ANONYMOUS_ACTOR,
      requestFingerprint: "bench",
      requestId: "bench",
    };
    const event = createEvent(command, change, at, next.hash);
    items.push(event);
    next = { version, hash: event.hash };
  }
  const batches = [];
  for (let offset = 0; offset < items.length; offset += BATCH_ITEMS_MAX)
    batches.push(items.slice(offset, offset + BATCH_ITEMS_MAX));
  for (let offset = 0; offset < batches.length; offset += BATCHES_IN_FLIGHT) {
    await Promise.all(
      batches.slice(offset, offset + BATCHES_IN_FLIGHT).map(async (batch) => {
        type Requests = NonNullable<BatchWriteCommandInput["RequestItems"]>[string];
        let requests: Requests | undefined = batch.map((item) => ({ PutRequest: { Item: item } }));
        while (requests !== undefined && requests.length > 0) {
          const output: BatchWriteCommandOutput = await client.send(
            new BatchWriteCommand({ RequestItems: { [config.tables.ledger]: requests } }),
          );
          requests = output.UnprocessedItems?.[config.tables.ledger];
        }
      }),
    );
  }
  await client.send(
    new PutCommand({
      TableName: config.tables.counters,
      Item: {
        counterId: config.counterId,
        value: next.version,
        version: next.version,
        updatedAt: at.toISOString(),
        lastEventId: items[items.length - 1]?.eventId ?? null,
        headVersion: next.version,
        headHash: next.hash,
      },
    }),
  );
  return next;
}
