// The local stand-in for Lambda's DynamoDB Streams event source mapping: reads the ledger table's stream
// (every shard, a parent before its children, each shard in order), hands batches in the real event shape to
// the real projector handler, honours `batchItemFailures` by retrying from the first failed record with
// backoff, gives up on a record after bounded retries by appending it to `projector-failures.jsonl` (the
// on-failure destination), and keeps a checkpoint per shard in `poller-checkpoints.json`, so that a restart
// neither loses nor needlessly replays records. It never projects anything itself and never spins when idle.
// This module finds the stream and its shards and starts and stops the rest: a shard's reading is in
// local/shard-reader.ts, the delivery to the handler in local/stream-delivery.ts, the checkpoints in
// local/stream-checkpoints.ts and the record shape in local/stream-records.ts.

import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient, type Shard } from "@aws-sdk/client-dynamodb-streams";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { exponentialBackoffMs } from "../common/backoff";
import { dynamoDbClientConfig } from "../services/ledger/storage/clients";
import type { LedgerConfig } from "../services/ledger/config";
import {
  STREAM_BATCH_RECORDS_DEFAULT,
  STREAM_BATCH_RECORDS_MAX,
  STREAM_DESCRIBE_PAGES_MAX,
  STREAM_IDLE_PAUSE_MS,
  STREAM_RETRY_ATTEMPTS_DEFAULT,
  STREAM_RETRY_BACKOFF_BASE_MS,
  STREAM_RETRY_BACKOFF_CAP_MS,
  STREAM_SHARD_DISCOVERY_INTERVAL_MS,
  STREAM_SHARDS_IN_FLIGHT_MAX,
} from "./limits";
import { describeError, type Logger } from "../services/ledger/log";
import { ShardReader } from "./shard-reader";
import { CheckpointFile } from "./stream-checkpoints";
import {
  BatchDelivery,
  FAILURE_LOG_FILE,
  type DeliveryStatistics,
  type StreamHandler,
} from "./stream-delivery";

/** The settings of the event source mapping that the local runtime reads from the environment. */
export interface StreamPollerSettings {
  /** Records per handler invocation (BatchSize). */
  readonly batchSize: number;
  /** Retries of a failing record before it goes to the failure log (MaximumRetryAttempts). */
  readonly retryAttemptsMax: number;
}

export interface StreamPollerOptions extends Partial<StreamPollerSettings> {
  readonly config: Pick<LedgerConfig, "tables" | "endpoint" | "region">;
  readonly handler: StreamHandler;
  /** Where the checkpoints and the failure log live. */
  readonly dataDirectory: string;
  readonly log: Logger;
  readonly idlePauseMs?: number;
  readonly retryBackoffBaseMs?: number;
}

/** Counts a test or a log line can read; never used for decisions. */
export type StreamPollerStatistics = DeliveryStatistics;

export interface StreamPoller {
  /** The stream being read, once the ledger table has answered. */
  readonly streamArn: string | undefined;
  readonly statistics: StreamPollerStatistics;
  /** Finishes the batch in hand (its checkpoint written), then stops reading. */
  readonly stop: () => Promise<void>;
}

/**
 * The shards to start reading now, in the order listed: not finished, not being read, and with their parent
 * finished — or gone from the stream already (trimmed), since nothing of it can be read any more.
 */
export function shardsReadyToRead(
  shards: readonly Shard[],
  isFinished: (shardId: string) => boolean,
  reading: ReadonlySet<string>,
): string[] {
  const listed = new Set(shards.map((shard) => shard.ShardId));
  const ready: string[] = [];
  for (const { ShardId: shardId, ParentShardId: parent } of shards) {
    if (shardId === undefined || reading.has(shardId) || isFinished(shardId)) continue;
    if (parent !== undefined && listed.has(parent) && !isFinished(parent)) continue;
    ready.push(shardId);
  }
  return ready;
}

/** What the parts of one running poller share. */
interface PollerContext {
  readonly options: StreamPollerOptions;
  readonly settings: Required<StreamPollerSettings> & { idlePauseMs: number; backoffBaseMs: number };
  readonly streams: DynamoDBStreamsClient;
  readonly statistics: StreamPollerStatistics;
  readonly signal: AbortSignal;
  /** Waits, unless the poller is stopping; resolves early on stop. */
  readonly pause: (milliseconds: number) => Promise<void>;
}

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const batchSize = options.batchSize ?? STREAM_BATCH_RECORDS_DEFAULT;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > STREAM_BATCH_RECORDS_MAX) {
    throw new Error(`batchSize must be 1 to ${STREAM_BATCH_RECORDS_MAX} (got ${batchSize})`);
  }
  const stopping = new AbortController();
  const context: PollerContext = {
    options,
    settings: {
      batchSize,
      retryAttemptsMax: options.retryAttemptsMax ?? STREAM_RETRY_ATTEMPTS_DEFAULT,
      idlePauseMs: options.idlePauseMs ?? STREAM_IDLE_PAUSE_MS,
      backoffBaseMs: options.retryBackoffBaseMs ?? STREAM_RETRY_BACKOFF_BASE_MS,
    },
    streams: new DynamoDBStreamsClient(dynamoDbClientConfig(options.config)),
    statistics: { invocations: 0, recordsDelivered: 0, recordsGivenUp: 0 },
    signal: stopping.signal,
    pause: (milliseconds) =>
      sleep(milliseconds, undefined, { signal: stopping.signal }).catch(() => undefined),
  };

  let streamArn: string | undefined;
  const running = (async (): Promise<void> => {
    streamArn = await findStream(context);
    if (streamArn === undefined) return;
    const checkpoints = await CheckpointFile.open(options.dataDirectory, streamArn, options.log);
    const { retryAttemptsMax } = context.settings;
    options.log({ level: "info", message: "stream poller started", batchSize, retryAttemptsMax });
    await follow(context, streamArn, checkpoints);
  })().catch((error: unknown) =>
    options.log({ level: "error", message: "stream poller failed", ...describeError(error) }),
  );

  return {
    get streamArn() {
      return streamArn;
    },
    statistics: context.statistics,
    stop: async (): Promise<void> => {
      stopping.abort();
      await running;
      context.streams.destroy();
    },
  };
}

/** The ledger table's stream; retried until the store answers, so the system starts without it. */
async function findStream({ options, settings, signal, pause }: PollerContext): Promise<string | undefined> {
  const { log } = options;
  const tables = new DynamoDBClient(dynamoDbClientConfig(options.config));
  try {
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        const table = await tables.send(
          new DescribeTableCommand({ TableName: options.config.tables.ledger }),
          {
            abortSignal: signal,
          },
        );
        const latest = table.Table?.LatestStreamArn;
        if (latest !== undefined && table.Table?.StreamSpecification?.StreamEnabled === true) return latest;
        if (failures === 0)
          log({ level: "error", message: "the ledger table has no stream: nothing to project" });
      } catch (error) {
        if (signal.aborted) break;
        if (failures === 0)
          log({ level: "warn", message: "ledger table not reachable yet", ...describeError(error) });
      }
      await pause(exponentialBackoffMs(failures, settings.backoffBaseMs, STREAM_RETRY_BACKOFF_CAP_MS));
    }
    return undefined;
  } finally {
    tables.destroy();
  }
}

/** Reads every shard of the stream, a parent before its children, until the poller stops. */
async function follow(context: PollerContext, streamArn: string, checkpoints: CheckpointFile): Promise<void> {
  const { options, settings, streams, signal, pause } = context;
  const delivery = new BatchDelivery({
    ...settings,
    handler: options.handler,
    streamArn,
    checkpoints,
    failureLogPath: join(options.dataDirectory, FAILURE_LOG_FILE),
    pause,
    signal,
    statistics: context.statistics,
    log: options.log,
  });
  const reader = new ShardReader({
    ...settings,
    streams,
    streamArn,
    checkpoints,
    delivery,
    pause,
    signal,
    log: options.log,
  });
  const workers = new Map<string, Promise<void>>();
  while (!signal.aborted) {
    try {
      const ready = shardsReadyToRead(
        await listShards(streams, streamArn, signal),
        (shardId) => checkpoints.of(shardId).finished === true,
        new Set(workers.keys()),
      );
      for (const shardId of ready) {
        if (workers.size >= STREAM_SHARDS_IN_FLIGHT_MAX) break;
        const worker = reader
          .read(shardId)
          .catch((error: unknown) =>
            options.log({ level: "error", message: "shard reader failed", shardId, ...describeError(error) }),
          )
          .finally(() => workers.delete(shardId));
        workers.set(shardId, worker);
      }
    } catch (error) {
      if (signal.aborted) break;
      options.log({ level: "warn", message: "stream discovery failed", ...describeError(error) });
    }
    await pause(STREAM_SHARD_DISCOVERY_INTERVAL_MS);
  }
  await Promise.all(workers.values());
  await checkpoints.flushed();
}

/** Every shard of the stream, page by page (DescribeStream lists 100 a page). */
async function listShards(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  signal: AbortSignal,
): Promise<Shard[]> {
  const shards: Shard[] = [];
  let startShardId: string | undefined;
  for (let page = 0; page < STREAM_DESCRIBE_PAGES_MAX; page++) {
    const output = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: startShardId }),
      { abortSignal: signal },
    );
    shards.push(...(output.StreamDescription?.Shards ?? []));
    startShardId = output.StreamDescription?.LastEvaluatedShardId;
    if (startShardId === undefined) break;
  }
  return shards;
}
