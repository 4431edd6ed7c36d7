// The items of an escrow-sharded counter (docs/architecture.md#escrow-shards): one aggregate item per shard in
// the counters table, shard 0 under the counter's own id. Reads one shard (a consistent GetItem) or a
// consistent snapshot of every shard (one TransactGetItems, which serialises with the transactions that
// write them). Every store failure comes out as StoreUnavailableError.

import { TransactGetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { aggregateFromItem, type Aggregate } from "./aggregate";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { StoreUnavailableError } from "./errors";
import { classifyStoreError, LedgerReader } from "./store";
import type { Bounds } from "../domain/decider";
import { GENESIS_HASH } from "../domain/chain";
import { assertShardCount, initialShard, shardIdOf } from "../domain/escrow";
import type { ChainedShard } from "../domain/escrow-event";
import { COUNTERS, type TableNames } from "./tables";

/** Tries of one snapshot that conflicting transactions cancel, before the store counts as not ready. */
const SNAPSHOT_ATTEMPTS_MAX = 5;

/** A snapshot that conflicting transactions kept cancelling: the store is busy, not broken. */
export class SnapshotCancelledError extends StoreUnavailableError {}

/** A shard and the aggregate item it was read from (undefined: no item yet). */
export interface StoredShard extends ChainedShard {
  readonly updatedAt: string | null;
}

export class ShardReader {
  private readonly reader: LedgerReader;

  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, "send">,
    private readonly tables: TableNames,
    private readonly bounds: Bounds,
    private readonly counterId: string,
    readonly shards: number,
  ) {
    assertShardCount(shards);
    this.reader = new LedgerReader(client, tables, bounds);
  }

  /** One shard, read consistently; its chain's head caught up from the ledger when the item lags it. */
  async readShard(shard: number): Promise<StoredShard> {
    const shardId = shardIdOf(this.counterId, shard);
    const aggregate = await this.reader.readAggregate(shardId);
    // readAggregate makes a missing item the counter's initial state; a shard above 0 starts empty instead.
    return this.shardOf(shard, aggregate.version === 0 && shard > 0 ? undefined : aggregate);
  }

  /**
   * Every shard, each read consistently, but not all at one moment (one consistent GetItem each, in parallel):
   * enough to choose a donor, whose transfer is guarded by its version anyway, never to prove a 409.
   */
  readEach(): Promise<StoredShard[]> {
    return Promise.all(Array.from({ length: this.shards }, (_, shard) => this.readShard(shard)));
  }

  /**
   * Every shard as of one moment: one TransactGetItems of the S items (S ≤ 64 < 100 items). `attempts` bounds
   * the tries a conflicting transaction cancels; past them, SnapshotCancelledError.
   */
  async readSnapshot(attempts = SNAPSHOT_ATTEMPTS_MAX): Promise<StoredShard[]> {
    const keys = Array.from({ length: this.shards }, (_, shard) => shardIdOf(this.counterId, shard));
    const output = await this.transactGet(keys, attempts);
    const responses = output.Responses ?? [];
    return Promise.all(
      keys.map((key, shard) => {
        const item = responses[shard]?.Item;
        return this.shardOf(
          shard,
          item === undefined ? undefined : aggregateFromItem(key, item, this.bounds),
        );
      }),
    );
  }

  /**
   * On AWS a TransactGetItems is cancelled while a transaction writes one of its items (TransactionConflict,
   * docs/architecture.md#where-aws-differs-from-dynamodb-local): tried again after a short random pause, up to
   * `attempts` tries, then SnapshotCancelledError (a store that is not ready: 503, retry).
   */
  private async transactGet(keys: readonly string[], attempts: number) {
    const request = new TransactGetCommand({
      TransactItems: keys.map((key) => ({
        Get: { TableName: this.tables.counters, Key: { [COUNTERS.partitionKey]: key } },
      })),
    });
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.send(request);
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw classifyStoreError(error);
        if (attempt >= attempts) throw new SnapshotCancelledError("snapshot cancelled", { cause: error });
        await new Promise((wake) => setTimeout(wake, Math.random() * 4 * 2 ** attempt));
      }
    }
  }

  private async shardOf(shard: number, aggregate: Aggregate | undefined): Promise<StoredShard> {
    const shardId = shardIdOf(this.counterId, shard);
    const initial = initialShard(this.bounds, shard);
    if (aggregate === undefined) return { ...initial, shardId, headHash: GENESIS_HASH, updatedAt: null };
    // Shard 0 of a counter written before it was sharded has its chain's head lag only if it predates the chain.
    const head =
      aggregate.head.version === aggregate.version
        ? aggregate.head
        : await this.reader.catchUpHead(shardId, aggregate);
    return {
      shardId,
      value: aggregate.value,
      version: aggregate.version,
      floor: aggregate.floor ?? initial.floor,
      ceiling: aggregate.ceiling ?? initial.ceiling,
      headHash: head.hash,
      updatedAt: aggregate.updatedAt,
    };
  }
}
