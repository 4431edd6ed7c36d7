// Consistent reads of the aggregate and of one ledger event, shared by the command and query paths.
// Every store failure comes out as StoreUnavailableError, so callers answer a safe 503.

import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { aggregateFromItem, type Aggregate } from "./aggregate";
import { StoreUnavailableError } from "./errors";
import type { Bounds } from "../domain/decider";
import type { ChainHead } from "../domain/chain";
import { hashOfEvent, ledgerEventSchema, type LedgerEvent } from "../domain/event";
import { COUNTERS, LEDGER, type TableNames } from "./tables";

/** Client errors (HTTP 4xx) that mean "come back later" rather than "this request is wrong". */
const RETRYABLE_CLIENT_ERRORS: ReadonlySet<string> = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TransactionInProgressException",
  "TransactionConflictException",
  "LimitExceededException",
]);

/**
 * Sorts a store failure: throttling, 5xx and network failures are StoreUnavailableError (503, retry);
 * any other 4xx means our request was wrong — a bug, rethrown as it is so that it ends in a 500.
 */
export function classifyStoreError(error: unknown): Error {
  const name = error instanceof Error ? error.name : "";
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  const isClientError = status !== undefined && status >= 400 && status < 500;
  if (isClientError && !RETRYABLE_CLIENT_ERRORS.has(name)) {
    return error instanceof Error ? error : new Error(String(error));
  }
  return new StoreUnavailableError("store call failed", { cause: error });
}

/** Runs one store call, sorting its failure with classifyStoreError. */
export async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyStoreError(error);
  }
}

export class LedgerReader {
  /** `bounds` tell where a counter without an aggregate item starts (its lower bound). */
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, "send">,
    private readonly tables: TableNames,
    private readonly bounds: Bounds,
  ) {}

  async readAggregate(counterId: string): Promise<Aggregate> {
    const output = await storeCall(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tables.counters,
          Key: { [COUNTERS.partitionKey]: counterId },
          ConsistentRead: true,
        }),
      ),
    );
    return aggregateFromItem(counterId, output.Item, this.bounds);
  }

  async readEvent(eventId: string): Promise<LedgerEvent | undefined> {
    const item = await this.readStoredEvent(eventId);
    return item === undefined ? undefined : ledgerEventSchema.parse(item);
  }

  /** The ledger item under `eventId` exactly as stored, every attribute (what its hash covers). */
  async readStoredEvent(eventId: string): Promise<Record<string, unknown> | undefined> {
    const output = await storeCall(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tables.ledger,
          Key: { [LEDGER.partitionKey]: eventId },
          ConsistentRead: true,
        }),
      ),
    );
    return output.Item;
  }

  /**
   * The chain's head at the aggregate's version, when the aggregate's recorded head lags it (events written by
   * code from before the chain): the ledger's events after the recorded head, hashed in order onto it. The
   * byVersion index is eventually consistent, so a page that misses an event is a store that is not ready
   * (503, retry), never a guess.
   */
  async catchUpHead(counterId: string, aggregate: Aggregate): Promise<ChainHead> {
    if (aggregate.head.version > aggregate.version) {
      throw new Error(`the aggregate's chain head (${aggregate.head.version}) is beyond its version`);
    }
    let { hash } = aggregate.head;
    let version = aggregate.head.version;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await storeCall(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tables.ledger,
            IndexName: LEDGER.byVersionIndex.name,
            KeyConditionExpression: "#counterId = :counterId AND #version BETWEEN :from AND :to",
            ExpressionAttributeNames: {
              "#counterId": LEDGER.byVersionIndex.partitionKey,
              "#version": LEDGER.byVersionIndex.sortKey,
            },
            ExpressionAttributeValues: {
              ":counterId": counterId,
              ":from": version + 1,
              ":to": aggregate.version,
            },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const event = ledgerEventSchema.parse(item);
        if (event.version !== version + 1) break;
        hash = hashOfEvent(event, hash);
        version = event.version;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && version < aggregate.version);
    if (version !== aggregate.version) {
      throw new StoreUnavailableError(`the ledger index is not yet at version ${aggregate.version}`);
    }
    return { version, hash };
  }
}
