// What a DynamoDB request does, in the AWS model's terms (docs/dynamodb-model.md): the items it writes or reads,
// each with its table, key and size, and the index entries a write makes. Pure: reads the request's input (and a
// size remembered from an earlier write), never DynamoDB.

import type { AttributeValue, CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { itemBytes, type Item } from "./item-size";

/** A table or one of its global secondary indexes: where capacity is counted. */
export interface KeyShape {
  readonly partitionKey: string;
  readonly sortKey: string | undefined;
}

export interface IndexShape extends KeyShape {
  readonly name: string;
  /** ALL and INCLUDE copy the item (the model counts the whole item); KEYS_ONLY only its keys. */
  readonly keysOnly: boolean;
}

export interface TableShape extends KeyShape {
  readonly name: string;
  readonly indexes: readonly IndexShape[];
}

/** The model's view of a table, from the same CreateTable input that creates it. */
export function tableShape(definition: CreateTableCommandInput): TableShape {
  const keyOf = (schema: CreateTableCommandInput["KeySchema"]): KeyShape => ({
    partitionKey: schema?.find((element) => element.KeyType === "HASH")?.AttributeName ?? "",
    sortKey: schema?.find((element) => element.KeyType === "RANGE")?.AttributeName,
  });
  return {
    name: definition.TableName ?? "",
    ...keyOf(definition.KeySchema),
    indexes: (definition.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName ?? "",
      ...keyOf(index.KeySchema),
      keysOnly: index.Projection?.ProjectionType === "KEYS_ONLY",
    })),
  };
}

/** One item that a request writes: its table's key, its size, the index entries it writes. */
export interface ItemWrite {
  readonly table: TableShape;
  readonly key: Item;
  readonly bytes: number;
  readonly indexWrites: readonly {
    readonly index: IndexShape;
    readonly key: AttributeValue;
    readonly bytes: number;
  }[];
}

/** The text that names one item of one table, the same for the same key. */
export function itemKeyText(table: string, key: Item): string {
  return `${table}\u0000${JSON.stringify(
    Object.keys(key)
      .sort()
      .map((name) => [name, key[name]]),
  )}`;
}

/** The primary key attributes of a full item. */
export function keyOf(table: KeyShape, item: Item): Item {
  const key: Item = {};
  for (const name of [table.partitionKey, table.sortKey]) {
    const value = name === undefined ? undefined : item[name];
    if (name !== undefined && value !== undefined) key[name] = value;
  }
  return key;
}

/** A Put: the whole item is known, and so is every index it enters. */
export function putWrite(table: TableShape, item: Item): ItemWrite {
  const bytes = itemBytes(item);
  const indexWrites = table.indexes.flatMap((index) => {
    const partition = item[index.partitionKey];
    const sort = index.sortKey === undefined ? undefined : item[index.sortKey];
    if (partition === undefined || (index.sortKey !== undefined && sort === undefined)) return [];
    const indexBytes = index.keysOnly ? itemBytes({ ...keyOf(index, item), ...keyOf(table, item) }) : bytes;
    return [{ index, key: partition, bytes: indexBytes }];
  });
  return { table, key: keyOf(table, item), bytes, indexWrites };
}

/** What an update expression's SET clause assigns: attribute name → the value placeholder (if a plain one). */
function assignments(
  expression: string | undefined,
  names: Record<string, string> | undefined,
): Map<string, string | undefined> {
  const set = /(?:^|\s)SET\s+(.*?)(?=\s(?:REMOVE|ADD|DELETE)\s|$)/is.exec(expression ?? "")?.[1] ?? "";
  const assigned = new Map<string, string | undefined>();
  for (const [, name = "", value] of set.matchAll(
    /(?:^|,)\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+(?=\s*(?:,|$)))?/g,
  )) {
    assigned.set(name.startsWith("#") ? (names?.[name] ?? name) : name, value);
  }
  return assigned;
}

export interface UpdateInput {
  readonly Key?: Item;
  readonly UpdateExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Item;
}

/**
 * An Update: DynamoDB bills the bigger of the item's size before and after, which only the store knows. The
 * model takes the bigger of the size it remembers for the item and the key plus the update's values, and counts
 * an index write when the update assigns one of the index's key attributes (docs/dynamodb-model.md).
 */
export function updateWrite(
  table: TableShape,
  input: UpdateInput,
  rememberedBytes: number | undefined,
): ItemWrite {
  const key = input.Key ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const estimate =
    itemBytes(key) + Object.values(values).reduce((sum, value) => sum + itemBytes({ "": value }), 0);
  const bytes = Math.max(rememberedBytes ?? 0, estimate);
  const assigned = assignments(input.UpdateExpression, input.ExpressionAttributeNames);
  const indexWrites = table.indexes.flatMap((index) => {
    if (!assigned.has(index.partitionKey) && !(index.sortKey !== undefined && assigned.has(index.sortKey)))
      return [];
    const placeholder = assigned.get(index.partitionKey);
    const indexKey = key[index.partitionKey] ?? (placeholder === undefined ? undefined : values[placeholder]);
    return indexKey === undefined ? [] : [{ index, key: indexKey, bytes }];
  });
  return { table, key, bytes, indexWrites };
}

/** The partition key value that a Query's key condition fixes (`#name = :value`, names resolved). */
export function queriedPartitionKey(
  shape: KeyShape,
  input: {
    readonly KeyConditionExpression?: string;
    readonly ExpressionAttributeNames?: Record<string, string>;
    readonly ExpressionAttributeValues?: Item;
  },
): AttributeValue | undefined {
  for (const [, name = "", value = ""] of (input.KeyConditionExpression ?? "").matchAll(
    /(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/g,
  )) {
    const resolved = name.startsWith("#") ? input.ExpressionAttributeNames?.[name] : name;
    if (resolved === shape.partitionKey) return input.ExpressionAttributeValues?.[value];
  }
  return undefined;
}
