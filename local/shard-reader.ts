// The reading half of the local stream poller (local/poller.ts): one shard read in order from its checkpoint
// with GetRecords, each non-empty batch handed to the delivery (local/stream-delivery.ts) before the next is
// read, the shard marked finished once it is closed and read to its end. Never spins when idle; a failed read
// (an expired or trimmed iterator, a store hiccup) starts again from the checkpoint after a backoff.

import {
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type ShardIteratorType,
} from "@aws-sdk/client-dynamodb-streams";
import { exponentialBackoffMs } from "../common/backoff";
import { describeError, type Logger } from "../services/ledger/log";
import { STREAM_RETRY_BACKOFF_CAP_MS } from "./limits";
import type { CheckpointFile } from "./stream-checkpoints";
import type { BatchDelivery } from "./stream-delivery";
import { toLambdaRecord } from "./stream-records";

export interface ShardReaderOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly checkpoints: CheckpointFile;
  readonly delivery: Pick<BatchDelivery, "deliver">;
  /** Records per GetRecords, hence per handler invocation (BatchSize). */
  readonly batchSize: number;
  /** The pause after an empty GetRecords. */
  readonly idlePauseMs: number;
  /** The first backoff window after a failed read; it doubles, up to STREAM_RETRY_BACKOFF_CAP_MS. */
  readonly backoffBaseMs: number;
  /** Waits; must resolve early once `signal` is aborted. */
  readonly pause: (milliseconds: number) => Promise<void>;
  /** Aborted when the poller stops: the reader finishes the batch in hand and returns. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** Reads the shards of one stream, each to its end or until the poller stops. */
export class ShardReader {
  private readonly options: ShardReaderOptions;

  constructor(options: ShardReaderOptions) {
    this.options = options;
  }

  async read(shardId: string): Promise<void> {
    const { streams, streamArn, signal } = this.options;
    let iterator: string | undefined;
    let errorsInRow = 0;
    while (!signal.aborted) {
      try {
        iterator ??= await this.iteratorOf(shardId);
        if (iterator === undefined) break;
        const output = await streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: this.options.batchSize }),
          { abortSignal: signal },
        );
        errorsInRow = 0;
        const records = (output.Records ?? []).map((record) => toLambdaRecord(record, streamArn));
        if (records.length > 0 && !(await this.options.delivery.deliver(shardId, records))) return;
        iterator = output.NextShardIterator;
        if (iterator === undefined || iterator === null) return await this.finish(shardId);
        if (records.length === 0) await this.options.pause(this.options.idlePauseMs);
      } catch (error) {
        if (signal.aborted) return;
        // Start again from the checkpoint after a pause.
        iterator = undefined;
        errorsInRow++;
        this.logReadFailure(shardId, error);
        const { backoffBaseMs } = this.options;
        await this.options.pause(
          exponentialBackoffMs(errorsInRow, backoffBaseMs, STREAM_RETRY_BACKOFF_CAP_MS),
        );
      }
    }
  }

  /** An iterator just after the shard's checkpoint, or at its oldest record if it has none (or it is trimmed). */
  private async iteratorOf(shardId: string, fromCheckpoint = true): Promise<string | undefined> {
    const { checkpoints, streams, streamArn, signal } = this.options;
    const sequenceNumber = fromCheckpoint ? checkpoints.of(shardId).sequenceNumber : undefined;
    const type: ShardIteratorType = sequenceNumber === undefined ? "TRIM_HORIZON" : "AFTER_SEQUENCE_NUMBER";
    try {
      const output = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(sequenceNumber === undefined ? {} : { SequenceNumber: sequenceNumber }),
        }),
        { abortSignal: signal },
      );
      return output.ShardIterator;
    } catch (error) {
      if (!(error instanceof Error && error.name === "TrimmedDataAccessException") || !fromCheckpoint)
        throw error;
      // The checkpoint is older than the stream's retention: what lay between is gone, say so and go on.
      this.options.log({
        level: "error",
        message: "checkpoint trimmed from the stream; reading from the oldest record",
        shardId,
      });
      return this.iteratorOf(shardId, false);
    }
  }

  /** The shard is closed and read to its end: its children may be read now. */
  private async finish(shardId: string): Promise<void> {
    const { sequenceNumber } = this.options.checkpoints.of(shardId);
    await this.options.checkpoints.save(shardId, { sequenceNumber, finished: true });
    this.options.log({ level: "info", message: "shard finished", shardId });
  }

  private logReadFailure(shardId: string, error: unknown): void {
    // DynamoDB Local invalidates a TRIM_HORIZON iterator taken on an empty shard once the first record
    // arrives: a renewal, not a fault, so it is not logged as one.
    const renewal = error instanceof Error && error.name === "TrimmedDataAccessException";
    this.options.log({
      level: renewal ? "info" : "warn",
      message: renewal ? "stream iterator renewed" : "stream read failed",
      shardId,
      ...describeError(error),
    });
  }
}
