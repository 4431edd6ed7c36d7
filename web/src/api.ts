// The web UI's client of the HTTP API (version 1): one typed function per route, nothing else. Every answer is
// parsed with the API contract's own schemas (contract/schemas.ts), the ones openapi.json is generated from.
// Every expected outcome — a refusal, a 304, an unreachable API — comes back as a value, never as an
// exception, so that components and the command sender can switch on `kind`. This file must never retry,
// wait or hold state: retrying is the command sender's job (command.ts), polling the hooks' job. When someone
// is signed in, every request carries their access token (`Authorization: Bearer …`); a 401 to a request that
// carried one is reported to the auth layer (auth.ts), which renews the session once or signs the page out.

import type { output, ZodType } from "zod";
import {
  commandAppliedSchema,
  eventViewSchema,
  historyPageSchema,
  numberViewSchema,
  problemSchema,
  verifyReportSchema,
  type Action,
  type CommandApplied,
  type EventView,
  type HistoryItem,
  type HistoryPage as HistoryPageView,
  type NumberView,
  type VerifyReport,
} from "../../contract/schemas";

/** How long one request may take before it counts as unanswered (a dropped response). */
export const REQUEST_TIMEOUT_MS = 8_000;

export type { Action, Bounds, CommandApplied, EventView } from "../../contract/schemas";

/** `GET /number`: the aggregate, read with ConsistentRead, and the bounds it moves within. */
export type NumberSnapshot = NumberView;

/** One entry of the audit trail (`GET /number/history`). */
export type HistoryEntry = HistoryItem;
/** `GET /number/history`: one page of the audit trail. */
export type HistoryPage = HistoryPageView;

export interface HistoryQuery {
  readonly limit: number;
  readonly cursor: string | null;
  readonly order: "asc" | "desc";
}

/** `GET /number/verify`: the ledger replayed and checked against invariants I1–I3 and I5. */
export type VerificationReport = VerifyReport;
export type VerificationProblem = VerifyReport["problems"][number];

/** An RFC 9457 problem, as every error of the API is; `requestId` is missing only when the API sent none. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  /** One safe sentence, meant for people: the UI shows it as it is. */
  readonly detail: string;
  readonly requestId?: string;
}

/** The API answered with an error status. */
export interface ProblemAnswer {
  readonly kind: "problem";
  readonly problem: Problem;
  /** Retry-After in seconds, when the API sent one (429, 503). */
  readonly retryAfterSeconds: number | null;
}

/** No usable answer: the network failed, the request timed out, or the body broke the contract. */
export interface UnreachableAnswer {
  readonly kind: "unreachable";
  readonly reason: string;
}

export type Failure = ProblemAnswer | UnreachableAnswer;

export type NumberAnswer =
  | { readonly kind: "current"; readonly snapshot: NumberSnapshot; readonly etag: string | null }
  | { readonly kind: "notModified" }
  | Failure;

export type CommandAnswer =
  | {
      readonly kind: "applied";
      readonly applied: CommandApplied;
      /** True when the API had already applied this key and answered with the original result. */
      readonly replayed: boolean;
    }
  | Failure;

export type EventAnswer =
  { readonly kind: "found"; readonly event: EventView } | { readonly kind: "notFound" } | Failure;

export type HistoryAnswer = { readonly kind: "page"; readonly page: HistoryPage } | Failure;

export type VerificationAnswer = { readonly kind: "report"; readonly report: VerificationReport } | Failure;

export interface CounterApi {
  /** `GET /number`, conditional on the ETag last seen: `notModified` means nothing new. */
  readNumber(etag: string | null): Promise<NumberAnswer>;
  /** `POST /number` with the given Idempotency-Key; the caller decides whether to retry. */
  sendCommand(action: Action, idempotencyKey: string): Promise<CommandAnswer>;
  /** `GET /number/events/{key}`: settles the outcome of a command whose answer was lost. */
  readEvent(idempotencyKey: string): Promise<EventAnswer>;
  readHistory(query: HistoryQuery): Promise<HistoryAnswer>;
  verify(): Promise<VerificationAnswer>;
}

/** Who the requests are sent as: the auth layer (auth.ts) is one. */
export interface Credentials {
  /** The access token to send, or null to send none (signed out, or AUTH=off). */
  readonly accessToken: () => string | null;
  /** The API answered 401 to a request that carried `tokenSent`. */
  readonly unauthorized: (tokenSent: string) => void;
}

export interface CounterApiOptions {
  /** Where the API lives: "" for the same origin as the page, else e.g. "https://abc.execute-api…/". */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  readonly requestTimeoutMs?: number;
  /** Absent: no request carries a token. */
  readonly credentials?: Credentials;
}

/** The base URL chosen at build time (`VITE_API_BASE_URL`); empty means the page's own origin. */
export function buildTimeBaseUrl(): string {
  return import.meta.env.VITE_API_BASE_URL ?? "";
}

export function createCounterApi(options: CounterApiOptions): CounterApi {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const fetchFunction = options.fetch ?? globalThis.fetch.bind(globalThis);
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;

  async function request(path: string, init: RequestInit = {}): Promise<Response | UnreachableAnswer> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), requestTimeoutMs);
    const token = options.credentials?.accessToken() ?? null;
    const headers = new Headers(init.headers);
    if (token !== null) headers.set("Authorization", `Bearer ${token}`);
    try {
      const response = await fetchFunction(baseUrl + path, {
        ...init,
        headers,
        signal: abort.signal,
        cache: "no-store",
      });
      if (response.status === 401 && token !== null) options.credentials?.unauthorized(token);
      return response;
    } catch (error) {
      const reason = abort.signal.aborted
        ? `no answer within ${requestTimeoutMs / 1000} seconds`
        : error instanceof Error
          ? error.message
          : "the network request failed";
      return { kind: "unreachable", reason };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads a success body and parses it with its contract schema; a body that breaks it counts as no answer. */
  async function contractBody<Schema extends ZodType>(
    response: Response,
    schema: Schema,
    what: string,
  ): Promise<{ readonly kind: "valid"; readonly body: output<Schema> } | UnreachableAnswer> {
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return { kind: "unreachable", reason: `the ${what} was not JSON` };
    }
    const parsed = schema.safeParse(body);
    return parsed.success
      ? { kind: "valid", body: parsed.data }
      : { kind: "unreachable", reason: `the ${what} did not match the API contract` };
  }

  return {
    async readNumber(etag) {
      const response = await request("/number", { headers: etag === null ? {} : { "If-None-Match": etag } });
      if (!(response instanceof Response)) return response;
      if (response.status === 304) return { kind: "notModified" };
      if (!response.ok) return problemAnswerOf(response);
      const snapshot = await contractBody(response, numberViewSchema, "number");
      if (snapshot.kind === "unreachable") return snapshot;
      return { kind: "current", snapshot: snapshot.body, etag: response.headers.get("ETag") };
    },

    async sendCommand(action, idempotencyKey) {
      const response = await request("/number", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
        body: JSON.stringify({ action }),
      });
      if (!(response instanceof Response)) return response;
      if (!response.ok) return problemAnswerOf(response);
      const applied = await contractBody(response, commandAppliedSchema, "command's answer");
      if (applied.kind === "unreachable") return applied;
      const replayed = response.headers.get("Idempotent-Replayed") === "true";
      return { kind: "applied", applied: applied.body, replayed };
    },

    async readEvent(idempotencyKey) {
      const response = await request(`/number/events/${encodeURIComponent(idempotencyKey)}`);
      if (!(response instanceof Response)) return response;
      if (response.status === 404) return { kind: "notFound" };
      if (!response.ok) return problemAnswerOf(response);
      const event = await contractBody(response, eventViewSchema, "event");
      if (event.kind === "unreachable") return event;
      return { kind: "found", event: event.body };
    },

    async readHistory(query) {
      const parameters = new URLSearchParams({ limit: String(query.limit), order: query.order });
      if (query.cursor !== null) parameters.set("cursor", query.cursor);
      const response = await request(`/number/history?${parameters.toString()}`);
      if (!(response instanceof Response)) return response;
      if (!response.ok) return problemAnswerOf(response);
      const page = await contractBody(response, historyPageSchema, "history page");
      if (page.kind === "unreachable") return page;
      return { kind: "page", page: page.body };
    },

    async verify() {
      const response = await request("/number/verify");
      if (!(response instanceof Response)) return response;
      if (!response.ok) return problemAnswerOf(response);
      const report = await contractBody(response, verifyReportSchema, "verification report");
      if (report.kind === "unreachable") return report;
      return { kind: "report", report: report.body };
    },
  };
}

/** Turns an error response into a problem; a body that is not a problem (a proxy's HTML page) gets a plain one. */
async function problemAnswerOf(response: Response): Promise<ProblemAnswer> {
  const retryAfterSeconds = parseRetryAfterSeconds(response.headers.get("Retry-After"));
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: described below from the status alone.
  }
  const parsed = problemSchema.safeParse(body);
  const problem: Problem = parsed.success
    ? {
        type: parsed.data.type,
        title: parsed.data.title,
        status: parsed.data.status,
        detail: parsed.data.detail,
        requestId: parsed.data.requestId,
      }
    : {
        type: "about:blank",
        title: response.statusText || `HTTP ${response.status}`,
        status: response.status,
        detail: `The API answered with status ${response.status}.`,
      };
  return { kind: "problem", problem, retryAfterSeconds };
}

/** Retry-After as delay-seconds; the HTTP-date form is not used by this API and is ignored. */
export function parseRetryAfterSeconds(header: string | null): number | null {
  if (header === null || !/^\d+$/.test(header.trim())) return null;
  return Number(header.trim());
}

/** The last segment of a problem type URI names the problem (docs/api.md): "out-of-bounds", … */
export function problemName(problem: Problem): string {
  return problem.type.slice(problem.type.lastIndexOf("/") + 1);
}

/** The idempotency key inside a ledger eventId (`<counterId>#<idempotencyKey>`); keys never hold `#`. */
export function idempotencyKeyOf(eventId: string): string {
  return eventId.slice(eventId.lastIndexOf("#") + 1);
}
