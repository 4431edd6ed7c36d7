// The ledger's Merkle tree on DynamoDB (docs/architecture.md#the-merkle-tree): roots and audit paths of
// services/ledger/domain/merkle.ts, without reading every event each time. The hash of every complete, aligned
// subtree of at least MERKLE_CHUNK_LEAVES leaves is kept in the read model, under a partition of its own
// (`<counterId>#merkle`, sort key `level × 2^45 + index`), written once with a condition so the first write
// wins; such a subtree never changes once complete. Leaves are read from the ledger's byVersion index
// (ledgerPages, the replay's reader) only for subtrees not kept yet and for the tree's ragged right edge.
//
// A kept hash is trusted only as far as the signed root it yields: a changed one makes the roots and paths built
// on it differ from what the events hash to, so proofs fail against the signed digest; they never pass.
//
// The work of one call is bounded by a deadline: past it, what was filled is kept and MerkleIncompleteError says
// to come back (503 with Retry-After); the next call goes on from there. It never changes a ledger item.

import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ChainWalk, GENESIS_HASH, type ChainHead } from "../domain/chain";
import { MERKLE_CHUNK_LEAVES, MERKLE_WRITES_IN_FLIGHT_MAX } from "../domain/limits";
import {
  inclusionPathFrom,
  inclusionSubtrees,
  leafOfChainHash,
  nodeHash,
  rootSubtrees,
  treeHash,
  treeHashFrom,
  type Subtree,
  type TreeHash,
} from "../domain/merkle";
import { StoreUnavailableError } from "./errors";
import { ledgerPages } from "./replay";
import { storeCall } from "./store";
import { READ_MODEL, type TableNames } from "./tables";

type Client = Pick<DynamoDBDocumentClient, "send">;

/** The kept subtrees of a counter: a partition of the read model no history or verify query reads. */
export function merklePartitionOf(counterId: string): string {
  return `${counterId}#merkle`;
}

/** 2^45: more leaves than a ledger of safe-integer versions can have at any kept level (≥ 2^8). */
const LEVEL_STRIDE = 2 ** 45;

/** The sort key of a kept subtree: its level (log2 of its size) and its index at that level. */
export function merkleEntryOf(subtree: Subtree): number {
  const level = Math.log2(subtree.size);
  return level * LEVEL_STRIDE + subtree.start / subtree.size;
}

/** An event from before the chain, whose predecessor's hash is not known where the read began. */
class UnknownLinkError extends Error {
  override readonly name = "UnknownLinkError";
}

/** The tree is not filled far enough within this call's budget; what was filled is kept. */
export class MerkleIncompleteError extends Error {
  override readonly name = "MerkleIncompleteError";
}

export interface MerkleStoreOptions {
  readonly client: Client;
  readonly tables: Pick<TableNames, "ledger" | "readModel">;
  readonly counterId: string;
  /** Leaves of the smallest kept subtree (a power of two; MERKLE_CHUNK_LEAVES, smaller in tests). */
  readonly chunkLeaves?: number;
  readonly clock?: () => number;
}

const keyOfSubtree = (subtree: Subtree): string => `${subtree.start}/${subtree.size}`;

export class MerkleStore {
  private readonly chunk: number;
  private readonly clock: () => number;
  /** The chain's head where the last read of leaves ended: the next run of an older ledger goes on from it. */
  private lastHead: ChainHead = { version: 0, hash: GENESIS_HASH };

  constructor(private readonly options: MerkleStoreOptions) {
    this.chunk = options.chunkLeaves ?? MERKLE_CHUNK_LEAVES;
    this.clock = options.clock ?? Date.now;
  }

  /** The root of the tree of versions 1..treeSize, hashed as SHA-256 (RFC 9162 MTH). */
  async root(treeSize: number, budgetMs: number): Promise<TreeHash> {
    const hashes = await this.resolve(rootSubtrees(treeSize), this.clock() + budgetMs);
    return treeHashFrom(treeSize, (subtree) => hashes.get(keyOfSubtree(subtree))!);
  }

  /** The audit path of version `version` in the tree of versions 1..treeSize (RFC 9162 PATH). */
  async inclusionPath(version: number, treeSize: number, budgetMs: number): Promise<TreeHash[]> {
    const subtrees = inclusionSubtrees(version - 1, treeSize).flat();
    const hashes = await this.resolve(subtrees, this.clock() + budgetMs);
    return inclusionPathFrom(version - 1, treeSize, (subtree) => hashes.get(keyOfSubtree(subtree))!);
  }

  /**
   * The chain hashes of versions after+1..through, in order: the stored `hash` of each event, or for an event
   * written before the chain, its hash on read (docs/architecture.md#the-hash-chain), which needs the chain from
   * the first version.
   */
  async chainHashes(after: number, through: number): Promise<string[]> {
    const hashes: string[] = [];
    try {
      for await (const page of this.chainHashPages(after, through)) hashes.push(...page);
    } catch (error) {
      if (!(error instanceof UnknownLinkError)) throw error;
      return (await this.chainHashes(0, through)).slice(after);
    }
    return hashes;
  }

  /**
   * chainHashes a page of the ledger at a time (the next page read while this one is used). Throws
   * UnknownLinkError at an event written before the chain when the hash before `after` is not known.
   */
  private async *chainHashPages(after: number, through: number): AsyncGenerator<string[]> {
    const { client, tables, counterId } = this.options;
    const start = this.lastHead.version === after ? this.lastHead.hash : undefined;
    const walk = new ChainWalk({ version: after, hash: after === 0 ? GENESIS_HASH : start });
    let version = after;
    for await (const page of ledgerPages(client, tables, counterId, after, through)) {
      const hashes: string[] = [];
      for (const item of page) {
        version += 1;
        if (item.version !== version) {
          throw new StoreUnavailableError(`the ledger index has no event at version ${version} yet`);
        }
        walk.link(item, version);
        const head = walk.head;
        if (head === undefined) throw new UnknownLinkError();
        hashes.push(head.hash);
      }
      if (hashes.length > 0) this.lastHead = { version, hash: hashes[hashes.length - 1]! };
      yield hashes;
    }
    if (version !== through) {
      throw new StoreUnavailableError(`the ledger index is not yet at version ${through}`);
    }
  }

  /** The hashes of `subtrees`: kept ones read, the rest computed (and kept when large enough). */
  private async resolve(subtrees: readonly Subtree[], deadline: number): Promise<Map<string, TreeHash>> {
    const known = new Map<string, TreeHash>();
    const large = subtrees.filter((subtree) => subtree.size >= this.chunk);
    const { missing, chunks } = await this.readKept(large, known);
    const small = subtrees.filter((subtree) => subtree.size < this.chunk);
    await this.fillFromLeaves([...chunks, ...small], known, deadline);
    // Children before parents: each missing subtree above the chunks from its two halves, then kept.
    const parents = [...missing].sort((left, right) => left.size - right.size);
    for (const subtree of parents) {
      const half = subtree.size / 2;
      const left = known.get(keyOfSubtree({ start: subtree.start, size: half }));
      const right = known.get(keyOfSubtree({ start: subtree.start + half, size: half }));
      if (left === undefined || right === undefined) throw new Error("a subtree's halves were not resolved");
      known.set(keyOfSubtree(subtree), nodeHash(left, right));
    }
    await this.keep(parents, known);
    return known;
  }

  /**
   * Reads the kept hashes of `large` subtrees level by level downwards: a subtree not kept is resolved from its
   * halves. Answers the missing ones above the chunks and the chunks to hash from their leaves.
   */
  private async readKept(
    large: readonly Subtree[],
    known: Map<string, TreeHash>,
  ): Promise<{ missing: Subtree[]; chunks: Subtree[] }> {
    const missing: Subtree[] = [];
    const chunks: Subtree[] = [];
    let frontier = [...new Map(large.map((subtree) => [keyOfSubtree(subtree), subtree])).values()];
    while (frontier.length > 0) {
      const kept = await this.readHashes(frontier);
      const next: Subtree[] = [];
      for (const subtree of frontier) {
        const hash = kept.get(merkleEntryOf(subtree));
        if (hash !== undefined) {
          known.set(keyOfSubtree(subtree), hash);
        } else if (subtree.size > this.chunk) {
          missing.push(subtree);
          const half = subtree.size / 2;
          next.push({ start: subtree.start, size: half }, { start: subtree.start + half, size: half });
        } else {
          chunks.push(subtree);
        }
      }
      frontier = next;
    }
    return { missing, chunks };
  }

  /**
   * Hashes `subtrees` (disjoint) from their leaves, read in version order as contiguous runs, a page at a time;
   * each chunk is kept as soon as its page is read, so that a call stopped by its deadline leaves its progress
   * behind.
   */
  private async fillFromLeaves(
    subtrees: readonly Subtree[],
    known: Map<string, TreeHash>,
    deadline: number,
  ): Promise<void> {
    const ordered = [...subtrees].sort((left, right) => left.start - right.start);
    for (const run of runsOf(ordered)) {
      if (this.clock() > deadline) {
        throw new MerkleIncompleteError("the Merkle tree could not be filled within this call's budget");
      }
      const first = run[0]!.start;
      const last = run[run.length - 1]!.start + run[run.length - 1]!.size;
      let leaves: Uint8Array[] = [];
      let offset = first;
      let next = 0;
      const hashReady = async () => {
        const hashed: Subtree[] = [];
        for (; next < run.length && run[next]!.start + run[next]!.size <= offset + leaves.length; next += 1) {
          const subtree = run[next]!;
          const from = subtree.start - offset;
          known.set(keyOfSubtree(subtree), treeHash(leaves.slice(from, from + subtree.size)));
          hashed.push(subtree);
        }
        // Leaves below the next subtree are done with.
        const done = (run[next]?.start ?? offset + leaves.length) - offset;
        leaves = leaves.slice(done);
        offset += done;
        await this.keep(
          hashed.filter((subtree) => subtree.size >= this.chunk),
          known,
        );
      };
      for await (const page of this.leafPages(first, last)) {
        leaves.push(...page.map(leafOfChainHash));
        await hashReady();
        if (next < run.length && this.clock() > deadline) {
          throw new MerkleIncompleteError("the Merkle tree could not be filled within this call's budget");
        }
      }
    }
  }

  /** Pages of chain hashes; from the genesis, all at once, where events from before the chain need it. */
  private async *leafPages(after: number, through: number): AsyncGenerator<string[]> {
    let yielded = 0;
    try {
      for await (const page of this.chainHashPages(after, through)) {
        yielded += page.length;
        yield page;
      }
    } catch (error) {
      if (!(error instanceof UnknownLinkError)) throw error;
      yield (await this.chainHashes(0, through)).slice(after + yielded);
    }
  }

  /** Kept hashes by sort key, read in batches of 100 (BatchGetItem's limit), unprocessed keys asked again. */
  private async readHashes(subtrees: readonly Subtree[]): Promise<Map<number, TreeHash>> {
    const { client, tables, counterId } = this.options;
    const found = new Map<number, TreeHash>();
    const partition = merklePartitionOf(counterId);
    for (let offset = 0; offset < subtrees.length; offset += 100) {
      let keys: Record<string, unknown>[] | undefined = subtrees
        .slice(offset, offset + 100)
        .map((subtree) => ({
          [READ_MODEL.partitionKey]: partition,
          [READ_MODEL.sortKey]: merkleEntryOf(subtree),
        }));
      for (let attempt = 0; keys !== undefined && keys.length > 0; attempt += 1) {
        if (attempt === 8) throw new StoreUnavailableError("the kept Merkle subtrees could not be read");
        const requested: Record<string, unknown>[] = keys;
        const output = await storeCall(() =>
          client.send(new BatchGetCommand({ RequestItems: { [tables.readModel]: { Keys: requested } } })),
        );
        for (const item of output.Responses?.[tables.readModel] ?? []) {
          const hash =
            typeof item.hash === "string" && /^[0-9a-f]{64}$/.test(item.hash) ? item.hash : undefined;
          if (hash !== undefined) found.set(item[READ_MODEL.sortKey] as number, Buffer.from(hash, "hex"));
        }
        keys = output.UnprocessedKeys?.[tables.readModel]?.Keys;
      }
    }
    return found;
  }

  /** Keeps the hashes of `subtrees`, each written only if none is there yet (the first write wins). */
  private async keep(subtrees: readonly Subtree[], known: ReadonlyMap<string, TreeHash>): Promise<void> {
    const { client, tables, counterId } = this.options;
    const partition = merklePartitionOf(counterId);
    for (let offset = 0; offset < subtrees.length; offset += MERKLE_WRITES_IN_FLIGHT_MAX) {
      const batch = subtrees.slice(offset, offset + MERKLE_WRITES_IN_FLIGHT_MAX);
      await Promise.all(
        batch.map(async (subtree) => {
          const hash = Buffer.from(known.get(keyOfSubtree(subtree))!).toString("hex");
          try {
            await storeCall(() =>
              client.send(
                new PutCommand({
                  TableName: tables.readModel,
                  Item: {
                    [READ_MODEL.partitionKey]: partition,
                    [READ_MODEL.sortKey]: merkleEntryOf(subtree),
                    start: subtree.start,
                    size: subtree.size,
                    hash,
                  },
                  ConditionExpression: "attribute_not_exists(#entry)",
                  ExpressionAttributeNames: { "#entry": READ_MODEL.sortKey },
                }),
              ),
            );
          } catch (error) {
            if (!(error instanceof Error && error.name === "ConditionalCheckFailedException")) throw error;
          }
        }),
      );
    }
  }
}

/** Ordered, disjoint subtrees as runs of adjacent ones: each run is one contiguous range of versions. */
function runsOf(ordered: readonly Subtree[]): Subtree[][] {
  const runs: Subtree[][] = [];
  for (const subtree of ordered) {
    const run = runs[runs.length - 1];
    const end = run === undefined ? undefined : run[run.length - 1]!.start + run[run.length - 1]!.size;
    if (run !== undefined && end === subtree.start) run.push(subtree);
    else runs.push([subtree]);
  }
  return runs;
}
