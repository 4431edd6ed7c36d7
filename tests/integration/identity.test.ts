// Identity in the handlers, on DynamoDB Local with AUTH on (the default): the REAL command, query and projector
// handlers, called with API Gateway envelopes that carry `requestContext.authorizer.jwt` as API Gateway's JWT
// authorizer passes verified claims (testkit/claims.ts). Who may do what (docs/api.md#access), that nothing is
// read or written for a refused caller, that idempotency keys are per actor, and that the actor survives the
// projector, history, verification and the event view — and that events written before actors were recorded
// (schema version 1) stay valid.

import { verifyLedger } from "../../services/ledger/storage/replay";
import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../../contract/auth";
import { Committer } from "../../services/command/committer";
import { createCommandHandler, type CommandHandler } from "../../services/command/handler";
import type { LedgerConfig } from "../../services/ledger/config";
import { ledgerEventSchema } from "../../services/ledger/domain/event";
import { requestFingerprint } from "../../services/ledger/domain/fingerprint";
import { auditEntryKey } from "../../services/ledger/storage/read-model";
import { ANONYMOUS_ACTOR } from "../../services/ledger/http/caller";
import { LedgerReader } from "../../services/ledger/storage/store";
import { createProjectorHandler } from "../../services/projector/handler";
import { createReadHandler, type QueryHandler } from "../../services/query/handler";
import { createHistoryQuery } from "../../services/query/history";
import { ALICE, AUDREY, BOB, RITA, actorOfClaims, withClaims, type TestClaims } from "../../testkit/claims";
import { commandEvent, httpEvent } from "../support/fixtures";
import { readAuditTrail, streamRecordOf } from "../support/ledger-fixtures";
import { createTestStore, type TestStore } from "../support/store";

interface EventBody {
  id: string;
  version: number;
  action: string;
  actor: { sub: string; name: string } | null;
}

function json<T>(result: APIGatewayProxyStructuredResultV2): T {
  return JSON.parse(result.body ?? "null") as T;
}

/** A writer with scope counter:audit only: may read the audit trail, may not write. */
const AUDIT_ONLY: TestClaims = { sub: "e0e0e0e0-auditor", username: "otto", scope: SCOPES.audit };

interface System {
  readonly store: TestStore;
  readonly command: CommandHandler;
  readonly query: QueryHandler;
}

function handlersOf(store: TestStore, config: LedgerConfig = store.config): System {
  const committer = new Committer({ client: store.client, config });
  return {
    store,
    command: createCommandHandler({ committer, config, log: () => undefined }),
    query: createReadHandler({ client: store.client, config, log: () => undefined }, ["query", "audit"]),
  };
}

function as(event: APIGatewayProxyEventV2, claims: TestClaims | undefined): APIGatewayProxyEventV2 {
  return claims === undefined ? event : withClaims(event, claims);
}

function post(system: System, claims: TestClaims | undefined, action: string, key?: string) {
  return system.command(as(commandEvent(action, key), claims));
}

function readEvent(system: System, claims: TestClaims | undefined, key: string, actor?: string) {
  return system.query(
    as(
      httpEvent({
        method: "GET",
        path: `/number/events/${key}`,
        routeKey: "GET /number/events/{key}",
        pathParameters: { key },
        ...(actor === undefined ? {} : { queryStringParameters: { actor } }),
      }),
      claims,
    ),
  );
}

function get(system: System, claims: TestClaims | undefined, path: string) {
  return system.query(as(httpEvent({ method: "GET", path, routeKey: `GET ${path}` }), claims));
}

async function ledgerItems(store: TestStore): Promise<Record<string, unknown>[]> {
  const output = await store.client.send(new ScanCommand({ TableName: store.config.tables.ledger }));
  return output.Items ?? [];
}

async function aggregateVersion(store: TestStore): Promise<number> {
  const reader = new LedgerReader(store.client, store.config.tables, store.config.bounds);
  return (await reader.readAggregate(store.config.counterId)).version;
}

/** Runs the real projector over every ledger item, in version order, as the stream would deliver them. */
async function project(store: TestStore): Promise<void> {
  const projector = createProjectorHandler({
    client: store.client,
    tables: store.config.tables,
    log: () => undefined,
  });
  const items = (await ledgerItems(store)).sort((a, b) => (a.version as number) - (b.version as number));
  const response = await projector({ Records: items.map((item, index) => streamRecordOf(item, index + 1)) });
  expect(response).toEqual({ batchItemFailures: [] });
}

function expectProblem(result: APIGatewayProxyStructuredResultV2, status: number, slug: string): void {
  expect(result.statusCode).toBe(status);
  expect(result.headers?.["Content-Type"]).toMatch(/^application\/problem\+json/);
  expect(json<{ type: string; status: number }>(result)).toMatchObject({
    status,
    type: expect.stringMatching(new RegExp(`/${slug}$`)) as unknown,
  });
}

let system: System;

beforeAll(async () => {
  system = handlersOf(await createTestStore({ COUNTER_MAX: "100" }));
  expect(system.store.config.auth.enabled).toBe(true);
});

describe("per-actor idempotency keys", () => {
  it("two users sharing one Idempotency-Key get two events: two versions, two ledger items", async () => {
    const before = await aggregateVersion(system.store);
    const alice = await post(system, ALICE, "increment", "shared-key");
    const bob = await post(system, BOB, "increment", "shared-key");
    expect([alice.statusCode, bob.statusCode]).toEqual([200, 200]);
    expect(bob.headers?.["Idempotent-Replayed"]).toBeUndefined();
    const aliceEvent = json<{ event: EventBody }>(alice).event;
    const bobEvent = json<{ event: EventBody }>(bob).event;
    expect(aliceEvent).toMatchObject({ id: "shared-key", version: before + 1, actor: actorOfClaims(ALICE) });
    expect(bobEvent).toMatchObject({ id: "shared-key", version: before + 2, actor: actorOfClaims(BOB) });
    expect(await aggregateVersion(system.store)).toBe(before + 2);
    const shared = (await ledgerItems(system.store)).filter((item) => item.idempotencyKey === "shared-key");
    expect(shared.map((item) => (item.actor as { sub: string }).sub).sort()).toEqual(
      [ALICE.sub, BOB.sub].sort(),
    );
    expect(new Set(shared.map((item) => item.eventId)).size).toBe(2);
  });

  it("within one actor, replay and 422 are as before, and another actor's use of the key changes neither", async () => {
    await post(system, ALICE, "increment", "mine");
    await post(system, BOB, "decrement", "mine");
    const replay = await post(system, ALICE, "increment", "mine");
    expect(replay.statusCode).toBe(200);
    expect(replay.headers?.["Idempotent-Replayed"]).toBe("true");
    expect(json<{ event: EventBody }>(replay).event.actor).toEqual(actorOfClaims(ALICE));
    expectProblem(await post(system, ALICE, "decrement", "mine"), 422, "idempotency-key-reused");
    const bobReplay = await post(system, BOB, "decrement", "mine");
    expect(bobReplay.headers?.["Idempotent-Replayed"]).toBe("true");
  });

  it("neither user sees the other's event by key: each gets their own, a third writer a 404", async () => {
    const alice = json<EventBody>(await readEvent(system, ALICE, "shared-key"));
    const bob = json<EventBody>(await readEvent(system, BOB, "shared-key"));
    expect(alice.actor).toEqual(actorOfClaims(ALICE));
    expect(bob.actor).toEqual(actorOfClaims(BOB));
    expect(alice.version).not.toBe(bob.version);
    const carol: TestClaims = { sub: "c4r01-carol", username: "carol", scope: SCOPES.write };
    expectProblem(await readEvent(system, carol, "shared-key"), 404, "not-found");
  });

  it("an auditor reads anyone's event with ?actor=<sub>, and only their own without it", async () => {
    const alice = await readEvent(system, AUDREY, "shared-key", ALICE.sub);
    const bob = await readEvent(system, AUDREY, "shared-key", BOB.sub);
    expect(alice.statusCode).toBe(200);
    expect(json<EventBody>(alice).actor).toEqual(actorOfClaims(ALICE));
    expect(json<EventBody>(bob).actor).toEqual(actorOfClaims(BOB));
    expectProblem(await readEvent(system, AUDREY, "shared-key"), 404, "not-found");
    expectProblem(await readEvent(system, AUDREY, "shared-key", "nobody-sub"), 404, "not-found");
  });

  it("a writer asking with ?actor= gets 403 insufficient_scope, even for their own subject", async () => {
    for (const actor of [BOB.sub, ALICE.sub]) {
      const result = await readEvent(system, ALICE, "shared-key", actor);
      expectProblem(result, 403, "forbidden");
      expect(result.headers?.["WWW-Authenticate"]).toContain(
        `error="insufficient_scope", scope="${SCOPES.audit}"`,
      );
    }
  });

  it("an auditor's ?actor= that no subject can be is a 400, whatever it holds", async () => {
    for (const actor of ["x".repeat(256), "bad\u0007bell", ""]) {
      const result = await readEvent(system, AUDREY, "shared-key", actor);
      expectProblem(result, 400, "bad-request");
      expect(result.body).not.toContain("\u0007");
    }
  });
});

describe("refusals write nothing", () => {
  it.each([
    ["without claims: 401 with a Bearer challenge", undefined, 401, "unauthorized"],
    ["with a token lacking counter:write (no API scope): 403", RITA, 403, "forbidden"],
    ["with an audit-only token: 403", AUDIT_ONLY, 403, "forbidden"],
  ])("POST %s", async (_, claims, status, slug) => {
    const version = await aggregateVersion(system.store);
    const items = (await ledgerItems(system.store)).length;
    const key = `refused-${status}-${claims?.sub ?? "none"}`;
    const result = await post(system, claims, "increment", key);
    expectProblem(result, status, slug);
    expect(result.headers?.["WWW-Authenticate"]).toMatch(/^Bearer realm="counter-ledger"/);
    if (status === 403) expect(result.headers?.["WWW-Authenticate"]).toContain(`scope="${SCOPES.write}"`);
    expect(await aggregateVersion(system.store)).toBe(version);
    expect(await ledgerItems(system.store)).toHaveLength(items);
    expect((await ledgerItems(system.store)).some((item) => item.idempotencyKey === key)).toBe(false);
  });

  it("a token whose subject is `anonymous` may neither write nor read by key: those keys are AUTH=off's", async () => {
    const impostor: TestClaims = { sub: "anonymous", username: "anonymous", scope: SCOPES.write };
    const version = await aggregateVersion(system.store);
    const result = await post(system, impostor, "increment", "impostor");
    expectProblem(result, 401, "unauthorized");
    expect(result.headers?.["WWW-Authenticate"]).toContain('error="invalid_token"');
    expect(await aggregateVersion(system.store)).toBe(version);
    expectProblem(await readEvent(system, impostor, "shared-key"), 401, "unauthorized");
    // An auditor may still read the anonymous actor's events by naming it.
    expectProblem(await readEvent(system, AUDREY, "impostor", "anonymous"), 404, "not-found");
  });

  it("a token whose subject no actor can have (control characters) writes nothing: 401", async () => {
    const version = await aggregateVersion(system.store);
    const result = await post(system, { sub: "bad\u0000sub", scope: SCOPES.write }, "increment", "bad-sub");
    expectProblem(result, 401, "unauthorized");
    expect(await aggregateVersion(system.store)).toBe(version);
  });

  it("a display name with control characters or beyond 128 characters is recorded cleaned and cut", async () => {
    const noisy: TestClaims = {
      sub: "n0isy-sub",
      username: `  bell\u0007${"é".repeat(200)}`,
      scope: SCOPES.write,
    };
    const result = await post(system, noisy, "increment", "noisy-name");
    expect(result.statusCode).toBe(200);
    const { name } = json<{ event: EventBody }>(result).event.actor!;
    expect(name).toBe(`bell${"é".repeat(124)}`);
    const unnamed = await post(system, { sub: "no-name-sub", scope: SCOPES.write }, "increment", "unnamed");
    expect(json<{ event: EventBody }>(unnamed).event.actor).toEqual({
      sub: "no-name-sub",
      name: "no-name-sub",
    });
  });

  it("POST with a malformed body but no claims is a 401, not a 400: the caller is checked first", async () => {
    const event = httpEvent({ method: "POST", path: "/number", headers: {}, body: "not json" });
    expectProblem(await system.command(event), 401, "unauthorized");
  });

  it("history and verify need counter:audit: 401 without claims, 403 for a writer, 200 for an auditor", async () => {
    for (const path of ["/number/history", "/number/verify"]) {
      expectProblem(await get(system, undefined, path), 401, "unauthorized");
      expectProblem(await get(system, ALICE, path), 403, "forbidden");
      expectProblem(await get(system, RITA, path), 403, "forbidden");
      expect((await get(system, AUDREY, path)).statusCode).toBe(200);
    }
  });

  it("GET /number/events/{key} without claims is a 401; GET /number and /health stay public", async () => {
    expectProblem(await readEvent(system, undefined, "shared-key"), 401, "unauthorized");
    expect((await get(system, undefined, "/number")).statusCode).toBe(200);
    expect((await get(system, undefined, "/health")).statusCode).toBe(200);
  });

  it("a HEAD of a protected route through $default, which has no authorizer on AWS, is a 401 without a body", async () => {
    // (A HEAD of an audit route, /number/verify among them, is a 405 before any check: tests/unit/query.)
    for (const path of ["/number/history", "/number/events/shared-key"]) {
      const result = await system.query(
        withClaims(httpEvent({ method: "HEAD", path, routeKey: "$default" }), AUDREY),
      );
      // With claims the check lets it through (audrey has no event of her own under that key: 404); on AWS
      // `$default` never carries claims.
      expect(result.statusCode).toBe(path.startsWith("/number/events/") ? 404 : 200);
      const bare = await system.query(httpEvent({ method: "HEAD", path, routeKey: "$default" }));
      expect(bare.statusCode).toBe(401);
      expect(bare.body).toBeUndefined();
      expect(bare.headers?.["WWW-Authenticate"]).toMatch(/^Bearer/);
    }
    expect(
      (await system.query(httpEvent({ method: "HEAD", path: "/number", routeKey: "$default" }))).statusCode,
    ).toBe(200);
  });

  it("with PUBLIC_READ=false, GET /number needs a token (any scope) and HEAD /number without one is a 401", async () => {
    const closed = handlersOf(system.store, {
      ...system.store.config,
      auth: { ...system.store.config.auth, publicRead: false },
    });
    expectProblem(await get(closed, undefined, "/number"), 401, "unauthorized");
    expect((await get(closed, RITA, "/number")).statusCode).toBe(200);
    expect(
      (await closed.query(httpEvent({ method: "HEAD", path: "/number", routeKey: "$default" }))).statusCode,
    ).toBe(401);
    expect((await get(closed, undefined, "/health")).statusCode).toBe(200);
  });
});

describe("the actor survives the projector, history, verify and the event view", () => {
  let store: TestStore;
  let own: System;

  beforeAll(async () => {
    store = await createTestStore();
    own = handlersOf(store);
    await post(own, ALICE, "increment", "k-1");
    await post(own, BOB, "increment", "k-1");
    await post(own, AUDREY, "decrement", "k-2");
    await project(store);
  });

  it("the projector copies each event's actor into its audit entry", async () => {
    const trail = await readAuditTrail(store, store.config.counterId);
    expect(trail.map((entry) => entry.actor)).toEqual([ALICE, BOB, AUDREY].map(actorOfClaims));
  });

  it("history items carry the actor, and their keys for an auditor", async () => {
    const ownPage = json<{ items: { version: number; actor: unknown; eventId?: string }[] }>(
      await own.query(
        withClaims(
          httpEvent({
            method: "GET",
            path: "/number/history",
            queryStringParameters: { order: "asc" },
            routeKey: "GET /number/history",
          }),
          AUDREY,
        ),
      ),
    );
    expect(ownPage.items.map(({ version, actor, eventId }) => ({ version, actor, eventId }))).toEqual([
      { version: 1, actor: actorOfClaims(ALICE), eventId: "k-1" },
      { version: 2, actor: actorOfClaims(BOB), eventId: "k-1" },
      { version: 3, actor: actorOfClaims(AUDREY), eventId: "k-2" },
    ]);
  });

  it("history shows no key to a caller without counter:audit, whatever the route table lets through", async () => {
    const historyQuery = createHistoryQuery({ client: store.client, config: store.config });
    const writer = { actor: actorOfClaims(ALICE), scopes: new Set([SCOPES.write]), anonymous: false };
    const auditor = { ...writer, scopes: new Set([SCOPES.audit]) };
    const event = httpEvent({ method: "GET", path: "/number/history", routeKey: "GET /number/history" });
    const hidden = json<{ items: Record<string, unknown>[] }>(
      await historyQuery({ event, requestId: "r", caller: writer }),
    );
    const shown = json<{ items: Record<string, unknown>[] }>(
      await historyQuery({ event, requestId: "r", caller: auditor }),
    );
    expect(hidden.items).toHaveLength(3);
    expect(hidden.items.every((item) => !("eventId" in item) && item.actor !== undefined)).toBe(true);
    expect(shown.items.every((item) => typeof item.eventId === "string")).toBe(true);
  });

  it("verify proves the ledger with actors, and names a tampered audit-entry actor as an I5 violation", async () => {
    const sound = json<{ ok: boolean; events: number }>(await get(own, AUDREY, "/number/verify"));
    expect(sound).toMatchObject({ ok: true, events: 3 });
    await store.client.send(
      new UpdateCommand({
        TableName: store.config.tables.readModel,
        Key: auditEntryKey(store.config.counterId, 2),
        UpdateExpression: "SET #actor.#name = :name",
        ExpressionAttributeNames: { "#actor": "actor", "#name": "name" },
        ExpressionAttributeValues: { ":name": "alice" },
      }),
    );
    // The API's verify goes on from its checkpoint (version 3 now); the auditor's full replay reads it all.
    const report = await verifyLedger({
      client: store.client,
      tables: store.config.tables,
      counterId: store.config.counterId,
      bounds: store.config.bounds,
    });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      { kind: "auditAltered", version: 2, detail: "The audit entry differs from the ledger in actor." },
    ]);
  });

  it("the event view names the actor", async () => {
    const event = json<EventBody>(await readEvent(own, AUDREY, "k-1", BOB.sub));
    expect(event).toMatchObject({ id: "k-1", version: 2, actor: actorOfClaims(BOB) });
  });
});

describe("events of schema version 1 (no actor) stay valid", () => {
  let store: TestStore;
  let anonymous: System;

  beforeAll(async () => {
    store = await createTestStore({ AUTH: "off" });
    anonymous = handlersOf(store);
    // Written as the code before actors wrote it: key <counterId>#<key>, no actor, schemaVersion 1.
    const at = "2026-01-01T00:00:00.000Z";
    const old = {
      eventId: `${store.config.counterId}#before-upgrade`,
      counterId: store.config.counterId,
      idempotencyKey: "before-upgrade",
      version: 1,
      action: "increment",
      delta: 1,
      valueBefore: 0,
      valueAfter: 1,
      at,
      requestFingerprint: requestFingerprint("increment"),
      requestId: "old-request",
      schemaVersion: 1,
    };
    await store.client.send(new PutCommand({ TableName: store.config.tables.ledger, Item: old }));
    await store.client.send(
      new UpdateCommand({
        TableName: store.config.tables.counters,
        Key: { counterId: store.config.counterId },
        UpdateExpression: "SET #value = :value, #version = :version, updatedAt = :at, lastEventId = :eventId",
        ExpressionAttributeNames: { "#value": "value", "#version": "version" },
        ExpressionAttributeValues: { ":value": 1, ":version": 1, ":at": at, ":eventId": old.eventId },
      }),
    );
    await post(anonymous, undefined, "increment", "after-upgrade");
    await project(store);
  });

  it("is found by its key under AUTH=off, with actor null; a new anonymous event names the anonymous actor", async () => {
    const old = await readEvent(anonymous, undefined, "before-upgrade");
    expect(old.statusCode).toBe(200);
    expect(json<EventBody>(old)).toMatchObject({ id: "before-upgrade", version: 1, actor: null });
    const fresh = json<EventBody>(await readEvent(anonymous, undefined, "after-upgrade"));
    expect(fresh).toMatchObject({ version: 2, actor: ANONYMOUS_ACTOR });
  });

  it("shows in history with actor null, and verifies with the version 2 event after it", async () => {
    const page = json<{ items: { version: number; actor: unknown }[] }>(
      await anonymous.query(
        httpEvent({ method: "GET", path: "/number/history", queryStringParameters: { order: "asc" } }),
      ),
    );
    expect(page.items.map(({ version, actor }) => ({ version, actor }))).toEqual([
      { version: 1, actor: null },
      { version: 2, actor: ANONYMOUS_ACTOR },
    ]);
    const report = json<{ ok: boolean; events: number; problems: unknown[] }>(
      await get(anonymous, undefined, "/number/verify"),
    );
    expect(report).toMatchObject({ ok: true, events: 2, problems: [] });
    const trail = await readAuditTrail(store, store.config.counterId);
    expect(ledgerEventSchema.parse(trail[0]).schemaVersion).toBe(1);
    expect(trail[0]).not.toHaveProperty("actor");
  });

  it("a retry of the old command across the upgrade replays it: never a second event", async () => {
    const retry = await post(anonymous, undefined, "increment", "before-upgrade");
    expect(retry.statusCode).toBe(200);
    expect(retry.headers?.["Idempotent-Replayed"]).toBe("true");
    expect(json<{ event: EventBody }>(retry).event).toMatchObject({ version: 1, actor: null });
    expect(await aggregateVersion(store)).toBe(2);
    const item = await store.client.send(
      new GetCommand({
        TableName: store.config.tables.ledger,
        Key: { eventId: `${store.config.counterId}#before-upgrade` },
      }),
    );
    expect(item.Item?.schemaVersion).toBe(1);
  });
});
