// Stage throttling of the local gateway, equivalent to API Gateway's: a token bucket that holds at most `burst`
// tokens and refills at `ratePerSecond`; each API request takes one, and a request that finds the bucket empty
// is answered 429 with Retry-After (the gateway does that, this file only decides). It must never queue or
// delay a request, and never throttle when it is turned off (THROTTLE_RATE_PER_SECOND=0 or off).

export interface ThrottleSettings {
  /** Tokens added per second: the steady request rate. */
  readonly ratePerSecond: number;
  /** The size of the bucket: how many requests may arrive at once after a quiet spell. */
  readonly burstRequests: number;
}

export type ThrottleDecision =
  { readonly kind: "allowed" } | { readonly kind: "throttled"; readonly retryAfterSeconds: number };

/** What the gateway asks before it hands a request to a handler. */
export interface RequestThrottle {
  readonly take: () => ThrottleDecision;
}

/** A token bucket that starts full. `clockMs` is monotonic milliseconds (performance.now by default). */
export function createTokenBucket(
  settings: ThrottleSettings,
  clockMs: () => number = () => performance.now(),
): RequestThrottle {
  const { ratePerSecond, burstRequests } = settings;
  if (!(ratePerSecond > 0) || !Number.isInteger(burstRequests) || burstRequests < 1) {
    throw new Error(
      `a token bucket needs a positive rate and burst (got ${ratePerSecond}, ${burstRequests})`,
    );
  }
  let tokens = burstRequests;
  let refilledAtMs = clockMs();
  return {
    take: () => {
      const nowMs = clockMs();
      // A clock that goes backwards adds nothing; the bucket never holds more than the burst.
      const elapsedMs = Math.max(0, nowMs - refilledAtMs);
      tokens = Math.min(burstRequests, tokens + (elapsedMs * ratePerSecond) / 1_000);
      refilledAtMs = nowMs;
      if (tokens >= 1) {
        tokens -= 1;
        return { kind: "allowed" };
      }
      const secondsUntilToken = (1 - tokens) / ratePerSecond;
      return { kind: "throttled", retryAfterSeconds: Math.max(1, Math.ceil(secondsUntilToken)) };
    },
  };
}

/**
 * The detail of a 429: a command is retried with its Idempotency-Key; a read has none, so its detail says
 * nothing of one (openapi.json, TooManyReads and TooManyCommands).
 */
export function throttledDetail(method: string): string {
  return method === "POST"
    ? "Too many requests; retry after the time in Retry-After, with the same Idempotency-Key."
    : "Too many requests; retry after the time in Retry-After.";
}
