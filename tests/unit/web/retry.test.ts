// The retry policy of a command, pinned number by number: which failures are retried, and how long the
// UI waits before each retry.

import { describe, expect, it } from "vitest";
import type { Failure } from "../../../web/src/api";
import { COMMAND_RETRY_POLICY, SETTLE_RETRY_POLICY, isRetryable, retryDelayMs } from "../../../web/src/retry";

function problemWith(status: number): Failure {
  return {
    kind: "problem",
    problem: { type: "about:blank", title: "", status, detail: "" },
    retryAfterSeconds: null,
  };
}

describe("retryDelayMs", () => {
  it("doubles the backoff window after each failure, up to the cap", () => {
    const highest = () => 1;
    const windows = [1, 2, 3, 4, 5, 6, 7].map((failed) =>
      retryDelayMs(COMMAND_RETRY_POLICY, failed, null, highest),
    );
    expect(windows).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000]);
  });

  it("waits at least half the window however the jitter falls", () => {
    expect(retryDelayMs(COMMAND_RETRY_POLICY, 1, null, () => 0)).toBe(125);
    expect(retryDelayMs(COMMAND_RETRY_POLICY, 3, null, () => 0)).toBe(500);
    expect(retryDelayMs(COMMAND_RETRY_POLICY, 3, null, () => 0.5)).toBe(750);
  });

  it("takes Retry-After as a floor, cut to the policy's maximum", () => {
    expect(retryDelayMs(COMMAND_RETRY_POLICY, 1, 2, () => 1)).toBe(2000);
    expect(retryDelayMs(COMMAND_RETRY_POLICY, 5, 1, () => 1)).toBe(4000);
    expect(retryDelayMs(COMMAND_RETRY_POLICY, 1, 3600, () => 1)).toBe(COMMAND_RETRY_POLICY.retryAfterMsMax);
  });

  it("keeps a whole click's retries within about eight seconds", () => {
    let totalMs = 0;
    for (let failed = 1; failed < COMMAND_RETRY_POLICY.attemptsMax; failed += 1) {
      totalMs += retryDelayMs(COMMAND_RETRY_POLICY, failed, null, () => 1);
    }
    expect(totalMs).toBe(7750);
  });

  it("settles an unknown outcome after about a second, then ever more rarely, at most every 30 seconds", () => {
    const windows = [1, 2, 3, 4, 5, 6, 7, 100].map((failed) =>
      retryDelayMs(SETTLE_RETRY_POLICY, failed, null, () => 1),
    );
    expect(windows).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(retryDelayMs(SETTLE_RETRY_POLICY, 1, 45, () => 1)).toBe(45_000);
  });

  it("refuses a count of failures that is not a positive integer (a bug in the caller)", () => {
    expect(() => retryDelayMs(COMMAND_RETRY_POLICY, 0, null)).toThrow(RangeError);
    expect(() => retryDelayMs(COMMAND_RETRY_POLICY, 1.5, null)).toThrow(RangeError);
  });
});

describe("isRetryable", () => {
  it("retries what the API did not answer, throttling, timeouts and server-side failures", () => {
    expect(isRetryable({ kind: "unreachable", reason: "Failed to fetch" })).toBe(true);
    for (const status of [408, 429, 500, 502, 503, 504]) expect(isRetryable(problemWith(status))).toBe(true);
  });

  it("never retries a refusal: the same request would be refused again", () => {
    for (const status of [400, 404, 409, 413, 415, 422]) expect(isRetryable(problemWith(status))).toBe(false);
  });
});
