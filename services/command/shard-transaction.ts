// The transactions of an escrow-sharded counter (docs/architecture.md#escrow-shards). A command: its ledger Put
// (the key must be new), one shard Update guarded by the shard's version and by its floor and ceiling, and its
// user's quota Update when a quota applies. A transfer: one ledger Put and one shard Update on each of two
// shards, each guarded by its version and value. It reports what a cancellation means; it never decides or
// retries.

import { TransactionCanceledException, TransactionConflictException } from "@aws-sdk/client-dynamodb";
import {
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { isShardSound, type ShardState } from "../ledger/domain/escrow";
import type { ChainedShard, TransferEvent } from "../ledger/domain/escrow-event";
import { ledgerEventSchema, type CurrentLedgerEvent, type LedgerEvent } from "../ledger/domain/event";
import { StoreUnavailableError } from "../ledger/storage/errors";
import { classifyStoreError } from "../ledger/storage/store";
import { COUNTERS, LEDGER, type TableNames } from "../ledger/storage/tables";
import { quotaUpdate, type QuotaCharge } from "./transaction";

export type ShardWriteResult =
  | { readonly kind: "committed" }
  /** The command's key exists: its stored event when it came back. */
  | { readonly kind: "keyExists"; readonly event: LedgerEvent | undefined }
  /** No key exists, but the user's window lacks room: the count the store holds at least. */
  | { readonly kind: "quotaSpent"; readonly count: number }
  /** A shard moved (another writer) or the transaction conflicted. */
  | { readonly kind: "conflict" };

function ledgerPut(tables: TableNames, item: CurrentLedgerEvent | TransferEvent) {
  return {
    Put: {
      TableName: tables.ledger,
      Item: item,
      ConditionExpression: "attribute_not_exists(#eventId)",
      ExpressionAttributeNames: { "#eventId": LEDGER.partitionKey },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    },
  };
}

/**
 * A shard's Update from `before` to `after`, with its last event. The version must be the expected one and the
 * value `before`'s (only an event moves floor or ceiling, and every event moves the version). A command's
 * Update also holds its new value to the stored floor and ceiling, so the database guards the shard's bound
 * itself; a transfer's holds the stored ceiling to `before`'s. A shard nobody wrote has no item yet, and shard 0
 * of a counter written unsharded has no floor or ceiling (its floor and ceiling are the bounds).
 */
function shardUpdate(
  tables: TableNames,
  before: ChainedShard,
  after: ShardState,
  last: { readonly eventId: string; readonly at: string; readonly hash: string },
) {
  if (!isShardSound(after)) throw new Error(`escrow broken: ${JSON.stringify(after)}`);
  const isCommand = after.ceiling === before.ceiling && after.floor === before.floor;
  const escrowGuard = isCommand
    ? "(attribute_not_exists(#floor) OR #floor <= :after) AND (attribute_not_exists(#ceiling) OR #ceiling >= :after)"
    : "(attribute_not_exists(#ceiling) OR #ceiling = :ceilingBefore)";
  const guard = `#version = :expected AND #value = :before AND ${escrowGuard}`;
  return {
    Update: {
      TableName: tables.counters,
      Key: { [COUNTERS.partitionKey]: before.shardId },
      UpdateExpression:
        "SET #value = :after, #version = :version, #floor = :floor, #ceiling = :ceiling, " +
        "#updatedAt = :at, #lastEventId = :eventId, #headVersion = :version, #headHash = :headHash",
      ConditionExpression: before.version === 0 ? `attribute_not_exists(#counterId) OR (${guard})` : guard,
      ExpressionAttributeNames: {
        ...(before.version === 0 ? { "#counterId": COUNTERS.partitionKey } : {}),
        "#value": "value",
        "#version": "version",
        "#floor": "floor",
        "#ceiling": "ceiling",
        "#updatedAt": "updatedAt",
        "#lastEventId": "lastEventId",
        "#headVersion": "headVersion",
        "#headHash": "headHash",
      },
      ExpressionAttributeValues: {
        ":expected": before.version,
        ":before": before.value,
        ":after": after.value,
        ":version": after.version,
        ":floor": after.floor,
        ":ceiling": after.ceiling,
        ...(isCommand ? {} : { ":ceilingBefore": before.ceiling }),
        ":at": last.at,
        ":eventId": last.eventId,
        ":headHash": last.hash,
      },
    },
  };
}

type Items = NonNullable<TransactWriteCommandInput["TransactItems"]>;

async function send(client: DynamoDBDocumentClient, items: Items): Promise<unknown> {
  try {
    await client.send(new TransactWriteCommand({ TransactItems: items }));
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Writes one command's event on its shard: the event must be the shard's next, within its floor and ceiling. */
export async function writeShardCommand(
  client: DynamoDBDocumentClient,
  tables: TableNames,
  command: {
    readonly before: ChainedShard;
    readonly event: CurrentLedgerEvent;
    readonly charge?: QuotaCharge;
  },
): Promise<ShardWriteResult> {
  const { before, event, charge } = command;
  if (event.version !== before.version + 1 || event.previousHash !== before.headHash) {
    throw new Error("a shard's event must follow the shard's head");
  }
  const after = { ...before, value: event.valueAfter, version: event.version };
  const error = await send(client, [
    ledgerPut(tables, event),
    shardUpdate(tables, before, after, event),
    ...(charge === undefined ? [] : [{ Update: quotaUpdate(tables, charge) }]),
  ]);
  if (error === undefined) return { kind: "committed" };
  if (error instanceof TransactionConflictException) return { kind: "conflict" };
  if (!(error instanceof TransactionCanceledException)) throw classifyStoreError(error);
  const [put, shard, quota] = error.CancellationReasons ?? [];
  if (put?.Code === "ConditionalCheckFailed") {
    const stored = put.Item === undefined ? undefined : ledgerEventSchema.parse(unmarshall(put.Item));
    return { kind: "keyExists", event: stored };
  }
  if (quota?.Code === "ConditionalCheckFailed" && charge !== undefined) {
    const stored: unknown = quota.Item === undefined ? undefined : unmarshall(quota.Item).commands;
    const proven = charge.limit - charge.commands + 1;
    return { kind: "quotaSpent", count: typeof stored === "number" ? Math.max(stored, proven) : proven };
  }
  if (shard?.Code === "ConditionalCheckFailed") return { kind: "conflict" };
  if ([put, shard, quota].some((reason) => reason?.Code === "TransactionConflict"))
    return { kind: "conflict" };
  throw new StoreUnavailableError("transaction cancelled", { cause: error });
}

/** Writes a transfer: both sides' events and both shards' Updates, or nothing. */
export async function writeTransfer(
  client: DynamoDBDocumentClient,
  tables: TableNames,
  transfer: {
    readonly from: {
      readonly before: ChainedShard;
      readonly after: ShardState;
      readonly event: TransferEvent;
    };
    readonly to: { readonly before: ChainedShard; readonly after: ShardState; readonly event: TransferEvent };
  },
): Promise<"committed" | "conflict"> {
  const { from, to } = transfer;
  const net = from.after.value - from.before.value + (to.after.value - to.before.value);
  const ceilings = from.after.ceiling - from.before.ceiling + (to.after.ceiling - to.before.ceiling);
  if (net !== 0 || ceilings !== 0) throw new Error("a transfer moves value and ceiling, it makes none");
  const error = await send(client, [
    ledgerPut(tables, from.event),
    shardUpdate(tables, from.before, from.after, from.event),
    ledgerPut(tables, to.event),
    shardUpdate(tables, to.before, to.after, to.event),
  ]);
  if (error === undefined) return "committed";
  if (error instanceof TransactionConflictException) return "conflict";
  if (!(error instanceof TransactionCanceledException)) throw classifyStoreError(error);
  const reasons = error.CancellationReasons ?? [];
  // A transfer's id is fresh: its keys never exist. A shard that moved, or a conflict, is a conflict.
  if (
    reasons.some(
      (reason) => reason.Code === "ConditionalCheckFailed" || reason.Code === "TransactionConflict",
    )
  )
    return "conflict";
  throw new StoreUnavailableError("transaction cancelled", { cause: error });
}
