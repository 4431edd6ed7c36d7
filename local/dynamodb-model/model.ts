// The AWS model of DynamoDB (DYNAMODB_MODEL=aws, docs/dynamodb-model.md): between the SDK and DynamoDB Local it
// holds every request to what real DynamoDB would allow — per-partition capacity, transactional costs, index
// writes with back-pressure on the table, and transaction conflicts between requests in flight — and answers
// with the errors DynamoDB sends. It decides; the middleware (./middleware.ts) applies. It never writes data.

import type { AttributeValue, CancellationReason, ThrottlingReason } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import {
  CONFLICT_REASON,
  NO_REASON,
  THROTTLED_REASON,
  throttlingException,
  transactionCanceled,
  transactionConflictException,
  type ThrottleReasonCode,
} from "./errors";
import { itemBytes, readUnits, writeUnits, type Item, type ReadKind } from "./item-size";
import {
  CapacityBucket,
  ON_DEMAND_INITIAL_PARTITIONS,
  PARTITION_BURST_SECONDS,
  PARTITION_READ_UNITS_PER_SECOND,
  PARTITION_WRITE_UNITS_PER_SECOND,
  partitionOf,
} from "./partitions";
import {
  itemKeyText,
  keyOf,
  putWrite,
  queriedPartitionKey,
  updateWrite,
  type ItemWrite,
  type TableShape,
} from "./requests";

/** How many item sizes the model remembers (to bill updates), oldest forgotten first. */
const REMEMBERED_ITEMS_MAX = 100_000;

export interface DynamoDbModelOptions {
  readonly tables: readonly TableShape[];
  /** Fixes the mapping of keys to partitions: the same seed, the same hot partitions. */
  readonly seed: string;
  /** Every capacity times this factor (DYNAMODB_MODEL_SCALE): 0.1 lets two cores reach the limits. */
  readonly scale: number;
  readonly partitions?: number;
  readonly nowMs?: () => number;
  readonly region?: string;
}

type Access = "write" | "transactWrite" | "transactRead";
type Direction = "read" | "write";

/** Capacity to take from one partition's bucket for one action of a request. */
interface Charge {
  readonly bucket: string;
  readonly direction: Direction;
  readonly units: number;
  readonly action: number;
  readonly reason: ThrottlingReason;
}

/** A read whose cost is known only from the response. */
interface DeferredRead {
  readonly bucket: string;
  readonly kind: ReadKind;
}

/** One request in flight: the items it holds, and what is left to settle when DynamoDB Local answers. */
export interface Ticket {
  readonly holds: readonly { readonly key: string; readonly access: Access; readonly action: number }[];
  readonly doomed: Set<number>;
  readonly deferred: DeferredRead | undefined;
  readonly transactionActions: number | undefined;
}

interface Plan {
  readonly holds: Ticket["holds"];
  readonly charges: readonly Charge[];
  readonly deferred?: DeferredRead;
  /** Set for TransactWriteItems/TransactGetItems: how many actions, for the cancellation reasons. */
  readonly transactionActions?: number;
}

export class DynamoDbAwsModel {
  private readonly tables: Map<string, TableShape>;
  private readonly buckets = new Map<string, CapacityBucket>();
  private readonly inFlight = new Map<
    string,
    Set<{ readonly ticket: Ticket; readonly access: Access; readonly action: number }>
  >();
  private readonly rememberedBytes = new Map<string, number>();
  private readonly partitions: number;
  private readonly nowMs: () => number;

  constructor(private readonly options: DynamoDbModelOptions) {
    this.tables = new Map(options.tables.map((table) => [table.name, table]));
    this.partitions = options.partitions ?? ON_DEMAND_INITIAL_PARTITIONS;
    this.nowMs = options.nowMs ?? (() => performance.now());
  }

  /**
   * Admits a request or throws what DynamoDB would answer instead: a conflict with a request in flight, then a
   * partition over its capacity. An admitted request holds its items until `release`.
   */
  admit(operation: string, input: unknown): Ticket | undefined {
    const plan = this.plan(operation, input as Record<string, unknown>);
    if (plan === undefined) return undefined;
    this.refuseConflicts(plan);
    this.refuseThrottled(plan);
    const now = this.nowMs();
    for (const charge of plan.charges) this.bucket(charge.bucket, charge.direction).take(charge.units, now);
    const ticket: Ticket = {
      holds: plan.holds,
      doomed: new Set(),
      deferred: plan.deferred,
      transactionActions: plan.transactionActions,
    };
    this.hold(ticket);
    return ticket;
  }

  /** Bills a read by what it returned, and fails a transactional read that a write overtook while in flight. */
  settle(ticket: Ticket, output: unknown): void {
    if (ticket.doomed.size > 0 && ticket.transactionActions !== undefined) {
      const reasons = Array.from({ length: ticket.transactionActions }, (_, action) =>
        ticket.doomed.has(action) ? CONFLICT_REASON : NO_REASON,
      );
      throw transactionCanceled(reasons);
    }
    this.chargeReads(ticket, output as Record<string, unknown> | undefined);
  }

  /** Lets go of the items a request held. */
  release(ticket: Ticket): void {
    for (const hold of ticket.holds) {
      const holders = this.inFlight.get(hold.key);
      if (holders === undefined) continue;
      for (const holder of holders) if (holder.ticket === ticket) holders.delete(holder);
      if (holders.size === 0) this.inFlight.delete(hold.key);
    }
  }

  private plan(operation: string, input: Record<string, unknown>): Plan | undefined {
    switch (operation) {
      case "PutItemCommand":
      case "UpdateItemCommand":
      case "DeleteItemCommand":
        return this.planSingleWrite(operation, input);
      case "TransactWriteItemsCommand":
        return this.planTransactWrite(
          input.TransactItems as Record<string, Record<string, unknown>>[] | undefined,
        );
      case "TransactGetItemsCommand":
        return this.planTransactGet(
          input.TransactItems as { Get?: { TableName?: string; Key?: Item } }[] | undefined,
        );
      case "GetItemCommand":
      case "QueryCommand":
        return this.planRead(operation, input);
      default:
        return undefined;
    }
  }

  private planSingleWrite(operation: string, input: Record<string, unknown>): Plan | undefined {
    const write = this.itemWrite(operation.replace("ItemCommand", ""), input);
    if (write === undefined) return undefined;
    this.remember(write);
    return {
      holds: [{ key: itemKeyText(write.table.name, write.key), access: "write", action: 0 }],
      charges: this.writeCharges(write, false, 0),
    };
  }

  private planTransactWrite(
    actions: Record<string, Record<string, unknown>>[] | undefined,
  ): Plan | undefined {
    const holds: Plan["holds"][number][] = [];
    const charges: Charge[] = [];
    (actions ?? []).forEach((action, index) => {
      const [kind = "", input = {}] = Object.entries(action).find(([, value]) => value !== undefined) ?? [];
      const table = this.tables.get(String(input.TableName));
      if (table === undefined) return;
      if (kind === "ConditionCheck") {
        const key = (input.Key ?? {}) as Item;
        holds.push({ key: itemKeyText(table.name, key), access: "transactWrite", action: index });
        charges.push(this.transactionalRead(table, key, index));
        return;
      }
      const write = this.itemWrite(kind, input);
      if (write === undefined) return;
      this.remember(write);
      holds.push({ key: itemKeyText(table.name, write.key), access: "transactWrite", action: index });
      charges.push(...this.writeCharges(write, true, index));
    });
    return { holds, charges, transactionActions: (actions ?? []).length };
  }

  /** A ConditionCheck's or a TransactGetItems' read: 2 units per 4 KB of the item as last seen written. */
  private transactionalRead(table: TableShape, key: Item, action: number): Charge {
    const size = this.remembered(table, key);
    return this.readCharge(table, undefined, key[table.partitionKey], size, "transactional", action);
  }

  private planTransactGet(
    actions: { Get?: { TableName?: string; Key?: Item } }[] | undefined,
  ): Plan | undefined {
    const holds: Plan["holds"][number][] = [];
    const charges: Charge[] = [];
    (actions ?? []).forEach((action, index) => {
      const table = this.tables.get(String(action.Get?.TableName));
      const key = action.Get?.Key ?? {};
      if (table === undefined) return;
      holds.push({ key: itemKeyText(table.name, key), access: "transactRead", action: index });
      charges.push(this.transactionalRead(table, key, index));
    });
    return { holds, charges, transactionActions: (actions ?? []).length };
  }

  /** A read's partition must have capacity left; its cost is billed from the response (`settle`). */
  private planRead(operation: string, input: Record<string, unknown>): Plan | undefined {
    const table = this.tables.get(String(input.TableName));
    if (table === undefined) return undefined;
    const indexName = typeof input.IndexName === "string" ? input.IndexName : undefined;
    const shape = indexName === undefined ? table : table.indexes.find((index) => index.name === indexName);
    if (shape === undefined) return undefined;
    const partitionKey =
      operation === "GetItemCommand"
        ? (input.Key as Item | undefined)?.[table.partitionKey]
        : queriedPartitionKey(shape, input);
    const kind: ReadKind = input.ConsistentRead === true ? "strong" : "eventual";
    // A zero-unit charge: admitted while the partition has any capacity left, billed in full on the response.
    const probe = { ...this.readCharge(table, indexName, partitionKey, 0, kind, 0), units: 0 };
    return { holds: [], charges: [probe], deferred: { bucket: probe.bucket, kind } };
  }

  private itemWrite(kind: string, input: Record<string, unknown>): ItemWrite | undefined {
    const table = this.tables.get(String(input.TableName));
    if (table === undefined) return undefined;
    if (kind === "Put") return putWrite(table, (input.Item ?? {}) as Item);
    const key = (input.Key ?? {}) as Item;
    if (kind === "Update") return updateWrite(table, input, this.remembered(table, key));
    if (kind === "Delete")
      return { table, key, bytes: this.remembered(table, key) ?? itemBytes(key), indexWrites: [] };
    return undefined;
  }

  private writeCharges(write: ItemWrite, transactional: boolean, action: number): Charge[] {
    const table = write.table;
    const charges: Charge[] = [
      {
        bucket: this.bucketName(table.name, undefined, write.key[table.partitionKey]),
        direction: "write",
        units: this.scaled(writeUnits(write.bytes, transactional)),
        action,
        reason: this.reason("TableWriteKeyRangeThroughputExceeded", table.name, undefined),
      },
    ];
    for (const entry of write.indexWrites) {
      // An index write is not transactional: it is billed at the standard rate, on the index's partition, and a
      // full index partition throttles the table write (back-pressure).
      charges.push({
        bucket: this.bucketName(table.name, entry.index.name, entry.key),
        direction: "write",
        units: this.scaled(writeUnits(entry.bytes, false)),
        action,
        reason: this.reason("IndexWriteKeyRangeThroughputExceeded", table.name, entry.index.name),
      });
    }
    return charges;
  }

  private readCharge(
    table: TableShape,
    index: string | undefined,
    partitionKey: AttributeValue | undefined,
    bytes: number | undefined,
    kind: ReadKind,
    action: number,
  ): Charge {
    return {
      bucket: this.bucketName(table.name, index, partitionKey),
      direction: "read",
      units: this.scaled(readUnits(bytes ?? 0, kind)),
      action,
      reason: this.reason(
        index === undefined ? "TableReadKeyRangeThroughputExceeded" : "IndexReadKeyRangeThroughputExceeded",
        table.name,
        index,
      ),
    };
  }

  /** Capacities are scaled by turning each unit into 1/scale units: the same as dividing every limit. */
  private scaled(units: number): number {
    return units / this.options.scale;
  }

  private reason(code: ThrottleReasonCode, table: string, index: string | undefined): ThrottlingReason {
    const region = this.options.region ?? "us-east-1";
    const resource = `arn:aws:dynamodb:${region}:000000000000:table/${table}${index === undefined ? "" : `/index/${index}`}`;
    return { reason: code, resource };
  }

  private bucketName(
    table: string,
    index: string | undefined,
    partitionKey: AttributeValue | undefined,
  ): string {
    const resource = index === undefined ? table : `${table}/index/${index}`;
    return `${resource}#${partitionOf(this.options.seed, resource, partitionKey, this.partitions)}`;
  }

  private bucket(name: string, direction: Direction): CapacityBucket {
    const key = `${name}#${direction}`;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      const rate = direction === "write" ? PARTITION_WRITE_UNITS_PER_SECOND : PARTITION_READ_UNITS_PER_SECOND;
      bucket = new CapacityBucket(rate, PARTITION_BURST_SECONDS, this.nowMs());
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /**
   * Conflicts as the developer guide lists them ("Transaction conflict handling"): a transaction is cancelled on
   * an item that another write holds; a single write fails on an item that a transaction writes; a write
   * overtaking a transactional read in flight fails that read when it completes.
   */
  private refuseConflicts(plan: Plan): void {
    const transactional = plan.transactionActions !== undefined;
    const conflicted = new Set<number>();
    for (const hold of plan.holds) {
      for (const holder of this.inFlight.get(hold.key) ?? []) {
        if (holder.access === "transactRead") continue;
        if (transactional || holder.access === "transactWrite") conflicted.add(hold.action);
      }
    }
    if (conflicted.size === 0) return;
    if (!transactional) throw transactionConflictException();
    throw transactionCanceled(
      Array.from({ length: plan.transactionActions ?? 0 }, (_, action) =>
        conflicted.has(action) ? CONFLICT_REASON : NO_REASON,
      ),
    );
  }

  private refuseThrottled(plan: Plan): void {
    const now = this.nowMs();
    const needed = new Map<string, number>();
    for (const charge of plan.charges) {
      const key = `${charge.bucket}#${charge.direction}`;
      needed.set(key, (needed.get(key) ?? 0) + charge.units);
    }
    const short = plan.charges.filter((charge) => {
      const units = needed.get(`${charge.bucket}#${charge.direction}`) ?? 0;
      return !this.bucket(charge.bucket, charge.direction).admits(units, now);
    });
    if (short.length === 0) return;
    if (plan.transactionActions === undefined) {
      throw throttlingException([
        ...new Map(short.map((charge) => [charge.reason.reason, charge.reason])).values(),
      ]);
    }
    const throttled = new Set(short.map((charge) => charge.action));
    const reasons: CancellationReason[] = Array.from({ length: plan.transactionActions }, (_, action) =>
      throttled.has(action) ? THROTTLED_REASON : NO_REASON,
    );
    throw transactionCanceled(reasons);
  }

  private hold(ticket: Ticket): void {
    for (const hold of ticket.holds) {
      const holders = this.inFlight.get(hold.key) ?? new Set();
      if (hold.access !== "transactRead") {
        // This write overtakes every transactional read in flight on the item: they fail when they complete.
        for (const holder of holders)
          if (holder.access === "transactRead") holder.ticket.doomed.add(holder.action);
      }
      holders.add({ ticket, access: hold.access, action: hold.action });
      this.inFlight.set(hold.key, holders);
    }
  }

  private chargeReads(ticket: Ticket, output: Record<string, unknown> | undefined): void {
    const read = ticket.deferred;
    if (read === undefined || output === undefined) return;
    const items: unknown[] = Array.isArray(output.Items)
      ? output.Items
      : output.Item === undefined
        ? []
        : [output.Item];
    const bytes = items.reduce((sum: number, item) => sum + returnedBytes(item), 0);
    // A read that finds nothing still costs its minimum unit.
    this.bucket(read.bucket, "read").take(this.scaled(readUnits(bytes, read.kind)), this.nowMs());
  }

  private remember(write: ItemWrite): void {
    const key = itemKeyText(write.table.name, write.key);
    this.rememberedBytes.delete(key);
    this.rememberedBytes.set(key, write.bytes);
    if (this.rememberedBytes.size > REMEMBERED_ITEMS_MAX) {
      const oldest = this.rememberedBytes.keys().next().value;
      if (oldest !== undefined) this.rememberedBytes.delete(oldest);
    }
  }

  private remembered(table: TableShape, key: Item): number | undefined {
    return this.rememberedBytes.get(itemKeyText(table.name, keyOf(table, key)));
  }
}

const TYPE_TAGS = new Set(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]);

/** Whether a value is in DynamoDB's wire form ({"S": "…"}), as low-level commands return it. */
function isAttribute(value: unknown): value is AttributeValue {
  if (typeof value !== "object" || value === null) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && TYPE_TAGS.has(keys[0] ?? "");
}

/** The size of an item a read returned: in wire form from low-level commands, plain from the document client. */
function returnedBytes(item: unknown): number {
  if (typeof item !== "object" || item === null) return 0;
  const values = Object.values(item);
  if (values.every(isAttribute)) return itemBytes(item as Item);
  return itemBytes(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true }));
}
