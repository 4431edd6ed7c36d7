// A fake `fetch` for the web UI's component tests: an in-memory counter that keeps the HTTP contract
// (contract/: ETag and 304, idempotency keys, bounds, the audit trail with cursors, verify) closely enough for
// the UI to be tested without a server. Its bodies are typed by the contract, so they cannot drift from it. It also drops answers on request, to test the UI's retries.
// It is never a stand-in for the real API in anything but these tests: DynamoDB is not what they test.
// Identity (issue 11): with `requireTokens`, it refuses as the gateway's JWT authorizer does — 401 without a
// token it issued (or with one it revoked), 403 without the route's scope (contract/auth.ts, ROUTE_ACCESS) —
// records the caller as each event's actor, lets a writer read only its own events by key, and serves the
// page's `/config.json`.

import { ROUTE_ACCESS, SCOPES, needsToken, type RouteAccess } from "../../../contract/auth";
import { VALUE_MAX, VALUE_MIN } from "../../../contract/limits";
import { PROBLEMS, problemTypeOf, type ProblemName } from "../../../contract/problems";
import type {
  Action,
  Bounds,
  CommandApplied,
  EventView,
  NumberView,
  Problem,
  UiConfig,
  VerifyReport,
  Actor,
} from "../../../contract/schemas";
import type { HistoryEntry, HistoryPage } from "../../../web/src/api";

/** Someone the fake issued a token to. */
export interface FakeCaller {
  readonly sub: string;
  readonly name: string;
  readonly scopes: readonly string[];
}

/** What the fake does with the next POST /number, instead of answering it normally. */
export type CommandFault =
  /** The request never reaches the counter: fetch rejects, nothing is applied. */
  | { readonly kind: "lostRequest" }
  /** The counter applies the command, then the answer is lost: fetch rejects. */
  | { readonly kind: "lostAnswer" }
  /** The API answers with this status (429, 503…) and Retry-After, and applies nothing. */
  | { readonly kind: "status"; readonly status: 429 | 500 | 503; readonly retryAfterSeconds?: number };

/** The problem the fake answers for a status fault. */
const FAULT_PROBLEMS: Readonly<Record<429 | 500 | 503, ProblemName>> = {
  429: "throttled",
  500: "internal",
  503: "unavailable",
};

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly body: string | null;
}

interface StoredEvent extends EventView {
  readonly requestBody: string;
  /** Who made it; null when no token was needed (AUTH=off). */
  readonly actor: Actor | null;
}

export class FakeCounterApi {
  value = 0;
  version = 0;
  updatedAt: string | null = null;
  /** The bounds the counter is configured with, as GET /number tells them. */
  bounds: Bounds = { min: VALUE_MIN, max: VALUE_MAX };
  readonly events: StoredEvent[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Faults applied, in order, to the next POST /number requests. */
  readonly commandFaults: CommandFault[] = [];
  /** When set, every request fails as if the network were down. */
  unreachable = false;
  /** When set, the audit trail holds only events up to this version (a projector that is behind). */
  projectedVersionLimit: number | null = null;
  /** When set, GET /number/verify answers with this report instead of a computed one. */
  verificationReport: VerifyReport | null = null;
  /** What `/config.json` says; `auth: null` is AUTH=off. */
  uiConfig: UiConfig = { auth: null };
  /** AUTH=on: routes that need a token refuse without one (contract/auth.ts). */
  requireTokens = false;
  /** PUBLIC_READ: whether GET /number needs no token. */
  publicRead = true;
  /** The tokens the fake issued and still honours. */
  private readonly tokens = new Map<string, FakeCaller>();
  private tokensIssued = 0;
  /** Requests to these paths wait until `release()` is called: a way to see pending states. */
  private held: { path: RegExp; resolve: () => void; promise: Promise<void> } | null = null;
  private clockMs = Date.parse("2025-03-01T12:00:00.000Z");

  /** The `fetch` to hand to `createCounterApi`. */
  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(
      typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
      "http://ui.test",
    );
    const method = (init.method ?? "GET").toUpperCase();
    const headers = new Headers(init.headers);
    const body = typeof init.body === "string" ? init.body : null;
    this.requests.push({ method, path: url.pathname + url.search, headers, body });
    if (this.held !== null && this.held.path.test(url.pathname)) await this.held.promise;
    if (this.unreachable) throw new TypeError("Failed to fetch");
    if (url.pathname === "/config.json") return json(200, this.uiConfig);
    const caller = this.authorize(method, url.pathname, headers);
    if (caller instanceof Response) return caller;
    if (url.pathname === "/number" && method === "GET") return this.readNumber(headers);
    if (url.pathname === "/number" && method === "POST") return this.command(headers, body ?? "", caller);
    if (url.pathname.startsWith("/number/events/")) {
      return this.readEvent(decodeURIComponent(url.pathname.slice("/number/events/".length)), caller);
    }
    if (url.pathname === "/number/history") return this.readHistory(url.searchParams);
    if (url.pathname === "/number/verify") return json(200, this.verificationReport ?? this.verify());
    return problem("notFound", "There is nothing at this path.");
  };

  /** A token for `caller`, as the issuer would grant it. */
  issueToken(caller: FakeCaller): string {
    this.tokensIssued += 1;
    const token = `fake-token-${this.tokensIssued}-${caller.sub}`;
    this.tokens.set(token, caller);
    return token;
  }

  /** The token stops working, as an expired one does. */
  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  /** The caller of a request, null when the route needs no token; a 401 or 403 when it is refused. */
  private authorize(method: string, path: string, headers: Headers): FakeCaller | null | Response {
    if (!this.requireTokens) return null;
    const access = routeAccessOf(method, path);
    const token = /^Bearer (\S+)$/.exec(headers.get("Authorization") ?? "")?.[1];
    const caller = token === undefined ? undefined : this.tokens.get(token);
    if (access === undefined || !needsToken(access, this.publicRead)) return caller ?? null;
    if (caller === undefined) {
      return problem(
        "unauthorized",
        "The request needs a valid access token.",
        {},
        {
          "WWW-Authenticate": 'Bearer realm="counter-ledger"',
        },
      );
    }
    if (access.kind === "scoped" && !access.scopes.some((scope) => caller.scopes.includes(scope))) {
      return problem("forbidden", "The access token does not grant this.");
    }
    return caller;
  }

  /** Holds requests to matching paths until `release()`. */
  hold(path: RegExp): void {
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((done) => (resolve = done));
    this.held = { path, resolve, promise };
  }

  release(): void {
    this.held?.resolve();
    this.held = null;
  }

  /** A change made by someone else, straight into the fake's state. */
  applyElsewhere(
    action: Action,
    idempotencyKey = `elsewhere-${this.version + 1}`,
    caller: FakeCaller | null = null,
  ): void {
    this.apply(action, idempotencyKey, JSON.stringify({ action }), caller);
  }

  commandRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.method === "POST" && request.path === "/number");
  }

  private readNumber(headers: Headers): Response {
    const etag = `"${this.version}"`;
    if (headers.get("If-None-Match") === etag)
      return new Response(null, { status: 304, headers: { ETag: etag } });
    const view: NumberView = {
      value: this.value,
      version: this.version,
      updatedAt: this.updatedAt,
      bounds: this.bounds,
    };
    return json(200, view, { ETag: etag });
  }

  private command(headers: Headers, body: string, caller: FakeCaller | null): Response {
    const fault = this.commandFaults.shift();
    if (fault?.kind === "lostRequest") throw new TypeError("Failed to fetch");
    if (fault?.kind === "status") {
      const retryAfter: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { "Retry-After": String(fault.retryAfterSeconds) };
      return problem(FAULT_PROBLEMS[fault.status], "The service is unavailable; try again.", {}, retryAfter);
    }
    const idempotencyKey = headers.get("Idempotency-Key") ?? `server-made-${this.version + 1}`;
    const { action } = JSON.parse(body) as { action: Action };
    const existing = this.events.find((event) => event.id === idempotencyKey);
    let response: Response;
    if (existing !== undefined) {
      if (existing.requestBody !== body) {
        return problem("idempotencyKeyReused", "This idempotency key was already used for another request.");
      }
      response = json(200, answerOf(existing), {
        "Idempotent-Replayed": "true",
        "Idempotency-Key": idempotencyKey,
      });
    } else {
      const delta = action === "increment" ? 1 : -1;
      if (this.value + delta < this.bounds.min || this.value + delta > this.bounds.max) {
        const bound = delta < 0 ? this.bounds.min : this.bounds.max;
        return problem("outOfBounds", `The number is ${this.value} and cannot go past ${bound}.`, {
          value: this.value,
          bound,
        });
      }
      const event = this.apply(action, idempotencyKey, body, caller);
      response = json(200, answerOf(event), { "Idempotency-Key": idempotencyKey });
    }
    if (fault?.kind === "lostAnswer") throw new TypeError("Failed to fetch");
    return response;
  }

  private apply(
    action: Action,
    idempotencyKey: string,
    requestBody: string,
    caller: FakeCaller | null,
  ): StoredEvent {
    const delta = action === "increment" ? 1 : -1;
    this.clockMs += 1_000;
    const event: StoredEvent = {
      id: idempotencyKey,
      version: this.version + 1,
      action,
      delta,
      valueBefore: this.value,
      valueAfter: this.value + delta,
      at: new Date(this.clockMs).toISOString(),
      requestBody,
      actor: caller === null ? null : { sub: caller.sub, name: caller.name },
    };
    this.events.push(event);
    this.value = event.valueAfter;
    this.version = event.version;
    this.updatedAt = event.at;
    return event;
  }

  private readEvent(idempotencyKey: string, caller: FakeCaller | null): Response {
    // A writer reads only its own events; an auditor anyone's.
    const event = this.events.find(
      (candidate) =>
        candidate.id === idempotencyKey &&
        (caller === null || caller.scopes.includes(SCOPES.audit) || candidate.actor?.sub === caller.sub),
    );
    return event === undefined
      ? problem("notFound", "No event is recorded under that key.")
      : json(200, viewOf(event));
  }

  /** Newest first; the cursor is the version to continue below, as a string: opaque enough for a test. */
  private readHistory(parameters: URLSearchParams): Response {
    const limit = Number(parameters.get("limit") ?? "20");
    const projectedVersion = Math.min(this.version, this.projectedVersionLimit ?? this.version);
    const below = Number(parameters.get("cursor") ?? projectedVersion + 1);
    const trail: HistoryEntry[] = this.events
      .filter((event) => event.version <= projectedVersion && event.version < below)
      .sort((first, second) => second.version - first.version)
      .map((event) => ({
        version: event.version,
        action: event.action,
        delta: event.delta,
        valueBefore: event.valueBefore,
        valueAfter: event.valueAfter,
        at: event.at,
        eventId: event.id,
        actor: event.actor,
      }));
    const items = trail.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor = trail.length > limit && last !== undefined ? String(last.version) : null;
    const page: HistoryPage = { items, nextCursor, projectedVersion };
    return json(200, page);
  }

  private verify(): VerifyReport {
    const ledgerSum = this.events.reduce((sum, event) => sum + event.delta, 0);
    return {
      ok: ledgerSum === this.value,
      events: this.events.length,
      ledgerSum,
      aggregate: { value: this.value, version: this.version },
      readModel: { value: this.value, version: this.version },
      lag: { versions: 0, auditEntries: 0 },
      problems: [],
      problemsOmitted: 0,
      durationMs: 3,
    };
  }
}

function viewOf(event: StoredEvent): EventView {
  const { requestBody: _requestBody, ...view } = event;
  return view;
}

/** The access rule of a request, by its API Gateway route key; undefined for a path that is no route. */
function routeAccessOf(method: string, path: string): RouteAccess | undefined {
  const route = path.startsWith("/number/events/") ? "/number/events/{key}" : path;
  return ROUTE_ACCESS[`${method} ${route}`];
}

function answerOf(event: StoredEvent): CommandApplied {
  return { value: event.valueAfter, version: event.version, event: viewOf(event) };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function problem(
  name: ProblemName,
  detail: string,
  extensions: Readonly<Record<string, number>> = {},
  headers: Record<string, string> = {},
): Response {
  const { title, status } = PROBLEMS[name];
  const body: Problem = {
    type: problemTypeOf(name),
    title,
    status,
    detail,
    requestId: "test-request",
    ...extensions,
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/problem+json", ...headers },
  });
}
