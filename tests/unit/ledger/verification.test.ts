// The pure check behind verification (services/ledger/domain/verification.ts), without DynamoDB: ledgers,
// audit trails and aggregates are plain objects made here by hand arithmetic (not by the decider), and the
// expected reports are written out or computed independently. By example, then by fast-check property.

import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Bounds } from "../../../services/ledger/domain/decider";
import { VERIFY_PROBLEMS_LISTED_MAX } from "../../../services/ledger/domain/limits";
import {
  auditJoinVersionOf,
  LedgerCheck,
  type VerificationReport,
} from "../../../services/ledger/domain/verification";

type Item = Record<string, unknown>;

const COUNTER = "default";
const NOW_MS = Date.parse("2026-03-01T12:00:00.000Z");
const LAG_GRACE_MS = 30_000;
/** Commit times an hour before NOW_MS: old enough that a missing audit entry is a violation. */
const AN_HOUR_AGO_MS = NOW_MS - 3_600_000;

/**
 * Who made the event at each index, in turn: nobody known (a schema version 1 event, written before actors
 * were recorded), the anonymous actor of AUTH=off, and two users. Their ledger keys are written out here by
 * the rule of docs/architecture.md, not by the code under test.
 */
const ACTORS = [
  null,
  { sub: "anonymous", name: "anonymous" },
  { sub: "alice-sub", name: "alice" },
  { sub: "bob-sub", name: "bob" },
] as const;

function eventIdByHand(key: string, actor: (typeof ACTORS)[number]): string {
  if (actor === null || actor.sub === "anonymous") return `${COUNTER}#${key}`;
  return `${COUNTER}#${createHash("sha256").update(actor.sub).digest("base64url")}#${key}`;
}

/** A ledger made by hand: each action applies when it stays in bounds, from the lower bound, version 0. */
function ledger(actions: readonly ("+" | "-")[], bounds: Bounds, firstMs = AN_HOUR_AGO_MS): Item[] {
  const events: Item[] = [];
  let value = bounds.min;
  for (const [index, symbol] of actions.entries()) {
    const delta = symbol === "+" ? 1 : -1;
    if (value + delta < bounds.min || value + delta > bounds.max) continue;
    const version = events.length + 1;
    const actor = ACTORS[index % ACTORS.length]!;
    events.push({
      eventId: eventIdByHand(`key-${index}`, actor),
      counterId: COUNTER,
      idempotencyKey: `key-${index}`,
      version,
      action: symbol === "+" ? "increment" : "decrement",
      delta,
      valueBefore: value,
      valueAfter: value + delta,
      at: new Date(firstMs + index * 1_000).toISOString(),
      requestFingerprint: `fingerprint-${symbol}`,
      requestId: `request-${index}`,
      ...(actor === null ? { schemaVersion: 1 } : { actor, schemaVersion: 2 }),
    });
    value += delta;
  }
  return events;
}

interface Stored {
  readonly events: readonly Item[];
  readonly audit?: readonly Item[];
  readonly aggregate?: Item;
  readonly projected?: Item;
  readonly bounds: Bounds;
}

/** A sound store for a ledger: the aggregate and the projected state at its end, an audit entry per event. */
function soundStore(
  events: readonly Item[],
  bounds: Bounds,
): Stored & { audit: Item[]; aggregate: Item; projected: Item | undefined } {
  const last = events.at(-1);
  const value = last === undefined ? bounds.min : (last.valueAfter as number);
  const version = last === undefined ? 0 : (last.version as number);
  return {
    events,
    bounds,
    audit: events.map((event) => ({ ...event, entry: event.version })),
    aggregate: { counterId: COUNTER, value, version, lastEventId: last?.eventId ?? null },
    projected:
      last === undefined
        ? undefined
        : { counterId: COUNTER, entry: 0, value, version, at: last.at, eventId: last.eventId },
  };
}

/** Drives the check the way the storage loop does: audit entries up to each item's version, then the item. */
function check(stored: Stored): VerificationReport {
  const ledgerCheck = new LedgerCheck(
    { counterId: COUNTER, bounds: stored.bounds, nowMs: NOW_MS, lagGraceMs: LAG_GRACE_MS },
    stored.projected,
  );
  const audit = [...(stored.audit ?? [])];
  for (const item of stored.events) {
    const through = auditJoinVersionOf(item);
    while (through !== undefined && audit.length > 0 && (audit[0]!.entry as number) <= through) {
      const entry = audit.shift()!;
      ledgerCheck.auditEntry(entry.entry as number, entry);
    }
    ledgerCheck.event(item);
  }
  ledgerCheck.aggregate(stored.aggregate);
  ledgerCheck.endLedger();
  for (const entry of audit) ledgerCheck.auditEntry(entry.entry as number, entry);
  return ledgerCheck.report(0);
}

function versionsOf(report: VerificationReport, kind: string): (number | undefined)[] {
  return report.problems.filter((problem) => problem.kind === kind).map((problem) => problem.version);
}

const BOUNDS: Bounds = { min: 0, max: 1_000_000_000 };
/** + + + - + + repeated to 12 events: the sum of the deltas is 8. */
const TWELVE = ledger(
  Array.from({ length: 12 }, (_, index) => (index % 6 === 3 ? "-" : "+")),
  BOUNDS,
);

describe("the verification check, by example", () => {
  it("proves a sound ledger, with its totals", () => {
    expect(check(soundStore(TWELVE, BOUNDS))).toEqual({
      ok: true,
      events: 12,
      ledgerSum: 8,
      aggregate: { value: 8, version: 12 },
      readModel: { value: 8, version: 12 },
      lag: { versions: 0, auditEntries: 0 },
      problems: [],
      problemsOmitted: 0,
      durationMs: 0,
    });
  });

  it("starts a counter at its lower bound: [5, 8] proves 5 + the deltas, and an empty ledger is 5", () => {
    const bounds = { min: 5, max: 8 };
    const events = ledger(["-", "+", "+", "+", "+", "-"], bounds);
    expect(events.map((event) => event.valueAfter)).toEqual([6, 7, 8, 7]);
    expect(check(soundStore(events, bounds))).toMatchObject({
      ok: true,
      ledgerSum: 2,
      aggregate: { value: 7, version: 4 },
      readModel: { value: 7, version: 4 },
    });
    expect(check({ events: [], bounds })).toMatchObject({
      ok: true,
      aggregate: { value: 5, version: 0 },
      readModel: { value: 5, version: 0 },
    });
    // The same events checked as if the counter had started at 0: the first event does not follow.
    const report = check({ ...soundStore(events, bounds), bounds: { min: 0, max: 8 } });
    expect(versionsOf(report, "chainBroken")).toEqual([1]);
    expect(versionsOf(report, "aggregateValue")).toEqual([4]);
  });

  it("names a tampered delta at its version, and the aggregate it no longer sums to", () => {
    const events = TWELVE.map((event) => (event.version === 5 ? { ...event, delta: -1 } : event));
    const report = check({ ...soundStore(TWELVE, BOUNDS), events });
    expect(report.ok).toBe(false);
    expect(versionsOf(report, "deltaInvalid")).toEqual([5]);
    expect(versionsOf(report, "valueAfterWrong")).toEqual([5]);
    expect(versionsOf(report, "auditAltered")).toEqual([5]);
    expect(versionsOf(report, "aggregateValue")).toEqual([12]);
    expect(report.ledgerSum).toBe(6);
  });

  it("names a gap once, at its first missing version, and the audit entry the ledger lacks", () => {
    const events = TWELVE.filter((event) => event.version !== 4 && event.version !== 5);
    const report = check({ ...soundStore(TWELVE, BOUNDS), events });
    expect(report.problems.filter((problem) => problem.kind === "versionGap")).toEqual([
      { kind: "versionGap", version: 4, detail: "Version 4–5 is missing from the ledger." },
    ]);
    expect(versionsOf(report, "auditExtra")).toEqual([4, 5]);
    expect(versionsOf(report, "chainBroken")).toEqual([]);
    expect(report.events).toBe(10);
  });

  it("names a duplicated version and the aggregate's count that no longer matches", () => {
    const twin = { ...TWELVE[5]!, eventId: `${COUNTER}#twin`, idempotencyKey: "twin" };
    const events = [...TWELVE.slice(0, 6), twin, ...TWELVE.slice(6)];
    const report = check({ ...soundStore(TWELVE, BOUNDS), events });
    expect(versionsOf(report, "duplicateVersion")).toEqual([6]);
    expect(versionsOf(report, "aggregateVersion")).toEqual([12]);
  });

  it("names a broken chain at both ends", () => {
    const events = TWELVE.map((event) =>
      event.version === 6
        ? {
            ...event,
            valueBefore: (event.valueBefore as number) + 1,
            valueAfter: (event.valueAfter as number) + 1,
          }
        : event,
    );
    const report = check({ ...soundStore(TWELVE, BOUNDS), events });
    expect(versionsOf(report, "chainBroken")).toEqual([6, 7]);
    expect(versionsOf(report, "valueAfterWrong")).toEqual([]);
  });

  it("names values outside the bounds it is given", () => {
    const report = check({ ...soundStore(TWELVE, BOUNDS), bounds: { min: 0, max: 5 } });
    expect(versionsOf(report, "outOfBounds")).toEqual([8, 9, 10, 11, 12]);
  });

  it("tells a projector that is behind (lag) from an audit entry that is missing (a violation)", () => {
    const sound = soundStore(TWELVE, BOUNDS);
    const behind = check({
      ...sound,
      audit: sound.audit.slice(0, 7),
      projected: { ...sound.projected, value: 5, version: 7 },
    });
    expect(behind).toMatchObject({ ok: true, lag: { versions: 5, auditEntries: 5 } });
    const missing = check({ ...sound, audit: sound.audit.filter((entry) => entry.entry !== 3) });
    expect(missing.problems).toEqual([
      { kind: "auditMissing", version: 3, detail: "Version 3 is projected but has no audit entry." },
    ]);
    // Within the grace period after its commit, a missing entry below the projected version is still lag.
    const recent = ledger(["+", "+", "+"], BOUNDS, NOW_MS - 1_000);
    const young = soundStore(recent, BOUNDS);
    expect(check({ ...young, audit: young.audit.slice(1) })).toMatchObject({
      ok: true,
      lag: { auditEntries: 1 },
    });
  });

  it("names an aggregate or a projected state that is unreadable or ahead, and another last event", () => {
    const sound = soundStore(TWELVE, BOUNDS);
    expect(
      versionsOf(
        check({ ...sound, aggregate: { ...sound.aggregate, value: "eight" } }),
        "aggregateMalformed",
      ),
    ).toEqual([undefined]);
    expect(
      versionsOf(check({ ...sound, projected: { ...sound.projected, version: 13 } }), "projectedAhead"),
    ).toEqual([13]);
    expect(
      versionsOf(check({ ...sound, projected: { ...sound.projected, value: 9 } }), "projectedValue"),
    ).toEqual([12]);
    expect(versionsOf(check({ ...sound, projected: { version: "x" } }), "projectedStateMalformed")).toEqual([
      undefined,
    ]);
    expect(
      versionsOf(
        check({ ...sound, aggregate: { ...sound.aggregate, lastEventId: "other" } }),
        "aggregateLastEvent",
      ),
    ).toEqual([12]);
  });

  it("reports an unreadable event once, at its version, without misreading its neighbours", () => {
    const events = TWELVE.map((event) =>
      event.version === 5 ? { ...event, delta: "one", at: "yesterday" } : event,
    );
    const report = check({ ...soundStore(TWELVE, BOUNDS), events });
    expect(versionsOf(report, "malformedEvent")).toEqual([5]);
    expect(report.problems.map((problem) => problem.kind).sort()).toEqual([
      "aggregateValue",
      "malformedEvent",
    ]);
    expect(report.events).toBe(12);
  });

  it("reads events of schema version 1 (no actor) and 2 alike, each under its own form of key", () => {
    expect(TWELVE.map((event) => event.schemaVersion)).toEqual([1, 2, 2, 2, 1, 2, 2, 2, 1, 2, 2, 2]);
    expect(check(soundStore(TWELVE, BOUNDS)).problems).toEqual([]);
  });

  it("I5: names an audit entry whose actor is not its event's, and one that gives a version 1 event an actor", () => {
    const sound = soundStore(TWELVE, BOUNDS);
    const mallory = { sub: "mallory-sub", name: "mallory" };
    const audit = sound.audit.map((entry) => {
      if (entry.version === 3) return { ...entry, actor: { ...(entry.actor as object), name: "mallory" } };
      if (entry.version === 7) return { ...entry, actor: { ...(entry.actor as object), sub: mallory.sub } };
      if (entry.version === 9) return { ...entry, actor: mallory };
      return entry;
    });
    const report = check({ ...sound, audit });
    expect(versionsOf(report, "auditAltered")).toEqual([3, 7, 9]);
    expect(
      report.problems.every((problem) => problem.detail.endsWith("differs from the ledger in actor.")),
    ).toBe(true);
    expect(report.problems).toHaveLength(3);
  });

  it("names a ledger event whose actor was changed after it was written: it is not under its key any more", () => {
    const sound = soundStore(TWELVE, BOUNDS);
    const events = TWELVE.map((event) =>
      event.version === 4 ? { ...event, actor: { sub: "mallory-sub", name: "alice" } } : event,
    );
    const report = check({ ...sound, events });
    expect(versionsOf(report, "malformedEvent")).toEqual([4]);
    expect(report.problems.find((problem) => problem.kind === "malformedEvent")?.detail).toBe(
      "The event is not stored under its key and actor.",
    );
    // The audit entry still holds the actor the event was written with.
    expect(versionsOf(report, "auditAltered")).toEqual([4]);
  });

  it("lists at most VERIFY_PROBLEMS_LISTED_MAX violations and counts the rest", () => {
    const many = ledger(
      Array.from({ length: VERIFY_PROBLEMS_LISTED_MAX + 50 }, () => "+"),
      BOUNDS,
    );
    const report = check({
      ...soundStore(many, BOUNDS),
      audit: [],
      projected: undefined,
      bounds: { min: 0, max: 0 },
    });
    expect(report.problems).toHaveLength(VERIFY_PROBLEMS_LISTED_MAX);
    expect(report.problemsOmitted).toBe(50);
    expect(report.ok).toBe(false);
  });
});

const actions = fc.array(fc.constantFrom<"+" | "-">("+", "+", "-"), { minLength: 1, maxLength: 60 });
const bounds = fc
  .tuple(fc.integer({ min: 0, max: 1_000_000_000 - 1 }), fc.integer({ min: 1, max: 6 }))
  .map(([min, width]): Bounds => ({ min, max: Math.min(1_000_000_000, min + width) }));

describe("the verification check, by property", () => {
  it("proves every sound ledger, with totals computed by plain arithmetic", () => {
    fc.assert(
      fc.property(actions, bounds, (steps, range) => {
        const events = ledger(steps, range);
        const sum = events.reduce((total, event) => total + (event.delta as number), 0);
        const report = check(soundStore(events, range));
        expect(report.problems).toEqual([]);
        expect(report).toMatchObject({
          ok: true,
          events: events.length,
          ledgerSum: sum,
          aggregate: { value: range.min + sum, version: events.length },
        });
      }),
    );
  });

  it("names any single tampering at the version where it happens", () => {
    const tampering = fc.constantFrom("delta", "valueAfter", "delete", "shift", "auditActor");
    fc.assert(
      fc.property(actions, bounds, tampering, fc.nat(), (steps, range, kind, pick) => {
        const sound = soundStore(ledger(steps, range), range);
        fc.pre(sound.events.length > 0);
        const version = (pick % sound.events.length) + 1;
        const audit = sound.audit.map((entry) =>
          kind === "auditActor" && entry.version === version
            ? { ...entry, actor: { sub: "mallory-sub", name: "mallory" } }
            : entry,
        );
        const events = sound.events.flatMap((event): Item[] => {
          if (event.version !== version || kind === "auditActor") return [event];
          const before = event.valueBefore as number;
          const after = event.valueAfter as number;
          if (kind === "delete") return [];
          if (kind === "delta") return [{ ...event, delta: -(event.delta as number) }];
          if (kind === "valueAfter") return [{ ...event, valueAfter: after + 2 }];
          return [{ ...event, valueBefore: before + 1, valueAfter: after + 1 }];
        });
        const expectedKind = {
          delta: "deltaInvalid",
          valueAfter: "valueAfterWrong",
          delete: "versionGap",
          shift: "chainBroken",
          auditActor: "auditAltered",
        }[kind];
        // Deleting the last event leaves no gap to see: the aggregate is then ahead of the ledger.
        const lastDeleted = kind === "delete" && version === sound.events.length;
        const report = check({ ...sound, events, audit });
        expect(report.ok).toBe(false);
        expect(versionsOf(report, lastDeleted ? "aggregateVersion" : expectedKind)).toContain(version);
      }),
    );
  });
});
