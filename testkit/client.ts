// A client of the HTTP API that behaves as docs/api.md asks a careful client to: one Idempotency-Key per
// command, the same key on every retry of 429, 503, any other 5xx or a lost answer, bounded in attempts and
// time, and an outcome it never saw settled through GET /number/events/{key}. Shared by the reliability tests
// and the soak; it never talks to anything but the URL it is given, and never invents a second key for one
// command.

import type { Action } from "../services/ledger/domain/decider";
import type { EventView } from "../services/ledger/domain/event";

export interface ClientLimits {
  /** Attempts of one command (or one settlement) before it gives up with an unknown outcome. */
  readonly attemptsMax: number;
  /** Wall-clock budget of one command, retries included. */
  readonly budgetMs: number;
  /** One request is abandoned (and counted as a lost answer) after this long. */
  readonly requestTimeoutMs: number;
  /** Pause between retries, or longer when the server's Retry-After asks for it… */
  readonly retryPauseMs: number;
  /** …but never longer than this (tests shorten it; a patient client waits the whole Retry-After). */
  readonly retryAfterMsMax: number;
}

export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  attemptsMax: 40,
  budgetMs: 20_000,
  requestTimeoutMs: 10_000,
  retryPauseMs: 20,
  retryAfterMsMax: 1_000,
};

/** What the client finally knows about its command. */
export type ClientOutcome =
  | { readonly kind: "applied"; readonly event: EventView; readonly replayed: boolean }
  | { readonly kind: "outOfBounds" }
  | { readonly kind: "keyReused" }
  /** Never answered; GET /number/events/{key} then said 404: nothing is recorded under the key. */
  | { readonly kind: "notApplied" }
  | { readonly kind: "unknown" };

export interface CommandRecord {
  readonly idempotencyKey: string;
  readonly action: Action;
  readonly outcome: ClientOutcome;
  readonly attempts: number;
  /** Why attempts failed: status codes, "network" for a lost answer. */
  readonly failures: Readonly<Record<string, number>>;
}

/** Settlement requests in flight at once: enough to be quick, few enough not to be a load test of their own. */
const SETTLEMENTS_IN_FLIGHT_MAX = 32;

const pause = (milliseconds: number): Promise<void> => new Promise((wake) => setTimeout(wake, milliseconds));

/** Waits before the next attempt: a short pause, or the Retry-After the server asked for, within the limits. */
function retryPauseMs(limits: ClientLimits, retryAfter: string | null): number {
  const askedMs = retryAfter === null ? 0 : Number(retryAfter) * 1_000;
  return Math.min(
    limits.retryAfterMsMax,
    Math.max(limits.retryPauseMs, Number.isFinite(askedMs) ? askedMs : 0),
  );
}

/** Headers every request of a client carries: its `Authorization` when the API runs with AUTH on. */
export type ClientHeaders = Readonly<Record<string, string>>;

/** POST /number until the outcome is known or the limits are spent; every attempt carries the same key. */
export async function sendCommand(
  baseUrl: string,
  action: Action,
  idempotencyKey: string,
  limits: ClientLimits = DEFAULT_CLIENT_LIMITS,
  headers: ClientHeaders = {},
): Promise<CommandRecord> {
  const failures: Record<string, number> = {};
  const deadlineMs = Date.now() + limits.budgetMs;
  let attempts = 0;
  while (attempts < limits.attemptsMax && Date.now() < deadlineMs) {
    attempts++;
    let retryAfter: string | null = null;
    try {
      const response = await fetch(`${baseUrl}/number`, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
        body: JSON.stringify({ action }),
        signal: AbortSignal.timeout(limits.requestTimeoutMs),
      });
      const text = await response.text();
      if (response.status === 200) {
        const body = JSON.parse(text) as { event: EventView };
        const replayed = response.headers.get("idempotent-replayed") === "true";
        return {
          idempotencyKey,
          action,
          outcome: { kind: "applied", event: body.event, replayed },
          attempts,
          failures,
        };
      }
      if (response.status === 409)
        return { idempotencyKey, action, outcome: { kind: "outOfBounds" }, attempts, failures };
      if (response.status === 422)
        return { idempotencyKey, action, outcome: { kind: "keyReused" }, attempts, failures };
      failures[response.status] = (failures[response.status] ?? 0) + 1;
      if (response.status !== 429 && response.status < 500) {
        throw new Error(`a well-formed command was refused with ${response.status}: ${text.slice(0, 200)}`);
      }
      retryAfter = response.headers.get("retry-after");
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("a well-formed command")) throw error;
      failures.network = (failures.network ?? 0) + 1;
    }
    await pause(retryPauseMs(limits, retryAfter));
  }
  return { idempotencyKey, action, outcome: { kind: "unknown" }, attempts, failures };
}

/** The event recorded under a key: the event, `null` for a definite 404, or "unknown" if it never found out. */
export async function settleByKey(
  baseUrl: string,
  idempotencyKey: string,
  limits: ClientLimits = DEFAULT_CLIENT_LIMITS,
  headers: ClientHeaders = {},
): Promise<EventView | null | "unknown"> {
  const deadlineMs = Date.now() + limits.budgetMs;
  for (let attempt = 0; attempt < limits.attemptsMax && Date.now() < deadlineMs; attempt++) {
    try {
      const response = await fetch(`${baseUrl}/number/events/${encodeURIComponent(idempotencyKey)}`, {
        headers,
        signal: AbortSignal.timeout(limits.requestTimeoutMs),
      });
      const text = await response.text();
      if (response.status === 200) return JSON.parse(text) as EventView;
      if (
        response.status === 404 &&
        response.headers.get("content-type")?.includes("problem+json") === true
      ) {
        return null;
      }
    } catch {
      // A lost answer: ask again.
    }
    await pause(limits.retryPauseMs);
  }
  return "unknown";
}

/**
 * Settles every command whose outcome the client never saw, as docs/api.md tells a client to: each unknown
 * outcome becomes what the ledger says, applied or not applied. Throws if one cannot be settled within the
 * limits.
 */
export async function settleUnknownOutcomes(
  baseUrl: string,
  records: readonly CommandRecord[],
  limits: ClientLimits = DEFAULT_CLIENT_LIMITS,
): Promise<CommandRecord[]> {
  return inParallel(records, SETTLEMENTS_IN_FLIGHT_MAX, async (record): Promise<CommandRecord> => {
    if (record.outcome.kind !== "unknown") return record;
    const event = await settleByKey(baseUrl, record.idempotencyKey, limits);
    if (event === "unknown") throw new Error(`key ${record.idempotencyKey} could not be settled`);
    const outcome: ClientOutcome =
      event === null ? { kind: "notApplied" } : { kind: "applied", event, replayed: true };
    return { ...record, outcome };
  });
}

/** Runs `work` over items with at most `limit` in flight; results keep the items' order. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
