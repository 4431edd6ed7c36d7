// The committer: turns one validated command into at most one ledger event and one aggregate update, in a
// single DynamoDB transaction (DESIGN.md, Command algorithm). It owns retries on contention; it never
// writes an event that the domain did not decide, and never writes twice for one idempotency key.

import {
  TransactionCanceledException,
  TransactionConflictException,
  type CancellationReason,
} from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { createHash } from "node:crypto";
import { aggregateFromItem } from "../ledger/aggregate";
import type { LedgerConfig } from "../ledger/config";
import { decide, type Command, type CounterState } from "../ledger/domain";
import { createEvent, eventIdOf, ledgerEventSchema, type LedgerEvent } from "../ledger/event";
import {
  COMMIT_ATTEMPTS_MAX,
  COMMIT_BACKOFF_BASE_MS,
  COMMIT_BACKOFF_CAP_MS,
  COMMIT_RETRY_BUDGET_MS,
} from "../ledger/limits";
import { COUNTERS, LEDGER } from "../ledger/tables";
import { StoreUnavailableError } from "../ledger/errors";
import { classifyStoreError, LedgerReader } from "../ledger/store";

export type CommitOutcome =
  | { readonly kind: "applied"; readonly event: LedgerEvent }
  | { readonly kind: "replayed"; readonly event: LedgerEvent }
  | { readonly kind: "keyReused" }
  | { readonly kind: "outOfBounds"; readonly value: number; readonly bound: number }
  | { readonly kind: "contention"; readonly attempts: number };

export interface CommitterDependencies {
  readonly client: DynamoDBDocumentClient;
  readonly config: LedgerConfig;
  readonly clock?: () => Date;
  /** Uniform in [0, 1); the jitter of the backoff. */
  readonly random?: () => number;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** The domain's decider; replaceable only so that tests can prove the database guard on its own. */
  readonly decide?: typeof decide;
}

/** Statistics a benchmark or a log line can read; never used for decisions. */
export interface CommitterStatistics {
  transactions: number;
  conflicts: number;
}

const sleepFor = (milliseconds: number): Promise<void> =>
  new Promise((wake) => setTimeout(wake, milliseconds));

export class Committer {
  readonly statistics: CommitterStatistics = { transactions: 0, conflicts: 0 };
  private readonly client: DynamoDBDocumentClient;
  private readonly config: LedgerConfig;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly sleep: (milliseconds: number) => Promise<void>;
  private readonly reader: LedgerReader;
  private readonly decide: typeof decide;

  constructor(dependencies: CommitterDependencies) {
    this.client = dependencies.client;
    this.config = dependencies.config;
    this.clock = dependencies.clock ?? (() => new Date());
    this.random = dependencies.random ?? Math.random;
    this.sleep = dependencies.sleep ?? sleepFor;
    this.decide = dependencies.decide ?? decide;
    this.reader = new LedgerReader(dependencies.client, dependencies.config.tables);
  }

  /** Applies one command at most once, or says why not. Throws StoreUnavailableError on store failure. */
  async commit(command: Command): Promise<CommitOutcome> {
    const startedAtMs = Date.now();
    let state: CounterState = await this.reader.readAggregate(command.counterId);
    for (let attempt = 1; attempt <= COMMIT_ATTEMPTS_MAX; attempt++) {
      const decision = this.decide(command.action, state, this.config.bounds);
      if (decision.kind === "outOfBounds") {
        // The key may already be applied (the retry of a command that reached the bound): settle it first.
        const existing = await this.reader.readEvent(eventIdOf(command.counterId, command.idempotencyKey));
        return existing === undefined ? decision : settle(existing, command);
      }
      const event = createEvent(command, decision.change, this.clock());
      const result = await this.transact(command, state, event);
      if (result.kind === "committed") return { kind: "applied", event };
      if (result.kind === "keyExists") return settle(result.existing, command);
      this.statistics.conflicts++;
      state = result.current ?? (await this.reader.readAggregate(command.counterId));
      if (Date.now() - startedAtMs > COMMIT_RETRY_BUDGET_MS) return { kind: "contention", attempts: attempt };
      await this.sleep(this.backoffMs(attempt));
    }
    return { kind: "contention", attempts: COMMIT_ATTEMPTS_MAX };
  }

  /** Full-jitter exponential backoff: uniform in [0, min(cap, base · 2^attempt)). */
  private backoffMs(attempt: number): number {
    const windowMs = Math.min(COMMIT_BACKOFF_CAP_MS, COMMIT_BACKOFF_BASE_MS * 2 ** attempt);
    return Math.floor(this.random() * windowMs);
  }

  private async transact(
    command: Command,
    expected: CounterState,
    event: LedgerEvent,
  ): Promise<
    | { kind: "committed" }
    | { kind: "keyExists"; existing: LedgerEvent }
    | { kind: "conflict"; current: CounterState | undefined }
  > {
    const { bounds } = this.config;
    const versionGuard = "#version = :expected AND #value BETWEEN :lowest AND :highest";
    // A counter nobody has written yet has no item; bootstrap normally creates it, but be robust without.
    const condition =
      expected.version === 0 ? `attribute_not_exists(#counterId) OR (${versionGuard})` : versionGuard;
    this.statistics.transactions++;
    try {
      await this.client.send(
        new TransactWriteCommand({
          // Makes the SDK's own retry of an ambiguous failure idempotent for 10 minutes.
          ClientRequestToken: transactionToken(event, expected.version),
          TransactItems: [
            {
              Put: {
                TableName: this.config.tables.ledger,
                Item: event,
                ConditionExpression: "attribute_not_exists(#eventId)",
                ExpressionAttributeNames: { "#eventId": LEDGER.partitionKey },
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
              },
            },
            {
              Update: {
                TableName: this.config.tables.counters,
                Key: { [COUNTERS.partitionKey]: command.counterId },
                UpdateExpression:
                  "SET #value = if_not_exists(#value, :zero) + :delta, " +
                  "#version = if_not_exists(#version, :zero) + :one, " +
                  "#updatedAt = :at, #lastEventId = :eventId",
                ConditionExpression: condition,
                ExpressionAttributeNames: {
                  ...(expected.version === 0 ? { "#counterId": COUNTERS.partitionKey } : {}),
                  "#value": "value",
                  "#version": "version",
                  "#updatedAt": "updatedAt",
                  "#lastEventId": "lastEventId",
                },
                ExpressionAttributeValues: {
                  ":zero": 0,
                  ":one": 1,
                  ":delta": event.delta,
                  ":expected": expected.version,
                  // The bound holds in the database even if the application were wrong: before + delta ∈ bounds.
                  ":lowest": bounds.min - event.delta,
                  ":highest": bounds.max - event.delta,
                  ":at": event.at,
                  ":eventId": event.eventId,
                },
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
              },
            },
          ],
        }),
      );
      return { kind: "committed" };
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const [ledgerReason, aggregateReason] = error.CancellationReasons ?? [];
        if (ledgerReason?.Code === "ConditionalCheckFailed") {
          const existing =
            decodeEvent(ledgerReason) ??
            (await this.reader.readEvent(eventIdOf(command.counterId, command.idempotencyKey)));
          if (existing === undefined) throw new Error("ledger condition failed but the event is missing");
          return { kind: "keyExists", existing };
        }
        if (aggregateReason?.Code === "ConditionalCheckFailed") {
          const current = decodeAggregate(command.counterId, aggregateReason);
          if (current !== undefined && current.version === expected.version) {
            throw new Error(
              `invariant I3 guarded by the database: version ${expected.version} unchanged but bounds refused`,
            );
          }
          return { kind: "conflict", current };
        }
        if ([ledgerReason, aggregateReason].some((reason) => reason?.Code === "TransactionConflict")) {
          return { kind: "conflict", current: undefined };
        }
        throw new StoreUnavailableError("transaction cancelled", { cause: error });
      }
      if (error instanceof TransactionConflictException) return { kind: "conflict", current: undefined };
      throw classifyStoreError(error);
    }
  }
}

/** A replay when the stored request is the same request, a refusal (422) otherwise (I4). */
function settle(existing: LedgerEvent, command: Command): CommitOutcome {
  return existing.requestFingerprint === command.requestFingerprint
    ? { kind: "replayed", event: existing }
    : { kind: "keyReused" };
}

function decodeEvent(reason: CancellationReason): LedgerEvent | undefined {
  return reason.Item === undefined ? undefined : ledgerEventSchema.parse(unmarshall(reason.Item));
}

function decodeAggregate(counterId: string, reason: CancellationReason): CounterState | undefined {
  return reason.Item === undefined ? undefined : aggregateFromItem(counterId, unmarshall(reason.Item));
}

/**
 * ClientRequestToken: at most 36 characters, the same only for the very same transaction (the SDK's own
 * retry of one attempt), so that a later attempt with other content never meets a parameter mismatch.
 */
function transactionToken(event: LedgerEvent, expectedVersion: number): string {
  return createHash("sha256")
    .update(`${JSON.stringify(event)}@${expectedVersion}`)
    .digest("hex")
    .slice(0, 36);
}
