// Exponential backoff, the one implementation every part uses: the committer between conflicting
// transactions, the local stream poller between failed deliveries and reads, the web UI between retries of
// a command. Pure and dependency-free (common/ imports nothing), so that the Lambdas, the local runtime, the
// tools and the browser bundle may all import it.

/**
 * Beyond this exponent 2^attempt is no longer a finite number; the window is at the cap long before it for
 * any base that is not vanishingly small, and clamping keeps `0 · 2^attempt` a 0 rather than NaN.
 */
const EXPONENT_MAX = 1_023;

/**
 * The deterministic exponential window after `attempt` failures (0 for the first wait):
 * min(cap, base · 2^attempt) milliseconds. Throws a RangeError for an attempt that is not a non-negative
 * integer, or a base or cap that is not a finite non-negative number: a bug in the caller, not a wait.
 */
export function exponentialBackoffMs(attempt: number, baseMs: number, capMs: number): number {
  if (!Number.isSafeInteger(attempt) || attempt < 0) {
    throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  }
  for (const [name, value] of [
    ["baseMs", baseMs],
    ["capMs", capMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${name} must be a finite non-negative number, got ${value}`);
    }
  }
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt, EXPONENT_MAX));
}

/**
 * AWS "full jitter": uniform over the whole exponential window, floor(random() · min(cap, base · 2^attempt))
 * whole milliseconds, so that contenders that failed together spread over the window instead of retrying
 * together. `random` is uniform in [0, 1) (Math.random, or a seeded source in tests); the result is then in
 * [0, window).
 */
export function fullJitterBackoffMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number,
): number {
  return Math.floor(random() * exponentialBackoffMs(attempt, baseMs, capMs));
}

/**
 * "Equal jitter": half the window fixed, half random, floor(window/2 + random() · window/2) whole
 * milliseconds, for a client that should spread its retries yet never retry at once.
 */
export function equalJitterBackoffMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number,
): number {
  const windowMs = exponentialBackoffMs(attempt, baseMs, capMs);
  return Math.floor(windowMs / 2 + random() * (windowMs / 2));
}
