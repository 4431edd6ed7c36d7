// The hash chain (I7, docs/architecture.md#the-hash-chain) and what verification makes of it, without
// DynamoDB. Chained ledgers are made here by hand with an independent implementation of the documented
// encoding (sorted-key JSON, SHA-256), not by the code under test; then each kind of tampering is shown found
// at the right version, or — for a consistent rewrite of every later hash — found only against a head a digest
// signed before, which is what digests are for.

import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chainedHashOf, GENESIS_HASH } from "../../../services/ledger/domain/chain";
import { leafOfChainHash, toHex, treeHash } from "../../../services/ledger/domain/merkle";
import {
  auditJoinVersionOf,
  LedgerCheck,
  type VerificationReport,
} from "../../../services/ledger/domain/verification";

type Item = Record<string, unknown>;

const COUNTER = "default";
const BOUNDS = { min: 0, max: 1_000 };
const AT_MS = Date.parse("2026-03-01T11:00:00.000Z");

function sortedJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${sortedJson(record[key])}`)
    .join(",")}}`;
}

/** The documented hash, written anew: SHA-256 of "counter-ledger/event/1", LF, the sorted JSON. */
function hashByHand(event: Item, previousHash: string): string {
  const { hash: _hash, ...fields } = event;
  return createHash("sha256")
    .update(`counter-ledger/event/1\n${sortedJson({ ...fields, previousHash })}`)
    .digest("hex");
}

/** Links events (in order) into a chain from `previousHash`, rehashing each: what a forger can always do. */
function relink(events: readonly Item[], previousHash = GENESIS_HASH): Item[] {
  let previous = previousHash;
  return events.map((event) => {
    const linked = { ...event, previousHash: previous };
    const hash = hashByHand(linked, previous);
    previous = hash;
    return { ...linked, hash };
  });
}

/** A chained ledger of increments and decrements (v3 events by alice), from 0. */
function chainedLedger(deltas: readonly (1 | -1)[]): Item[] {
  let value = 0;
  const events = deltas.map((delta, index) => {
    const event = {
      eventId: `${COUNTER}#${createHash("sha256").update("alice-sub").digest("base64url")}#key-${index}`,
      counterId: COUNTER,
      idempotencyKey: `key-${index}`,
      version: index + 1,
      action: delta === 1 ? "increment" : "decrement",
      delta,
      valueBefore: value,
      valueAfter: value + delta,
      at: new Date(AT_MS + index * 1_000).toISOString(),
      requestFingerprint: `fingerprint-${delta}`,
      requestId: `request-${index}`,
      actor: { sub: "alice-sub", name: "alice" },
      schemaVersion: 3,
    };
    value += delta;
    return event;
  });
  return relink(events);
}

interface Stored {
  readonly events: readonly Item[];
  readonly aggregate: Item;
  readonly trustedHeads?: readonly { version: number; hash: string; root?: string }[];
}

/** The aggregate a sound ledger ends in: value, version, last event and the chain's head. */
function aggregateOf(events: readonly Item[]): Item {
  const last = events.at(-1)!;
  return {
    counterId: COUNTER,
    value: last.valueAfter,
    version: last.version,
    lastEventId: last.eventId,
    headVersion: last.version,
    headHash: last.hash,
  };
}

/** The fold as the storage loop drives it, with the audit trail and projection left out (no I5 here). */
function check({ events, aggregate, trustedHeads }: Stored): VerificationReport {
  const fold = new LedgerCheck(
    { counterId: COUNTER, bounds: BOUNDS, nowMs: AT_MS, lagGraceMs: 3_600_000, trustedHeads },
    undefined,
  );
  for (const item of events) {
    const version = auditJoinVersionOf(item);
    if (version !== undefined) fold.auditEntry(version, { ...item, entry: version });
    fold.event(item);
  }
  fold.aggregate(aggregate);
  fold.endLedger();
  return fold.report(0);
}

function kinds(report: VerificationReport): { kind: string; version?: number }[] {
  return report.problems.map(({ kind, version }) => ({ kind, version }));
}

const TEN = chainedLedger([1, 1, 1, -1, 1, 1, 1, -1, 1, 1]);

describe("the hash chain's encoding", () => {
  it("is SHA-256 over the documented canonical JSON: keys sorted at every depth, previousHash included", () => {
    const event = { b: 2, a: "x", actor: { sub: "s", name: "n" }, hash: "ignored" };
    const canonical = `{"a":"x","actor":{"name":"n","sub":"s"},"b":2,"previousHash":"${GENESIS_HASH}"}`;
    const expected = createHash("sha256").update(`counter-ledger/event/1\n${canonical}`).digest("hex");
    expect(chainedHashOf(event, GENESIS_HASH)).toBe(expected);
  });

  it("equals the documented hash written anew for any record: its own previousHash replaced, hash left out", () => {
    const value = fc.oneof(fc.string({ unit: "grapheme" }), fc.integer(), fc.constant(null));
    const record = fc.dictionary(
      fc.string({ unit: "binary" }),
      fc.oneof(value, fc.dictionary(fc.string(), value)),
    );
    const hashes = fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: undefined });
    fc.assert(
      fc.property(
        record,
        hashes,
        hashes,
        fc.stringMatching(/^[0-9a-f]{64}$/),
        (fields, own, stored, linked) => {
          const event: Item = { ...fields };
          if (own !== undefined) event.previousHash = own;
          if (stored !== undefined) event.hash = stored;
          expect(chainedHashOf(event, linked)).toBe(hashByHand(event, linked));
        },
      ),
    );
  });

  it("covers every field, an added one too: any change of a field or of the link changes the hash", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.string({ minLength: 1 }), (index, text) => {
        const event = TEN[index]!;
        const hash = chainedHashOf(event, event.previousHash as string);
        expect(
          chainedHashOf(
            { ...event, requestId: `${String(event.requestId)}${text}` },
            event.previousHash as string,
          ),
        ).not.toBe(hash);
        expect(chainedHashOf({ ...event, extra: text }, event.previousHash as string)).not.toBe(hash);
        expect(chainedHashOf(event, hashByHand({ x: text }, GENESIS_HASH))).not.toBe(hash);
      }),
    );
  });
});

describe("verification of the chain (I7)", () => {
  it("proves a sound chained ledger, and one whose older events (schema v2) are hashed on read", () => {
    expect(check({ events: TEN, aggregate: aggregateOf(TEN) }).problems).toEqual([]);
    const older = TEN.slice(0, 4).map(({ previousHash: _p, hash: _h, ...event }) => ({
      ...event,
      schemaVersion: 2,
    }));
    let head = GENESIS_HASH;
    for (const event of older) head = hashByHand(event, head);
    const mixed = [...older, ...relink(TEN.slice(4), head)];
    expect(check({ events: mixed, aggregate: aggregateOf(mixed) }).problems).toEqual([]);
  });

  it("finds one field of one event changed, at its version only", () => {
    const events = TEN.map((event) => (event.version === 4 ? { ...event, requestId: "forged" } : event));
    expect(kinds(check({ events, aggregate: aggregateOf(TEN) }))).toEqual([
      { kind: "hashMismatch", version: 4 },
    ]);
  });

  it("finds an event rehashed but its successor not relinked, at the successor", () => {
    const [rehashed] = relink([{ ...TEN[3]!, requestId: "forged" }], TEN[2]!.hash as string);
    const events = TEN.map((event) => (event.version === 4 ? rehashed! : event));
    expect(kinds(check({ events, aggregate: aggregateOf(TEN) }))).toEqual([
      { kind: "previousHashMismatch", version: 5 },
    ]);
  });

  it("finds an event deleted, two swapped, and one inserted, each at the first bad version", () => {
    const deleted = TEN.filter((event) => event.version !== 6);
    expect(kinds(check({ events: deleted, aggregate: aggregateOf(TEN) }))).toContainEqual({
      kind: "previousHashMismatch",
      version: 7,
    });
    const swapped = TEN.map((event) =>
      event.version === 5
        ? { ...TEN[5]!, version: 5 }
        : event.version === 6
          ? { ...TEN[4]!, version: 6 }
          : event,
    );
    expect(kinds(check({ events: swapped, aggregate: aggregateOf(TEN) }))[0]).toMatchObject({ version: 5 });
    const inserted = [
      ...TEN.slice(0, 3),
      ...relink([{ ...TEN[3]!, idempotencyKey: "new" }], TEN[2]!.hash as string),
      ...TEN.slice(3).map((event) => ({ ...event, version: (event.version as number) + 1 })),
    ];
    expect(
      kinds(check({ events: inserted, aggregate: aggregateOf(TEN) })).map((problem) => problem.version)[0],
    ).toBe(4);
  });

  it("finds an aggregate whose recorded head is not the ledger's", () => {
    const aggregate = { ...aggregateOf(TEN), headHash: TEN[8]!.hash };
    expect(kinds(check({ events: TEN, aggregate }))).toEqual([{ kind: "aggregateHead", version: 10 }]);
  });

  it("cannot tell a consistent rewrite from the truth alone, but finds it against a head a digest signed", () => {
    // Version 3 becomes a decrement; every later value and hash is fixed up, and the aggregate with them.
    const deltas: (1 | -1)[] = [1, 1, -1, -1, 1, 1, 1, -1, 1, 1];
    const rewritten = chainedLedger(deltas);
    expect(check({ events: rewritten, aggregate: aggregateOf(rewritten) }).problems).toEqual([]);
    const signedBefore = [
      { version: 2, hash: TEN[1]!.hash as string },
      { version: 8, hash: TEN[7]!.hash as string },
    ];
    expect(
      kinds(check({ events: rewritten, aggregate: aggregateOf(rewritten), trustedHeads: signedBefore })),
    ).toEqual([{ kind: "digestMismatch", version: 8 }]);
    // The sound ledger matches the same digests.
    expect(check({ events: TEN, aggregate: aggregateOf(TEN), trustedHeads: signedBefore }).problems).toEqual(
      [],
    );
  });

  it("takes a digest of the empty counter (version 0) as the genesis: it holds with the genesis hash only", () => {
    const genesis = [{ version: 0, hash: GENESIS_HASH }];
    expect(check({ events: TEN, aggregate: aggregateOf(TEN), trustedHeads: genesis }).problems).toEqual([]);
    expect(
      check({ events: [], aggregate: { counterId: COUNTER, value: 0, version: 0 }, trustedHeads: genesis })
        .problems,
    ).toEqual([]);
    const other = [{ version: 0, hash: TEN[0]!.hash as string }];
    expect(kinds(check({ events: TEN, aggregate: aggregateOf(TEN), trustedHeads: other }))).toEqual([
      { kind: "digestMismatch", version: 0 },
    ]);
  });

  it("holds a digest's Merkle root to the tree of the events read: a root the ledger does not give is found", () => {
    // The root is computed here the RFC's way from the stored hashes, apart from the replay's accumulator.
    const rootOf = (version: number) =>
      toHex(treeHash(TEN.slice(0, version).map((event) => leafOfChainHash(event.hash as string))));
    const signed = [
      { version: 4, hash: TEN[3]!.hash as string, root: rootOf(4) },
      { version: 10, hash: TEN[9]!.hash as string, root: rootOf(10) },
    ];
    expect(check({ events: TEN, aggregate: aggregateOf(TEN), trustedHeads: signed }).problems).toEqual([]);
    // A digest whose chain hash holds but whose root was computed from a changed kept subtree.
    const changedTree = [{ ...signed[0]!, root: rootOf(3) }, signed[1]!];
    expect(kinds(check({ events: TEN, aggregate: aggregateOf(TEN), trustedHeads: changedTree }))).toEqual([
      { kind: "digestMismatch", version: 4 },
    ]);
  });

  it("finds the tail rolled back with the aggregate set back, against a digest of the longer ledger", () => {
    const rolledBack = TEN.slice(0, 7);
    expect(check({ events: rolledBack, aggregate: aggregateOf(rolledBack) }).problems).toEqual([]);
    const signed = [{ version: 9, hash: TEN[8]!.hash as string }];
    expect(
      kinds(check({ events: rolledBack, aggregate: aggregateOf(rolledBack), trustedHeads: signed })),
    ).toEqual([{ kind: "rolledBack", version: 8 }]);
  });
});
