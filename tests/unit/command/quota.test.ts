// The pure part of per-user quotas (services/command/quota.ts): windows, keys, Retry-After, and how a pass
// splits commands by their users' room. The counting itself is the store's, and is proved against DynamoDB
// Local in tests/integration/quota.test.ts.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  planQuota,
  quotaApplies,
  quotaExpiresAtOf,
  quotaIdOf,
  quotaWindowOf,
  retryAfterSecondsOf,
  SpentCommands,
} from "../../../services/command/quota";
import { ANONYMOUS_SUB } from "../../../services/ledger/domain/event";

describe("quota windows", () => {
  it("are the epoch's whole minutes, and Retry-After counts the whole seconds to the window's end, at least 1", () => {
    const at = new Date("2026-12-02T11:05:10.250Z");
    const window = quotaWindowOf(at);
    expect(window).toEqual({
      startSeconds: Date.parse("2026-12-02T11:05:00Z") / 1000,
      endSeconds: Date.parse("2026-12-02T11:06:00Z") / 1000,
    });
    expect(retryAfterSecondsOf(window, at)).toBe(50);
    expect(retryAfterSecondsOf(window, new Date("2026-12-02T11:05:59.999Z"))).toBe(1);
    expect(retryAfterSecondsOf(window, new Date("2026-12-02T11:05:00.000Z"))).toBe(60);
    expect(quotaExpiresAtOf(window)).toBe(window.endSeconds + 3600);
  });

  it("hold every instant, and Retry-After always lands in the next window", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (milliseconds) => {
        const at = new Date(milliseconds);
        const window = quotaWindowOf(at);
        expect(window.startSeconds * 1000).toBeLessThanOrEqual(milliseconds);
        expect(milliseconds).toBeLessThan(window.endSeconds * 1000);
        const retryAfter = retryAfterSecondsOf(window, at);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(quotaWindowOf(new Date(milliseconds + retryAfter * 1000)).startSeconds).toBe(
          window.endSeconds,
        );
      }),
    );
  });

  it("key a user's window by the hash of the subject, never the subject itself", () => {
    const window = quotaWindowOf(new Date("2026-12-02T11:05:10Z"));
    const id = quotaIdOf("alice#1", window);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}#\d+$/);
    expect(id).not.toContain("alice");
    expect(quotaIdOf("alice", window)).not.toBe(quotaIdOf("bob", window));
    expect(quotaIdOf("alice", window)).not.toBe(
      quotaIdOf("alice", quotaWindowOf(new Date("2026-12-02T11:06:00Z"))),
    );
  });

  it("apply to every user, not to the anonymous actor of AUTH=off, and not when off", () => {
    expect(quotaApplies({ sub: "alice" }, 5)).toBe(true);
    expect(quotaApplies({ sub: ANONYMOUS_SUB }, 5)).toBe(false);
    expect(quotaApplies({ sub: "alice" }, undefined)).toBe(false);
  });
});

describe("planQuota", () => {
  const items = fc.array(
    fc.record({ user: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }), id: fc.nat() }),
    { maxLength: 30 },
  );
  const rooms = fc.record({
    a: fc.integer({ min: 0, max: 5 }),
    b: fc.integer({ min: 0, max: 5 }),
    c: fc.integer({ min: 0, max: 5 }),
  });

  it("admits each user's first `room` commands in arrival order, holds the rest, and spends all of a user without room", () => {
    fc.assert(
      fc.property(items, rooms, (commands, room) => {
        const plan = planQuota(
          commands,
          (item) => item.user,
          (user) => room[user as "a" | "b" | "c"],
        );
        // A partition of the commands, each part in arrival order.
        expect([...plan.admitted, ...plan.held, ...plan.spent].length).toBe(commands.length);
        for (const part of [plan.admitted, plan.held, plan.spent]) {
          expect(part).toEqual(commands.filter((item) => part.includes(item)));
        }
        for (const user of ["a", "b", "c"] as const) {
          const mine = commands.filter((item) => item.user === user);
          const admitted = plan.admitted.filter((item) => item.user === user);
          expect(admitted).toEqual(mine.slice(0, room[user]));
          if (room[user] === 0) expect(plan.spent.filter((item) => item.user === user)).toEqual(mine);
          else expect(plan.held.filter((item) => item.user === user)).toEqual(mine.slice(room[user]));
        }
        expect(plan.admitted.filter((item) => item.user === undefined)).toEqual(
          commands.filter((item) => item.user === undefined),
        );
      }),
    );
  });
});

describe("SpentCommands", () => {
  const minute = quotaWindowOf(new Date("2026-12-02T11:05:10Z"));
  const next = quotaWindowOf(new Date("2026-12-02T11:06:10Z"));

  it("keeps the highest count it was shown per user in the current window, and forgets a past window", () => {
    const spent = new SpentCommands();
    expect(spent.of(minute, "a")).toBe(0);
    spent.atLeast(minute, "a", 3);
    spent.atLeast(minute, "a", 2);
    expect(spent.of(minute, "a")).toBe(3);
    expect(spent.of(minute, "b")).toBe(0);
    expect(spent.of(next, "a")).toBe(0);
    spent.atLeast(next, "b", 1);
    expect(spent.of(minute, "a")).toBe(0);
    expect(spent.of(next, "b")).toBe(1);
  });
});
