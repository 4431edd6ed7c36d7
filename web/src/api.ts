// The web UI's client of the HTTP API (API.md, version 1): one typed function per route, nothing else.
// Every expected outcome — a refusal, a 304, an unreachable API — comes back as a value, never as an
// exception, so that components and the command sender can switch on `kind`. This file must never retry,
// wait or hold state: retrying is the command sender's job (command.ts), polling the hooks' job.

/** How long one request may take before it counts as unanswered (a dropped response). */
export const REQUEST_TIMEOUT_MS = 8_000;

export type Action = "increment" | "decrement";

/** The configured bounds (COUNTER_MIN, COUNTER_MAX): the value always stays within them. */
export interface Bounds {
  readonly min: number;
  readonly max: number;
}

/** `GET /number`: the aggregate, read with ConsistentRead, and the bounds it is kept within. */
export interface NumberSnapshot {
  readonly value: number;
  readonly version: number;
  /** ISO 8601 time of the last change; null while the counter has never changed. */
  readonly updatedAt: string | null;
  readonly bounds: Bounds;
}

/** The public view of a ledger event (`event` of `POST /number` and `GET /number/events/{key}`). */
export interface EventView {
  /** The idempotency key the event was recorded under. */
  readonly id: string;
  readonly version: number;
  readonly action: Action;
  readonly delta: number;
  readonly valueBefore: number;
  readonly valueAfter: number;
  readonly at: string;
}

/** `POST /number` applied (or replayed): the aggregate after the event, and the event. */
export interface CommandApplied {
  readonly value: number;
  readonly version: number;
  readonly event: EventView;
}

/** One entry of the audit trail (`GET /number/history`). */
export interface HistoryEntry {
  readonly version: number;
  readonly action: Action;
  readonly delta: number;
  readonly valueBefore: number;
  readonly valueAfter: number;
  readonly at: string;
  readonly eventId: string;
}

export interface HistoryPage {
  readonly items: readonly HistoryEntry[];
  readonly nextCursor: string | null;
  /** How far the projector has come: the audit trail holds the events up to this version. */
  readonly projectedVersion: number;
}

export interface HistoryQuery {
  readonly limit: number;
  readonly cursor: string | null;
  readonly order: "asc" | "desc";
}

export interface VerificationProblem {
  readonly kind: string;
  readonly version?: number;
  readonly detail: string;
}

/** `GET /number/verify`: the ledger replayed and checked against invariants I1–I3 and I5. */
export interface VerificationReport {
  readonly ok: boolean;
  readonly events: number;
  readonly ledgerSum: number;
  readonly aggregate: { readonly value: number; readonly version: number };
  readonly readModel: { readonly value: number; readonly version: number };
  readonly problems: readonly VerificationProblem[];
  /** How far the audit trail is behind the ledger: lag, not a violation (API.md). */
  readonly lag?: { readonly versions: number; readonly auditEntries: number };
  /** Problems beyond those listed, when the report was cut short. */
  readonly problemsOmitted?: number;
  readonly durationMs: number;
}

/** An RFC 9457 problem, as every error of the API is. */
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

export interface CounterApiOptions {
  /** Where the API lives: "" for the same origin as the page, else e.g. "https://abc.execute-api…/". */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  readonly requestTimeoutMs?: number;
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
    try {
      return await fetchFunction(baseUrl + path, { ...init, signal: abort.signal, cache: "no-store" });
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

  /** Reads a success body and checks it against the contract; a body that breaks it counts as no answer. */
  async function contractBody<T>(
    response: Response,
    check: (body: unknown) => body is T,
    what: string,
  ): Promise<{ readonly kind: "valid"; readonly body: T } | UnreachableAnswer> {
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return { kind: "unreachable", reason: `the ${what} was not JSON` };
    }
    return check(body)
      ? { kind: "valid", body }
      : { kind: "unreachable", reason: `the ${what} did not match the API contract` };
  }

  return {
    async readNumber(etag) {
      const response = await request("/number", { headers: etag === null ? {} : { "If-None-Match": etag } });
      if (!(response instanceof Response)) return response;
      if (response.status === 304) return { kind: "notModified" };
      if (!response.ok) return problemAnswerOf(response);
      const snapshot = await contractBody(response, isNumberSnapshot, "number");
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
      const applied = await contractBody(response, isCommandApplied, "command's answer");
      if (applied.kind === "unreachable") return applied;
      const replayed = response.headers.get("Idempotent-Replayed") === "true";
      return { kind: "applied", applied: applied.body, replayed };
    },

    async readEvent(idempotencyKey) {
      const response = await request(`/number/events/${encodeURIComponent(idempotencyKey)}`);
      if (!(response instanceof Response)) return response;
      if (response.status === 404) return { kind: "notFound" };
      if (!response.ok) return problemAnswerOf(response);
      const event = await contractBody(response, isEventView, "event");
      if (event.kind === "unreachable") return event;
      return { kind: "found", event: event.body };
    },

    async readHistory(query) {
      const parameters = new URLSearchParams({ limit: String(query.limit), order: query.order });
      if (query.cursor !== null) parameters.set("cursor", query.cursor);
      const response = await request(`/number/history?${parameters.toString()}`);
      if (!(response instanceof Response)) return response;
      if (!response.ok) return problemAnswerOf(response);
      const page = await contractBody(response, isHistoryPage, "history page");
      if (page.kind === "unreachable") return page;
      return { kind: "page", page: page.body };
    },

    async verify() {
      const response = await request("/number/verify");
      if (!(response instanceof Response)) return response;
      if (!response.ok) return problemAnswerOf(response);
      const report = await contractBody(response, isVerificationReport, "verification report");
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
  const problem: Problem = isProblem(body)
    ? body
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

/** The last segment of a problem type URI names the problem (API.md): "out-of-bounds", … */
export function problemName(problem: Problem): string {
  return problem.type.slice(problem.type.lastIndexOf("/") + 1);
}

/** The idempotency key inside a ledger eventId (`<counterId>#<idempotencyKey>`); keys never hold `#`. */
export function idempotencyKeyOf(eventId: string): string {
  return eventId.slice(eventId.lastIndexOf("#") + 1);
}

// Contract checks: small, explicit and just deep enough that a component can trust the fields it reads.

function isRecord(body: unknown): body is Record<string, unknown> {
  return typeof body === "object" && body !== null && !Array.isArray(body);
}

function isInteger(value: unknown): value is number {
  return Number.isInteger(value);
}

function isAction(value: unknown): value is Action {
  return value === "increment" || value === "decrement";
}

function isState(body: unknown): body is { value: number; version: number } {
  return isRecord(body) && isInteger(body.value) && isInteger(body.version);
}

function isNumberSnapshot(body: unknown): body is NumberSnapshot {
  if (!isState(body)) return false;
  const { updatedAt, bounds } = body as Record<string, unknown>;
  return (
    (updatedAt === null || typeof updatedAt === "string") &&
    isRecord(bounds) &&
    isInteger(bounds.min) &&
    isInteger(bounds.max)
  );
}

function isEventView(body: unknown): body is EventView {
  return (
    isRecord(body) &&
    typeof body.id === "string" &&
    isInteger(body.version) &&
    isAction(body.action) &&
    isInteger(body.delta) &&
    isInteger(body.valueBefore) &&
    isInteger(body.valueAfter) &&
    typeof body.at === "string"
  );
}

function isCommandApplied(body: unknown): body is CommandApplied {
  return isState(body) && isEventView((body as Record<string, unknown>).event);
}

function isHistoryEntry(body: unknown): body is HistoryEntry {
  return (
    isRecord(body) &&
    isInteger(body.version) &&
    isAction(body.action) &&
    isInteger(body.delta) &&
    isInteger(body.valueBefore) &&
    isInteger(body.valueAfter) &&
    typeof body.at === "string" &&
    typeof body.eventId === "string"
  );
}

function isHistoryPage(body: unknown): body is HistoryPage {
  return (
    isRecord(body) &&
    Array.isArray(body.items) &&
    body.items.every(isHistoryEntry) &&
    (body.nextCursor === null || typeof body.nextCursor === "string") &&
    isInteger(body.projectedVersion)
  );
}

function isVerificationReport(body: unknown): body is VerificationReport {
  return (
    isRecord(body) &&
    typeof body.ok === "boolean" &&
    isInteger(body.events) &&
    isInteger(body.ledgerSum) &&
    isState(body.aggregate) &&
    isState(body.readModel) &&
    Array.isArray(body.problems) &&
    body.problems.every((problem) => isRecord(problem) && typeof problem.detail === "string") &&
    typeof body.durationMs === "number"
  );
}

function isProblem(body: unknown): body is Problem {
  return (
    isRecord(body) &&
    typeof body.type === "string" &&
    typeof body.title === "string" &&
    isInteger(body.status) &&
    typeof body.detail === "string"
  );
}
