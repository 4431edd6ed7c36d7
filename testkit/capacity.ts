// What writes cost in DynamoDB's own units: item sizes by AWS's documented rules
// (docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html: the UTF-8 bytes of
// every attribute name plus its value — a string's UTF-8 bytes, a number's 1 byte per two significant digits
// plus 1, a binary's raw bytes, 1 for a boolean or null, 3 for a list or map plus 1 per element plus the
// elements) and the ConsumedCapacity that DynamoDB reports for each write, recorded by a middleware that asks
// for it (ReturnConsumedCapacity: INDEXES) on a real SDK client. Shared by the cost test and the bench.

import { ScanCommand, type AttributeValue, type ScanCommandOutput } from "@aws-sdk/client-dynamodb";
import type { MiddlewareClient } from "./faults";

import { itemBytes as itemSize, writeUnits } from "../local/dynamodb-model/item-size";

/** Item sizes and write units by AWS's rules: the same arithmetic as the AWS model (docs/dynamodb-model.md). */
export { itemSize, writeUnits };

/** DynamoDB bills storage for each item's size plus 100 bytes of per-item overhead (the same page). */
export const STORAGE_OVERHEAD_BYTES_PER_ITEM = 100;

export interface ConsumedWrite {
  readonly command: string;
  readonly capacityUnits: number;
  readonly byTable: Readonly<Record<string, number>>;
  readonly byIndex: Readonly<Record<string, number>>;
}

const WRITES = new Set([
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "TransactWriteItemsCommand",
  "BatchWriteItemCommand",
]);

interface Consumed {
  TableName?: string;
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

function consumedOf(command: string, consumed: Consumed[]): ConsumedWrite {
  const byTable: Record<string, number> = {};
  const byIndex: Record<string, number> = {};
  let capacityUnits = 0;
  for (const entry of consumed) {
    capacityUnits += entry.CapacityUnits ?? 0;
    const table = entry.TableName ?? "?";
    byTable[table] = (byTable[table] ?? 0) + (entry.Table?.CapacityUnits ?? 0);
    for (const [index, units] of Object.entries(entry.GlobalSecondaryIndexes ?? {})) {
      byIndex[`${table}/${index}`] = (byIndex[`${table}/${index}`] ?? 0) + (units.CapacityUnits ?? 0);
    }
  }
  return { command, capacityUnits, byTable, byIndex };
}

/** Asks every write of the client for its consumed capacity and records what comes back. */
export function meterWrites(client: MiddlewareClient): {
  readonly writes: ConsumedWrite[];
  detach: () => void;
} {
  const writes: ConsumedWrite[] = [];
  const name = `capacityMeter${Date.now()}${Math.random()}`;
  type Args = { input: Record<string, unknown> };
  const stack = client.middlewareStack as unknown as {
    add: (
      middleware: (
        next: (args: Args) => Promise<{ output: { ConsumedCapacity?: Consumed | Consumed[] } }>,
        context: { commandName?: string },
      ) => (args: Args) => Promise<unknown>,
      options: { step: string; name: string },
    ) => void;
    remove: (name: string) => boolean;
  };
  stack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "?";
      if (!WRITES.has(command)) return next(args);
      const result = await next({ ...args, input: { ...args.input, ReturnConsumedCapacity: "INDEXES" } });
      const consumed = result.output.ConsumedCapacity;
      writes.push(
        consumedOf(command, consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed]),
      );
      return result;
    },
    { step: "initialize", name },
  );
  return { writes, detach: () => void stack.remove(name) };
}

/** What `measureCommandCosts` found: per command, the units DynamoDB reported and those the item sizes give. */
export interface CommandCosts {
  readonly commands: number;
  /** Mean sizes (AWS's rules) of the items one command leaves: its event, its audit entry; and the aggregate. */
  readonly bytes: { readonly ledgerItem: number; readonly auditEntry: number; readonly aggregate: number };
  /** Write units per command as DynamoDB reported them: the command's transaction, split by table and index. */
  readonly reported: {
    readonly transaction: number;
    readonly ledger: number;
    readonly byVersion: number;
    readonly aggregate: number;
    readonly projector: number;
    readonly total: number;
  };
  /** The writes whose reported units differ from the units their items' sizes give: none when the model holds. */
  readonly disagreements: readonly string[];
}

type Scanned = Record<string, AttributeValue>;

/** Everything a Scan of `table` returns (small tables: a test's or the bench's). */
export async function scanAll(
  client: { send: (command: ScanCommand) => Promise<ScanCommandOutput> },
  table: string,
) {
  const items: Scanned[] = [];
  let startKey: Scanned | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(values.length, 1);
}

/**
 * Checks each reported write against the units of the items it wrote: the command's transaction (ledger Put and
 * aggregate Update, both transactional; the byVersion index entry, as DynamoDB Local reports it: transactional
 * too) and the projector's audit entry Put and projected-state Update (single writes, one record per batch).
 */
export function costsOf(
  writes: readonly ConsumedWrite[],
  items: {
    readonly ledger: Scanned[];
    readonly audit: Scanned[];
    readonly projectedState: Scanned;
    readonly aggregate: Scanned;
  },
  tables: { readonly ledger: string; readonly counters: string; readonly readModel: string },
): CommandCosts {
  const commands = items.ledger.length;
  const ledgerBytes = items.ledger.map((item) => itemSize(item));
  const auditBytes = items.audit.map((item) => itemSize(item));
  const aggregateBytes = itemSize(items.aggregate);
  const transactions = writes.filter((write) => write.command === "TransactWriteItemsCommand");
  const projector = writes.filter((write) => write.command !== "TransactWriteItemsCommand");
  const disagreements: string[] = [];
  transactions.forEach((write, index) => {
    const event = writeUnits(ledgerBytes[index] ?? 0, true);
    const expected = { ledger: event, byVersion: event, aggregate: writeUnits(aggregateBytes, true) };
    const got = {
      ledger: write.byTable[tables.ledger],
      byVersion: write.byIndex[`${tables.ledger}/byVersion`],
      aggregate: write.byTable[tables.counters],
    };
    if (JSON.stringify(got) !== JSON.stringify(expected))
      disagreements.push(`command ${index + 1}: ${JSON.stringify(got)} vs ${JSON.stringify(expected)}`);
  });
  for (const write of projector) {
    const bytes =
      write.command === "PutItemCommand" ? Math.max(...auditBytes) : itemSize(items.projectedState);
    const expected = writeUnits(bytes, false);
    if (write.capacityUnits !== expected)
      disagreements.push(`${write.command}: ${write.capacityUnits} vs ${expected}`);
  }
  const sum = (values: readonly (number | undefined)[]) =>
    values.reduce<number>((total, value) => total + (value ?? 0), 0);
  const reported = {
    transaction: sum(transactions.map((write) => write.capacityUnits)) / commands,
    ledger: sum(transactions.map((write) => write.byTable[tables.ledger])) / commands,
    byVersion: sum(transactions.map((write) => write.byIndex[`${tables.ledger}/byVersion`])) / commands,
    aggregate: sum(transactions.map((write) => write.byTable[tables.counters])) / commands,
    projector: sum(projector.map((write) => write.capacityUnits)) / commands,
  };
  return {
    commands,
    bytes: { ledgerItem: mean(ledgerBytes), auditEntry: mean(auditBytes), aggregate: aggregateBytes },
    reported: { ...reported, total: reported.transaction + reported.projector },
    disagreements,
  };
}
