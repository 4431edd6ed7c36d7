// Property (fast-check) of the pure fold (services/ledger/domain/verification.ts): folding a ledger in
// segments — the first k events, then the rest from the state the first part reached, as the API's verify goes
// on from its checkpoint — gives the same report as folding it at once. Ledgers are arbitrary actions decided by
// the real domain, each fully projected (every audit entry present), and optionally corrupted after k: the
// violations found, and their versions, are the same either way.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auditEntryOf } from "../../services/ledger/domain/audit";
import type { Action, Bounds } from "../../services/ledger/domain/decider";
import type { LedgerEvent } from "../../services/ledger/domain/event";
import {
  LedgerCheck,
  type StartState,
  type VerificationReport,
} from "../../services/ledger/domain/verification";
import { ledgerOf } from "../support/ledger-fixtures";

type Item = Record<string, unknown>;

const COUNTER = "segmented";
const BOUNDS: Bounds = { min: 0, max: 20 };
const NOW_MS = Date.parse("2026-06-01T00:00:00.000Z");
const CONTEXT = { counterId: COUNTER, bounds: BOUNDS, nowMs: NOW_MS, lagGraceMs: 30_000 };

/** Feeds the check the items after `after`, each after its audit entry, then the aggregate; takes the report. */
function fold(
  items: readonly Item[],
  audit: readonly LedgerEvent[],
  aggregate: Item,
  projected: Item | undefined,
  start?: StartState,
): VerificationReport {
  const after = start?.version ?? 0;
  const check = new LedgerCheck(CONTEXT, projected, start);
  for (const item of items) {
    if ((item.version as number) <= after) continue;
    for (const entry of audit) {
      if (entry.version === item.version) check.auditEntry(entry.version, auditEntryOf(entry));
    }
    check.event(item);
  }
  check.aggregate(aggregate);
  check.endLedger();
  return check.report(0);
}

/** The state after version k of a sound prefix, as the first segment's fold reports it. */
function stateAfter(
  items: readonly Item[],
  audit: readonly LedgerEvent[],
  k: number,
): StartState | undefined {
  if (k === 0) return undefined;
  const prefix = items.filter((item) => (item.version as number) <= k);
  const last = prefix.at(-1)!;
  const report = fold(
    prefix,
    audit,
    { value: last.valueAfter, version: k, lastEventId: last.eventId },
    undefined,
  );
  expect(report.ok).toBe(true);
  return {
    version: k,
    value: BOUNDS.min + report.ledgerSum,
    ledgerSum: report.ledgerSum,
    eventId: String(last.eventId),
    hash: String(last.hash),
  };
}

const CORRUPTIONS = ["none", "delta", "valueAfter", "shift", "drop", "duplicate"] as const;

/** The ledger items with one corruption at `version` (which lies after the split). */
function corrupted(
  events: readonly LedgerEvent[],
  kind: (typeof CORRUPTIONS)[number],
  version: number,
): Item[] {
  const items: Item[] = events.map((event) => ({ ...event }));
  const index = version - 1;
  const target = items[index]!;
  if (kind === "delta") items[index] = { ...target, delta: (target.delta as number) * -1 };
  if (kind === "valueAfter") items[index] = { ...target, valueAfter: (target.valueAfter as number) + 7 };
  if (kind === "shift") {
    items[index] = {
      ...target,
      valueBefore: (target.valueBefore as number) + 1,
      valueAfter: (target.valueAfter as number) + 1,
    };
  }
  if (kind === "drop") items.splice(index, 1);
  if (kind === "duplicate") items.splice(index + 1, 0, { ...target, eventId: `${COUNTER}#twin` });
  return items;
}

describe("folding in segments equals folding at once", () => {
  it("for arbitrary ledgers, split points and corruptions after the split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<Action>("increment", "increment", "decrement"), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...CORRUPTIONS),
        (actions, splitSeed, corruptionSeed, kind) => {
          const { events, state } = ledgerOf(COUNTER, actions, BOUNDS, NOW_MS - 3_600_000);
          fc.pre(events.length > 0);
          const k = splitSeed % events.length;
          const version = k + 1 + (corruptionSeed % (events.length - k));
          const items = corrupted(events, kind, version);
          const last = events.at(-1)!;
          const aggregate = { value: state.value, version: state.version, lastEventId: last.eventId };
          const projected = { value: state.value, version: state.version };
          const start = stateAfter(items, events, k);
          const atOnce = fold(items, events, aggregate, projected);
          const inSegments = fold(items, events, aggregate, projected, start);
          expect({ ...inSegments, events: inSegments.events + k }).toEqual(atOnce);
          expect(atOnce.ok).toBe(kind === "none");
        },
      ),
      { numRuns: 300 },
    );
  });
});
