// The contract test of openapi.json. First, the document itself is sound OpenAPI 3.1: every schema
// compiles, every reference resolves, and its routes are exactly ROUTES. Then the real handlers, behind the
// local gateway on DynamoDB Local, are asked for every documented status and must answer as documented.
// A mismatch is a bug in the handlers or in the document; it is never fixed by loosening the check.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { localSettingsOf, readLocalEnvironment } from "../../../local/config";
import { loadDigestSigner } from "../../../local/digests";
import { VERIFY_DIGEST_VERSION_MAX } from "../../../contract/limits";
import type { SignedDigest } from "../../../contract/schemas";
import { signDigest } from "../../../services/ledger/domain/digest";
import { parseIdempotencyKey } from "../../../services/command/request";
import { ROUTES } from "../../../services/ledger/http/routes";
import {
  HISTORY_CURSOR_CHARACTERS_MAX,
  HISTORY_PAGE_ENTRIES_DEFAULT,
  HISTORY_PAGE_ENTRIES_MAX,
  IDEMPOTENCY_KEY_PATTERN,
  VALUE_MAX,
  VALUE_MIN,
} from "../../../services/ledger/domain/limits";
import { createTestStore, type TestStore } from "../../support/store";
import {
  contractViolations,
  document,
  documentedResponse,
  isJsonObject,
  OPERATION_METHODS,
  pointerOf,
  resolvedPointer,
  schemaErrors,
  schemaValidator,
  valueAt,
  type Exchange,
} from "./contract";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { tokenFor } from "../../../testkit/identity";

/** Every value of the document with its JSON pointer, depth first. */
function* walk(value: unknown, pointer = ""): Generator<{ pointer: string; value: unknown }> {
  yield { pointer, value };
  if (Array.isArray(value)) {
    for (const [index, element] of value.entries()) yield* walk(element, `${pointer}/${index}`);
  } else if (isJsonObject(value)) {
    for (const [name, member] of Object.entries(value)) yield* walk(member, `${pointer}${pointerOf(name)}`);
  }
}

/** Pointers of every JSON Schema in the document: the components' and each `schema` of a parameter, header or body. */
function schemaPointers(): string[] {
  const pointers = Object.keys(valueAt("/components/schemas") as object).map((name) =>
    pointerOf("components", "schemas", name),
  );
  for (const { pointer } of walk(document)) {
    if (pointer.endsWith("/schema") && !pointer.startsWith("/components/schemas/")) pointers.push(pointer);
  }
  return pointers;
}

function references(): { pointer: string; target: string }[] {
  return [...walk(document)]
    .filter(({ pointer, value }) => pointer.endsWith("/$ref") && typeof value === "string")
    .map(({ pointer, value }) => ({ pointer, target: value as string }));
}

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly pointer: string;
  readonly operation: Record<string, unknown>;
}

function operations(): Operation[] {
  const found: Operation[] = [];
  for (const [path, pathItem] of Object.entries(document.paths as object)) {
    for (const method of OPERATION_METHODS) {
      const operation: unknown = (pathItem as Record<string, unknown>)[method];
      if (isJsonObject(operation)) {
        found.push({
          method: method.toUpperCase(),
          path,
          pointer: pointerOf("paths", path, method),
          operation,
        });
      }
    }
  }
  return found;
}

describe("openapi.json is a sound OpenAPI 3.1 document of docs/api.md", () => {
  it("declares OpenAPI 3.1.0 in the JSON Schema 2020-12 dialect, with the local and the AWS server", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.jsonSchemaDialect).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(document.info).toMatchObject({ title: "counter-ledger", version: "1" });
    const servers = document.servers as { url: string; variables?: object }[];
    expect(servers.map((server) => server.url)).toContain("http://localhost:3000");
    expect(servers.some((server) => server.url.includes("amazonaws.com") && server.variables)).toBe(true);
  });

  it("every schema in it compiles under JSON Schema 2020-12 with ajv in strict mode", () => {
    const pointers = schemaPointers();
    expect(pointers.length).toBeGreaterThan(30);
    const failures = pointers.flatMap((pointer) => {
      try {
        schemaValidator(pointer);
        return [];
      } catch (error) {
        return [`${pointer}: ${(error as Error).message}`];
      }
    });
    expect(failures).toEqual([]);
  });

  it("every $ref points inside the document at something that exists", () => {
    const found = references();
    expect(found.length).toBeGreaterThan(50);
    const dangling = found.filter(
      ({ target }) => !target.startsWith("#/") || valueAt(target.slice(1)) === undefined,
    );
    expect(dangling).toEqual([]);
  });

  it("every component is used, so none describes something the API does not do", () => {
    const targets = new Set(references().map(({ target }) => target));
    // A security scheme is used by name in an operation's security requirements, not by $ref.
    for (const { operation } of operations()) {
      for (const requirement of (operation.security as Record<string, unknown>[] | undefined) ?? []) {
        for (const scheme of Object.keys(requirement))
          targets.add(`#${pointerOf("components", "securitySchemes", scheme)}`);
      }
    }
    const unused: string[] = [];
    for (const [kind, components] of Object.entries(document.components as object)) {
      for (const name of Object.keys(components as object)) {
        const target = `#${pointerOf("components", kind, name)}`;
        if (!targets.has(target)) unused.push(target);
      }
    }
    expect(unused).toEqual([]);
  });

  it("its paths and methods are exactly the ROUTES the gateway and API Gateway dispatch", () => {
    const documented = operations().map(({ method, path }) => `${method} ${path}`);
    const routed = ROUTES.map(({ method, path }) => `${method} ${path}`);
    expect(documented.sort()).toEqual(routed.sort());
  });

  it("each operation has a unique operationId and declares each parameter of its path as required", () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const undeclared: string[] = [];
    for (const { method, path, pointer, operation } of operations()) {
      const parameters = ((operation.parameters as unknown[] | undefined) ?? []).map((_, index) =>
        valueAt(resolvedPointer(`${pointer}/parameters/${index}`)),
      );
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        const declared = parameters.some(
          (parameter) =>
            isJsonObject(parameter) &&
            parameter.in === "path" &&
            parameter.name === name &&
            parameter.required === true,
        );
        if (!declared) undeclared.push(`${method} ${path}: {${name}}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it("every response it documents, routed or not, carries a required X-Request-Id", () => {
    const responsePointers = [
      ...operations().flatMap(({ pointer, operation }) =>
        Object.keys(operation.responses as object).map((status) => `${pointer}/responses/${status}`),
      ),
      ...Object.keys(document["x-unrouted-responses"] as object).map((status) =>
        pointerOf("x-unrouted-responses", status),
      ),
    ];
    const without = responsePointers.filter((pointer) => {
      const header = valueAt(resolvedPointer(`${resolvedPointer(pointer)}/headers/X-Request-Id`));
      return !isJsonObject(header) || header.required !== true;
    });
    expect(responsePointers.length).toBeGreaterThan(20);
    expect(without).toEqual([]);
  });

  it("every operation documents what the edge may answer to any request: 408, 429 and 431", () => {
    const missing = operations().flatMap(({ method, path, operation }) =>
      ["408", "429", "431"]
        .filter((status) => (operation.responses as Record<string, unknown>)[status] === undefined)
        .map((status) => `${method} ${path} ${status}`),
    );
    expect(missing).toEqual([]);
  });

  it("its value bounds are VALUE_MIN and VALUE_MAX of limits.ts", () => {
    const value = pointerOf("components", "schemas", "Value");
    expect(schemaErrors(value, VALUE_MIN)).toEqual([]);
    expect(schemaErrors(value, VALUE_MAX)).toEqual([]);
    expect(schemaErrors(value, VALUE_MIN - 1)).not.toEqual([]);
    expect(schemaErrors(value, VALUE_MAX + 1)).not.toEqual([]);
  });

  it("its history page limits are those of limits.ts", () => {
    expect(valueAt("/components/parameters/HistoryLimit/schema")).toMatchObject({
      minimum: 1,
      maximum: HISTORY_PAGE_ENTRIES_MAX,
      default: HISTORY_PAGE_ENTRIES_DEFAULT,
    });
    expect(valueAt("/components/schemas/HistoryPage/properties/items/maxItems")).toBe(
      HISTORY_PAGE_ENTRIES_MAX,
    );
    expect(valueAt("/components/parameters/HistoryCursor/schema/maxLength")).toBe(
      HISTORY_CURSOR_CHARACTERS_MAX,
    );
  });

  it("its Idempotency-Key patterns accept exactly the keys the command parser accepts", () => {
    const samples = [
      randomUUID(),
      "a",
      "A-z_0.9:",
      "k".repeat(128),
      "k".repeat(129),
      "",
      "has space",
      "slash/",
      "ünïcode",
      "new\nline",
      `"${randomUUID()}"`,
      `"${"k".repeat(128)}"`,
      `"${"k".repeat(129)}"`,
      '""',
      '"unterminated',
      'in"side',
    ];
    const keySchema = pointerOf("components", "schemas", "IdempotencyKey");
    const headerSchema = pointerOf("components", "parameters", "IdempotencyKey", "schema");
    for (const sample of samples) {
      const acceptedAsKey = schemaErrors(keySchema, sample).length === 0;
      const acceptedAsHeader = schemaErrors(headerSchema, sample).length === 0;
      expect({ sample, acceptedAsKey }).toEqual({
        sample,
        acceptedAsKey: IDEMPOTENCY_KEY_PATTERN.test(sample),
      });
      expect({ sample, acceptedAsHeader }).toEqual({
        sample,
        acceptedAsHeader: parseIdempotencyKey(sample) !== undefined,
      });
    }
  });

  it("its schemas and the exchange check refuse what the contract forbids, so passing means something", () => {
    const event = {
      id: "k",
      version: 1,
      action: "increment",
      delta: 1,
      valueBefore: 0,
      valueAfter: 1,
      actor: { sub: "s", name: "n" },
    };
    const at = "2025-01-02T03:04:05.678Z";
    const eventSchema = pointerOf("components", "schemas", "Event");
    expect(schemaErrors(eventSchema, { ...event, at })).toEqual([]);
    expect(schemaErrors(eventSchema, { ...event, at, actor: null })).toEqual([]);
    expect(schemaErrors(eventSchema, { ...event, at, actor: undefined })).not.toEqual([]);
    expect(schemaErrors(eventSchema, { ...event, at, actor: { sub: "", name: "n" } })).not.toEqual([]);
    expect(
      schemaErrors(eventSchema, { ...event, at, actor: { sub: "s", name: "n", scope: "x" } }),
    ).not.toEqual([]);
    expect(schemaErrors(eventSchema, { ...event, at, requestFingerprint: "internal" })).not.toEqual([]);
    expect(schemaErrors(eventSchema, { ...event, at: "2025-01-02T03:04:05Z" })).not.toEqual([]);
    expect(schemaErrors(eventSchema, { ...event, at, delta: 2 })).not.toEqual([]);
    const problem = {
      type: "https://counter-ledger.dev/problems/out-of-bounds",
      title: "t",
      status: 409,
      detail: "d",
    };
    const outOfBounds = pointerOf("components", "schemas", "OutOfBoundsProblem");
    expect(schemaErrors(outOfBounds, { ...problem, requestId: "r", value: 0, bound: 0 })).toEqual([]);
    expect(schemaErrors(outOfBounds, { ...problem, requestId: "r", value: 0 })).not.toEqual([]);
    expect(schemaErrors(outOfBounds, { ...problem, value: 0, bound: 0 })).not.toEqual([]);

    const healthy: Exchange = {
      method: "GET",
      path: "/health",
      status: 200,
      headers: new Headers({ "Content-Type": "application/json", "X-Request-Id": "r" }),
      bodyText: '{"status":"ok"}',
    };
    expect(contractViolations(healthy)).toEqual([]);
    expect(
      contractViolations({ ...healthy, headers: new Headers({ "Content-Type": "application/json" }) }),
    ).toEqual(["header X-Request-Id is missing"]);
    expect(contractViolations({ ...healthy, status: 418 })).toEqual(["GET /health → 418 is not documented"]);
    expect(contractViolations({ ...healthy, bodyText: '{"status":"ok","table":"t"}' })).not.toEqual([]);
    expect(contractViolations({ ...healthy, headers: new Headers({ "X-Request-Id": "r" }) })).not.toEqual([]);
    expect(documentedResponse("DELETE", "/number", 405)?.pointer).toBe(
      "/components/responses/MethodNotAllowed",
    );
    expect(documentedResponse("GET", "/nowhere", 404)?.pointer).toBe("/components/responses/NotFound");
  });
});

describe("the handlers answer as openapi.json documents", () => {
  let store: TestStore;
  let system: LocalSystem;
  /** A counter bounded at 0..1, so both bounds are one request away. */
  let boundedStore: TestStore;
  let boundedSystem: LocalSystem;

  beforeAll(async () => {
    store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
    system = await startLocalSystem({ environment: store.environment, port: 0 });
    boundedStore = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, COUNTER_MAX: "1" });
    boundedSystem = await startLocalSystem({ environment: boundedStore.environment, port: 0 });
  });

  afterAll(async () => {
    await system?.stop();
    await boundedSystem?.stop();
    store?.client.destroy();
    boundedStore?.client.destroy();
  });

  interface RequestParts {
    readonly headers?: Record<string, string>;
    readonly body?: string;
  }

  async function send(
    method: string,
    path: string,
    parts: RequestParts = {},
    on = system,
  ): Promise<Exchange> {
    const response = await fetch(`${on.url}${path}`, { method, headers: parts.headers, body: parts.body });
    return {
      method,
      path,
      status: response.status,
      headers: response.headers,
      bodyText: await response.text(),
    };
  }

  /** Asserts the status and that the exchange conforms to the document, in one comparison that shows both. */
  function expectDocumented(exchange: Exchange, status: number): void {
    expect({ status: exchange.status, violations: contractViolations(exchange) }).toEqual({
      status,
      violations: [],
    });
  }

  function command(action: string, idempotencyKey?: string): RequestParts {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (idempotencyKey !== undefined) headers["Idempotency-Key"] = idempotencyKey;
    return { headers, body: JSON.stringify({ action }) };
  }

  it("GET /number answers 200 with the counter, ETag and Cache-Control: no-store", async () => {
    const exchange = await send("GET", "/number");
    expectDocumented(exchange, 200);
    const counter = JSON.parse(exchange.bodyText) as { version: number };
    expect(exchange.headers.get("etag")).toBe(`"${counter.version}"`);
  });

  it("GET /number answers 304 with no body when If-None-Match is the current ETag", async () => {
    const etag = (await send("GET", "/number")).headers.get("etag") ?? "";
    const exchange = await send("GET", "/number", { headers: { "If-None-Match": etag } });
    expectDocumented(exchange, 304);
    expect(exchange.headers.get("etag")).toBe(etag);
  });

  it("POST /number answers 200 with the event, the Idempotency-Key echoed and its Location", async () => {
    const key = randomUUID();
    const exchange = await send("POST", "/number", command("increment", key));
    expectDocumented(exchange, 200);
    expect(exchange.headers.get("idempotency-key")).toBe(key);
    expect(exchange.headers.get("location")).toBe(`/number/events/${key}`);
    expect(exchange.headers.get("idempotent-replayed")).toBeNull();
  });

  it("POST /number without an Idempotency-Key answers 200 with a key the server made", async () => {
    const exchange = await send("POST", "/number", command("increment"));
    expectDocumented(exchange, 200);
    expect(exchange.headers.get("idempotency-key")).toMatch(/^[A-Za-z0-9_.:-]{1,128}$/);
  });

  it("POST /number with the quoted (RFC 8941) form of a key answers 200 as documented", async () => {
    const key = randomUUID();
    const exchange = await send("POST", "/number", command("increment", `"${key}"`));
    expectDocumented(exchange, 200);
    expect(exchange.headers.get("location")).toBe(`/number/events/${key}`);
  });

  it("POST /number replayed with the same key answers 200 with the original body and Idempotent-Replayed: true", async () => {
    const key = randomUUID();
    const original = await send("POST", "/number", command("increment", key));
    const replay = await send("POST", "/number", command("increment", key));
    expectDocumented(replay, 200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(JSON.parse(replay.bodyText)).toEqual(JSON.parse(original.bodyText));
  });

  it.each([
    ["malformed JSON", { headers: { "Content-Type": "application/json" }, body: "{" }],
    ["a body that is not an object", { headers: { "Content-Type": "application/json" }, body: "[]" }],
    [
      "an unknown field",
      { headers: { "Content-Type": "application/json" }, body: '{"action":"increment","by":5}' },
    ],
    ["a missing action", { headers: { "Content-Type": "application/json" }, body: "{}" }],
    ["a bad action", command("reset")],
    ["a bad Idempotency-Key", command("increment", "not a key!")],
    ["an Idempotency-Key of 129 characters", command("increment", "k".repeat(129))],
  ])("POST /number answers a 400 problem for %s", async (_, parts) => {
    expectDocumented(await send("POST", "/number", parts), 400);
  });

  it("POST /number answers a 409 out-of-bounds problem with value and bound at either bound", async () => {
    const belowMin = await send("POST", "/number", command("decrement", randomUUID()), boundedSystem);
    expectDocumented(belowMin, 409);
    expect(JSON.parse(belowMin.bodyText)).toMatchObject({ value: 0, bound: 0 });

    expectDocumented(await send("POST", "/number", command("increment", randomUUID()), boundedSystem), 200);
    const aboveMax = await send("POST", "/number", command("increment", randomUUID()), boundedSystem);
    expectDocumented(aboveMax, 409);
    expect(JSON.parse(aboveMax.bodyText)).toMatchObject({ value: 1, bound: 1 });
  });

  it("POST /number answers a 413 problem for a body over 1 KiB", async () => {
    const body = JSON.stringify({ action: "increment", padding: "p".repeat(1100) });
    expectDocumented(
      await send("POST", "/number", { headers: { "Content-Type": "application/json" }, body }),
      413,
    );
  });

  it("POST /number answers a 415 problem for a body not sent as JSON", async () => {
    const parts = { headers: { "Content-Type": "text/plain" }, body: '{"action":"increment"}' };
    expectDocumented(await send("POST", "/number", parts), 415);
  });

  it("POST /number answers a 422 idempotency-key-reused problem when a key comes back with another action", async () => {
    const key = randomUUID();
    expectDocumented(await send("POST", "/number", command("increment", key)), 200);
    expectDocumented(await send("POST", "/number", command("decrement", key)), 422);
  });

  it("GET /number/events/{key} answers 200 with the event recorded under the key", async () => {
    const key = randomUUID();
    const applied = await send("POST", "/number", command("increment", key));
    const exchange = await send("GET", `/number/events/${key}`);
    expectDocumented(exchange, 200);
    expect(JSON.parse(exchange.bodyText)).toEqual((JSON.parse(applied.bodyText) as { event: unknown }).event);
  });

  it("GET /number/events/{key} answers a 404 problem for a key with no event", async () => {
    expectDocumented(await send("GET", `/number/events/${randomUUID()}`), 404);
  });

  it("GET /number/events/{key}/proof answers 200 with the proof, 400 for a bad version, 404 for no event", async () => {
    const key = randomUUID();
    expectDocumented(await send("POST", "/number", command("increment", key)), 200);
    const exchange = await send("GET", `/number/events/${key}/proof`);
    expectDocumented(exchange, 200);
    expect(JSON.parse(exchange.bodyText)).toMatchObject({ event: { idempotencyKey: key } });
    expectDocumented(await send("GET", `/number/events/${key}/proof?version=0`), 400);
    expectDocumented(await send("GET", `/number/events/${randomUUID()}/proof`), 404);
  });

  /** How long the projector may take to bring the read model up to a version it was just given. */
  const PROJECTION_WAIT_MS_MAX = 15_000;
  const PROJECTION_POLL_INTERVAL_MS = 100;

  /** Pages of GET /number/history until `projectedVersion` reaches a version; each answer must conform. */
  async function historyProjectedTo(version: number, query: string): Promise<Exchange> {
    const deadlineMs = Date.now() + PROJECTION_WAIT_MS_MAX;
    for (;;) {
      const exchange = await send("GET", `/number/history${query}`);
      expectDocumented(exchange, 200);
      const page = JSON.parse(exchange.bodyText) as { projectedVersion: number };
      if (page.projectedVersion >= version) return exchange;
      if (Date.now() > deadlineMs) {
        throw new Error(`projectedVersion stayed at ${page.projectedVersion}, below ${version}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, PROJECTION_POLL_INTERVAL_MS));
    }
  }

  it("GET /number/history answers 200 with pages of projected items, and follows its own nextCursor", async () => {
    await send("POST", "/number", command("increment", randomUUID()));
    const last = await send("POST", "/number", command("increment", randomUUID()));
    const { version } = JSON.parse(last.bodyText) as { version: number };

    const firstPage = await historyProjectedTo(version, "?limit=1&order=asc");
    const first = JSON.parse(firstPage.bodyText) as { items: unknown[]; nextCursor: string | null };
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();

    const nextPage = await send(
      "GET",
      `/number/history?cursor=${encodeURIComponent(first.nextCursor ?? "")}`,
    );
    expectDocumented(nextPage, 200);
    expect((JSON.parse(nextPage.bodyText) as { items: unknown[] }).items).not.toEqual([]);
    expectDocumented(await send("GET", "/number/history"), 200);
  });

  it.each([
    ["a limit of 0", "?limit=0"],
    ["a limit over 100", "?limit=101"],
    ["a limit that is not an integer", "?limit=1.5"],
    ["an unknown order", "?order=sideways"],
    ["a forged cursor", "?cursor=forged"],
    ["a cursor over 128 characters", `?cursor=${"c".repeat(129)}`],
  ])("GET /number/history answers a 400 problem for %s", async (_, query) => {
    expectDocumented(await send("GET", `/number/history${query}`), 400);
  });

  it("GET /number/history answers a 400 problem for a truncated cursor", async () => {
    const seeded = await send("POST", "/number", command("increment", randomUUID()));
    await send("POST", "/number", command("increment", randomUUID()));
    const { version } = JSON.parse(seeded.bodyText) as { version: number };
    const page = await historyProjectedTo(version + 1, "?limit=1");
    const { nextCursor } = JSON.parse(page.bodyText) as { nextCursor: string | null };
    expect(nextCursor).not.toBeNull();
    const truncated = (nextCursor ?? "").slice(0, -3);
    expectDocumented(await send("GET", `/number/history?cursor=${encodeURIComponent(truncated)}`), 400);
  });

  it("GET /number/verify answers 200 with the report", async () => {
    expectDocumented(await send("GET", "/number/verify"), 200);
    expectDocumented(await send("GET", "/number/verify", {}, boundedSystem), 200);
  });

  it("GET /number/verify?digest= answers 200, 400 and 422 as documented", async () => {
    expectDocumented(await send("POST", "/number", command("increment")), 200);
    const { digest, head } = JSON.parse((await send("GET", "/number/digest")).bodyText) as SignedDigest;
    expectDocumented(await send("GET", `/number/verify?digest=${digest}`), 200);
    expectDocumented(await send("GET", "/number/verify?digest=not-a-digest"), 400);
    // A genuine digest beyond the limit, signed with the running system's own key (under its DATA_DIR).
    const signer = loadDigestSigner(localSettingsOf(readLocalEnvironment(store.environment)).dataDirectory);
    const far = await signDigest({ ...head, version: VERIFY_DIGEST_VERSION_MAX + 1 }, signer);
    expectDocumented(await send("GET", `/number/verify?digest=${far}`), 422);
  });

  it("GET /health answers 200 once the store answers", async () => {
    expectDocumented(await send("GET", "/health"), 200);
  });

  it("GET /openapi.json answers 200 with this very document", async () => {
    const exchange = await send("GET", "/openapi.json");
    expectDocumented(exchange, 200);
    expect(JSON.parse(exchange.bodyText)).toEqual(document);
  });

  it("an unknown path answers a 404 problem", async () => {
    expectDocumented(await send("GET", "/no/such/path"), 404);
  });

  it.each([
    ["DELETE", "/number", "GET, HEAD, POST"],
    ["POST", "/health", "GET, HEAD"],
    ["PUT", "/number/events/some-key", "GET, HEAD"],
  ])("%s %s answers a 405 problem with Allow: %s", async (method, path, allow) => {
    const exchange = await send(method, path);
    expectDocumented(exchange, 405);
    expect(exchange.headers.get("allow")).toBe(allow);
  });
});

describe("with AUTH on (and PUBLIC_READ=false), refusals and answers to tokens are as openapi.json documents", () => {
  let store: TestStore;
  let system: LocalSystem;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    store = await createTestStore({ AUTH: "on", PUBLIC_READ: "false" });
    system = await startLocalSystem({ environment: store.environment, port: 0 });
    tokens.set("alice", await tokenFor(system.url, "alice", "counter:write"));
    tokens.set("audrey", await tokenFor(system.url, "audrey", "counter:write counter:audit"));
    tokens.set("rita", await tokenFor(system.url, "rita", "counter:write"));
  });

  afterAll(async () => {
    await system?.stop();
    store?.client.destroy();
  });

  async function send(method: string, path: string, user?: string, body?: string): Promise<Exchange> {
    const headers: Record<string, string> = {};
    if (user !== undefined) headers.Authorization = `Bearer ${tokens.get(user) ?? ""}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${system.url}${path}`, { method, headers, body });
    return {
      method,
      path,
      status: response.status,
      headers: response.headers,
      bodyText: await response.text(),
    };
  }

  function expectDocumented(exchange: Exchange, status: number): void {
    expect({ status: exchange.status, violations: contractViolations(exchange) }).toEqual({
      status,
      violations: [],
    });
  }

  const increment = JSON.stringify({ action: "increment" });

  it("POST /number: 401 without a token, 403 with a token without counter:write, 200 with one", async () => {
    expectDocumented(await send("POST", "/number", undefined, increment), 401);
    expectDocumented(await send("POST", "/number", "rita", increment), 403);
    expectDocumented(await send("POST", "/number", "alice", increment), 200);
  });

  it("GET /number: 401 without a token when PUBLIC_READ=false, 200 with any valid token", async () => {
    expectDocumented(await send("GET", "/number"), 401);
    expectDocumented(await send("GET", "/number", "rita"), 200);
  });

  it("GET /number/history and /number/verify: 401 without a token, 403 for a writer, 200 for an auditor", async () => {
    for (const path of ["/number/history", "/number/verify"]) {
      expectDocumented(await send("GET", path), 401);
      expectDocumented(await send("GET", path, "alice"), 403);
      expectDocumented(await send("GET", path, "audrey"), 200);
    }
  });

  it("GET /number/events/{key}: 403 for a writer naming another actor, 200 for an auditor naming one", async () => {
    const key = randomUUID();
    const applied = await fetch(`${system.url}/number`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${tokens.get("alice") ?? ""}`,
        "Content-Type": "application/json",
        "Idempotency-Key": key,
      },
      body: increment,
    });
    expect(applied.status).toBe(200);
    const { event } = (await applied.json()) as { event: { actor: { sub: string } } };
    const path = `/number/events/${key}?actor=${encodeURIComponent(event.actor.sub)}`;
    expectDocumented(await send("GET", `/number/events/${key}`), 401);
    expectDocumented(await send("GET", path, "rita"), 403);
    expectDocumented(await send("GET", path, "audrey"), 200);
    expectDocumented(await send("GET", `/number/events/${key}`, "alice"), 200);
    expectDocumented(await send("GET", `/number/events/${key}`, "audrey"), 404);
  });
});

describe("throttled requests answer as openapi.json documents", () => {
  let store: TestStore;
  let system: LocalSystem;

  beforeAll(async () => {
    store = await createTestStore({
      ...LEDGER_ONLY_ENVIRONMENT,
      THROTTLE_RATE_PER_SECOND: "1",
      THROTTLE_BURST: "1",
    });
    system = await startLocalSystem({ environment: store.environment, port: 0 });
  });

  afterAll(async () => {
    await system?.stop();
    store?.client.destroy();
  });

  /** Sends requests at once until one is throttled: a bucket of one token refilled once a second cannot take eight. */
  async function throttled(method: string, path: string, init: RequestInit = {}): Promise<Exchange> {
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => fetch(`${system.url}${path}`, { method, ...init })),
    );
    const exchanges = await Promise.all(
      responses.map(async (response) => ({
        method,
        path,
        status: response.status,
        headers: response.headers,
        bodyText: await response.text(),
      })),
    );
    const found = exchanges.find((exchange) => exchange.status === 429);
    if (found === undefined) throw new Error(`no 429 among ${exchanges.map((e) => e.status).join(", ")}`);
    return found;
  }

  it.each(["/number", "/number/history", "/number/events/some-key", "/health", "/openapi.json"])(
    "GET %s answers a documented 429 problem that says nothing of an Idempotency-Key",
    async (path) => {
      const exchange = await throttled("GET", path);
      expect(contractViolations(exchange)).toEqual([]);
      expect(exchange.headers.get("retry-after")).toMatch(/^[0-9]+$/);
      expect(exchange.bodyText).not.toMatch(/idempotency/i);
    },
  );

  it("POST /number answers a documented 429 problem that asks for the same Idempotency-Key", async () => {
    const exchange = await throttled("POST", "/number", {
      headers: { "Content-Type": "application/json", "Idempotency-Key": randomUUID() },
      body: '{"action":"increment"}',
    });
    expect(contractViolations(exchange)).toEqual([]);
    expect((JSON.parse(exchange.bodyText) as { detail: string }).detail).toMatch(/same Idempotency-Key/);
  });
});
