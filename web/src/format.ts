// How numbers, times and failures read on screen. One place, so the number, the table and the chart agree,
// and so that no panel shows a person what the browser says when a request fails.

import type { Failure, Problem } from "./api";

const integerFormat = new Intl.NumberFormat("en-US");

/** 1000000000 → "1,000,000,000". */
export function formatInteger(value: number): string {
  return integerFormat.format(value);
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** The date and time of an ISO 8601 instant, in the reader's time zone. */
export function formatDateTime(iso: string): string {
  return dateTimeFormat.format(new Date(iso));
}

const shortDateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** The time of day of an event today; the day too when it happened on another day. */
export function formatEventTime(iso: string, now: Date): string {
  const at = new Date(iso);
  return at.toDateString() === now.toDateString() ? timeFormat.format(at) : shortDateTimeFormat.format(at);
}

/** "+1" or "−1", with a true minus sign. */
export function formatDelta(delta: number): string {
  return delta >= 0 ? `+${delta}` : `\u2212${Math.abs(delta)}`;
}

/**
 * A failure in plain words, as a clause without its full stop ("the API did not answer"), for a person to
 * read. Never the browser's or an exception's message ("Failed to fetch"), never a status code alone:
 * those are not meant for people. A refusal's `detail` is, by contract, one safe sentence for people.
 */
export function failureInWords(failure: Failure): string {
  if (failure.kind === "unreachable") return "the API did not answer";
  const { status, detail } = failure.problem;
  if (status === 401) return SIGNED_OUT_CLAUSE;
  if (status === 403) return FORBIDDEN_CLAUSE;
  if (status === 429) return "the API is busy";
  if (status === 408 || status >= 500) return "the API is unavailable for a moment";
  return detail.replace(/\.$/, "");
}

const SIGNED_OUT_CLAUSE = "your sign-in has expired or was refused";
const FORBIDDEN_CLAUSE = "your account may not do this";

/**
 * A refusal as one sentence for people: the API's own detail, except for 401 and 403, which say plainly that
 * the person is signed out, or that their account may not do this.
 */
export function refusalInWords(problem: Problem): string {
  if (problem.status === 401) return `${capitalize(SIGNED_OUT_CLAUSE)}.`;
  if (problem.status === 403) return `${capitalize(FORBIDDEN_CLAUSE)}.`;
  return problem.detail;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
