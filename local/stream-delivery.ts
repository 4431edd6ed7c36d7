// The delivery half of the local stream poller (local/poller.ts), as Lambda's event source mapping delivers a
// batch: invoke the handler, read `batchItemFailures` (the lowest failed sequence number; a thrown error fails
// the whole batch), checkpoint what was handed over, retry from the first failed record with exponential
// backoff, and after the bounded retries give the record up to `projector-failures.jsonl` (the on-failure
// destination) so that a poison record never blocks its shard.

import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { appendFile } from "node:fs/promises";
import { exponentialBackoffMs } from "../common/backoff";
import { describeError, type Logger } from "../services/ledger/log";
import { STREAM_RETRY_BACKOFF_CAP_MS } from "./limits";
import type { ShardCheckpoint } from "./stream-checkpoints";

export const FAILURE_LOG_FILE = "projector-failures.jsonl";

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

/** Counts a test or a log line can read; never used for decisions. */
export interface DeliveryStatistics {
  invocations: number;
  recordsDelivered: number;
  recordsGivenUp: number;
}

export interface BatchDeliveryOptions {
  readonly handler: StreamHandler;
  readonly streamArn: string;
  readonly checkpoints: { save(shardId: string, checkpoint: ShardCheckpoint): Promise<void> };
  /** The on-failure destination: one JSON line per record given up on. */
  readonly failureLogPath: string;
  /** Retries of a failing record before it is given up on (MaximumRetryAttempts). */
  readonly retryAttemptsMax: number;
  /** The first backoff window; it doubles after each further failure, up to STREAM_RETRY_BACKOFF_CAP_MS. */
  readonly backoffBaseMs: number;
  /** Waits between retries; must resolve early once `signal` is aborted. */
  readonly pause: (milliseconds: number) => Promise<void>;
  /** Aborted when the poller stops: the delivery then returns before its next invocation. */
  readonly signal: AbortSignal;
  readonly statistics: DeliveryStatistics;
  readonly log: Logger;
}

/**
 * Where a delivery failed, as Lambda reads `batchItemFailures`: -1 for success; the lowest reported record;
 * 0 (the whole batch) for a thrown error, an empty or malformed identifier, or one that is not in the batch.
 */
export function firstFailedIndex(
  response: DynamoDBBatchResponse | void,
  records: readonly DynamoDBRecord[],
): number {
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return -1;
  let lowest: bigint | undefined;
  for (const failure of failures) {
    const identifier: unknown = failure?.itemIdentifier;
    if (typeof identifier !== "string" || !/^\d{1,64}$/.test(identifier)) return 0;
    const sequence = BigInt(identifier);
    if (lowest === undefined || sequence < lowest) lowest = sequence;
  }
  const found = records.findIndex((record) => {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    return (
      sequenceNumber !== undefined && /^\d{1,64}$/.test(sequenceNumber) && BigInt(sequenceNumber) === lowest
    );
  });
  return found === -1 ? 0 : found;
}

/** Delivers the batches of every shard of one stream to the handler. */
export class BatchDelivery {
  private readonly options: BatchDeliveryOptions;

  constructor(options: BatchDeliveryOptions) {
    this.options = options;
  }

  /** Hands records to the handler until each is projected or given up on; false if stopped first. */
  async deliver(shardId: string, records: readonly DynamoDBRecord[]): Promise<boolean> {
    const { checkpoints, statistics, retryAttemptsMax } = this.options;
    let pending = records;
    let failuresOfHead = 0;
    while (pending.length > 0) {
      if (this.options.signal.aborted) return false;
      const failedAt = await this.invoke(shardId, pending);
      const handedOver = failedAt === -1 ? pending.length : failedAt;
      if (handedOver > 0) {
        statistics.recordsDelivered += handedOver;
        const last = pending[handedOver - 1]?.dynamodb?.SequenceNumber;
        await checkpoints.save(shardId, { sequenceNumber: last });
        pending = pending.slice(handedOver);
        failuresOfHead = 0;
      }
      if (failedAt === -1) return true;
      failuresOfHead++;
      if (failuresOfHead > retryAttemptsMax) {
        const [poison, ...rest] = pending;
        if (poison === undefined) return true;
        await this.giveUp(shardId, poison, failuresOfHead);
        await checkpoints.save(shardId, { sequenceNumber: poison.dynamodb?.SequenceNumber });
        pending = rest;
        failuresOfHead = 0;
        continue;
      }
      const { backoffBaseMs } = this.options;
      await this.options.pause(
        exponentialBackoffMs(failuresOfHead - 1, backoffBaseMs, STREAM_RETRY_BACKOFF_CAP_MS),
      );
    }
    return true;
  }

  /** One invocation of the handler: the index of the first failed record, or -1 if every one was projected. */
  private async invoke(shardId: string, pending: readonly DynamoDBRecord[]): Promise<number> {
    this.options.statistics.invocations++;
    try {
      return firstFailedIndex(await this.options.handler({ Records: [...pending] }), pending);
    } catch (error) {
      this.options.log({
        level: "warn",
        message: "projector invocation failed",
        shardId,
        ...describeError(error),
      });
      return 0;
    }
  }

  /** Appends the record to the failure log, in the shape of Lambda's on-failure record for a stream. */
  private async giveUp(shardId: string, record: DynamoDBRecord, attempts: number): Promise<void> {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    const created = record.dynamodb?.ApproximateCreationDateTime;
    const arrival = created === undefined ? null : new Date(created * 1000).toISOString();
    // The record itself is added for local repair.
    const entry = {
      version: "1.0",
      timestamp: new Date().toISOString(),
      requestContext: { condition: "RetryAttemptsExhausted", approximateInvokeCount: attempts },
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: sequenceNumber,
        endSequenceNumber: sequenceNumber,
        approximateArrivalOfFirstRecord: arrival,
        approximateArrivalOfLastRecord: arrival,
        batchSize: 1,
        streamArn: this.options.streamArn,
      },
      record,
    };
    await appendFile(this.options.failureLogPath, `${JSON.stringify(entry)}\n`);
    this.options.statistics.recordsGivenUp++;
    this.options.log({
      level: "error",
      message: "record given up after retries",
      shardId,
      sequenceNumber,
      attempts,
    });
  }
}
