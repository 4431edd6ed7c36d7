// The one definition of the four tables: names of keys and indexes, and the CreateTable inputs that the
// local bootstrap runs, the tests use, and the infra tests check the Terraform against.
// Nothing here talks to DynamoDB.

import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

export interface TableNames {
  readonly ledger: string;
  readonly counters: string;
  readonly readModel: string;
  readonly quotas: string;
}

export const DEFAULT_TABLE_NAMES: TableNames = {
  ledger: "counter-ledger-ledger",
  counters: "counter-ledger-counters",
  readModel: "counter-ledger-read-model",
  quotas: "counter-ledger-quotas",
};

export function tableNamesWithPrefix(prefix: string): TableNames {
  return {
    ledger: `${prefix}-ledger`,
    counters: `${prefix}-counters`,
    readModel: `${prefix}-read-model`,
    quotas: `${prefix}-quotas`,
  };
}

/** Ledger: one item per accepted command, keyed by `<counterId>#<idempotencyKey>`. */
export const LEDGER = {
  partitionKey: "eventId",
  /** GSI (counterId, version): the ledger of one counter in version order, for replay. */
  byVersionIndex: { name: "byVersion", partitionKey: "counterId", sortKey: "version" },
  /**
   * Old and new images: the projector needs only the new image of an INSERT, but the ledger is append-only,
   * so a MODIFY or REMOVE is tampering, and its old image is the evidence of what was there
   * (services/projector/rewrite.ts).
   */
  streamViewType: "NEW_AND_OLD_IMAGES",
} as const;

/** Counters: the aggregate, one item per counter. */
export const COUNTERS = { partitionKey: "counterId" } as const;

/**
 * Read model: per counter, the projected state at sort key 0 and one audit entry per version at sort key n,
 * so that history is one Query in either order.
 */
export const READ_MODEL = { partitionKey: "counterId", sortKey: "entry", stateEntry: 0 } as const;

/**
 * Quotas: one item per user and one-minute window, `<base64url(SHA-256(sub))>#<window start, epoch seconds>`,
 * holding how many of the user's commands that window charged (services/command/quota.ts). A table of its own,
 * not the counters table: its writes never share a partition with the hot aggregate
 * (docs/decisions.md#per-user-quotas-counted-in-the-commands-transaction), and TTL removes past windows.
 */
export const QUOTAS = { partitionKey: "quotaId", timeToLiveAttribute: "expiresAt" } as const;

/** The tables whose items expire, and the attribute (epoch seconds) DynamoDB's TTL reads: set after CreateTable. */
export function timeToLiveAttributes(names: TableNames): ReadonlyMap<string, string> {
  return new Map([[names.quotas, QUOTAS.timeToLiveAttribute]]);
}

export function tableDefinitions(names: TableNames): CreateTableCommandInput[] {
  return [
    {
      TableName: names.ledger,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: LEDGER.partitionKey, AttributeType: "S" },
        { AttributeName: LEDGER.byVersionIndex.partitionKey, AttributeType: "S" },
        { AttributeName: LEDGER.byVersionIndex.sortKey, AttributeType: "N" },
      ],
      KeySchema: [{ AttributeName: LEDGER.partitionKey, KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: LEDGER.byVersionIndex.name,
          KeySchema: [
            { AttributeName: LEDGER.byVersionIndex.partitionKey, KeyType: "HASH" },
            { AttributeName: LEDGER.byVersionIndex.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: LEDGER.streamViewType },
    },
    {
      TableName: names.counters,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: COUNTERS.partitionKey, AttributeType: "S" }],
      KeySchema: [{ AttributeName: COUNTERS.partitionKey, KeyType: "HASH" }],
    },
    {
      TableName: names.readModel,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: READ_MODEL.partitionKey, AttributeType: "S" },
        { AttributeName: READ_MODEL.sortKey, AttributeType: "N" },
      ],
      KeySchema: [
        { AttributeName: READ_MODEL.partitionKey, KeyType: "HASH" },
        { AttributeName: READ_MODEL.sortKey, KeyType: "RANGE" },
      ],
    },
    {
      TableName: names.quotas,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: QUOTAS.partitionKey, AttributeType: "S" }],
      KeySchema: [{ AttributeName: QUOTAS.partitionKey, KeyType: "HASH" }],
    },
  ];
}
