// The retry policy of a command whose answer was lost: which failures are worth another attempt with the
// same Idempotency-Key, and how long to wait before it. Pure functions, so tests can pin every number.
// A retry must never use a new key: the key is what makes a second attempt safe (invariant I4).

import { equalJitterBackoffMs } from "../../common/backoff";
import type { Failure } from "./api";

/** How long to wait between tries. */
export interface BackoffPolicy {
  /** The first backoff window; each further retry doubles it, up to the cap. */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  /** A Retry-After longer than this is cut to it. */
  readonly retryAfterMsMax: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in all, the first included; past it the outcome is settled by asking for the event. */
  readonly attemptsMax: number;
}

/**
 * Six attempts over at most about 8 seconds (250 + 500 + 1000 + 2000 + 4000 ms of backoff, less jitter):
 * long enough to ride out a throttle or a Lambda cold start, short enough that a person still waits.
 */
export const COMMAND_RETRY_POLICY: RetryPolicy = {
  attemptsMax: 6,
  backoffBaseMs: 250,
  backoffCapMs: 4_000,
  retryAfterMsMax: 10_000,
};

/**
 * After a click's own attempts, an outcome still unknown (the API went away) is settled in the background
 * for as long as the page is open: one try after about a second, then ever more rarely, at most every 30
 * seconds — and at once when the API answers the number's polling again (use-command.ts).
 */
export const SETTLE_RETRY_POLICY: BackoffPolicy = {
  backoffBaseMs: 1_000,
  backoffCapMs: 30_000,
  retryAfterMsMax: 60_000,
};

/** Statuses that say "not done, come back": throttled, timed out, or a failure on the server's side. */
export function isRetryable(failure: Failure): boolean {
  if (failure.kind === "unreachable") return true;
  const status = failure.problem.status;
  return status === 408 || status === 429 || status >= 500;
}

/**
 * How long to wait after `failedAttempts` failed attempts (1 after the first) before the next one.
 * Exponential backoff with "equal jitter" — half the window fixed, half random — so that clients that
 * failed together do not retry together, yet no wait is ever close to zero. A Retry-After from the API
 * is a floor.
 */
export function retryDelayMs(
  policy: BackoffPolicy,
  failedAttempts: number,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) {
    throw new RangeError(`failedAttempts must be a positive integer, got ${failedAttempts}`);
  }
  const jitteredMs = equalJitterBackoffMs(
    failedAttempts - 1,
    policy.backoffBaseMs,
    policy.backoffCapMs,
    random,
  );
  const retryAfterMs = Math.min(policy.retryAfterMsMax, (retryAfterSeconds ?? 0) * 1000);
  return Math.max(jitteredMs, retryAfterMs);
}
