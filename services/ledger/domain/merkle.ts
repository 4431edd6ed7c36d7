// The Merkle tree over the ledger's versions (docs/architecture.md#the-merkle-tree), as Certificate Transparency builds it
// (RFC 9162 §2.1): the leaves are the events' chain hashes in version order, leaf i (from 0) being version
// i + 1, so that a signed root proves any one event with a logarithmic audit path. Pure: node:crypto's SHA-256.
//
//   leaf hash  = SHA-256(0x00 || leaf)                      (the leaf is the 32 bytes of the event's hash)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH({})    = SHA-256("")
//   MTH(D[n])  = MTH(D[0:k]) and MTH(D[k:n]) as a node, k the largest power of two smaller than n
//
// Every subtree the tree hash or an audit path needs is either a complete, aligned power-of-two range of leaves
// (a `Subtree`) or, at the tree's right edge, a run of them folded from the right. So the storage side
// (services/ledger/storage/merkle.ts) only ever hashes aligned subtrees, which never change once complete and
// can be kept; this module says which ones a root or a path needs and puts them together.

import { createHash, hash as digestOf } from "node:crypto";

/** A hash of the tree: 32 bytes. */
export type TreeHash = Uint8Array;

export const TREE_HASH_BYTES = 32;

/** A complete, aligned subtree: leaves [start, start + size), size a power of two, start a multiple of it. */
export interface Subtree {
  readonly start: number;
  readonly size: number;
}

function sha256(...parts: readonly Uint8Array[]): TreeHash {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

const LEAF_PREFIX = Uint8Array.of(0);
const NODE_PREFIX = Uint8Array.of(1);

/** RFC 9162's root of the empty tree, SHA-256 of the empty string (the root of version 0). */
export const EMPTY_TREE_HASH: TreeHash = sha256();

/** One buffer reused for the input of every leaf and node hash: a replay hashes two per event. */
const hashInput = Buffer.alloc(1 + 2 * TREE_HASH_BYTES);

/** SHA-256 of the first `length` bytes of hashInput, one-shot, as a Uint8Array of its own. */
function digestOfInput(length: number): TreeHash {
  const digest = digestOf("sha256", hashInput.subarray(0, length), "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

export function leafHash(leaf: Uint8Array): TreeHash {
  if (leaf.length !== TREE_HASH_BYTES) return sha256(LEAF_PREFIX, leaf);
  hashInput[0] = 0;
  hashInput.set(leaf, 1);
  return digestOfInput(1 + TREE_HASH_BYTES);
}

export function nodeHash(left: TreeHash, right: TreeHash): TreeHash {
  if (left.length !== TREE_HASH_BYTES || right.length !== TREE_HASH_BYTES) {
    return sha256(NODE_PREFIX, left, right);
  }
  hashInput[0] = 1;
  hashInput.set(left, 1);
  hashInput.set(right, 1 + TREE_HASH_BYTES);
  return digestOfInput(1 + 2 * TREE_HASH_BYTES);
}

/** The leaf of an event: the 32 bytes of its chain hash (64 hex digits). */
export function leafOfChainHash(hash: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error("a chain hash is 64 lowercase hex digits");
  return new Uint8Array(Buffer.from(hash, "hex"));
}

export function toHex(hash: TreeHash): string {
  return Buffer.from(hash).toString("hex");
}

/** The largest power of two smaller than n (n ≥ 2): RFC 9162's split. */
export function splitOf(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Whether `size` is a power of two and `start` a multiple of it. */
export function isAligned(subtree: Subtree): boolean {
  const { start, size } = subtree;
  return Number.isSafeInteger(size) && size >= 1 && (size & (size - 1)) === 0 && start % size === 0;
}

/**
 * The complete subtrees whose right fold is MTH(D[start : start + n]), largest first (the binary digits of n).
 * `start` must be a multiple of the largest, as every range the tree splits into is.
 */
export function peaksOf(start: number, n: number): Subtree[] {
  const peaks: Subtree[] = [];
  let offset = start;
  let rest = n;
  while (rest > 0) {
    const size = rest === 1 ? 1 : rest === splitOf(rest) * 2 ? rest : splitOf(rest);
    peaks.push({ start: offset, size });
    offset += size;
    rest -= size;
  }
  return peaks;
}

/** The hash of a run of peaks: folded from the right, as MTH splits. */
export function foldPeaks(hashes: readonly TreeHash[]): TreeHash {
  const last = hashes[hashes.length - 1];
  if (last === undefined) return EMPTY_TREE_HASH;
  let hash = last;
  for (let index = hashes.length - 2; index >= 0; index -= 1) hash = nodeHash(hashes[index]!, hash);
  return hash;
}

/** Every subtree the root of a tree of `treeSize` leaves needs. */
export function rootSubtrees(treeSize: number): Subtree[] {
  return peaksOf(0, treeSize);
}

/**
 * The audit path of leaf `index` in a tree of `treeSize` leaves (RFC 9162 §2.1.3.1, PATH(m, D[n])), leaf to
 * root, as runs of subtrees: each element of the path is the right fold of its run.
 */
export function inclusionSubtrees(index: number, treeSize: number): Subtree[][] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    throw new RangeError(`leaf ${index} is not in a tree of ${treeSize} leaves`);
  }
  const path: Subtree[][] = [];
  let start = 0;
  let n = treeSize;
  let m = index;
  while (n > 1) {
    const k = splitOf(n);
    if (m < k) {
      path.push(peaksOf(start + k, n - k));
      n = k;
    } else {
      path.push([{ start, size: k }]);
      start += k;
      m -= k;
      n -= k;
    }
  }
  return path.reverse();
}

/** Looks up the hash of a subtree the caller has already resolved. */
export type SubtreeHashes = (subtree: Subtree) => TreeHash;

export function treeHashFrom(treeSize: number, hashes: SubtreeHashes): TreeHash {
  return foldPeaks(rootSubtrees(treeSize).map(hashes));
}

export function inclusionPathFrom(index: number, treeSize: number, hashes: SubtreeHashes): TreeHash[] {
  return inclusionSubtrees(index, treeSize).map((run) => foldPeaks(run.map(hashes)));
}

/** MTH over leaves held in memory (the leaves themselves, not their leaf hashes). */
export function treeHash(leaves: readonly Uint8Array[]): TreeHash {
  if (leaves.length === 0) return EMPTY_TREE_HASH;
  let level = leaves.map(leafHash);
  // Pairing left to right and carrying an odd last node up is MTH's split, level by level.
  while (level.length > 1) {
    const next: TreeHash[] = [];
    for (let index = 0; index + 1 < level.length; index += 2)
      next.push(nodeHash(level[index]!, level[index + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/**
 * The tree hash of a tree that grows leaf by leaf, in O(log n) memory: the perfect subtrees of its size's binary
 * decomposition, merged as they complete (the same peaks rootSubtrees names), folded from the right for the root.
 * What a replay keeps to hold a digest's root against the ledger it reads.
 */
export class MerkleAccumulator {
  private readonly peaks: { size: number; hash: TreeHash }[] = [];
  private leaves = 0;

  /** How many leaves were appended. */
  get size(): number {
    return this.leaves;
  }

  append(leaf: Uint8Array): void {
    let node = { size: 1, hash: leafHash(leaf) };
    for (let last = this.peaks.at(-1); last?.size === node.size; last = this.peaks.at(-1)) {
      this.peaks.pop();
      node = { size: node.size * 2, hash: nodeHash(last.hash, node.hash) };
    }
    this.peaks.push(node);
    this.leaves += 1;
  }

  /** MTH of the leaves so far (EMPTY_TREE_HASH before the first). */
  root(): TreeHash {
    return foldPeaks(this.peaks.map((peak) => peak.hash));
  }
}

/**
 * RFC 9162 §2.1.3.2: whether `path` proves that the leaf with hash `leafHashValue` is leaf `index` of the tree of
 * `treeSize` leaves whose root is `root`. False for any malformed input; never throws.
 */
export function verifyInclusion(
  index: number,
  treeSize: number,
  leafHashValue: TreeHash,
  path: readonly TreeHash[],
  root: TreeHash,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    return false;
  }
  if ([leafHashValue, root, ...path].some((hash) => hash.length !== TREE_HASH_BYTES)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHashValue;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(r).equals(Buffer.from(root));
}
