// GET /number/history of an escrow-sharded counter (COUNTER_SHARDS > 1, docs/architecture.md#escrow-shards):
// each shard's audit entries (under its own id, in its own version order, no higher than its projected
// version) merged by `at`, then shard number, a page at a time. Transfers are not in it: the projector writes
// no audit entry for them (they move headroom between shards, change no value and no user made them), so the
// history is the users' commands, as with one shard. The cursor holds a position per shard — the last version
// of it a page showed — so paging never repeats or skips an entry whatever the shards' clocks do; in `desc`
// order a shard that has shown nothing yet holds its projected version + 1 from the first page, so that
// entries projected after the first page do not appear in the middle of a newest-first walk. It never writes.

import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { LedgerConfig } from "../ledger/config";
import { auditEntrySchema, type AuditEntry } from "../ledger/domain/audit";
import { shardIdOf } from "../ledger/domain/escrow";
import {
  historyItemOf,
  projectedStateFromItem,
  stateEntryKey,
  type HistoryItem,
} from "../ledger/storage/read-model";
import { storeCall } from "../ledger/storage/store";
import { READ_MODEL } from "../ledger/storage/tables";

export interface ShardedHistoryRequest {
  readonly limit: number;
  readonly order: "asc" | "desc";
  /** From the cursor: per shard, the last version shown (desc: or the bound pinned by the first page). */
  readonly positions: readonly number[] | undefined;
}

export interface ShardedHistoryPage {
  readonly items: readonly HistoryItem[];
  /** The positions for the next page's cursor; null when no entry follows. */
  readonly nextPositions: readonly number[] | null;
  /** Σ of the shards' projected versions. */
  readonly projectedVersion: number;
}

export interface ShardedHistoryDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly config: Pick<LedgerConfig, "tables" | "counterId">;
  readonly shards: number;
}

interface ShardEntries {
  readonly projected: number;
  readonly entries: readonly AuditEntry[];
}

/** One shard's projected version and its next `limit + 1` audit entries after its position, in page order. */
async function readShard(
  { client, config }: ShardedHistoryDependencies,
  shard: number,
  request: ShardedHistoryRequest,
): Promise<ShardEntries> {
  const counterId = shardIdOf(config.counterId, shard);
  const state = await storeCall(() =>
    client.send(new GetCommand({ TableName: config.tables.readModel, Key: stateEntryKey(counterId) })),
  );
  const projected = projectedStateFromItem(state.Item).version;
  const position = request.positions?.[shard];
  const descending = request.order === "desc";
  const lowest = descending ? 1 : (position ?? 0) + 1;
  const highest = descending && position !== undefined ? Math.min(position - 1, projected) : projected;
  if (lowest > highest) return { projected, entries: [] };
  const output = await storeCall(() =>
    client.send(
      new QueryCommand({
        TableName: config.tables.readModel,
        KeyConditionExpression: "#counterId = :counterId AND #entry BETWEEN :lowest AND :highest",
        ExpressionAttributeNames: { "#counterId": READ_MODEL.partitionKey, "#entry": READ_MODEL.sortKey },
        ExpressionAttributeValues: { ":counterId": counterId, ":lowest": lowest, ":highest": highest },
        ScanIndexForward: !descending,
        Limit: request.limit + 1,
      }),
    ),
  );
  return { projected, entries: (output.Items ?? []).map((item) => auditEntrySchema.parse(item)) };
}

/** Whether entry a (of shard sa) comes before entry b (of shard sb): by `at`, then shard, in page order. */
function comesFirst(a: AuditEntry, sa: number, b: AuditEntry, sb: number, descending: boolean): boolean {
  const order = a.at < b.at ? -1 : a.at > b.at ? 1 : sa - sb;
  return descending ? order > 0 : order < 0;
}

/**
 * One page: the shards' entries merged a head at a time, so each shard contributes a prefix of its own order
 * and its position is simply the last version it showed.
 */
export async function readShardedHistoryPage(
  dependencies: ShardedHistoryDependencies,
  request: ShardedHistoryRequest,
  view: { readonly showKeys: boolean },
): Promise<ShardedHistoryPage> {
  const shards = await Promise.all(
    Array.from({ length: dependencies.shards }, (_, shard) => readShard(dependencies, shard, request)),
  );
  const descending = request.order === "desc";
  const taken = shards.map(() => 0);
  const items: HistoryItem[] = [];
  const positions = shards.map(
    ({ projected }, shard) => request.positions?.[shard] ?? (descending ? projected + 1 : 0),
  );
  while (items.length < request.limit) {
    let next: number | undefined;
    shards.forEach(({ entries }, shard) => {
      const head = entries[taken[shard]!];
      if (head === undefined) return;
      const best = next === undefined ? undefined : shards[next]!.entries[taken[next]!];
      if (best === undefined || comesFirst(head, shard, best, next!, descending)) next = shard;
    });
    if (next === undefined) break;
    const entry = shards[next]!.entries[taken[next]!]!;
    taken[next] = (taken[next] ?? 0) + 1;
    positions[next] = entry.version;
    items.push(historyItemOf(entry, { showKey: view.showKeys }));
  }
  const more = shards.some(({ entries }, shard) => entries.length > taken[shard]!);
  return {
    items,
    nextPositions: more ? positions : null,
    projectedVersion: shards.reduce((sum, { projected }) => sum + projected, 0),
  };
}
