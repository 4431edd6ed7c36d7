// Sends one increment or decrement and sees it through: one fresh Idempotency-Key per click, the same key
// on every retry, and — when every attempt went unanswered — a question to the API
// (`GET /number/events/{key}`) to settle whether the command was applied (docs/architecture.md#i6). An outcome still
// unknown after that is `unsettled`: the caller keeps settling it with `settleCommand`, under the same key. So is a
// command the API asked to send again only after longer than a click waits (a Retry-After past the policy's
// retryAfterMsMax): settling honours it, up to a minute (retry.ts SETTLE_RETRY_POLICY).
// It must never make a second key for the same click, and never report "applied" without the API's word.

import type { Action, CommandApplied, CounterApi, Failure, Problem } from "./api";
import { failureInWords } from "./format";
import {
  COMMAND_RETRY_POLICY,
  isRetryable,
  retryDelayMs,
  type BackoffPolicy,
  type RetryPolicy,
} from "./retry";

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
  /**
   * No answer settled it: the command is applied once or not at all, not known which yet. A lookup's 404
   * is no settlement either: it means "not so far", since an attempt still on its way may yet land.
   */
  | {
      readonly kind: "unsettled";
      readonly attempts: number;
      /** Why, in plain words (format.ts): "the API did not answer". */
      readonly reason: string;
      /** The API's Retry-After on the last failure, if it sent one. */
      readonly retryAfterSeconds: number | null;
    };

/** Told before each wait, so the UI can say "retrying". `attempt` is the attempt about to be made. */
export interface RetryNotice {
  readonly attempt: number;
  readonly attemptsMax: number;
  readonly delayMs: number;
  /** Why the last attempt failed, in plain words. */
  readonly reason: string;
}

export interface CommandOptions {
  readonly policy?: RetryPolicy;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  readonly random?: () => number;
  readonly onRetry?: (notice: RetryNotice) => void;
  /** The backoff of the settling that goes on after the click's own attempts (use-command.ts). */
  readonly settlePolicy?: BackoffPolicy;
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
      // The API asked for a longer wait than a click waits (WAF's rate rules ask a minute): no request before
      // it, not even the lookup. The outcome goes to settling (use-command.ts), which waits it out.
      if (asksLongerThan(policy, retryAfterSeconds)) return unsettled(attempt - 1, lastFailure);
      const delayMs = retryDelayMs(policy, attempt - 1, retryAfterSeconds, options.random);
      const reason = failureInWords(lastFailure);
      options.onRetry?.({ attempt, attemptsMax: policy.attemptsMax, delayMs, reason });
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
  const lookup = await api.readEvent(idempotencyKey);
  if (lookup.kind === "found") return appliedByLookup(lookup.event, policy.attemptsMax);
  return unsettled(policy.attemptsMax, lastFailure);
}

/**
 * One try at settling an outcome left unknown, under the click's own key: asks for the event first (a
 * read, and the answer when the command did land), and when there is none so far resends the very same
 * command — the final answer: the original event if an earlier attempt landed meanwhile, else the command
 * applied now, or refused — never applied twice. Returns `unsettled` while the API does not answer.
 */
export async function settleCommand(
  api: CounterApi,
  action: Action,
  idempotencyKey: string,
  attempts: number,
): Promise<CommandResult> {
  const lookup = await api.readEvent(idempotencyKey);
  if (lookup.kind === "found") return appliedByLookup(lookup.event, attempts + 1);
  if (lookup.kind !== "notFound") return unsettled(attempts + 1, lookup);
  const answer = await api.sendCommand(action, idempotencyKey);
  if (answer.kind === "applied") {
    return { kind: "applied", applied: answer.applied, attempts: attempts + 1, settledByLookup: false };
  }
  if (answer.kind === "problem" && !isRetryable(answer)) return { kind: "refused", problem: answer.problem };
  return unsettled(attempts + 1, answer);
}

/** A Retry-After beyond what the policy waits: waiting less would come back before the API asked. */
function asksLongerThan(policy: BackoffPolicy, retryAfterSeconds: number | null): boolean {
  return retryAfterSeconds !== null && retryAfterSeconds * 1000 > policy.retryAfterMsMax;
}

function appliedByLookup(event: CommandApplied["event"], attempts: number): CommandResult {
  return {
    kind: "applied",
    applied: { value: event.valueAfter, version: event.version, event },
    attempts,
    settledByLookup: true,
  };
}

function unsettled(attempts: number, failure: Failure | null): CommandResult {
  return {
    kind: "unsettled",
    attempts,
    reason: failure === null ? "the API did not answer" : failureInWords(failure),
    retryAfterSeconds: failure?.kind === "problem" ? failure.retryAfterSeconds : null,
  };
}
