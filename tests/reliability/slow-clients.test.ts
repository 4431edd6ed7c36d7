// Slow clients against the local gateway (slowloris): headers sent byte by byte, a body dripped slowly, a
// connection that never says anything. The gateway runs with the real handlers on DynamoDB Local and
// test-friendly timeouts (the defaults are 10 s for headers and 30 s for the whole request).
// Proves: each slow client is cut off by the server's own timeouts with a 408 problem (or a close), close to
// the configured time; while dozens of them hang on, other clients are served at once; and a slow command
// writes nothing.

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../../local/gateway";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import { createAuditHandler, createQueryHandler } from "../../services/query/handler";
import { readLedger } from "../support/invariants";
import { createTestStore, type TestStore } from "../support/store";
import { byteByByte, sendRaw } from "./support/raw-http";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

// Long enough that, on a loaded machine, another client's request (a store round trip) is answered well before
// the slow clients are cut off: the ordering the last test checks must not depend on the machine's speed.
const HEADERS_TIMEOUT_MS = 2_500;
const REQUEST_TIMEOUT_MS = 3_500;
/** How late past its timeout a slow client may still be connected: the check interval plus scheduling. */
const CUT_OFF_SLACK_MS = 1_500;
const SLOW_CLIENTS = 40;

let store: TestStore;
let gateway: Server;
let port: number;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
  const quiet = (): void => undefined;
  gateway = createGateway({
    handlers: {
      command: createCommandHandler({
        committer: new Committer({ client: store.client, config: store.config }),
        config: store.config,
        log: quiet,
      }),
      query: createQueryHandler({ client: store.client, config: store.config, log: quiet }),
      audit: createAuditHandler({ client: store.client, config: store.config, log: quiet }),
    },
    timeouts: {
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: 500,
    },
  });
  await new Promise<void>((listening) => gateway.listen(0, "127.0.0.1", () => listening()));
  port = (gateway.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((closed) => {
    gateway?.close(() => closed());
    gateway?.closeAllConnections();
  });
  store?.client.destroy();
});

/** Headers that never end: one byte every `intervalMs`, for far longer than any timeout. */
function endlessHeaders(): Buffer[] {
  return byteByByte(`GET /number HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"a".repeat(400)}`);
}

describe("slow clients (slowloris) against the gateway", () => {
  it("headers sent byte by byte are cut off at the header timeout with a 408 problem", async () => {
    const answer = await sendRaw(port, endlessHeaders(), { timeoutMs: 10_000, pieceIntervalMs: 20 });
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(answer.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + CUT_OFF_SLACK_MS);
    expect(answer.status).toBe(408);
    expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(answer.body.toString("utf8"))).toMatchObject({ status: 408 });
  });

  it("a connection that never sends a byte is closed at the header timeout", async () => {
    const answer = await sendRaw(port, [], { timeoutMs: 10_000 });
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + CUT_OFF_SLACK_MS);
  });

  it("a command whose body is dripped is cut off at the request timeout and writes nothing", async () => {
    const key = randomUUID();
    const head = Buffer.from(
      `POST /number HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nIdempotency-Key: ${key}\r\n` +
        "Content-Length: 22\r\n\r\n",
    );
    // The whole body would take 22 × 250 ms, far past the request timeout.
    const answer = await sendRaw(port, [head, ...byteByByte('{"action":"increment"}')], {
      timeoutMs: 10_000,
      pieceIntervalMs: 250,
    });
    expect(answer.closedByServer).toBe(true);
    expect(answer.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + CUT_OFF_SLACK_MS);
    expect([0, 408]).toContain(answer.status);
    expect((await readLedger(store)).map((event) => event.idempotencyKey)).not.toContain(key);
  });

  it(`while ${SLOW_CLIENTS} slow clients hang on, another client is served at once, and all of them are cut off`, async () => {
    const slow = Array.from({ length: SLOW_CLIENTS }, () =>
      sendRaw(port, endlessHeaders(), { timeoutMs: 10_000, pieceIntervalMs: 25 }),
    );
    const slowStartedAtMs = Date.now();
    await new Promise((wake) => setTimeout(wake, 200));
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    const servedAfterMs = Date.now() - slowStartedAtMs;
    expect(health.status).toBe(200);
    const answers = await Promise.all(slow);
    // Served while every slow client was still holding its connection, not after they were cut off.
    expect(servedAfterMs).toBeLessThan(Math.min(...answers.map((answer) => answer.elapsedMs)));
    for (const answer of answers) {
      expect(answer.closedByServer).toBe(true);
      expect(answer.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + CUT_OFF_SLACK_MS);
    }
  });
});
