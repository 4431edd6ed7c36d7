// RFC 9457 problem details: the one shape of every refusal and failure the API returns.
// A problem carries only safe, fixed wording or validated values: never a stack trace, an SDK error name,
// a table name or an ARN. Unvalidated input is echoed only through `echo`, which cuts it short.

import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { PROBLEM_ECHO_CHARACTERS_MAX, RETRY_AFTER_SECONDS } from "../../../contract/limits";
import { PROBLEMS, problemTypeOf, type ProblemName } from "../../../contract/problems";
import type { Problem } from "../../../contract/schemas";
import { jsonResponse } from "./response";

export { PROBLEM_TYPE_BASE, PROBLEMS, type ProblemName } from "../../../contract/problems";

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
  const body: Problem = {
    type: problemTypeOf(name),
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
