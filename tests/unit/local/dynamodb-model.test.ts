// The AWS model's arithmetic and rules, held to the numbers of the DynamoDB developer guide: item sizes
// ("DynamoDB item sizes and formats"), capacity units ("Read/write capacity"), per-partition limits
// ("Partitions and data distribution") and transaction conflicts ("Transaction conflict handling"). The model's
// behaviour through the real SDK against DynamoDB Local is in tests/integration/local/dynamodb-model.test.ts.

import { describe, expect, it } from "vitest";
import {
  itemBytes,
  numberBytes,
  readUnits,
  valueBytes,
  writeUnits,
} from "../../../local/dynamodb-model/item-size";
import { DynamoDbAwsModel } from "../../../local/dynamodb-model/model";
import { CapacityBucket, partitionOf } from "../../../local/dynamodb-model/partitions";
import { tableShape, updateWrite } from "../../../local/dynamodb-model/requests";
import { DEFAULT_TABLE_NAMES, tableDefinitions } from "../../../services/ledger/storage/tables";

describe("item sizes", () => {
  it("counts a string as its name's and its value's UTF-8 bytes", () => {
    expect(itemBytes({ name: { S: "héllo" } })).toBe(4 + 6);
  });

  it("counts a number as 1 byte per two significant digits plus 1, zeroes trimmed", () => {
    expect(numberBytes("7")).toBe(2);
    expect(numberBytes("1234")).toBe(3);
    expect(numberBytes("12345")).toBe(4);
    expect(numberBytes("1000000000")).toBe(2);
    expect(numberBytes("-0.0012300")).toBe(3);
    expect(numberBytes("1.5e10")).toBe(2);
  });

  it("counts binary by its raw bytes, null and booleans as 1", () => {
    expect(valueBytes({ B: new Uint8Array(32) })).toBe(32);
    expect(valueBytes({ NULL: true })).toBe(1);
    expect(valueBytes({ BOOL: false })).toBe(1);
  });

  it("gives lists and maps 3 bytes of overhead and 1 byte per element", () => {
    expect(valueBytes({ L: [] })).toBe(3);
    expect(valueBytes({ M: {} })).toBe(3);
    expect(valueBytes({ L: [{ S: "ab" }, { N: "1" }] })).toBe(3 + (2 + 1) + (2 + 1));
    expect(valueBytes({ M: { a: { S: "xyz" } } })).toBe(3 + (1 + 3 + 1));
  });
});

describe("capacity units", () => {
  it("bills a write per started KB, at least one, and a transactional write twice", () => {
    expect(writeUnits(1, false)).toBe(1);
    expect(writeUnits(1024, false)).toBe(1);
    expect(writeUnits(1025, false)).toBe(2);
    expect(writeUnits(2500, true)).toBe(6);
  });

  it("bills a read per started 4 KB: half for eventual, one for strong, two for transactional", () => {
    expect(readUnits(100, "eventual")).toBe(0.5);
    expect(readUnits(4096, "strong")).toBe(1);
    expect(readUnits(4097, "strong")).toBe(2);
    expect(readUnits(5000, "transactional")).toBe(4);
  });
});

describe("partitions", () => {
  it("maps a key to the same partition every time under one seed, and spreads keys over partitions", () => {
    const keys = Array.from({ length: 400 }, (_, index) => ({ S: `key-${index}` }));
    const first = keys.map((key) => partitionOf("seed", "table", key, 4));
    expect(keys.map((key) => partitionOf("seed", "table", key, 4))).toEqual(first);
    for (let partition = 0; partition < 4; partition += 1) {
      expect(first.filter((value) => value === partition).length).toBeGreaterThan(60);
    }
    expect(keys.map((key) => partitionOf("another seed", "table", key, 4))).not.toEqual(first);
  });

  it("refills a bucket at its rate and holds no more than its burst", () => {
    const bucket = new CapacityBucket(1000, 1, 0);
    bucket.take(1000, 0);
    expect(bucket.available(0)).toBe(0);
    expect(bucket.available(250)).toBeCloseTo(250);
    expect(bucket.available(10_000)).toBe(1000);
  });

  it("admits a request bigger than the bucket only when full, and leaves it in debt for as long as it cost", () => {
    const bucket = new CapacityBucket(1, 1, 0);
    expect(bucket.admits(2, 0)).toBe(true);
    bucket.take(2, 0);
    expect(bucket.admits(2, 1_000)).toBe(false);
    expect(bucket.admits(2, 2_000)).toBe(true);
  });
});

const tables = tableDefinitions(DEFAULT_TABLE_NAMES).map(tableShape);
const counters = DEFAULT_TABLE_NAMES.counters;

function model(nowMs = (): number => 0, scale = 1): DynamoDbAwsModel {
  return new DynamoDbAwsModel({ tables, seed: "unit", scale, nowMs });
}

const aggregateUpdate = {
  TableName: counters,
  Key: { counterId: { S: "main" } },
  UpdateExpression: "SET #value = :value",
  ExpressionAttributeNames: { "#value": "value" },
  ExpressionAttributeValues: { ":value": { N: "1" } },
};

const transactionOn = (counterId: string) => ({
  TransactItems: [{ Update: { ...aggregateUpdate, Key: { counterId: { S: counterId } } } }],
});

describe("transaction conflicts", () => {
  it("cancels a transaction on an item that another transaction holds, and admits it once released", () => {
    const aws = model();
    const first = aws.admit("TransactWriteItemsCommand", transactionOn("main"));
    expect(() => aws.admit("TransactWriteItemsCommand", transactionOn("main"))).toThrow(
      expect.objectContaining({
        name: "TransactionCanceledException",
        CancellationReasons: [expect.objectContaining({ Code: "TransactionConflict" })],
      }),
    );
    expect(aws.admit("TransactWriteItemsCommand", transactionOn("other"))).toBeDefined();
    if (first !== undefined) aws.release(first);
    expect(aws.admit("TransactWriteItemsCommand", transactionOn("main"))).toBeDefined();
  });

  it("fails a single write on an item a transaction holds with TransactionConflictException", () => {
    const aws = model();
    aws.admit("TransactWriteItemsCommand", transactionOn("main"));
    expect(() => aws.admit("UpdateItemCommand", aggregateUpdate)).toThrow(
      expect.objectContaining({ name: "TransactionConflictException" }),
    );
  });

  it("cancels a transaction on an item that a single write holds, but lets single writes pass each other", () => {
    const aws = model();
    aws.admit("UpdateItemCommand", aggregateUpdate);
    expect(aws.admit("UpdateItemCommand", aggregateUpdate)).toBeDefined();
    expect(() => aws.admit("TransactWriteItemsCommand", transactionOn("main"))).toThrow(
      expect.objectContaining({ name: "TransactionCanceledException" }),
    );
  });

  it("fails a transactional read that a write overtook while it was in flight, naming the item", () => {
    const aws = model();
    const read = aws.admit("TransactGetItemsCommand", {
      TransactItems: [
        { Get: { TableName: counters, Key: { counterId: { S: "other" } } } },
        { Get: { TableName: counters, Key: { counterId: { S: "main" } } } },
      ],
    });
    aws.admit("UpdateItemCommand", aggregateUpdate);
    expect(read).toBeDefined();
    if (read === undefined) return;
    expect(() => aws.settle(read, { Responses: [] })).toThrow(
      expect.objectContaining({
        name: "TransactionCanceledException",
        CancellationReasons: [{ Code: "None" }, expect.objectContaining({ Code: "TransactionConflict" })],
      }),
    );
  });
});

describe("updates", () => {
  it("bills the bigger of the remembered size and the update's own, and an index write only for its keys", () => {
    const ledger = tables.find((table) => table.indexes.length > 0);
    expect(ledger).toBeDefined();
    if (ledger === undefined) return;
    const index = ledger.indexes[0];
    const input = {
      Key: { [ledger.partitionKey]: { S: "main#k" } },
      UpdateExpression: `SET #p = :p, #other = if_not_exists(#other, :zero)`,
      ExpressionAttributeNames: { "#p": index?.partitionKey ?? "", "#other": "other" },
      ExpressionAttributeValues: { ":p": { S: "main" }, ":zero": { N: "0" } },
    };
    const write = updateWrite(ledger, input, 2000);
    expect(write.bytes).toBe(2000);
    expect(write.indexWrites.map((entry) => entry.key)).toEqual([{ S: "main" }]);
    const plain = updateWrite(ledger, { ...input, UpdateExpression: "SET #other = :zero" }, undefined);
    expect(plain.indexWrites).toEqual([]);
  });
});
