// HTTP-level tests through the local runtime (the gateway and the real handlers on DynamoDB Local):
// every row of docs/api.md for POST /number, GET /number, GET /number/events/{key}, GET /health,
// GET /openapi.json, unknown paths and wrong methods, CORS, and what every refusal must never contain.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../local/dynamodb-local";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { createTestStore, type TestStore } from "../../support/store";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";

const ALLOWED_ORIGIN = "https://ui.example.org";

let store: TestStore;
let system: LocalSystem;

beforeAll(async () => {
  store = await createTestStore({
    ...LEDGER_ONLY_ENVIRONMENT,
    COUNTER_MAX: "5",
    CORS_ORIGINS: ALLOWED_ORIGIN,
  });
  system = await startLocalSystem({ environment: store.environment, port: 0 });
});

afterAll(async () => {
  await system.stop();
  store.client.destroy();
});

function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${system.url}/number`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });
}

async function expectProblem(
  response: Response,
  status: number,
  typeSuffix?: string,
): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(response.headers.get("x-request-id")).toBeTruthy();
  const text = await response.text();
  expect(text).not.toMatch(/Exception|arn:aws|test-[0-9a-f]{8}|counter-ledger-|\.ts:\d+|node_modules|stack/i);
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem).toMatchObject({
    status,
    title: expect.any(String) as unknown,
    detail: expect.any(String) as unknown,
  });
  expect(problem.requestId).toBe(response.headers.get("x-request-id"));
  if (typeSuffix !== undefined) expect(problem.type).toMatch(new RegExp(`/${typeSuffix}$`));
  return problem;
}

describe("POST /number over HTTP", () => {
  it("200 applied, then 200 replayed with the same body and no state change, then 422 for another action", async () => {
    const first = await post('{"action":"increment"}', { "Idempotency-Key": "http-1" });
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotency-key")).toBe("http-1");
    expect(first.headers.get("location")).toBe("/number/events/http-1");
    const firstBody = await first.text();
    const before: unknown = await (await fetch(`${system.url}/number`)).json();

    const replay = await post('{"action":"increment"}', { "Idempotency-Key": "http-1" });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.text()).toBe(firstBody);
    expect(await (await fetch(`${system.url}/number`)).json()).toEqual(before);

    await expectProblem(
      await post('{"action":"decrement"}', { "Idempotency-Key": "http-1" }),
      422,
      "idempotency-key-reused",
    );
    expect(await (await fetch(`${system.url}/number`)).json()).toEqual(before);
  });

  it("makes and returns a key when none is sent", async () => {
    const response = await post('{"action":"increment"}');
    expect(response.status).toBe(200);
    const key = response.headers.get("idempotency-key");
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    const event = await fetch(`${system.url}/number/events/${key}`);
    expect(event.status).toBe(200);
  });

  it("409 out of bounds with value and bound, and nothing written", async () => {
    for (let step = 0; step < 5; step++) await post('{"action":"increment"}');
    const before: unknown = await (await fetch(`${system.url}/number`)).json();
    const problem = await expectProblem(
      await post('{"action":"increment"}', { "Idempotency-Key": "over" }),
      409,
      "out-of-bounds",
    );
    expect(problem).toMatchObject({ value: 5, bound: 5 });
    expect(await (await fetch(`${system.url}/number`)).json()).toEqual(before);
    expect((await fetch(`${system.url}/number/events/over`)).status).toBe(404);
  });

  it.each([
    ["malformed JSON", "{"],
    ["an unknown field", '{"action":"increment","extra":true}'],
    ["a missing field", "{}"],
    ["a bad action", '{"action":"INCREMENT"}'],
    ["a deep nesting", `${"[".repeat(400)}${"]".repeat(400)}`],
    ["a huge number", '{"action":1e999999}'],
    ["a constructor key", '{"constructor":{"prototype":{}},"action":"increment"}'],
  ])("400 for %s", async (_, body) => {
    await expectProblem(await post(body, { "Idempotency-Key": "bad-body" }), 400, "bad-request");
  });

  it.each([
    ["an empty key", ""],
    ["a key with a space", "a b"],
    ["a 129-character key", "k".repeat(129)],
    ["a slash", "a/b"],
  ])("400 for %s", async (_, key) => {
    await expectProblem(await post('{"action":"increment"}', { "Idempotency-Key": key }), 400, "bad-request");
  });

  it("413 for a body over 1 KiB, and for one over the gateway's own limit", async () => {
    await expectProblem(
      await post(JSON.stringify({ action: "increment", pad: "x".repeat(2000) })),
      413,
      "payload-too-large",
    );
    await expectProblem(await post("x".repeat(200_000)), 413, "payload-too-large");
  });

  it("415 for a body that is not JSON", async () => {
    const response = await fetch(`${system.url}/number`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "action=increment",
    });
    await expectProblem(response, 415, "unsupported-media-type");
  });
});

describe("GET routes over HTTP", () => {
  it("GET /number tells the configured bounds beside the value", async () => {
    const response = await fetch(`${system.url}/number`);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["bounds", "updatedAt", "value", "version"]);
    expect(body.bounds).toEqual({ min: 0, max: 5 });
  });

  it("GET /number: 200 with ETag, then 304 without a body for If-None-Match", async () => {
    const response = await fetch(`${system.url}/number`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const etag = response.headers.get("etag") ?? "";
    const body = (await response.json()) as { version: number };
    expect(etag).toBe(`"${body.version}"`);
    const notModified = await fetch(`${system.url}/number`, { headers: { "If-None-Match": etag } });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe("");
    expect(notModified.headers.get("x-request-id")).toBeTruthy();
  });

  it("GET /number/events/{key}: 200 for a recorded key, 404 problem otherwise", async () => {
    await post('{"action":"decrement"}', { "Idempotency-Key": "lookup-1" });
    const found = await fetch(`${system.url}/number/events/lookup-1`);
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ id: "lookup-1", action: "decrement" });
    await expectProblem(await fetch(`${system.url}/number/events/nobody`), 404, "not-found");
    await expectProblem(await fetch(`${system.url}/number/events/%ZZ`), 404, "not-found");
  });

  it("GET /health and GET /openapi.json answer 200", async () => {
    expect(await (await fetch(`${system.url}/health`)).json()).toEqual({ status: "ok" });
    const openapi = await fetch(`${system.url}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
  });

  it("404 problem for an unknown path, 405 with Allow for a wrong method", async () => {
    await expectProblem(await fetch(`${system.url}/nowhere`), 404, "not-found");
    const wrong = await fetch(`${system.url}/number`, { method: "DELETE" });
    expect(wrong.headers.get("allow")).toBe("GET, HEAD, POST");
    await expectProblem(wrong, 405, "method-not-allowed");
    const wrongHealth = await fetch(`${system.url}/health`, { method: "POST" });
    expect(wrongHealth.headers.get("allow")).toBe("GET, HEAD");
    await expectProblem(wrongHealth, 405);
  });
});

describe("HEAD wherever GET is answered", () => {
  /** The headers a HEAD must share with its GET (RFC 9110 §9.3.2); X-Request-Id differs per request. */
  const SHARED_HEADERS = ["content-type", "cache-control", "etag", "allow"];

  it.each([
    ["/number", 200],
    ["/health", 200],
    ["/openapi.json", 200],
    ["/number/history?limit=1", 200],
    ["/number/events/head-1", 200],
    ["/number/events/nobody", 404],
    ["/nowhere", 404],
  ])("HEAD %s answers the status and headers of its GET (%i), with no body", async (path, status) => {
    await post('{"action":"decrement"}', { "Idempotency-Key": "head-1" });
    const get = await fetch(`${system.url}${path}`);
    await get.arrayBuffer();
    const head = await fetch(`${system.url}${path}`, { method: "HEAD" });
    expect(get.status).toBe(status);
    expect(head.status).toBe(status);
    for (const name of SHARED_HEADERS) expect(head.headers.get(name), name).toBe(get.headers.get(name));
    expect(head.headers.get("x-request-id")).toBeTruthy();
    expect(await head.text()).toBe("");
  });

  it("HEAD /number with the current ETag answers 304 like its GET", async () => {
    const etag = (await fetch(`${system.url}/number`, { method: "HEAD" })).headers.get("etag") ?? "";
    const head = await fetch(`${system.url}/number`, { method: "HEAD", headers: { "If-None-Match": etag } });
    expect(head.status).toBe(304);
    expect(head.headers.get("etag")).toBe(etag);
  });

  it.each(["/number/verify", "/number/digest", "/number/events/head-1/proof"])(
    "HEAD %s, an audit route, is a 405 allowing GET alone: the function that answers HEAD does not run it",
    async (path) => {
      const head = await fetch(`${system.url}${path}`, { method: "HEAD" });
      expect(head.status).toBe(405);
      expect(head.headers.get("allow")).toBe("GET");
      const wrong = await fetch(`${system.url}${path}`, { method: "DELETE" });
      expect(wrong.headers.get("allow")).toBe("GET");
      await expectProblem(wrong, 405, "method-not-allowed");
    },
  );

  it("a path that answers GET names HEAD in Allow for a wrong method", async () => {
    const wrong = await fetch(`${system.url}/health`, { method: "POST" });
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    await expectProblem(wrong, 405, "method-not-allowed");
  });
});

describe("CORS", () => {
  it("answers a preflight from a configured origin", async () => {
    const response = await fetch(`${system.url}/number`, {
      method: "OPTIONS",
      headers: { Origin: ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
    expect(response.headers.get("access-control-allow-headers")).toMatch(/Idempotency-Key/);
    const simple = await fetch(`${system.url}/number`, { headers: { Origin: ALLOWED_ORIGIN } });
    expect(simple.headers.get("access-control-expose-headers")).toMatch(/ETag/);
  });

  it("gives no CORS grant to any other origin", async () => {
    const response = await fetch(`${system.url}/number`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.status).toBe(405);
  });
});

describe("a store that cannot be reached", () => {
  it("503 with Retry-After on commands, reads and health; safe to retry with the same key", async () => {
    const port = await freePort();
    const broken = await startLocalSystem({
      environment: { ...store.environment, DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}` },
      port: 0,
    });
    try {
      for (const response of [
        await fetch(`${broken.url}/number`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": "later" },
          body: '{"action":"increment"}',
        }),
        await fetch(`${broken.url}/number`),
        await fetch(`${broken.url}/health`),
      ]) {
        expect(response.headers.get("retry-after")).toBe("1");
        await expectProblem(response, 503, "unavailable");
      }
    } finally {
      await broken.stop();
    }
    const retried = await post('{"action":"decrement"}', { "Idempotency-Key": "later" });
    expect(retried.status).toBe(200);
  });
});
