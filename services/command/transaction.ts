// One TransactWriteItems for a batch of decided events: a ledger Put per event (the key must be new), one
// aggregate Update (the version must be the expected one and the value must stay in bounds) and, with quotas
// on, one quota Update per user of the batch (the user's window must have room for the user's events). It
// reports what a cancellation means in domain terms; it never decides anything and never retries.

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
import { COUNTERS, LEDGER, QUOTAS, type TableNames } from "../ledger/storage/tables";

export type TransactionResult =
  | { readonly kind: "committed" }
  /** Some ledger keys exist already: by index into the batch, with the stored event when it came back. */
  | {
      readonly kind: "keysExist";
      readonly existing: ReadonlyMap<number, LedgerEvent | undefined>;
      /** The current aggregate, when its guard failed too (so the next attempt starts from it). */
      readonly current: Aggregate | undefined;
    }
  /**
   * No key exists, but some users' windows lack room for their events: by index into `charges`, the count
   * the store holds at least (the count that came back, or what the failed condition proves).
   */
  | {
      readonly kind: "quotaSpent";
      readonly spent: ReadonlyMap<number, number>;
      readonly current: Aggregate | undefined;
    }
  /** The aggregate moved (or a transaction conflicted): the current state when it came back. */
  | { readonly kind: "conflict"; readonly current: Aggregate | undefined };

/** A counter's state with the head of its hash chain at the same version: what a batch is decided from. */
export interface ChainedState extends CounterState {
  readonly head: ChainHead;
}

/** One user's share of a batch: `commands` more in the user's window, which must stay within `limit`. */
export interface QuotaCharge {
  readonly quotaId: string;
  /** 1 to `limit`: more could never fit, and the first write of a window is guarded only by this. */
  readonly commands: number;
  readonly limit: number;
  readonly expiresAtSeconds: number;
}

interface BatchBase {
  readonly counterId: string;
  readonly expected: ChainedState;
  /** One per user under a quota whose events the batch holds; none when the quota is off. */
  readonly charges?: readonly QuotaCharge[];
}

export type BatchTransaction =
  | (BatchBase & {
      /** Decided events in version order, expected.version + 1 onwards, each linked after the one before. */
      readonly events: readonly CurrentLedgerEvent[];
      readonly unchained?: undefined;
    })
  | (BatchBase & {
      readonly events: readonly UnchainedLedgerEvent[];
      /**
       * Events without the chain, and an aggregate Update without its head: only for bench/run.ts's measure
       * of the chain's cost (services/command/committer.ts, `chain: false`); never set by configuration.
       */
      readonly unchained: true;
    });

/**
 * Asserts the shape a batch must have before it is written: a bug here must never reach the table. The events
 * must follow the expected state one by one as the decider's `evolve` accepts them (I2, I3); the bounds are
 * the database's to guard (the Update's condition), so that a test can prove that guard on its own.
 */
function assertBatch(transaction: BatchTransaction): void {
  const { expected, events } = transaction;
  const charges = transaction.charges ?? [];
  if (events.length === 0 || events.length + charges.length > TRANSACTION_ITEMS_MAX - 1) {
    throw new Error(`a batch holds 1 to ${TRANSACTION_ITEMS_MAX - 1} events and charges, not more`);
  }
  for (const charge of charges) {
    if (!Number.isInteger(charge.commands) || charge.commands < 1 || charge.commands > charge.limit)
      throw new Error(`a quota charge is 1 to ${charge.limit} commands, not ${charge.commands}`);
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

/**
 * A user's quota Update: `commands` more in the window's item, on the condition that they fit. The first write
 * of a window finds no item; `commands` ≤ `limit` (assertBatch) keeps that one in the quota too.
 */
export function quotaUpdate(tables: TableNames, charge: QuotaCharge) {
  return {
    TableName: tables.quotas,
    Key: { [QUOTAS.partitionKey]: charge.quotaId },
    UpdateExpression: "ADD #commands :commands SET #expiresAt = :expiresAt",
    ConditionExpression: "attribute_not_exists(#commands) OR #commands <= :room",
    ExpressionAttributeNames: { "#commands": "commands", "#expiresAt": QUOTAS.timeToLiveAttribute },
    ExpressionAttributeValues: {
      ":commands": charge.commands,
      ":room": charge.limit - charge.commands,
      ":expiresAt": charge.expiresAtSeconds,
    },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
  };
}

/**
 * The users whose charge failed its condition, each with the count the store holds at least: the count that
 * came back, and in any case more than `limit - commands` (which is what the failed condition says).
 */
function spentOf(reasons: readonly CancellationReason[], offset: number, charges: readonly QuotaCharge[]) {
  const spent = new Map<number, number>();
  charges.forEach((charge, index) => {
    const reason = reasons[offset + index];
    if (reason?.Code !== "ConditionalCheckFailed") return;
    const stored: unknown = reason.Item === undefined ? undefined : unmarshall(reason.Item).commands;
    const proven = charge.limit - charge.commands + 1;
    spent.set(index, typeof stored === "number" ? Math.max(stored, proven) : proven);
  });
  return spent;
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
  // A key that exists wins over everything else: a retry of an applied command is answered from its event,
  // and is never charged nor refused for its user's quota.
  if (existing.size > 0) return { kind: "keysExist", existing, current };
  if (aggregateMoved && current !== undefined && current.version === expected.version) {
    throw new Error(
      `invariant I3 guarded by the database: version ${expected.version} unchanged, bounds refused`,
    );
  }
  const spent = spentOf(reasons, events.length + 1, transaction.charges ?? []);
  if (spent.size > 0) return { kind: "quotaSpent", spent, current };
  if (aggregateMoved) return { kind: "conflict", current };
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
          ...(transaction.charges ?? []).map((charge) => ({ Update: quotaUpdate(tables, charge) })),
        ],
      }),
    );
    return { kind: "committed" };
  } catch (error) {
    return outcomeOfFailure(error, bounds, transaction);
  }
}
