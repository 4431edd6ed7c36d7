// The local stand-in for Lambda's DynamoDB Streams event source mapping: reads the ledger table's stream
// (every shard, a parent before its children, each shard in order), hands batches in the real event shape to
// the real projector handler, honours `batchItemFailures` by retrying from the first failed record with
// backoff, gives up on a record after bounded retries by appending it to `projector-failures.jsonl` (the
// on-failure destination), and keeps a checkpoint per shard in `poller-checkpoints.json`, so that a restart
// neither loses nor needlessly replays records. It never projects anything itself and never spins when idle.

import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
  type AttributeValue as StreamsAttributeValue,
  type Shard,
  type ShardIteratorType,
} from "@aws-sdk/client-dynamodb-streams";
import type {
  AttributeValue as LambdaAttributeValue,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from "aws-lambda";
import { randomBytes } from "node:crypto";
import { appendFile, mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { dynamoDbClientConfig } from "../services/ledger/storage/clients";
import type { LedgerConfig } from "../services/ledger/config";
import { loadStreamPollerSettings } from "./config";
import {
  STREAM_BATCH_RECORDS_MAX,
  STREAM_DESCRIBE_PAGES_MAX,
  STREAM_IDLE_PAUSE_MS,
  STREAM_RETRY_BACKOFF_BASE_MS,
  STREAM_RETRY_BACKOFF_CAP_MS,
  STREAM_SHARD_DISCOVERY_INTERVAL_MS,
  STREAM_SHARDS_IN_FLIGHT_MAX,
} from "./limits";
import { describeError, type Logger } from "../services/ledger/log";

export const CHECKPOINTS_FILE = "poller-checkpoints.json";
export const FAILURE_LOG_FILE = "projector-failures.jsonl";

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

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
export interface StreamPollerStatistics {
  invocations: number;
  recordsDelivered: number;
  recordsGivenUp: number;
}

export interface StreamPoller {
  /** The stream being read, once the ledger table has answered. */
  readonly streamArn: string | undefined;
  readonly statistics: StreamPollerStatistics;
  /** Finishes the batch in hand (its checkpoint written), then stops reading. */
  readonly stop: () => Promise<void>;
}

/** STREAM_BATCH_SIZE and STREAM_MAX_RETRY_ATTEMPTS, read by local/config.ts with every other variable. */
export { loadStreamPollerSettings };

interface ShardCheckpoint {
  /** The last record handed over for good (projected, or given up on). */
  sequenceNumber?: string;
  /** The shard is closed and every record of it is handed over. */
  finished?: boolean;
}

/** The checkpoints of one stream, persisted by writing a temporary file and renaming it over the old one. */
class CheckpointFile {
  private readonly path: string;
  private readonly streamArn: string;
  private readonly shards: Record<string, ShardCheckpoint>;
  private writing: Promise<void> = Promise.resolve();

  private constructor(path: string, streamArn: string, shards: Record<string, ShardCheckpoint>) {
    this.path = path;
    this.streamArn = streamArn;
    this.shards = shards;
  }

  static async open(directory: string, streamArn: string, log: Logger): Promise<CheckpointFile> {
    await mkdir(directory, { recursive: true });
    const path = join(directory, CHECKPOINTS_FILE);
    const streams = await readStreams(path, log);
    return new CheckpointFile(path, streamArn, { ...streams[streamArn] });
  }

  of(shardId: string): ShardCheckpoint {
    return this.shards[shardId] ?? {};
  }

  async save(shardId: string, checkpoint: ShardCheckpoint): Promise<void> {
    this.shards[shardId] = checkpoint;
    // One write at a time; each writes the latest checkpoints of every shard.
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  async flushed(): Promise<void> {
    await this.writing;
  }

  private async write(): Promise<void> {
    // Other streams' checkpoints (another table in the same data directory) are kept as they are.
    const streams = await readStreams(this.path, () => undefined);
    streams[this.streamArn] = { ...this.shards };
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const file = await open(temporary, "w");
    try {
      await file.writeFile(JSON.stringify({ streams }, null, 1));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
  }
}

async function readStreams(
  path: string,
  log: Logger,
): Promise<Record<string, Record<string, ShardCheckpoint>>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as { streams?: Record<string, Record<string, ShardCheckpoint>> };
    if (typeof parsed.streams === "object" && parsed.streams !== null) return parsed.streams;
  } catch {
    // Falls through: an unreadable file means replaying from the start, which the projector makes harmless.
  }
  log({ level: "warn", message: "poller checkpoints unreadable; reading every shard from its start", path });
  return {};
}

/** Lambda delivers binaries as base64 text where the SDK gives bytes; everything else is the same. */
function toLambdaAttributes(
  image: Record<string, StreamsAttributeValue> | undefined,
): Record<string, LambdaAttributeValue> | undefined {
  if (image === undefined) return undefined;
  const convert = (value: StreamsAttributeValue): LambdaAttributeValue => {
    if (value.B !== undefined) return { B: Buffer.from(value.B).toString("base64") };
    if (value.BS !== undefined) return { BS: value.BS.map((bytes) => Buffer.from(bytes).toString("base64")) };
    if (value.L !== undefined) return { L: value.L.map(convert) };
    if (value.M !== undefined) return { M: toLambdaAttributes(value.M) ?? {} };
    return value as LambdaAttributeValue;
  };
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, convert(value)]));
}

/**
 * A record as the event source mapping hands it to Lambda: with the stream ARN (DynamoDB Local's records
 * lack it) and ApproximateCreationDateTime in epoch seconds (the SDK gives a Date).
 */
export function toLambdaRecord(record: StreamsRecord, streamArn: string): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created === undefined ? {} : { ApproximateCreationDateTime: created.getTime() / 1000 }),
      Keys: toLambdaAttributes(stream.Keys),
      NewImage: toLambdaAttributes(stream.NewImage),
      OldImage: toLambdaAttributes(stream.OldImage),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
  };
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

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const defaults = loadStreamPollerSettings({});
  const batchSize = options.batchSize ?? defaults.batchSize;
  const retryAttemptsMax = options.retryAttemptsMax ?? defaults.retryAttemptsMax;
  const idlePauseMs = options.idlePauseMs ?? STREAM_IDLE_PAUSE_MS;
  const backoffBaseMs = options.retryBackoffBaseMs ?? STREAM_RETRY_BACKOFF_BASE_MS;
  const { handler, log } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > STREAM_BATCH_RECORDS_MAX) {
    throw new Error(`batchSize must be 1 to ${STREAM_BATCH_RECORDS_MAX} (got ${batchSize})`);
  }

  const clientConfig = dynamoDbClientConfig(options.config);
  const streams = new DynamoDBStreamsClient(clientConfig);
  const failureLogPath = join(options.dataDirectory, FAILURE_LOG_FILE);
  const statistics: StreamPollerStatistics = { invocations: 0, recordsDelivered: 0, recordsGivenUp: 0 };
  const stopping = new AbortController();
  const workers = new Map<string, Promise<void>>();

  /** Waits, unless the poller is stopping; resolves early on stop. */
  const pause = (milliseconds: number): Promise<void> =>
    new Promise((wake) => {
      if (stopping.signal.aborted) return wake();
      const timer = setTimeout(done, milliseconds);
      function done(): void {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        wake();
      }
      stopping.signal.addEventListener("abort", done);
    });

  /** The ledger table's stream; retried until the store answers, so the system starts without it. */
  const findStream = async (): Promise<string | undefined> => {
    const tables = new DynamoDBClient(clientConfig);
    try {
      for (let failures = 0; !stopping.signal.aborted; failures++) {
        try {
          const table = await tables.send(
            new DescribeTableCommand({ TableName: options.config.tables.ledger }),
            { abortSignal: stopping.signal },
          );
          const latest = table.Table?.LatestStreamArn;
          if (latest !== undefined && table.Table?.StreamSpecification?.StreamEnabled === true) return latest;
          if (failures === 0)
            log({ level: "error", message: "the ledger table has no stream: nothing to project" });
        } catch (error) {
          if (stopping.signal.aborted) break;
          if (failures === 0)
            log({ level: "warn", message: "ledger table not reachable yet", ...describeError(error) });
        }
        await pause(Math.min(STREAM_RETRY_BACKOFF_CAP_MS, backoffBaseMs * 2 ** Math.min(failures, 10)));
      }
      return undefined;
    } finally {
      tables.destroy();
    }
  };

  const follow = async (streamArn: string, checkpoints: CheckpointFile): Promise<void> => {
    const listShards = async (): Promise<Shard[]> => {
      const shards: Shard[] = [];
      let startShardId: string | undefined;
      for (let page = 0; page < STREAM_DESCRIBE_PAGES_MAX; page++) {
        const output = await streams.send(
          new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: startShardId }),
          { abortSignal: stopping.signal },
        );
        shards.push(...(output.StreamDescription?.Shards ?? []));
        startShardId = output.StreamDescription?.LastEvaluatedShardId;
        if (startShardId === undefined) break;
      }
      return shards;
    };

    const iteratorOf = async (shardId: string, fromCheckpoint = true): Promise<string | undefined> => {
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
          { abortSignal: stopping.signal },
        );
        return output.ShardIterator;
      } catch (error) {
        if (!(error instanceof Error && error.name === "TrimmedDataAccessException") || !fromCheckpoint)
          throw error;
        // The checkpoint is older than the stream's retention: what lay between is gone, say so and go on.
        log({
          level: "error",
          message: "checkpoint trimmed from the stream; reading from the oldest record",
          shardId,
        });
        return iteratorOf(shardId, false);
      }
    };

    const giveUp = async (shardId: string, record: DynamoDBRecord, attempts: number): Promise<void> => {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      const created = record.dynamodb?.ApproximateCreationDateTime;
      const arrival = created === undefined ? null : new Date(created * 1000).toISOString();
      // The shape of Lambda's on-failure record for a stream, with the record itself added for local repair.
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
          streamArn,
        },
        record,
      };
      await appendFile(failureLogPath, `${JSON.stringify(entry)}\n`);
      statistics.recordsGivenUp++;
      log({ level: "error", message: "record given up after retries", shardId, sequenceNumber, attempts });
    };

    /** Hands records to the handler until each is projected or given up on; false if stopped first. */
    const deliver = async (shardId: string, records: readonly DynamoDBRecord[]): Promise<boolean> => {
      let pending = records;
      let failuresOfHead = 0;
      while (pending.length > 0) {
        if (stopping.signal.aborted) return false;
        statistics.invocations++;
        let failedAt: number;
        try {
          failedAt = firstFailedIndex(await handler({ Records: [...pending] }), pending);
        } catch (error) {
          log({ level: "warn", message: "projector invocation failed", shardId, ...describeError(error) });
          failedAt = 0;
        }
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
          await giveUp(shardId, poison, failuresOfHead);
          await checkpoints.save(shardId, { sequenceNumber: poison.dynamodb?.SequenceNumber });
          pending = rest;
          failuresOfHead = 0;
          continue;
        }
        const windowMs = Math.min(STREAM_RETRY_BACKOFF_CAP_MS, backoffBaseMs * 2 ** (failuresOfHead - 1));
        await pause(windowMs);
      }
      return true;
    };

    const readShard = async (shardId: string): Promise<void> => {
      let iterator: string | undefined;
      let errorsInRow = 0;
      while (!stopping.signal.aborted) {
        try {
          iterator ??= await iteratorOf(shardId);
          if (iterator === undefined) break;
          const output = await streams.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }),
            {
              abortSignal: stopping.signal,
            },
          );
          errorsInRow = 0;
          const records = (output.Records ?? []).map((record) => toLambdaRecord(record, streamArn));
          if (records.length > 0 && !(await deliver(shardId, records))) return;
          iterator = output.NextShardIterator;
          if (iterator === undefined || iterator === null) {
            const { sequenceNumber } = checkpoints.of(shardId);
            await checkpoints.save(shardId, { sequenceNumber, finished: true });
            log({ level: "info", message: "shard finished", shardId });
            return;
          }
          if (records.length === 0) await pause(idlePauseMs);
        } catch (error) {
          if (stopping.signal.aborted) return;
          // An expired or trimmed iterator, or a store hiccup: start again from the checkpoint after a pause.
          iterator = undefined;
          errorsInRow++;
          // DynamoDB Local invalidates a TRIM_HORIZON iterator taken on an empty shard once the first record
          // arrives: a renewal, not a fault, so it is not logged as one.
          const renewal = error instanceof Error && error.name === "TrimmedDataAccessException";
          log({
            level: renewal ? "info" : "warn",
            message: renewal ? "stream iterator renewed" : "stream read failed",
            shardId,
            ...describeError(error),
          });
          await pause(Math.min(STREAM_RETRY_BACKOFF_CAP_MS, backoffBaseMs * 2 ** Math.min(errorsInRow, 10)));
        }
      }
    };

    const discoverShards = async (): Promise<void> => {
      while (!stopping.signal.aborted) {
        try {
          const ready = shardsReadyToRead(
            await listShards(),
            (shardId) => checkpoints.of(shardId).finished === true,
            new Set(workers.keys()),
          );
          for (const shardId of ready) {
            if (workers.size >= STREAM_SHARDS_IN_FLIGHT_MAX) break;
            const worker = readShard(shardId)
              .catch((error: unknown) =>
                log({ level: "error", message: "shard reader failed", shardId, ...describeError(error) }),
              )
              .finally(() => workers.delete(shardId));
            workers.set(shardId, worker);
          }
        } catch (error) {
          if (stopping.signal.aborted) break;
          log({ level: "warn", message: "stream discovery failed", ...describeError(error) });
        }
        await pause(STREAM_SHARD_DISCOVERY_INTERVAL_MS);
      }
    };

    await discoverShards();
    await Promise.all(workers.values());
    await checkpoints.flushed();
  };

  let streamArn: string | undefined;
  const running = (async (): Promise<void> => {
    streamArn = await findStream();
    if (streamArn === undefined) return;
    const checkpoints = await CheckpointFile.open(options.dataDirectory, streamArn, log);
    log({ level: "info", message: "stream poller started", batchSize, retryAttemptsMax });
    await follow(streamArn, checkpoints);
  })().catch((error: unknown) =>
    log({ level: "error", message: "stream poller failed", ...describeError(error) }),
  );

  const stop = async (): Promise<void> => {
    stopping.abort();
    await running;
    streams.destroy();
  };
  return {
    get streamArn() {
      return streamArn;
    },
    statistics,
    stop,
  };
}
