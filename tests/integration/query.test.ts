// The query handler against DynamoDB Local, with real API Gateway envelopes: the read routes of docs/api.md,
// the `$default` route's 404 and 405, and a safe 503 when the store cannot be reached.

import { beforeAll, describe, expect, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import { createDocumentClient } from "../../services/ledger/storage/clients";
import { loadLedgerConfig } from "../../services/ledger/config";
import { createQueryHandler, ifNoneMatchHits, type QueryHandler } from "../../services/query/handler";
import { createLogger, type LogLine } from "../../services/ledger/log";
import { freePort } from "../../local/dynamodb-local";
import { commandEvent, httpEvent } from "../support/fixtures";
import { createTestStore, type TestStore } from "../support/store";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

let store: TestStore;
let query: QueryHandler;

function get(path: string, routeKey: string, extra: Partial<Parameters<typeof httpEvent>[0]> = {}) {
  return query(httpEvent({ method: "GET", path, routeKey, ...extra }));
}

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
  query = createQueryHandler({ client: store.client, config: store.config, log: () => undefined });
  const committer = new Committer({ client: store.client, config: store.config });
  const command = createCommandHandler({ committer, config: store.config, log: () => undefined });
  await command(commandEvent("increment", "seen-1"));
  await command(commandEvent("increment", "seen-2"));
});

describe("GET /number", () => {
  it("answers the aggregate, strongly consistent, with ETag and no-store", async () => {
    const result = await get("/number", "GET /number");
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({ ETag: '"2"', "Cache-Control": "no-store" });
    expect(JSON.parse(result.body ?? "")).toMatchObject({
      value: 2,
      version: 2,
      updatedAt: expect.any(String) as unknown,
    });
  });

  it("answers 304 without a body when If-None-Match names the current ETag", async () => {
    const result = await get("/number", "GET /number", { headers: { "if-none-match": '"2"' } });
    expect(result.statusCode).toBe(304);
    expect(result.body).toBeUndefined();
    expect(result.headers?.ETag).toBe('"2"');
  });

  it("answers 200 when If-None-Match names an older version", async () => {
    const result = await get("/number", "GET /number", { headers: { "if-none-match": '"1"' } });
    expect(result.statusCode).toBe(200);
  });

  it("starts a new counter at value 0, version 0, updatedAt null", async () => {
    const fresh = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
    const freshQuery = createQueryHandler({
      client: fresh.client,
      config: fresh.config,
      log: () => undefined,
    });
    const result = await freshQuery(httpEvent({ method: "GET", path: "/number" }));
    expect(JSON.parse(result.body ?? "")).toEqual({
      value: 0,
      version: 0,
      updatedAt: null,
      bounds: { min: 0, max: 1_000_000_000 },
    });
  });
});

describe("If-None-Match", () => {
  it("compares weakly, in lists, and with *", () => {
    expect(ifNoneMatchHits('W/"3"', '"3"')).toBe(true);
    expect(ifNoneMatchHits('"1", "3"', '"3"')).toBe(true);
    expect(ifNoneMatchHits("*", '"3"')).toBe(true);
    expect(ifNoneMatchHits('"31"', '"3"')).toBe(false);
    expect(ifNoneMatchHits(undefined, '"3"')).toBe(false);
  });
});

describe("GET /number/events/{key}", () => {
  it("answers the event recorded under a key", async () => {
    const result = await get("/number/events/seen-2", "GET /number/events/{key}", {
      pathParameters: { key: "seen-2" },
    });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? "")).toMatchObject({
      id: "seen-2",
      version: 2,
      valueBefore: 1,
      valueAfter: 2,
    });
  });

  it("answers 404 problem for a key never used, and for a malformed key, without echoing it", async () => {
    for (const key of ["never-used", "bad key", "x".repeat(300)]) {
      const result = await get(`/number/events/${encodeURIComponent(key)}`, "GET /number/events/{key}", {
        pathParameters: { key },
      });
      expect(result.statusCode).toBe(404);
      expect(result.headers?.["Content-Type"]).toMatch(/^application\/problem\+json/);
      expect(result.body).not.toContain("x".repeat(65));
    }
  });
});

describe("the $default route", () => {
  it("answers 404 problem for an unknown path", async () => {
    const result = await get("/nothing/here", "$default");
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body ?? "")).toMatchObject({
      status: 404,
      type: expect.stringMatching(/\/not-found$/) as unknown,
    });
  });

  it("answers 405 with Allow for a known path and a wrong method", async () => {
    const result = await query(httpEvent({ method: "DELETE", path: "/number", routeKey: "$default" }));
    expect(result.statusCode).toBe(405);
    expect(result.headers?.Allow).toBe("GET, HEAD, POST");
  });

  it("answers a HEAD, which API Gateway routes to $default, with its GET's status and headers and no body", async () => {
    for (const path of ["/number", "/health", "/number/events/seen-1", "/number/events/never-used"]) {
      const viaGet = await query(httpEvent({ method: "GET", path, routeKey: "$default" }));
      const viaHead = await query(httpEvent({ method: "HEAD", path, routeKey: "$default" }));
      expect(viaHead.statusCode, path).toBe(viaGet.statusCode);
      const { "X-Request-Id": _headId, ...headHeaders } = viaHead.headers ?? {};
      const { "X-Request-Id": _getId, ...getHeaders } = viaGet.headers ?? {};
      expect(headHeaders, path).toEqual(getHeaders);
      expect(viaHead.body, path).toBeUndefined();
    }
  });

  it("serves a routed GET that reached it through $default", async () => {
    const result = await get("/health", "$default");
    expect(result.statusCode).toBe(200);
  });
});

describe("GET /health and GET /openapi.json", () => {
  it("answers ok once the store answers", async () => {
    const result = await get("/health", "GET /health");
    expect(JSON.parse(result.body ?? "")).toEqual({ status: "ok" });
  });

  it("serves the OpenAPI document", async () => {
    const result = await get("/openapi.json", "GET /openapi.json");
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? "")).toMatchObject({
      openapi: expect.stringMatching(/^3\.1/) as unknown,
    });
  });
});

describe("an unreachable store", () => {
  it("gives 503 problems with Retry-After and no internal names, on reads and on commands", async () => {
    const port = await freePort();
    const config = loadLedgerConfig({ ...store.environment, DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}` });
    const client = createDocumentClient(config);
    const unreachableQuery = createQueryHandler({ client, config, log: () => undefined });
    const committer = new Committer({ client, config });
    const unreachableCommand = createCommandHandler({ committer, config, log: () => undefined });
    const results = [
      await unreachableQuery(httpEvent({ method: "GET", path: "/health" })),
      await unreachableQuery(httpEvent({ method: "GET", path: "/number" })),
      await unreachableCommand(commandEvent("increment", "nowhere")),
    ];
    for (const result of results) {
      expect(result.statusCode).toBe(503);
      expect(result.headers?.["Retry-After"]).toBe("1");
      expect(result.body).not.toMatch(/ECONNREFUSED|Exception|127\.0\.0\.1|test-|arn:/);
    }
    client.destroy();
  });
});

describe("the request log line", () => {
  it("is at debug for the polls of an open UI tab (GET /number 200 and 304, GET /health), at info otherwise", async () => {
    const lines: LogLine[] = [];
    const logged = createQueryHandler({
      client: store.client,
      config: store.config,
      log: (line) => lines.push(line),
    });
    const committer = new Committer({ client: store.client, config: store.config });
    const command = createCommandHandler({
      committer,
      config: store.config,
      log: (line) => lines.push(line),
    });
    const current = await logged(httpEvent({ method: "GET", path: "/number", routeKey: "GET /number" }));
    await logged(
      httpEvent({
        method: "GET",
        path: "/number",
        routeKey: "GET /number",
        headers: { "if-none-match": String(current.headers?.ETag) },
      }),
    );
    await logged(httpEvent({ method: "GET", path: "/health", routeKey: "GET /health" }));
    await logged(httpEvent({ method: "HEAD", path: "/number", routeKey: "$default" }));
    await logged(httpEvent({ method: "GET", path: "/number/history", routeKey: "GET /number/history" }));
    await logged(httpEvent({ method: "GET", path: "/nowhere", routeKey: "$default" }));
    await command(commandEvent("increment", "logged-1"));
    const requests = lines
      .filter((line) => line.message === "request")
      .map(({ level, route, status }) => ({ level, route, status }));
    expect(requests).toEqual([
      { level: "debug", route: "GET /number", status: 200 },
      { level: "debug", route: "GET /number", status: 304 },
      { level: "debug", route: "GET /health", status: 200 },
      { level: "debug", route: "GET /number", status: 200 },
      { level: "info", route: "GET /number/history", status: 200 },
      { level: "info", route: "$default", status: 404 },
      { level: "info", route: "POST /number", status: 200 },
    ]);
  });

  it("is dropped at debug unless LOG_LEVEL is debug", () => {
    const printed: string[] = [];
    const original = console.log;
    console.log = (text: string) => printed.push(text);
    try {
      createLogger("query", { LOG_LEVEL: "info" })({ level: "debug", message: "request" });
      createLogger("query", {})({ level: "debug", message: "request" });
      createLogger("query", { LOG_LEVEL: "debug" })({ level: "debug", message: "request" });
    } finally {
      console.log = original;
    }
    expect(printed).toHaveLength(1);
  });
});
