// The problems of the API (RFC 9457): each one's type URI, title and status. Every refusal and failure the API
// returns is one of these, with one safe sentence as its detail (docs/api.md#problem-types).

/** Problem type URIs share this base; the last segment names the problem. */
export const PROBLEM_TYPE_BASE = "https://counter-ledger.dev/problems/";

export interface ProblemKind {
  readonly slug: string;
  readonly title: string;
  readonly status: number;
}

export const PROBLEMS = {
  badRequest: { slug: "bad-request", title: "Bad request", status: 400 },
  unauthorized: { slug: "unauthorized", title: "Unauthorized", status: 401 },
  forbidden: { slug: "forbidden", title: "Forbidden", status: 403 },
  notFound: { slug: "not-found", title: "Not found", status: 404 },
  methodNotAllowed: { slug: "method-not-allowed", title: "Method not allowed", status: 405 },
  requestTimeout: { slug: "request-timeout", title: "Request timeout", status: 408 },
  outOfBounds: { slug: "out-of-bounds", title: "Out of bounds", status: 409 },
  payloadTooLarge: { slug: "payload-too-large", title: "Payload too large", status: 413 },
  unsupportedMediaType: { slug: "unsupported-media-type", title: "Unsupported media type", status: 415 },
  idempotencyKeyReused: { slug: "idempotency-key-reused", title: "Idempotency key reused", status: 422 },
  digestBeyondLimit: { slug: "digest-beyond-limit", title: "Digest beyond the limit", status: 422 },
  throttled: { slug: "throttled", title: "Too many requests", status: 429 },
  quotaExceeded: { slug: "quota-exceeded", title: "Quota exceeded", status: 429 },
  headersTooLarge: { slug: "headers-too-large", title: "Request header fields too large", status: 431 },
  internal: { slug: "internal", title: "Internal error", status: 500 },
  contention: { slug: "contention", title: "Too much contention", status: 503 },
  unavailable: { slug: "unavailable", title: "Service unavailable", status: 503 },
} as const satisfies Record<string, ProblemKind>;

export type ProblemName = keyof typeof PROBLEMS;

/** The type URI of a problem. */
export function problemTypeOf(name: ProblemName): string {
  return PROBLEM_TYPE_BASE + PROBLEMS[name].slug;
}
