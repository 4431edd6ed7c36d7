// One TransactWriteItems for a batch of decided events: a ledger Put per event (the key must be new) and one
// aggregate Update (the version must be the expected one and the value must stay in bounds). It reports what
// a cancellation means in domain terms; it never decides anything and never retries.

import {
  TransactionCanceledException,
  TransactionConflictException,
  type CancellationReason,
} from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { aggregateFromItem, type Aggregate } from "../ledger/storage/aggregate";
import type { ChainHead } from "../ledger/domain/chain";
import { fold, initialState, type Bounds, type CounterState } from "../ledger/domain/decider";
import { StoreUnavailableError } from "../ledger/storage/errors";
import {
  ledgerEventSchema,
  type CurrentLedgerEvent,
  type LedgerEvent,
  type UnchainedLedgerEvent,
} from "../ledger/domain/event";
import { TRANSACTION_ITEMS_MAX } from "../ledger/domain/limits";
import { classifyStoreError } from "../ledger/storage/store";
import { COUNTERS, LEDGER, type TableNames } from "../ledger/storage/tables";

export type TransactionResult =
  | { readonly kind: "committed" }
  /** Some ledger keys exist already: by index into the batch, with the stored event when it came back. */
  | {
      readonly kind: "keysExist";
      readonly existing: ReadonlyMap<number, LedgerEvent | undefined>;
      /** The current aggregate, when its guard failed too (so the next attempt starts from it). */
      readonly current: Aggregate | undefined;
    }
  /** The aggregate moved (or a transaction conflicted): the current state when it came back. */
  | { readonly kind: "conflict"; readonly current: Aggregate | undefined };

/** A counter's state with the head of its hash chain at the same version: what a batch is decided from. */
export interface ChainedState extends CounterState {
  readonly head: ChainHead;
}

export type BatchTransaction =
  | {
      readonly counterId: string;
      readonly expected: ChainedState;
      /** Decided events in version order, expected.version + 1 onwards, each linked after the one before. */
      readonly events: readonly CurrentLedgerEvent[];
      readonly unchained?: undefined;
    }
  | {
      readonly counterId: string;
      readonly expected: ChainedState;
      readonly events: readonly UnchainedLedgerEvent[];
      /**
       * Events without the chain, and an aggregate Update without its head: only for bench/run.ts's measure
       * of the chain's cost (services/command/committer.ts, `chain: false`); never set by configuration.
       */
      readonly unchained: true;
    };

/**
 * Asserts the shape a batch must have before it is written: a bug here must never reach the table. The events
 * must follow the expected state one by one as the decider's `evolve` accepts them (I2, I3); the bounds are
 * the database's to guard (the Update's condition), so that a test can prove that guard on its own.
 */
function assertBatch(transaction: BatchTransaction): void {
  const { expected, events } = transaction;
  if (events.length === 0 || events.length > TRANSACTION_ITEMS_MAX - 1) {
    throw new Error(`a batch holds 1 to ${TRANSACTION_ITEMS_MAX - 1} events, not ${events.length}`);
  }
  fold(events, expected);
  if (transaction.unchained === true) return;
  // The chain never forks: the batch links onto the head at the expected version, event after event.
  if (expected.head.version !== expected.version) throw new Error("the chain's head lags the aggregate");
  let previous = expected.head.hash;
  for (const event of transaction.events) {
    if (event.previousHash !== previous)
      throw new Error(`version ${event.version} is not linked to its predecessor`);
    previous = event.hash;
  }
}

function decodeEvent(reason: CancellationReason | undefined): LedgerEvent | undefined {
  return reason?.Item === undefined ? undefined : ledgerEventSchema.parse(unmarshall(reason.Item));
}

/** The aggregate Update of a batch: the version must be the expected one, and the value must stay in bounds. */
function aggregateUpdate(tables: TableNames, bounds: Bounds, transaction: BatchTransaction) {
  const { counterId, expected, events } = transaction;
  const last = events[events.length - 1]!;
  const deltaSum = last.valueAfter - expected.value;
  const versionGuard = "#version = :expected AND #value BETWEEN :lowest AND :highest";
  // A counter nobody has written yet may have no item; bootstrap creates it, but stay correct without: such a
  // counter starts where the decider's initial state says (its lower bound, version 0).
  const isNew = expected.version === 0;
  const initial = initialState(bounds);
  return {
    TableName: tables.counters,
    Key: { [COUNTERS.partitionKey]: counterId },
    UpdateExpression:
      "SET #value = if_not_exists(#value, :initialValue) + :delta, " +
      "#version = if_not_exists(#version, :initialVersion) + :count, " +
      "#updatedAt = :at, #lastEventId = :eventId" +
      (transaction.unchained === true ? "" : ", #headVersion = :headVersion, #headHash = :headHash"),
    ConditionExpression: isNew ? `attribute_not_exists(#counterId) OR (${versionGuard})` : versionGuard,
    ExpressionAttributeNames: {
      ...(isNew ? { "#counterId": COUNTERS.partitionKey } : {}),
      "#value": "value",
      "#version": "version",
      "#updatedAt": "updatedAt",
      "#lastEventId": "lastEventId",
      ...(transaction.unchained === true ? {} : { "#headVersion": "headVersion", "#headHash": "headHash" }),
    },
    ExpressionAttributeValues: {
      ":initialValue": initial.value,
      ":initialVersion": initial.version,
      ":count": events.length,
      ":delta": deltaSum,
      ":expected": expected.version,
      // The bound holds in the database even if the application were wrong: before + Σdelta ∈ bounds.
      ":lowest": bounds.min - deltaSum,
      ":highest": bounds.max - deltaSum,
      ":at": last.at,
      ":eventId": last.eventId,
      // The chain's head moves under the same version guard as the value: it can never fork.
      ...(transaction.unchained === true
        ? {}
        : { ":headVersion": last.version, ":headHash": transaction.events.at(-1)!.hash }),
    },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
  };
}

/** What a cancelled or conflicting transaction means in domain terms; rethrows what it cannot explain. */
function outcomeOfFailure(error: unknown, bounds: Bounds, transaction: BatchTransaction): TransactionResult {
  const { counterId, expected, events } = transaction;
  if (error instanceof TransactionConflictException) return { kind: "conflict", current: undefined };
  if (!(error instanceof TransactionCanceledException)) throw classifyStoreError(error);
  const reasons = error.CancellationReasons ?? [];
  const existing = new Map<number, LedgerEvent | undefined>();
  events.forEach((_, index) => {
    if (reasons[index]?.Code === "ConditionalCheckFailed") existing.set(index, decodeEvent(reasons[index]));
  });
  const aggregateReason = reasons[events.length];
  const aggregateMoved = aggregateReason?.Code === "ConditionalCheckFailed";
  const current =
    aggregateMoved && aggregateReason.Item !== undefined
      ? aggregateFromItem(counterId, unmarshall(aggregateReason.Item), bounds)
      : undefined;
  if (existing.size > 0) return { kind: "keysExist", existing, current };
  if (aggregateMoved) {
    if (current !== undefined && current.version === expected.version) {
      throw new Error(
        `invariant I3 guarded by the database: version ${expected.version} unchanged, bounds refused`,
      );
    }
    return { kind: "conflict", current };
  }
  if (reasons.some((reason) => reason.Code === "TransactionConflict"))
    return { kind: "conflict", current: undefined };
  throw new StoreUnavailableError("transaction cancelled", { cause: error });
}

export async function writeBatch(
  client: DynamoDBDocumentClient,
  tables: TableNames,
  bounds: Bounds,
  transaction: BatchTransaction,
): Promise<TransactionResult> {
  assertBatch(transaction);
  try {
    await client.send(
      new TransactWriteCommand({
        // No ClientRequestToken of ours: the SDK fills this idempotency token itself and keeps it across its own
        // retries, so its retry of an ambiguous failure cannot apply the transaction twice.
        TransactItems: [
          ...transaction.events.map((event) => ({
            Put: {
              TableName: tables.ledger,
              Item: event,
              ConditionExpression: "attribute_not_exists(#eventId)",
              ExpressionAttributeNames: { "#eventId": LEDGER.partitionKey },
              ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
            },
          })),
          { Update: aggregateUpdate(tables, bounds, transaction) },
        ],
      }),
    );
    return { kind: "committed" };
  } catch (error) {
    return outcomeOfFailure(error, bounds, transaction);
  }
}
