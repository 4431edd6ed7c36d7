// The replay's fast reading of a ledger item (services/ledger/domain/event-read.ts) and its fast audit comparison
// (auditDifferences, services/ledger/domain/audit.ts) against the slow paths they shortcut: on sound events made
// by the real domain and on the same events tampered at random (a field set to any value, removed or added, the
// actor changed, the time nudged), the fast reading answers exactly what the zod schema answers — success, data,
// and the issues of a refusal — and the audit comparison names exactly the fields that the comparison written out
// here (every field by isDeepStrictEqual) names. So a malformed or tampered event is reported as before.

import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auditDifferences, auditEntryOf } from "../../../services/ledger/domain/audit";
import type { Action } from "../../../services/ledger/domain/decider";
import { ledgerEventSchema, type LedgerEvent } from "../../../services/ledger/domain/event";
import { readLedgerEvent } from "../../../services/ledger/domain/event-read";
import { ledgerOf } from "../../support/ledger-fixtures";

type Item = Record<string, unknown>;

const BOUNDS = { min: 0, max: 4 };
const ACTIONS: Action[] = ["increment", "increment", "decrement", "increment", "decrement", "increment"];
const EVENTS: readonly LedgerEvent[] = ledgerOf("fast-read", ACTIONS, BOUNDS).events;
const FIELDS = Object.keys(EVENTS[0]!);

/** Values a tampered field may take: near misses of every field's rule, and anything at all. */
const fieldValue = fc.oneof(
  fc.anything(),
  fc.integer(),
  fc.constantFrom(0, -0, 1, -1, 2, 1.5, Number.NaN, 2 ** 53, -(2 ** 53), 1e9, -1e9, "", "1", null),
  fc.constantFrom("increment", "decrement", "reset", "2026-01-01T00:00:00.000Z", "2026-02-30T00:00:00Z"),
  fc.constantFrom("2026-01-01T00:00:00.000+01:00", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00.1234Z"),
  fc.stringMatching(/^[0-9a-fA-F]{63,65}$/),
  fc.record({ sub: fc.string(), name: fc.string() }),
  fc.record({ sub: fc.string(), name: fc.string(), extra: fc.anything() }),
  fc.constantFrom({ sub: "user", name: "a\u0007" }, { sub: "a\u0000", name: "x" }, ["sub", "name"]),
  fc.constantFrom(1, 2, 3, 4, "3"),
);

/** One tampering of an item: a field set to a value, a field removed, or a field added. */
const tampering = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), field: fc.constantFrom(...FIELDS), value: fieldValue }),
  fc.record({ kind: fc.constant("remove" as const), field: fc.constantFrom(...FIELDS) }),
  fc.record({
    kind: fc.constant("add" as const),
    field: fc.oneof(fc.string(), fc.constant("entry")),
    value: fieldValue,
  }),
);

type Tampering = typeof tampering extends fc.Arbitrary<infer T> ? T : never;

function tampered(event: LedgerEvent, changes: readonly Tampering[]): Item {
  const item: Item = structuredClone(event);
  for (const change of changes) {
    if (change.kind === "remove") delete item[change.field];
    else Object.defineProperty(item, change.field, { value: change.value, enumerable: true, writable: true });
  }
  return item;
}

const tamperedItem = fc
  .tuple(fc.constantFrom(...EVENTS), fc.array(tampering, { maxLength: 3 }))
  .map(([event, changes]) => tampered(event, changes));

/** The audit comparison written out: every field of either side, by isDeepStrictEqual, sorted. */
function differencesByHand(stored: Item, event: LedgerEvent): string[] {
  const expected: Item = { ...event, entry: event.version };
  const names = new Set([...Object.keys(expected), ...Object.keys(stored)]);
  return [...names].filter((name) => !isDeepStrictEqual(stored[name], expected[name])).sort();
}

describe("the replay's reading of a ledger item", () => {
  it("accepts every sound event with the data the schema gives", () => {
    for (const event of EVENTS) {
      const read = readLedgerEvent(structuredClone(event));
      expect(read.success).toBe(true);
      expect(read.data).toStrictEqual(ledgerEventSchema.parse(event));
    }
  });

  it("answers what the schema answers for any tampered item: success, data and issues", () => {
    fc.assert(
      fc.property(tamperedItem, (item) => {
        const fast = readLedgerEvent(item);
        const slow = ledgerEventSchema.safeParse(item);
        expect(fast.success).toBe(slow.success);
        expect(fast.data).toStrictEqual(slow.data);
        expect(fast.error?.issues).toStrictEqual(slow.error?.issues);
      }),
      { numRuns: 3_000 },
    );
  });

  it("leaves older schema versions to the schema, which still reads them", () => {
    const { hash: _hash, previousHash: _previous, ...unchained } = EVENTS[1] as Item;
    const v2 = { ...unchained, schemaVersion: 2 };
    expect(readLedgerEvent(v2)).toStrictEqual(ledgerEventSchema.safeParse(v2));
    expect(readLedgerEvent(v2).success).toBe(true);
  });
});

describe("the audit comparison", () => {
  it("finds no difference between a sound entry and its event", () => {
    for (const event of EVENTS) expect(auditDifferences(auditEntryOf(event), event)).toStrictEqual([]);
  });

  it("names exactly the fields the written-out comparison names, for any tampered entry", () => {
    const entry = fc
      .tuple(fc.constantFrom(...EVENTS), fc.array(tampering, { maxLength: 3 }))
      .map(([event, changes]) => ({ event, stored: tampered(auditEntryOf(event), changes) }));
    fc.assert(
      fc.property(entry, ({ event, stored }) => {
        expect(auditDifferences(stored, event)).toStrictEqual(differencesByHand(stored, event));
      }),
      { numRuns: 3_000 },
    );
  });
});
