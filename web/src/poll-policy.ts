// How often the page reads `GET /number`: about once a second while the number moves, ever more rarely while
// it does not, and never while the page's tab is hidden (use-number.ts). Pure functions, so tests can pin
// every number. An idle open tab is what most pages are most of the time, and each one polls the API that
// serves everyone (issue 13): a 304 is cheap, but sixty a minute from every open tab are not.

/** When to read the number next. */
export interface PollPolicy {
  /** The interval while the number moves, after a command, and when the page comes back into view. */
  readonly intervalMs: number;
  /** Reads in a row answered 304 (nothing new) before the interval starts to grow. */
  readonly quietReadsBeforeBackoff: number;
  /** The longest interval: how late, at worst, an idle page sees a change made elsewhere. */
  readonly intervalMaxMs: number;
  /** A Retry-After longer than this is cut to it. */
  readonly retryAfterMsMax: number;
}

/**
 * "About every second" (issue 4) while anything happens; after 5 quiet seconds the interval doubles with
 * each further 304 — 2, 4, 8 s — up to 15 s. An idle tab reads 11 times in its first quiet minute and 4
 * times a minute after that, instead of 60; a change made elsewhere then shows within 15 s, and within a
 * second once the person clicks, or comes back to the tab or the window.
 */
export const NUMBER_POLL_POLICY: PollPolicy = {
  intervalMs: 1_000,
  quietReadsBeforeBackoff: 5,
  intervalMaxMs: 15_000,
  retryAfterMsMax: 60_000,
};

/**
 * The wait before the next read, after `quietReads` reads in a row that found nothing new (0 after a change,
 * a command, a failure, or the page coming back into view). A Retry-After from the API (a throttled read)
 * is a floor, as it is for commands (retry.ts).
 */
export function nextReadDelayMs(
  policy: PollPolicy,
  quietReads: number,
  retryAfterSeconds: number | null = null,
): number {
  const backoffSteps = Math.max(0, quietReads - policy.quietReadsBeforeBackoff);
  // 2 ** 30 is far past any cap; the bound keeps the arithmetic finite however long a page stays open.
  const delayMs = Math.min(policy.intervalMaxMs, policy.intervalMs * 2 ** Math.min(backoffSteps, 30));
  const floorMs = retryAfterSeconds === null ? 0 : Math.min(retryAfterSeconds * 1000, policy.retryAfterMsMax);
  return Math.max(delayMs, floorMs);
}
