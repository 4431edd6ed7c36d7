// The AWS model of DynamoDB through the real SDK v3 against DynamoDB Local: what DynamoDB Local never does —
// throttle a hot partition, bill transactions and big items more, push back from a full index partition, cancel
// a transaction that collides with one in flight — answered as AWS answers it, inside the SDK's retry loop, and
// with nothing written by a refused request. The numbers are the developer guide's (docs/dynamodb-model.md);
// a frozen clock makes each run the same.

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { installDynamoDbModel } from "../../../local/dynamodb-model/middleware";
import { DynamoDbAwsModel } from "../../../local/dynamodb-model/model";
import { partitionOf } from "../../../local/dynamodb-model/partitions";
import { tableShape } from "../../../local/dynamodb-model/requests";
import { dynamoDbClientConfig } from "../../../services/ledger/storage/clients";
import { tableDefinitions } from "../../../services/ledger/storage/tables";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { createTestStore, type TestStore } from "../../support/store";

const SEED = "integration";
/** 1 % of AWS: a partition takes 10 write units and 30 read units a second. */
const SCALE = 0.01;

let store: TestStore;

beforeAll(async () => {
  store = await createTestStore();
});

/** A client of the test's tables with the model installed, on a clock that stands still unless moved. */
function modelledClient(maxAttempts = 1): { client: DynamoDBDocumentClient; clock: { nowMs: number } } {
  const clock = { nowMs: 0 };
  const model = new DynamoDbAwsModel({
    tables: tableDefinitions(store.config.tables).map(tableShape),
    seed: SEED,
    scale: SCALE,
    nowMs: () => clock.nowMs,
  });
  const base = new DynamoDBClient({ ...dynamoDbClientConfig(store.config), maxAttempts });
  installDynamoDbModel(base, model);
  return { client: DynamoDBDocumentClient.from(base), clock };
}

const counters = (): string => store.config.tables.counters;
const ledger = (): string => store.config.tables.ledger;

async function exists(table: string, key: Record<string, unknown>): Promise<boolean> {
  const found = await store.client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
  return found.Item !== undefined;
}

describe("per-partition write capacity", () => {
  it("takes 1 000 write units a second per partition (scaled), then throttles as AWS does and writes nothing", async () => {
    const { client } = modelledClient();
    for (let index = 0; index < 10; index += 1) {
      await client.send(new PutCommand({ TableName: counters(), Item: { counterId: "hot", n: index } }));
    }
    const refused = client.send(new PutCommand({ TableName: counters(), Item: { counterId: "hot", n: 10 } }));
    await expect(refused).rejects.toMatchObject({
      name: "ThrottlingException",
      throttlingReasons: [expect.objectContaining({ reason: "TableWriteKeyRangeThroughputExceeded" })],
    });
    const item = await store.client.send(
      new GetCommand({ TableName: counters(), Key: { counterId: "hot" }, ConsistentRead: true }),
    );
    expect(item.Item?.n).toBe(9);
  });

  it("refills with time, and the SDK retries a throttle with its own backoff", async () => {
    const { client, clock } = modelledClient(3);
    for (let index = 0; index < 10; index += 1) {
      await client.send(new PutCommand({ TableName: counters(), Item: { counterId: "refill", n: index } }));
    }
    const refused = await client
      .send(new PutCommand({ TableName: counters(), Item: { counterId: "refill", n: 10 } }))
      .catch((error: unknown) => error as { $metadata?: { attempts?: number } });
    expect(refused.$metadata?.attempts).toBe(3);
    clock.nowMs += 100; // a tenth of a second: one write unit at 1 % scale
    await client.send(new PutCommand({ TableName: counters(), Item: { counterId: "refill", n: 11 } }));
  });

  it("bills a transactional write twice, and cancels the transaction with ThrottlingError when short", async () => {
    const { client } = modelledClient();
    const put = (n: number) =>
      client.send(
        new TransactWriteCommand({
          TransactItems: [{ Put: { TableName: counters(), Item: { counterId: "tx", n } } }],
        }),
      );
    for (let n = 0; n < 5; n += 1) await put(n);
    await expect(put(5)).rejects.toMatchObject({
      name: "TransactionCanceledException",
      CancellationReasons: [expect.objectContaining({ Code: "ThrottlingError" })],
    });
  });

  it("bills an item per started KB: a 2.5 KB item costs 3 units", async () => {
    const { client } = modelledClient();
    const padding = "x".repeat(2500);
    for (let n = 0; n < 3; n += 1) {
      await client.send(new PutCommand({ TableName: counters(), Item: { counterId: "big", n, padding } }));
    }
    await expect(
      client.send(new PutCommand({ TableName: counters(), Item: { counterId: "big", n: 3, padding } })),
    ).rejects.toMatchObject({ name: "ThrottlingException" });
  });
});

/** Ledger keys for one counter (one index partition), dealt round-robin over the table's four partitions. */
function spreadEventIds(count: number): string[] {
  const ids: string[] = [];
  for (let index = 0; ids.length < count; index += 1) {
    const eventId = `idx#key-${index}`;
    if (partitionOf(SEED, ledger(), { S: eventId }, 4) === ids.length % 4) ids.push(eventId);
  }
  return ids;
}

describe("global secondary indexes", () => {
  it("counts index writes on the index's partition and throttles the table write when it is full", async () => {
    const { client } = modelledClient();
    const eventIds = spreadEventIds(11);
    for (const [version, eventId] of eventIds.slice(0, 10).entries()) {
      await client.send(
        new PutCommand({ TableName: ledger(), Item: { eventId, counterId: "idx", version } }),
      );
    }
    const last = eventIds[10] ?? "";
    await expect(
      client.send(
        new PutCommand({ TableName: ledger(), Item: { eventId: last, counterId: "idx", version: 10 } }),
      ),
    ).rejects.toMatchObject({
      name: "ThrottlingException",
      throttlingReasons: [expect.objectContaining({ reason: "IndexWriteKeyRangeThroughputExceeded" })],
    });
    expect(await exists(ledger(), { eventId: last })).toBe(false);
  });
});

describe("per-partition read capacity", () => {
  it("takes 3 000 read units a second (scaled): 30 strong reads or 60 eventual ones, then throttles", async () => {
    const { client } = modelledClient();
    await store.client.send(new PutCommand({ TableName: counters(), Item: { counterId: "read" } }));
    const read = (consistent: boolean) =>
      client.send(
        new GetCommand({ TableName: counters(), Key: { counterId: "read" }, ConsistentRead: consistent }),
      );
    for (let index = 0; index < 20; index += 1) await read(true);
    for (let index = 0; index < 20; index += 1) await read(false);
    await expect(read(true)).rejects.toMatchObject({
      name: "ThrottlingException",
      throttlingReasons: [expect.objectContaining({ reason: "TableReadKeyRangeThroughputExceeded" })],
    });
  });

  it("bills a Query by the size of the page it returned", async () => {
    const { client } = modelledClient();
    const padding = "y".repeat(3000);
    for (let version = 0; version < 6; version += 1) {
      await store.client.send(
        new PutCommand({
          TableName: ledger(),
          Item: { eventId: `page#${version}`, counterId: "page", version, padding },
        }),
      );
    }
    const query = () =>
      client.send(
        new QueryCommand({
          TableName: ledger(),
          IndexName: "byVersion",
          KeyConditionExpression: "counterId = :counter",
          ExpressionAttributeValues: { ":counter": "page" },
        }),
      );
    // About 18 KB a page: 5 units, eventually consistent 2.5; 30 units last 12 pages, the 13th is refused.
    for (let page = 0; page < 12; page += 1) await query();
    await expect(query()).rejects.toMatchObject({ name: "ThrottlingException" });
  });
});

describe("transaction conflicts", () => {
  it("cancels one of two transactions on the same item in flight together, and only one is written", async () => {
    const { client } = modelledClient();
    await store.client.send(
      new PutCommand({ TableName: counters(), Item: { counterId: "race", writes: 0 } }),
    );
    const bump = (writer: string) =>
      client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: counters(),
                Key: { counterId: "race" },
                UpdateExpression: "SET writes = writes + :one, lastWriter = :writer",
                ExpressionAttributeValues: { ":one": 1, ":writer": writer },
              },
            },
          ],
        }),
      );
    const outcomes = await Promise.allSettled([bump("a"), bump("b")]);
    const rejected = outcomes.filter((outcome) => outcome.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toMatchObject({
      name: "TransactionCanceledException",
      CancellationReasons: [expect.objectContaining({ Code: "TransactionConflict" })],
    });
    const item = await store.client.send(
      new GetCommand({ TableName: counters(), Key: { counterId: "race" }, ConsistentRead: true }),
    );
    expect(item.Item?.writes).toBe(1);
  });
});

describe("DYNAMODB_MODEL in the local runtime", () => {
  const increment = (system: LocalSystem, key: string) =>
    fetch(`${system.url}/number`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ action: "increment" }),
    });

  it("is off by default: two commands in a row on one counter both apply", async () => {
    const plain = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
    const system = await startLocalSystem({ environment: plain.environment, port: 0, streamPoller: false });
    try {
      expect((await increment(system, "plain-1")).status).toBe(200);
      expect((await increment(system, "plain-2")).status).toBe(200);
    } finally {
      await system.stop();
      plain.client.destroy();
    }
  });

  it("=aws holds the handlers to a partition's capacity: a 503 that is safe to retry, and nothing written", async () => {
    // At 0.1 % of AWS the counter's partition takes one write unit a second, and each command's transactional
    // update of the aggregate costs two: the second command in a row finds the partition spent.
    const modelled = await createTestStore({
      ...LEDGER_ONLY_ENVIRONMENT,
      DYNAMODB_MODEL: "aws",
      DYNAMODB_MODEL_SCALE: "0.001",
    });
    const system = await startLocalSystem({
      environment: modelled.environment,
      port: 0,
      streamPoller: false,
    });
    try {
      expect((await increment(system, "aws-1")).status).toBe(200);
      const refused = await increment(system, "aws-2");
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
      const body = await refused.text();
      expect(body).not.toMatch(/Throttl|TransactionCanceled|arn:aws/);
      for (const table of Object.values(modelled.config.tables)) expect(body).not.toContain(table);
      const current = (await (await fetch(`${system.url}/number`)).json()) as { version: number };
      expect(current.version).toBe(1);
      await new Promise((wake) => setTimeout(wake, 2_100));
      expect((await increment(system, "aws-2")).status).toBe(200);
    } finally {
      await system.stop();
      modelled.client.destroy();
    }
  });
});
