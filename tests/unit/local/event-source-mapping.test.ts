// The parts of the poller that decide what the event source mapping would: which shards to read (a parent
// before its children), where a delivery failed (Lambda's reading of batchItemFailures), the record shape
// Lambda hands over, and the settings read from the environment. Pure: no DynamoDB needed.

import type { DynamoDBRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { shardsReadyToRead } from "../../../local/poller";
import { loadStreamPollerSettings } from "../../../local/config";
import { toLambdaRecord } from "../../../local/stream-records";
import { firstFailedIndex } from "../../../local/stream-delivery";
import { ConfigurationError } from "../../../services/ledger/config";

const SHARDS = [
  { ShardId: "parent" },
  { ShardId: "child-a", ParentShardId: "parent" },
  { ShardId: "child-b", ParentShardId: "parent" },
  { ShardId: "grandchild", ParentShardId: "child-a" },
  { ShardId: "orphan", ParentShardId: "trimmed-away" },
];

describe("shardsReadyToRead", () => {
  it("reads a parent before its children, and a child whose parent is trimmed away at once", () => {
    expect(shardsReadyToRead(SHARDS, () => false, new Set())).toEqual(["parent", "orphan"]);
  });

  it("starts the children once the parent is finished, and never a shard already being read or finished", () => {
    const finished = new Set(["parent", "orphan"]);
    expect(shardsReadyToRead(SHARDS, (shard) => finished.has(shard), new Set(["child-b"]))).toEqual([
      "child-a",
    ]);
    finished.add("child-a");
    expect(shardsReadyToRead(SHARDS, (shard) => finished.has(shard), new Set())).toEqual([
      "child-b",
      "grandchild",
    ]);
  });
});

function records(...sequenceNumbers: string[]): DynamoDBRecord[] {
  return sequenceNumbers.map((SequenceNumber) => ({ dynamodb: { SequenceNumber } }));
}

describe("firstFailedIndex, as Lambda reads batchItemFailures", () => {
  const batch = records("0100", "0200", "0300", "0400");

  it("success for an empty list or no answer at all", () => {
    expect(firstFailedIndex({ batchItemFailures: [] }, batch)).toBe(-1);
    expect(firstFailedIndex(undefined, batch)).toBe(-1);
  });

  it("resumes from the lowest reported sequence number, compared as numbers", () => {
    const failures = [{ itemIdentifier: "400" }, { itemIdentifier: "0200" }, { itemIdentifier: "300" }];
    expect(firstFailedIndex({ batchItemFailures: failures }, batch)).toBe(1);
  });

  it.each([[""], ["not-a-number"], ["999"]])(
    "fails the whole batch for the identifier %j",
    (itemIdentifier) => {
      expect(firstFailedIndex({ batchItemFailures: [{ itemIdentifier }] }, batch)).toBe(0);
    },
  );

  it("fails the whole batch for a null identifier", () => {
    expect(
      firstFailedIndex({ batchItemFailures: [{ itemIdentifier: null as unknown as string }] }, batch),
    ).toBe(0);
  });
});

describe("toLambdaRecord", () => {
  it("adds the stream ARN, gives the creation time in epoch seconds and binaries as base64", () => {
    const record = toLambdaRecord(
      {
        eventID: "1",
        eventName: "INSERT",
        eventVersion: "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: "ddblocal",
        dynamodb: {
          ApproximateCreationDateTime: new Date("2026-01-01T00:01:00.000Z"),
          Keys: { eventId: { S: "c#k" } },
          NewImage: {
            eventId: { S: "c#k" },
            blob: { B: Uint8Array.from([1, 2, 3]) },
            list: { L: [{ N: "1" }] },
          },
          SequenceNumber: "000000000000000000042",
          SizeBytes: 30,
          StreamViewType: "NEW_IMAGE",
        },
      },
      "arn:stream",
    );
    expect(record.eventSourceARN).toBe("arn:stream");
    expect(record.dynamodb?.ApproximateCreationDateTime).toBe(Date.parse("2026-01-01T00:01:00.000Z") / 1000);
    expect(record.dynamodb?.NewImage).toEqual({
      eventId: { S: "c#k" },
      blob: { B: "AQID" },
      list: { L: [{ N: "1" }] },
    });
    expect(record.dynamodb?.SequenceNumber).toBe("000000000000000000042");
  });
});

describe("loadStreamPollerSettings", () => {
  it("defaults to Lambda's batch of 100 and bounded retries", () => {
    expect(loadStreamPollerSettings({})).toEqual({ batchSize: 100, retryAttemptsMax: 4 });
    expect(loadStreamPollerSettings({ STREAM_BATCH_SIZE: "10", STREAM_MAX_RETRY_ATTEMPTS: "0" })).toEqual({
      batchSize: 10,
      retryAttemptsMax: 0,
    });
  });

  it.each([
    ["STREAM_BATCH_SIZE", "0"],
    ["STREAM_BATCH_SIZE", "1001"],
    ["STREAM_BATCH_SIZE", "ten"],
    ["STREAM_MAX_RETRY_ATTEMPTS", "-1"],
    ["STREAM_MAX_RETRY_ATTEMPTS", "101"],
  ])("refuses %s=%s with a message naming it", (name, value) => {
    expect(() => loadStreamPollerSettings({ [name]: value })).toThrow(ConfigurationError);
    expect(() => loadStreamPollerSettings({ [name]: value })).toThrow(name);
  });
});
