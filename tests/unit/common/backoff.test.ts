// The one backoff of the repository (common/backoff.ts): the exponential window pinned number by number,
// and properties over every attempt, base, cap and random draw.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { equalJitterBackoffMs, exponentialBackoffMs, fullJitterBackoffMs } from "../../../common/backoff";

/** Uniform draws in [0, 1), as Math.random gives them. */
const draw = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const attempt = fc.nat({ max: 2_000 });
/** Whole milliseconds, as every caller passes them. */
const milliseconds = fc.nat({ max: 10_000_000 });

describe("exponentialBackoffMs", () => {
  it("doubles from the base after each failure, up to the cap (the poller's 100 ms … 5 s)", () => {
    const windows = [0, 1, 2, 3, 4, 5, 6, 7].map((failures) => exponentialBackoffMs(failures, 100, 5_000));
    expect(windows).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  });

  it("each window is the previous one doubled, never above the cap", () => {
    fc.assert(
      fc.property(attempt, milliseconds, milliseconds, (failures, baseMs, capMs) => {
        const next = exponentialBackoffMs(failures + 1, baseMs, capMs);
        expect(next).toBe(Math.min(capMs, 2 * exponentialBackoffMs(failures, baseMs, capMs)));
        expect(next).toBeLessThanOrEqual(capMs);
      }),
    );
  });

  it("stays at the cap for any number of failures, even a zero base (never Infinity or NaN)", () => {
    expect(exponentialBackoffMs(Number.MAX_SAFE_INTEGER, 100, 5_000)).toBe(5_000);
    expect(exponentialBackoffMs(1_024, 1e-300, 5_000)).toBe(5_000);
    expect(exponentialBackoffMs(Number.MAX_SAFE_INTEGER, 0, 5_000)).toBe(0);
    expect(exponentialBackoffMs(0, 100, 0)).toBe(0);
  });

  it("refuses a count of failures or a window that no caller should pass", () => {
    for (const failures of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => exponentialBackoffMs(failures, 100, 5_000)).toThrow(RangeError);
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => exponentialBackoffMs(0, bad, 5_000)).toThrow(RangeError);
      expect(() => exponentialBackoffMs(0, 100, bad)).toThrow(RangeError);
    }
  });
});

describe("fullJitterBackoffMs", () => {
  it("spans the whole window: 0 for the lowest draw, the window less 1 ms for the highest", () => {
    expect(fullJitterBackoffMs(3, 10, 1_000, () => 0)).toBe(0);
    expect(fullJitterBackoffMs(3, 10, 1_000, () => 0.5)).toBe(40);
    expect(fullJitterBackoffMs(3, 10, 1_000, () => 1 - Number.EPSILON)).toBe(79);
    expect(fullJitterBackoffMs(9, 10, 1_000, () => 1 - Number.EPSILON)).toBe(999);
  });

  it("is whole milliseconds in [0, window) for every draw in [0, 1)", () => {
    fc.assert(
      fc.property(attempt, milliseconds, milliseconds, draw, (failures, baseMs, capMs, random) => {
        const windowMs = exponentialBackoffMs(failures, baseMs, capMs);
        const waitMs = fullJitterBackoffMs(failures, baseMs, capMs, () => random);
        expect(Number.isInteger(waitMs)).toBe(true);
        expect(waitMs).toBeGreaterThanOrEqual(0);
        if (windowMs >= 1) expect(waitMs).toBeLessThan(windowMs);
        else expect(waitMs).toBe(0);
      }),
    );
  });

  it("draws once per wait, so a seeded source gives a reproducible sequence", () => {
    let draws = 0;
    fullJitterBackoffMs(2, 10, 1_000, () => {
      draws++;
      return 0.25;
    });
    expect(draws).toBe(1);
  });
});

describe("equalJitterBackoffMs", () => {
  it("waits between half the window and the whole window (the web UI's 250 ms … 4 s)", () => {
    expect(equalJitterBackoffMs(0, 250, 4_000, () => 0)).toBe(125);
    expect(equalJitterBackoffMs(2, 250, 4_000, () => 0)).toBe(500);
    expect(equalJitterBackoffMs(2, 250, 4_000, () => 0.5)).toBe(750);
    expect(equalJitterBackoffMs(6, 250, 4_000, () => 1)).toBe(4_000);
  });

  it("is whole milliseconds, never below half the window nor above it, for every draw", () => {
    fc.assert(
      fc.property(attempt, milliseconds, milliseconds, draw, (failures, baseMs, capMs, random) => {
        const windowMs = exponentialBackoffMs(failures, baseMs, capMs);
        const waitMs = equalJitterBackoffMs(failures, baseMs, capMs, () => random);
        expect(Number.isInteger(waitMs)).toBe(true);
        expect(waitMs).toBeGreaterThanOrEqual(Math.floor(windowMs / 2));
        expect(waitMs).toBeLessThanOrEqual(windowMs);
      }),
    );
  });
});
