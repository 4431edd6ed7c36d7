// The Merkle tree of the ledger (services/ledger/domain/merkle.ts) against RFC 9162 §2.1 written anew here:
// MTH and PATH as the RFC's recursive definitions, straight from the text, and the RFC's test of a proof
// computed by hand for a 7-leaf tree. For every tree size up to 300 and every leaf, the module's path equals the
// RFC's, verifies, and stops verifying when anything about it is changed.

import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EMPTY_TREE_HASH,
  inclusionPathFrom,
  inclusionSubtrees,
  isAligned,
  leafHash,
  MerkleAccumulator,
  peaksOf,
  rootSubtrees,
  treeHash,
  treeHashFrom,
  verifyInclusion,
  type Subtree,
  type TreeHash,
} from "../../../services/ledger/domain/merkle";

function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** The largest power of two smaller than n, by the RFC's words. */
function largestPowerBelow(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

/** RFC 9162 §2.1.1, recursively (remembered per slice of LEAVES, which all tests slice). */
function mth(leaves: Uint8Array[]): Uint8Array {
  const remembered = leaves[0] === undefined ? undefined : memo.get(`${hex(leaves[0])} ${leaves.length}`);
  if (remembered !== undefined) return remembered;
  const computed = mthOnce(leaves);
  if (leaves[0] !== undefined) memo.set(`${hex(leaves[0])} ${leaves.length}`, computed);
  return computed;
}
const memo = new Map<string, Uint8Array>();

function mthOnce(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return sha256(Uint8Array.of(0), leaves[0]!);
  const k = largestPowerBelow(leaves.length);
  return sha256(Uint8Array.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.1, recursively. */
function path(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length === 1) return [];
  const k = largestPowerBelow(leaves.length);
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

function leavesOf(n: number, salt = "ledger"): Uint8Array[] {
  return Array.from({ length: n }, (_, index) => sha256(new TextEncoder().encode(`${salt} ${index + 1}`)));
}

/** The subtree hashes the module asks for, from the leaves in memory, each checked to be aligned. */
function lookupIn(leaves: Uint8Array[]) {
  return (subtree: Subtree): TreeHash => {
    if (!isAligned(subtree) || subtree.start + subtree.size > leaves.length) {
      throw new Error(`asked for ${JSON.stringify(subtree)} of ${leaves.length} leaves`);
    }
    return mth(leaves.slice(subtree.start, subtree.start + subtree.size));
  };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

const LEAVES = leavesOf(300);

describe("the tree hash", () => {
  it("is SHA-256 of the empty string for no leaves (RFC 9162 §2.1.1)", () => {
    expect(hex(EMPTY_TREE_HASH)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(treeHash([]))).toBe(hex(EMPTY_TREE_HASH));
    expect(hex(treeHashFrom(0, lookupIn([])))).toBe(hex(EMPTY_TREE_HASH));
  });

  it("is the RFC's MTH for every size up to 300, in memory and from aligned subtrees", () => {
    for (let n = 1; n <= 300; n += 1) {
      const leaves = LEAVES.slice(0, n);
      const expected = hex(mth(leaves));
      expect(hex(treeHash(leaves))).toBe(expected);
      expect(hex(treeHashFrom(n, lookupIn(leaves)))).toBe(expected);
    }
  });

  it("is the RFC's MTH at every size when grown leaf by leaf (the replay's accumulator)", () => {
    const tree = new MerkleAccumulator();
    expect(hex(tree.root())).toBe(hex(EMPTY_TREE_HASH));
    for (let n = 1; n <= 300; n += 1) {
      tree.append(LEAVES[n - 1]!);
      expect(tree.size).toBe(n);
      expect(hex(tree.root())).toBe(hex(mth(LEAVES.slice(0, n))));
    }
  });

  it("is built from the binary digits of the size, each an aligned subtree", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (n) => {
        const peaks = rootSubtrees(n);
        expect(peaks.reduce((sum, peak) => sum + peak.size, 0)).toBe(n);
        expect(peaks.every(isAligned)).toBe(true);
        expect(peaks.length).toBe(n.toString(2).replace(/0/g, "").length);
        expect(peaksOf(0, n)).toEqual(peaks);
      }),
    );
  });
});

describe("audit paths (RFC 9162 §2.1.3)", () => {
  it("checks the RFC's worked structure: leaf 3 (d) of 7 is [c, hash(a,b), hash(e,f,g)]", () => {
    const leaves = LEAVES.slice(0, 7);
    const proof = inclusionPathFrom(3, 7, lookupIn(leaves)).map(hex);
    expect(proof).toEqual([leafHash(leaves[2]!), mth(leaves.slice(0, 2)), mth(leaves.slice(4, 7))].map(hex));
  });

  it("equals the RFC's PATH and verifies, for every size up to 300 and every leaf", () => {
    for (let n = 1; n <= 300; n += 1) {
      const leaves = LEAVES.slice(0, n);
      const root = mth(leaves);
      const lookup = lookupIn(leaves);
      for (let m = 0; m < n; m += 1) {
        const proof = inclusionPathFrom(m, n, lookup);
        expect(proof.map(hex)).toEqual(path(m, leaves).map(hex));
        expect(verifyInclusion(m, n, leafHash(leaves[m]!), proof, root)).toBe(true);
      }
    }
  });

  it("is at most ⌈log2 n⌉ hashes long, each run of subtrees aligned", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, at) => {
          const m = Math.min(n - 1, Math.floor(at * n));
          const runs = inclusionSubtrees(m, n);
          expect(runs.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
          expect(runs.flat().every(isAligned)).toBe(true);
        },
      ),
    );
  });

  it("refuses anything changed: a flipped byte, another leaf, another index, another size, another root", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            m: fc.integer({ min: 0, max: n - 1 }),
            other: fc.integer({ min: 0, max: 299 }),
            byte: fc.nat(),
            bit: fc.integer({ min: 0, max: 7 }),
          }),
        ),
        ({ n, m, other, byte, bit }) => {
          const leaves = LEAVES.slice(0, n);
          const root = mth(leaves);
          const leaf = leafHash(leaves[m]!);
          const proof = inclusionPathFrom(m, n, lookupIn(leaves));
          expect(verifyInclusion(m, n, leaf, proof, root)).toBe(true);
          const flip = (hash: TreeHash): TreeHash => {
            const copy = Uint8Array.from(hash);
            copy[byte % copy.length]! ^= 1 << bit;
            return copy;
          };
          expect(verifyInclusion(m, n, flip(leaf), proof, root)).toBe(false);
          expect(verifyInclusion(m, n, leaf, proof, flip(root))).toBe(false);
          proof.forEach((_, index) => {
            const tampered = proof.map((hash, at) => (at === index ? flip(hash) : hash));
            expect(verifyInclusion(m, n, leaf, tampered, root)).toBe(false);
          });
          if (other !== m && other < n) {
            expect(verifyInclusion(other, n, leaf, proof, root)).toBe(false);
            expect(verifyInclusion(m, n, leafHash(leaves[other]!), proof, root)).toBe(false);
          }
          const otherSize = 1 + (other % 300);
          // (The size alone may change and still verify, e.g. leaf 0 of 3 and of 4: RFC 9162 binds the size
          // in the signed tree head, as the digest's version binds it here. Against another size's root, no.)
          if (otherSize !== n) {
            expect(verifyInclusion(m, n, leaf, proof, mth(LEAVES.slice(0, otherSize)))).toBe(false);
          }
          expect(verifyInclusion(m, n, leaf, [...proof, leaf], root)).toBe(false);
          if (proof.length > 0) expect(verifyInclusion(m, n, leaf, proof.slice(1), root)).toBe(false);
          expect(verifyInclusion(m, n, leaf, proof, mth(leavesOf(n, "another ledger")))).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses malformed input without throwing", () => {
    const leaf = leafHash(LEAVES[0]!);
    const root = mth(LEAVES.slice(0, 1));
    expect(verifyInclusion(0, 1, leaf, [], root)).toBe(true);
    for (const [m, n] of [
      [-1, 1],
      [1, 1],
      [0, 0],
      [0.5, 2],
      [Number.NaN, 1],
      [0, Number.POSITIVE_INFINITY],
    ] as const) {
      expect(verifyInclusion(m, n, leaf, [], root)).toBe(false);
    }
    expect(verifyInclusion(0, 1, leaf.slice(1), [], root)).toBe(false);
    expect(verifyInclusion(0, 2, leaf, [new Uint8Array(31)], root)).toBe(false);
    expect(() => inclusionSubtrees(1, 1)).toThrow(RangeError);
  });
});
