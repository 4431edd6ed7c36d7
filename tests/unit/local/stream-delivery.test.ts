// The poller's delivery on its own (local/stream-delivery.ts), without a stream: which records each
// invocation gets, what is checkpointed, how long it waits between retries, when a record is given up to the
// failure log, and that a stop is honoured between invocations. The handler is a script of answers; the
// waits are recorded instead of slept, so nothing here depends on time.

import type { DynamoDBBatchResponse, DynamoDBRecord } from "aws-lambda";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ShardCheckpoint } from "../../../local/stream-checkpoints";
import { BatchDelivery, type BatchDeliveryOptions, type StreamHandler } from "../../../local/stream-delivery";

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

function records(...sequenceNumbers: string[]): DynamoDBRecord[] {
  return sequenceNumbers.map((sequenceNumber) => ({
    eventID: `event-${sequenceNumber}`,
    dynamodb: { SequenceNumber: sequenceNumber, ApproximateCreationDateTime: 1_700_000_000 },
  }));
}

const failAt = (sequenceNumber: string): DynamoDBBatchResponse => ({
  batchItemFailures: [{ itemIdentifier: sequenceNumber }],
});

/** A delivery whose handler answers from `script` (then succeeds), recording what it saw. */
async function scripted(
  script: ReadonlyArray<DynamoDBBatchResponse | Error>,
  overrides: Partial<BatchDeliveryOptions> = {},
) {
  const directory = await mkdtemp(join(tmpdir(), "delivery-test-"));
  directories.push(directory);
  const invocations: string[][] = [];
  const saved: ShardCheckpoint[] = [];
  const waits: number[] = [];
  const answers = [...script];
  const handler: StreamHandler = (event) => {
    invocations.push(event.Records.map((record) => record.dynamodb?.SequenceNumber ?? "?"));
    const answer = answers.shift();
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  const failureLogPath = join(directory, "failures.jsonl");
  const statistics = { invocations: 0, recordsDelivered: 0, recordsGivenUp: 0 };
  const delivery = new BatchDelivery({
    handler,
    streamArn: "arn:test:stream",
    checkpoints: { save: (_shardId, checkpoint) => Promise.resolve(void saved.push(checkpoint)) },
    failureLogPath,
    retryAttemptsMax: 3,
    backoffBaseMs: 100,
    pause: (milliseconds) => Promise.resolve(void waits.push(milliseconds)),
    signal: new AbortController().signal,
    statistics,
    log: () => undefined,
    ...overrides,
  });
  const failureLog = async () =>
    (await readFile(failureLogPath, "utf8").catch(() => ""))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { delivery, invocations, saved, waits, statistics, failureLog };
}

describe("BatchDelivery", () => {
  it("hands over a batch in one invocation and checkpoints its last record", async () => {
    const run = await scripted([]);
    expect(await run.delivery.deliver("shard-1", records("11", "12", "13"))).toBe(true);
    expect(run.invocations).toEqual([["11", "12", "13"]]);
    expect(run.saved).toEqual([{ sequenceNumber: "13" }]);
    expect(run.waits).toEqual([]);
  });

  it("retries from the lowest failed record, checkpointing the records before it once", async () => {
    const run = await scripted([{ batchItemFailures: [{ itemIdentifier: "14" }, { itemIdentifier: "13" }] }]);
    expect(await run.delivery.deliver("shard-1", records("11", "12", "13", "14"))).toBe(true);
    expect(run.invocations).toEqual([
      ["11", "12", "13", "14"],
      ["13", "14"],
    ]);
    expect(run.saved).toEqual([{ sequenceNumber: "12" }, { sequenceNumber: "14" }]);
    expect(run.statistics).toEqual({ invocations: 2, recordsDelivered: 4, recordsGivenUp: 0 });
  });

  it("waits the doubled backoff window before each retry of the same record: 100, 200, 400 ms", async () => {
    const run = await scripted([new Error("down"), failAt("11"), failAt("11")]);
    await run.delivery.deliver("shard-1", records("11"));
    expect(run.waits).toEqual([100, 200, 400]);
  });

  it("starts the backoff again once a record gets through", async () => {
    const run = await scripted([failAt("11"), failAt("11"), failAt("12"), failAt("12")]);
    await run.delivery.deliver("shard-1", records("11", "12"));
    expect(run.waits).toEqual([100, 200, 100, 200]);
  });

  it("gives a record up to the failure log after the bounded retries, then delivers the rest", async () => {
    const run = await scripted([failAt("12"), failAt("12"), failAt("12"), failAt("12")]);
    expect(await run.delivery.deliver("shard-1", records("11", "12", "13"))).toBe(true);
    expect(run.invocations).toEqual([["11", "12", "13"], ["12", "13"], ["12", "13"], ["12", "13"], ["13"]]);
    expect(run.saved).toEqual([{ sequenceNumber: "11" }, { sequenceNumber: "12" }, { sequenceNumber: "13" }]);
    expect(run.statistics).toEqual({ invocations: 5, recordsDelivered: 2, recordsGivenUp: 1 });
    const [entry, ...others] = await run.failureLog();
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      requestContext: { condition: "RetryAttemptsExhausted", approximateInvokeCount: 4 },
      DDBStreamBatchInfo: {
        shardId: "shard-1",
        startSequenceNumber: "12",
        endSequenceNumber: "12",
        approximateArrivalOfFirstRecord: "2023-11-14T22:13:20.000Z",
        batchSize: 1,
        streamArn: "arn:test:stream",
      },
      record: { eventID: "event-12" },
    });
  });

  it("with no retries allowed, gives a failing record up at once", async () => {
    const run = await scripted([new Error("poison")], { retryAttemptsMax: 0 });
    await run.delivery.deliver("shard-1", records("11", "12"));
    expect(run.invocations).toEqual([["11", "12"], ["12"]]);
    expect(run.waits).toEqual([]);
    expect(run.statistics.recordsGivenUp).toBe(1);
  });

  it("stops between invocations once the poller stops, with nothing after the failed record checkpointed", async () => {
    const stopping = new AbortController();
    const run = await scripted([failAt("12")], {
      signal: stopping.signal,
      pause: () => Promise.resolve(stopping.abort()),
    });
    expect(await run.delivery.deliver("shard-1", records("11", "12"))).toBe(false);
    expect(run.invocations).toEqual([["11", "12"]]);
    expect(run.saved).toEqual([{ sequenceNumber: "11" }]);
  });
});
