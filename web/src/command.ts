// Sends one increment or decrement and sees it through: one fresh Idempotency-Key per click, the same key
// on every retry, and — when every attempt went unanswered — a last question to the API
// (`GET /number/events/{key}`) to settle whether the command was applied (docs/architecture.md#i6).
// It must never make a second key for the same click, and never report "applied" without the API's word.

import type { Action, CommandApplied, CounterApi, Failure, Problem } from "./api";
import { COMMAND_RETRY_POLICY, isRetryable, retryDelayMs, type RetryPolicy } from "./retry";

export type CommandResult =
  /** The API applied the command (or had applied it already and replayed the original answer). */
  | {
      readonly kind: "applied";
      readonly applied: CommandApplied;
      readonly attempts: number;
      /** True when the outcome was learnt by asking for the event after the answers were lost. */
      readonly settledByLookup: boolean;
    }
  /** The API refused it (out of bounds, bad request, key reused): nothing changed. */
  | { readonly kind: "refused"; readonly problem: Problem }
  /** Every attempt went unanswered, and the API then said it holds no event under the key. */
  | { readonly kind: "notApplied"; readonly attempts: number; readonly reason: string }
  /** Every attempt went unanswered and so did the lookup: the outcome is not known yet. */
  | {
      readonly kind: "unconfirmed";
      readonly attempts: number;
      readonly reason: string;
      readonly idempotencyKey: string;
    };

/** Told before each wait, so the UI can say "retrying". `attempt` is the attempt about to be made. */
export interface RetryNotice {
  readonly attempt: number;
  readonly attemptsMax: number;
  readonly delayMs: number;
  readonly reason: string;
}

export interface CommandOptions {
  readonly policy?: RetryPolicy;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  readonly random?: () => number;
  readonly onRetry?: (notice: RetryNotice) => void;
}

export function sleepMs(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** A version 4 UUID; `crypto.getRandomValues` works on plain HTTP too, unlike `crypto.randomUUID`. */
export function createIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function runCommand(
  api: CounterApi,
  action: Action,
  idempotencyKey: string,
  options: CommandOptions = {},
): Promise<CommandResult> {
  const policy = options.policy ?? COMMAND_RETRY_POLICY;
  const sleep = options.sleep ?? sleepMs;
  let lastFailure: Failure | null = null;
  for (let attempt = 1; attempt <= policy.attemptsMax; attempt += 1) {
    if (lastFailure !== null) {
      const retryAfterSeconds = lastFailure.kind === "problem" ? lastFailure.retryAfterSeconds : null;
      const delayMs = retryDelayMs(policy, attempt - 1, retryAfterSeconds, options.random);
      options.onRetry?.({ attempt, attemptsMax: policy.attemptsMax, delayMs, reason: describe(lastFailure) });
      await sleep(delayMs);
    }
    const answer = await api.sendCommand(action, idempotencyKey);
    if (answer.kind === "applied") {
      return { kind: "applied", applied: answer.applied, attempts: attempt, settledByLookup: false };
    }
    if (answer.kind === "problem" && !isRetryable(answer))
      return { kind: "refused", problem: answer.problem };
    lastFailure = answer;
  }
  const reason = lastFailure === null ? "no attempt was made" : describe(lastFailure);
  return settle(api, idempotencyKey, policy.attemptsMax, reason);
}

/** Asks the ledger whether the key was applied, after every answer to the command itself was lost. */
async function settle(
  api: CounterApi,
  idempotencyKey: string,
  attempts: number,
  reason: string,
): Promise<CommandResult> {
  const lookup = await api.readEvent(idempotencyKey);
  switch (lookup.kind) {
    case "found":
      return {
        kind: "applied",
        applied: { value: lookup.event.valueAfter, version: lookup.event.version, event: lookup.event },
        attempts,
        settledByLookup: true,
      };
    case "notFound":
      return { kind: "notApplied", attempts, reason };
    default:
      return { kind: "unconfirmed", attempts, reason, idempotencyKey };
  }
}

/** A failure in plain words, for the pending message. */
export function describe(failure: Failure): string {
  if (failure.kind === "unreachable") return `the API did not answer (${failure.reason})`;
  if (failure.problem.status === 429) return "the API is throttling requests";
  return `the API is unavailable (${failure.problem.status})`;
}
