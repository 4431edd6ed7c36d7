// RFC 9457 problem details: the one shape of every refusal and failure the API returns.
// A problem carries only safe, fixed wording or validated values: never a stack trace, an SDK error name,
// a table name or an ARN. Unvalidated input is echoed only through `echo`, which cuts it short.

import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { PROBLEM_ECHO_CHARACTERS_MAX, RETRY_AFTER_SECONDS } from "../domain/limits";
import { jsonResponse } from "./response";

/** Problem type URIs share this base; the last segment names the problem (docs/api.md#problem-types). */
export const PROBLEM_TYPE_BASE = "https://counter-ledger.dev/problems/";

interface ProblemKind {
  readonly slug: string;
  readonly title: string;
  readonly status: number;
}

export const PROBLEMS = {
  badRequest: { slug: "bad-request", title: "Bad request", status: 400 },
  notFound: { slug: "not-found", title: "Not found", status: 404 },
  methodNotAllowed: { slug: "method-not-allowed", title: "Method not allowed", status: 405 },
  requestTimeout: { slug: "request-timeout", title: "Request timeout", status: 408 },
  outOfBounds: { slug: "out-of-bounds", title: "Out of bounds", status: 409 },
  payloadTooLarge: { slug: "payload-too-large", title: "Payload too large", status: 413 },
  unsupportedMediaType: { slug: "unsupported-media-type", title: "Unsupported media type", status: 415 },
  idempotencyKeyReused: { slug: "idempotency-key-reused", title: "Idempotency key reused", status: 422 },
  throttled: { slug: "throttled", title: "Too many requests", status: 429 },
  headersTooLarge: { slug: "headers-too-large", title: "Request header fields too large", status: 431 },
  internal: { slug: "internal", title: "Internal error", status: 500 },
  contention: { slug: "contention", title: "Too much contention", status: 503 },
  unavailable: { slug: "unavailable", title: "Service unavailable", status: 503 },
} as const satisfies Record<string, ProblemKind>;

export type ProblemName = keyof typeof PROBLEMS;

export interface ProblemOptions {
  readonly detail: string;
  readonly requestId: string;
  /** Extra members of the problem body (e.g. `value` and `bound` of out-of-bounds). */
  readonly extensions?: Readonly<Record<string, string | number>>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A problem whose status asks the client to come back later gets Retry-After. */
const RETRY_LATER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

export function problemResponse(
  name: ProblemName,
  options: ProblemOptions,
): APIGatewayProxyStructuredResultV2 {
  const kind = PROBLEMS[name];
  const headers: Record<string, string> = { ...options.headers };
  if (RETRY_LATER_STATUSES.has(kind.status) && headers["Retry-After"] === undefined) {
    headers["Retry-After"] = String(RETRY_AFTER_SECONDS);
  }
  const body = {
    type: PROBLEM_TYPE_BASE + kind.slug,
    title: kind.title,
    status: kind.status,
    detail: options.detail,
    requestId: options.requestId,
    ...options.extensions,
  };
  return jsonResponse(kind.status, body, headers, "application/problem+json");
}

/** Quotes unvalidated input for a detail message, cut to a safe length and stripped of control characters. */
export function echo(input: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = input.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  const cut =
    printable.length > PROBLEM_ECHO_CHARACTERS_MAX
      ? `${printable.slice(0, PROBLEM_ECHO_CHARACTERS_MAX - 1)}…`
      : printable;
  return JSON.stringify(cut);
}
