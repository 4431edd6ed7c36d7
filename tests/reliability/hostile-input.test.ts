// Hostile input over raw HTTP (node:net) against the local runtime: fast-check generated requests — methods,
// request targets (path traversal, broken escapes, absolute and invalid URLs), headers (Idempotency-Key edge
// cases, content types, broken framing, oversized headers) and bodies (deep nesting, huge numbers, `__proto__`
// and `constructor` keys, invalid UTF-8, a BOM, UTF-16, oversize). Proves: never a 5xx, never a silent close,
// every refusal is problem+json with a safe detail and the request id, nothing outside the web root is served,
// and no request that is not a valid command changes the aggregate, the ledger or the read model.

import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../local/system";
import { stateEntryKey } from "../../services/ledger/storage/read-model";
import { createTestStore, type TestStore } from "../support/store";
import { waitForConvergence } from "../../testkit/convergence";
import { sendRaw, type RawAnswer } from "./support/raw-http";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

const SECRET_MARKER = `TOP-SECRET-${randomUUID()}`;
const RUNS = Number(process.env.HOSTILE_INPUT_RUNS ?? 250);
const RAW_TIMEOUT_MS = 5_000;

let store: TestStore;
let system: LocalSystem;
let port: number;

beforeAll(async () => {
  store = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, COUNTER_MAX: "1000" });
  // A web root with a secret beside it: path traversal must never reach the secret.
  const directory = mkdtempSync(join(tmpdir(), "hostile-web-"));
  const webRoot = join(directory, "web");
  mkdirSync(join(webRoot, "assets"), { recursive: true });
  writeFileSync(join(webRoot, "index.html"), "<!doctype html><title>counter</title>");
  writeFileSync(join(directory, "secret.txt"), SECRET_MARKER);
  system = await startLocalSystem({ environment: store.environment, port: 0, webRoot });
  port = Number(new URL(system.url).port);
  // Some state to protect: a few events, projected.
  for (const action of ["increment", "increment", "decrement", "increment"]) {
    const response = await fetch(`${system.url}/number`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": randomUUID() },
      body: JSON.stringify({ action }),
    });
    expect(response.status).toBe(200);
  }
  await waitForConvergence(system.url, 20_000);
});

afterAll(async () => {
  await system?.stop();
  store?.client.destroy();
});

// ——— what a request is made of; `permitsCommand` is false for a part that by itself makes POST /number invalid ———

interface Part<T> {
  readonly value: T;
  readonly permitsCommand: boolean;
}

const VALID_COMMAND_BODIES = [
  '{"action":"increment"}',
  '{"action":"decrement"}',
  ' { "action" : "increment" } ',
];

function deepNesting(depth: number, open: string, close: string): string {
  return `{"action":${open.repeat(depth)}"increment"${close.repeat(depth)}}`;
}

/** Bodies that are never a valid command, each a classic: JSON edge cases, prototype keys, a BOM. */
const HOSTILE_BODY_TEXTS: readonly string[] = [
  "",
  "null",
  "[]",
  "{}",
  '"increment"',
  "increment",
  '{"action":"increment"',
  '{"action":"Increment"}',
  '{"action":"increment "}',
  '{"action":null}',
  '{"action":1e999999}',
  '{"action":-0}',
  '{"action":123456789012345678901234567890123456789}',
  '{"action":"increment","amount":1e308}',
  '{"action":"increment","count":99999999999999999999999}',
  '{"__proto__":{"action":"increment"}}',
  '{"action":"increment","__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"action":"increment"}}}',
  '{"action":"constructor"}',
  '{"action":"__proto__"}',
  '{"action":"toString"}',
  '{"action":"hasOwnProperty"}',
  '{"action":["increment"]}',
  '{"action":{"$eq":"increment"}}',
  '{"action":"increment\\u0000"}',
  '{"action":"incr\\u0065ment","x":1}',
  "\uFEFF" + '{"action":"increment"}',
];

const hostileBodies: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...HOSTILE_BODY_TEXTS).map((text) => Buffer.from(text, "utf8")) },
  fc.integer({ min: 1, max: 200_000 }).map((depth) => Buffer.from(deepNesting(depth, "[", "]"))),
  fc
    .integer({ min: 1, max: 5_000 })
    .map((depth) => Buffer.from(`${'{"a":'.repeat(depth)}"increment"${"}".repeat(depth)}`)),
  // Invalid UTF-8: a lone continuation byte, an overlong slash, a truncated sequence, a surrogate half.
  fc
    .constantFrom([0xff], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc3, 0x28])
    .map((bytes) =>
      Buffer.concat([Buffer.from('{"action":"incr'), Buffer.from(bytes), Buffer.from('ement"}')]),
    ),
  fc.constant(Buffer.from('{"action":"increment"}', "utf16le")),
  // Over the contract's 1 KiB, and over the gateway's 64 KiB.
  fc
    .constantFrom(1_025, 4_096, 70_000, 300_000)
    .map((size) => Buffer.from(`{"action":"increment"}${" ".repeat(size)}`)),
  fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text, "utf8")),
  fc.string({ maxLength: 200, unit: "binary" }).map((text) => Buffer.from(text, "utf8")),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);

/** True for a body that is a well-formed command: random generators may, very rarely, make one. */
function isWellFormedCommand(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body),
    ) as unknown;
    return (
      typeof parsed === "object" &&
      parsed !== null &&
      Object.keys(parsed).length === 1 &&
      ["increment", "decrement"].includes(String((parsed as { action?: unknown }).action))
    );
  } catch {
    return false;
  }
}

const bodies: fc.Arbitrary<Part<Buffer>> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...VALID_COMMAND_BODIES)
      .map((text) => ({ value: Buffer.from(text), permitsCommand: true })),
  },
  {
    weight: 4,
    arbitrary: hostileBodies.map((body) => ({ value: body, permitsCommand: isWellFormedCommand(body) })),
  },
);

const methods = fc.constantFrom(
  "GET",
  "POST",
  "POST",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "HEAD",
  "TRACE",
  "CONNECT",
  "PROPFIND",
  "FOO",
  "get",
);

const KEY_EDGE_CASES: readonly Part<string>[] = [
  { value: "", permitsCommand: false },
  { value: " ", permitsCommand: false },
  { value: "a".repeat(129), permitsCommand: false },
  { value: '""', permitsCommand: false },
  { value: `"${"a".repeat(129)}"`, permitsCommand: false },
  { value: '"a"b"', permitsCommand: false },
  { value: "a b", permitsCommand: false },
  { value: "a,b", permitsCommand: false },
  { value: "../../etc/passwd", permitsCommand: false },
  { value: "%41%42", permitsCommand: false },
  { value: "k\u00e9y", permitsCommand: false },
  { value: "key;drop table", permitsCommand: false },
  { value: "a".repeat(128), permitsCommand: true },
  { value: '"quoted-key"', permitsCommand: true },
  { value: "__proto__", permitsCommand: true },
  { value: "constructor", permitsCommand: true },
];

const targets: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "/number",
    "/number/",
    "//number",
    "/number?action=increment",
    "/NUMBER",
    "/number/events/",
    "/number/events/%",
    "/number/events/%E0%A4%A",
    "/number/events/%00",
    "/number/events/..%2f..%2fsecret.txt",
    "/number/events/__proto__",
    "/number/events/constructor",
    `/number/events/${"k".repeat(3000)}`,
    "/number/history?limit=-1",
    "/number/history?limit=1e309",
    "/number/history?limit=99999999999999999999",
    "/number/history?cursor=%7B%22__proto__%22%3A1%7D",
    "/number/history?cursor=AAAA&cursor=BBBB",
    "/number/history?order=sideways&limit=abc",
    "/number/verify?deep=1",
    "/health",
    "/openapi.json",
    "/../secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/assets/../../secret.txt",
    "/%00",
    "/%",
    "/index.html%00.json",
    "*",
    "http://[",
    "http://a:b@",
    "http://127.0.0.1:1/number",
    "http://x:99999/",
    "//[",
    "/\u00e9t\u00e9",
  ),
  fc.webPath(),
  fc.string({ maxLength: 40 }).map((text) => `/number/events/${encodeURIComponent(text)}`),
  fc.string({ maxLength: 40 }).map((text) => `/number/history?cursor=${encodeURIComponent(text)}`),
);

const SHORTER_CONTENT_LENGTH = "Content-Length: <half the body>";

interface ExtraHeader {
  readonly lines: readonly string[];
  readonly permitsCommand: boolean;
}

const extraHeaders: fc.Arbitrary<ExtraHeader> = fc.oneof(
  fc.constantFrom<ExtraHeader>(
    { lines: ["Origin: https://evil.example"], permitsCommand: true },
    { lines: ['If-None-Match: "1", W/"2", *'], permitsCommand: true },
    { lines: ["Cookie: session=abc; __proto__=x"], permitsCommand: true },
    { lines: ["Idempotency-Key: one", "Idempotency-Key: two"], permitsCommand: false },
    { lines: [`X-Padding: ${"a".repeat(20_000)}`], permitsCommand: false },
    { lines: ["Transfer-Encoding: chunked"], permitsCommand: false },
    { lines: ["Expect: 100-continue"], permitsCommand: true },
    { lines: ["Bad Header: spaces in the name"], permitsCommand: false },
    { lines: ["X-Null: a\u0000b"], permitsCommand: false },
    // Declares half the body (a command cut in half is never valid; the rest arrives as a broken second
    // request); never more than the body, which would only be a slow client (slow-clients.test.ts).
    { lines: [SHORTER_CONTENT_LENGTH], permitsCommand: false },
    { lines: ["Host: "], permitsCommand: true },
    { lines: ["Accept: */*"], permitsCommand: true },
  ),
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
      fc.string({ maxLength: 60, unit: "grapheme-ascii" }),
    )
    .filter(
      ([name]) =>
        !/^(content-length|transfer-encoding|idempotency-key|content-type|connection|expect|host)$/i.test(
          name,
        ),
    )
    .map(([name, value]) => ({ lines: [`${name}: ${value.replace(/[\r\n]/g, "")}`], permitsCommand: true })),
);

const contentTypes: fc.Arbitrary<Part<string | undefined>> = fc.constantFrom<Part<string | undefined>>(
  { value: "application/json", permitsCommand: true },
  { value: "application/json; charset=utf-8", permitsCommand: true },
  { value: "APPLICATION/JSON", permitsCommand: true },
  { value: undefined, permitsCommand: false },
  { value: "text/plain", permitsCommand: false },
  { value: "application/json; charset=latin1", permitsCommand: false },
  { value: "application/x-www-form-urlencoded", permitsCommand: false },
  { value: "multipart/form-data; boundary=x", permitsCommand: false },
  { value: "", permitsCommand: false },
);

const idempotencyKeys: fc.Arbitrary<Part<string | undefined>> = fc.oneof(
  fc.constant<Part<string | undefined>>({ value: undefined, permitsCommand: true }),
  fc.uuid().map((key) => ({ value: key, permitsCommand: true })),
  fc.constantFrom(...KEY_EDGE_CASES),
);

const versions = fc.constantFrom<Part<string>>(
  { value: "HTTP/1.1", permitsCommand: true },
  { value: "HTTP/1.1", permitsCommand: true },
  { value: "HTTP/1.0", permitsCommand: true },
  // Node's HTTP/1 parser takes a request that says HTTP/2.0 as it is: a valid command still, not a hostile one.
  { value: "HTTP/2.0", permitsCommand: true },
  { value: "HTTP/1.1 extra", permitsCommand: false },
);

interface HostileRequest {
  readonly method: string;
  readonly target: string;
  readonly version: Part<string>;
  readonly contentType: Part<string | undefined>;
  readonly idempotencyKey: Part<string | undefined>;
  readonly extra: readonly ExtraHeader[];
  readonly body: Part<Buffer>;
}

/** A valid command would legitimately change the state: such requests are left out, everything else is in. */
function couldBeValidCommand(request: HostileRequest): boolean {
  return (
    request.method === "POST" &&
    ["/number", "/number?action=increment", "http://127.0.0.1:1/number"].includes(request.target) &&
    request.version.permitsCommand &&
    request.contentType.permitsCommand &&
    request.idempotencyKey.permitsCommand &&
    request.extra.every((header) => header.permitsCommand) &&
    request.body.permitsCommand
  );
}

/** Anything at all: every method, target, header and body, mixed. */
const anyRequests: fc.Arbitrary<HostileRequest> = fc.record({
  method: methods,
  target: targets,
  version: versions,
  contentType: contentTypes,
  idempotencyKey: idempotencyKeys,
  extra: fc.array(extraHeaders, { maxLength: 3 }),
  body: bodies,
});

/**
 * A well-formed POST /number but for one hostile part: where a slip in validation would change the state, so
 * it is tried far more often than a random mix would try it.
 */
const nearlyValidCommands: fc.Arbitrary<HostileRequest> = fc
  .record({
    base: fc.record({
      method: fc.constant("POST"),
      target: fc.constant("/number"),
      version: fc.constant<Part<string>>({ value: "HTTP/1.1", permitsCommand: true }),
      contentType: fc.constant<Part<string | undefined>>({ value: "application/json", permitsCommand: true }),
      idempotencyKey: fc
        .uuid()
        .map((key): Part<string | undefined> => ({ value: key, permitsCommand: true })),
      extra: fc.constant<readonly ExtraHeader[]>([]),
      body: fc
        .constantFrom(...VALID_COMMAND_BODIES)
        .map((text) => ({ value: Buffer.from(text), permitsCommand: true })),
    }),
    hostilePart: fc.oneof(
      { weight: 4, arbitrary: bodies.map((body) => ({ body })) },
      { weight: 2, arbitrary: idempotencyKeys.map((idempotencyKey) => ({ idempotencyKey })) },
      { weight: 1, arbitrary: contentTypes.map((contentType) => ({ contentType })) },
      { weight: 1, arbitrary: versions.map((version) => ({ version })) },
      { weight: 1, arbitrary: extraHeaders.map((header) => ({ extra: [header] })) },
    ),
  })
  .map(({ base, hostilePart }) => ({ ...base, ...hostilePart }));

const hostileRequests: fc.Arbitrary<HostileRequest> = fc
  .oneof(anyRequests, nearlyValidCommands)
  .filter((request) => !couldBeValidCommand(request));

function encode(request: HostileRequest): Buffer {
  const lines = [`${request.method} ${request.target} ${request.version.value}`, "Host: 127.0.0.1"];
  if (request.contentType.value !== undefined) lines.push(`Content-Type: ${request.contentType.value}`);
  if (request.idempotencyKey.value !== undefined)
    lines.push(`Idempotency-Key: ${request.idempotencyKey.value}`);
  for (const header of request.extra) {
    for (const line of header.lines) {
      const shorter = `Content-Length: ${Math.floor(request.body.value.length / 2)}`;
      lines.push(line === SHORTER_CONTENT_LENGTH ? shorter : line);
    }
  }
  const chunked = request.extra.some((header) =>
    header.lines.some((line) => line.startsWith("Transfer-Encoding")),
  );
  if (!request.extra.some((header) => header.lines.some((line) => line.startsWith("Content-Length")))) {
    lines.push(`Content-Length: ${request.body.value.length}`);
  }
  lines.push("Connection: close");
  // Non-ASCII characters of the request line and headers go out as raw UTF-8 bytes, as a hostile client would.
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "utf8");
  const body = chunked
    ? Buffer.concat([
        Buffer.from(`${request.body.value.length.toString(16)}\r\n`),
        request.body.value,
        Buffer.from("\r\n0\r\n\r\n"),
      ])
    : request.body.value;
  return Buffer.concat([head, body]);
}

// ——— what must hold for every answer ———

/** Things a detail must never reveal (docs/api.md#conventions). */
const UNSAFE_DETAIL =
  /\bat \S+ \(|node_modules|Exception|TypeError|SyntaxError|ECONN|arn:aws|test-[0-9a-f]{8}|counter-ledger-(ledger|counters|read-model)|\/work\/|\\n\s+at /;

function expectSafeAnswer(answer: RawAnswer, isHead: boolean): void {
  expect(answer.status, "an answer, not a silent close").toBeGreaterThan(0);
  expect(answer.status, "never a 5xx").toBeLessThan(500);
  expect(answer.body.toString("latin1")).not.toContain(SECRET_MARKER);
  if (answer.status < 400) return;
  expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const requestId = answer.headers["x-request-id"];
  expect(requestId, "X-Request-Id on every answer").toBeTruthy();
  if (isHead) return;
  const problem = JSON.parse(answer.body.toString("utf8")) as Record<string, unknown>;
  expect(problem.status).toBe(answer.status);
  expect(problem.type).toMatch(/^https:\/\/counter-ledger\.dev\/problems\/[a-z-]+$/);
  expect(typeof problem.title).toBe("string");
  expect(problem.requestId).toBe(requestId);
  const detail = String(problem.detail);
  expect(detail.length, "one short sentence").toBeLessThanOrEqual(200);
  expect(detail).not.toMatch(UNSAFE_DETAIL);
}

// ——— the state that must not move ———

interface StateSnapshot {
  readonly aggregate: unknown;
  readonly ledgerEvents: number | undefined;
  readonly readModelState: unknown;
}

async function snapshot(): Promise<StateSnapshot> {
  const { tables, counterId } = store.config;
  const [aggregate, ledger, readModel] = await Promise.all([
    store.client.send(
      new GetCommand({ TableName: tables.counters, Key: { counterId }, ConsistentRead: true }),
    ),
    store.client.send(new ScanCommand({ TableName: tables.ledger, Select: "COUNT", ConsistentRead: true })),
    store.client.send(
      new GetCommand({ TableName: tables.readModel, Key: stateEntryKey(counterId), ConsistentRead: true }),
    ),
  ]);
  return { aggregate: aggregate.Item, ledgerEvents: ledger.Count, readModelState: readModel.Item };
}

describe("hostile input over raw HTTP", () => {
  it("fast-check: never a 5xx, always problem+json with a safe detail, never a state change", async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequests, async (request) => {
        const before = await snapshot();
        const isHead = request.method === "HEAD";
        const answer = await sendRaw(port, [encode(request)], { timeoutMs: RAW_TIMEOUT_MS, isHead });
        expectSafeAnswer(answer, isHead);
        expect(await snapshot()).toEqual(before);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 90_000, seed: Number(process.env.RELIABILITY_SEED ?? 41) },
    );
  }, 120_000);

  it.each(HOSTILE_BODY_TEXTS)(
    "a valid command but for its body %j → 4xx problem, no state change",
    async (text) => {
      const before = await snapshot();
      const body = Buffer.from(text, "utf8");
      const head =
        `POST /number HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Idempotency-Key: ${randomUUID()}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      const answer = await sendRaw(port, [Buffer.from(head), body], { timeoutMs: RAW_TIMEOUT_MS });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expectSafeAnswer(answer, false);
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each([
    {
      name: "an invalid absolute URL as the target",
      status: 400,
      raw: "GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n",
    },
    { name: "a userinfo-only absolute URL", status: 400, raw: "GET http://a:b@ HTTP/1.1\r\nHost: x\r\n\r\n" },
    {
      name: "a port out of range",
      status: 400,
      raw: "POST http://x:99999/number HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    },
    {
      name: "an unknown method Node's parser refuses",
      status: 400,
      raw: "FOO / HTTP/1.1\r\nHost: x\r\n\r\n",
    },
    { name: "a space in a header name", status: 400, raw: "GET /number HTTP/1.1\r\nBad Header: x\r\n\r\n" },
    {
      name: "both Content-Length and Transfer-Encoding (smuggling)",
      status: 400,
      raw: "POST /number HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    },
    { name: "CONNECT", status: 405, raw: "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n" },
    {
      name: "a body over the gateway's 64 KiB, declared",
      status: 413,
      raw: `POST /number HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n${" ".repeat(70_000)}`,
    },
    {
      name: "a body over the gateway's 64 KiB, chunked",
      status: 413,
      raw: `POST /number HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n11170\r\n${" ".repeat(70_000)}\r\n0\r\n\r\n`,
    },
    {
      name: "a body over the contract's 1 KiB",
      status: 413,
      raw: `POST /number HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n{"action":"increment"}${" ".repeat(1_978)}`,
    },
    {
      name: "headers over 16 KiB",
      status: 431,
      raw: `GET /number HTTP/1.1\r\nHost: x\r\nX-Padding: ${"a".repeat(20_000)}\r\n\r\n`,
    },
  ])("$name → $status problem+json, never a 5xx or a bare status line", async ({ status, raw }) => {
    const answer = await sendRaw(port, [Buffer.from(raw, "latin1")], { timeoutMs: RAW_TIMEOUT_MS });
    expect(answer.status).toBe(status);
    expectSafeAnswer(answer, false);
  });
});
