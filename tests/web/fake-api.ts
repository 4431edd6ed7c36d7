// A fake `fetch` for the web UI's component tests: an in-memory counter that keeps the HTTP contract of
// API.md (ETag and 304, idempotency keys, bounds, the audit trail with cursors, verify) closely enough for
// the UI to be tested without a server. It also drops answers on request, to test the UI's retries.
// It is never a stand-in for the real API in anything but these tests: DynamoDB is not what they test.

import type { EventView, HistoryEntry, VerificationReport } from "../../web/src/api";

/** What the fake does with the next POST /number, instead of answering it normally. */
export type CommandFault =
  /** The request never reaches the counter: fetch rejects, nothing is applied. */
  | { readonly kind: "lostRequest" }
  /** The counter applies the command, then the answer is lost: fetch rejects. */
  | { readonly kind: "lostAnswer" }
  /** The API answers with this status (429, 503…) and Retry-After, and applies nothing. */
  | { readonly kind: "status"; readonly status: number; readonly retryAfterSeconds?: number };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly body: string | null;
}

interface StoredEvent extends EventView {
  readonly requestBody: string;
}

export class FakeCounterApi {
  value = 0;
  version = 0;
  /** The configured bounds, as `GET /number` tells them (COUNTER_MIN, COUNTER_MAX). */
  bounds = { min: 0, max: 1_000_000_000 };
  updatedAt: string | null = null;
  readonly events: StoredEvent[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Faults applied, in order, to the next POST /number requests. */
  readonly commandFaults: CommandFault[] = [];
  /** When set, every request fails as if the network were down. */
  unreachable = false;
  /** When set, the audit trail holds only events up to this version (a projector that is behind). */
  projectedVersionLimit: number | null = null;
  /** When set, GET /number/verify answers with this report instead of a computed one. */
  verificationReport: VerificationReport | null = null;
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
    if (url.pathname === "/number" && method === "GET") return this.readNumber(headers);
    if (url.pathname === "/number" && method === "POST") return this.command(headers, body ?? "");
    if (url.pathname.startsWith("/number/events/")) {
      return this.readEvent(decodeURIComponent(url.pathname.slice("/number/events/".length)));
    }
    if (url.pathname === "/number/history") return this.readHistory(url.searchParams);
    if (url.pathname === "/number/verify") return json(200, this.verificationReport ?? this.verify());
    return problem(404, "not-found", "There is nothing at this path.");
  };

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
  applyElsewhere(action: "increment" | "decrement", idempotencyKey = `elsewhere-${this.version + 1}`): void {
    this.apply(action, idempotencyKey, JSON.stringify({ action }));
  }

  commandRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.method === "POST" && request.path === "/number");
  }

  private readNumber(headers: Headers): Response {
    const etag = `"${this.version}"`;
    if (headers.get("If-None-Match") === etag)
      return new Response(null, { status: 304, headers: { ETag: etag } });
    const body = { value: this.value, version: this.version, updatedAt: this.updatedAt, bounds: this.bounds };
    return json(200, body, { ETag: etag });
  }

  private command(headers: Headers, body: string): Response {
    const fault = this.commandFaults.shift();
    if (fault?.kind === "lostRequest") throw new TypeError("Failed to fetch");
    if (fault?.kind === "status") {
      const retryAfter: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { "Retry-After": String(fault.retryAfterSeconds) };
      return problem(fault.status, "unavailable", "The service is unavailable; try again.", retryAfter);
    }
    const idempotencyKey = headers.get("Idempotency-Key") ?? `server-made-${this.version + 1}`;
    const { action } = JSON.parse(body) as { action: "increment" | "decrement" };
    const existing = this.events.find((event) => event.id === idempotencyKey);
    let response: Response;
    if (existing !== undefined) {
      if (existing.requestBody !== body) {
        return problem(
          422,
          "idempotency-key-reused",
          "This idempotency key was already used for another request.",
        );
      }
      response = json(200, answerOf(existing), {
        "Idempotent-Replayed": "true",
        "Idempotency-Key": idempotencyKey,
      });
    } else {
      const delta = action === "increment" ? 1 : -1;
      if (this.value + delta < this.bounds.min || this.value + delta > this.bounds.max) {
        const bound = delta < 0 ? this.bounds.min : this.bounds.max;
        return problem(409, "out-of-bounds", `The number is ${this.value} and cannot go past ${bound}.`);
      }
      const event = this.apply(action, idempotencyKey, body);
      response = json(200, answerOf(event), { "Idempotency-Key": idempotencyKey });
    }
    if (fault?.kind === "lostAnswer") throw new TypeError("Failed to fetch");
    return response;
  }

  private apply(action: "increment" | "decrement", idempotencyKey: string, requestBody: string): StoredEvent {
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
    };
    this.events.push(event);
    this.value = event.valueAfter;
    this.version = event.version;
    this.updatedAt = event.at;
    return event;
  }

  private readEvent(idempotencyKey: string): Response {
    const event = this.events.find((candidate) => candidate.id === idempotencyKey);
    return event === undefined
      ? problem(404, "not-found", "No event was recorded under this key.")
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
        eventId: `counter#${event.id}`,
      }));
    const items = trail.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor = trail.length > limit && last !== undefined ? String(last.version) : null;
    return json(200, { items, nextCursor, projectedVersion });
  }

  private verify(): VerificationReport {
    const ledgerSum = this.events.reduce((sum, event) => sum + event.delta, 0);
    return {
      ok: ledgerSum === this.value,
      events: this.events.length,
      ledgerSum,
      aggregate: { value: this.value, version: this.version },
      readModel: { value: this.value, version: this.version },
      problems: [],
      durationMs: 3,
    };
  }
}

function viewOf(event: StoredEvent): EventView {
  const { requestBody: _requestBody, ...view } = event;
  return view;
}

function answerOf(event: StoredEvent): { value: number; version: number; event: EventView } {
  return { value: event.valueAfter, version: event.version, event: viewOf(event) };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function problem(
  status: number,
  slug: string,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(
    JSON.stringify({
      type: `https://counter-ledger.dev/problems/${slug}`,
      title: slug,
      status,
      detail,
      requestId: "test-request",
    }),
    { status, headers: { "Content-Type": "application/problem+json", ...headers } },
  );
}
