// The command handler against DynamoDB Local, called with real API Gateway envelopes: every outcome of
// POST /number in docs/api.md, and what each leaves in the ledger and the aggregate. AUTH is on (the default):
// every command comes from alice's verified token, as API Gateway's JWT authorizer passes it; who may write,
// and whose key is whose, is tests/integration/identity.test.ts's subject.

import { DeleteCommand, GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { createCommandHandler, type CommandHandler } from "../../services/command/handler";
import { createDocumentClient } from "../../services/ledger/storage/clients";
import { COMMIT_ATTEMPTS_MAX } from "../../services/ledger/domain/limits";
import { verifyLedger } from "../../services/ledger/storage/replay";
import { LedgerReader } from "../../services/ledger/storage/store";
import { COUNTERS } from "../../services/ledger/storage/tables";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Command } from "../../services/ledger/domain/decider";
import { eventIdOf } from "../../services/ledger/domain/event";
import { GENESIS_HASH } from "../../services/ledger/domain/chain";
import { ALICE, actorOfClaims, withClaims } from "../../testkit/claims";
import { commandEvent as anonymousCommandEvent, httpEvent as anonymousHttpEvent } from "../support/fixtures";
import { createTestStore, type TestStore } from "../support/store";

/** Every request of this file is alice's. */
const commandEvent = (action: string, key?: string): APIGatewayProxyEventV2 =>
  withClaims(anonymousCommandEvent(action, key), ALICE);
const httpEvent = (options: Parameters<typeof anonymousHttpEvent>[0]): APIGatewayProxyEventV2 =>
  withClaims(anonymousHttpEvent(options), ALICE);
const actor: Command["actor"] = actorOfClaims(ALICE);

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
  [extension: string]: unknown;
}

function json<T>(body: string | undefined): T {
  return JSON.parse(body ?? "null") as T;
}

async function ledgerSize(store: TestStore): Promise<number> {
  const output = await store.client.send(
    new ScanCommand({ TableName: store.config.tables.ledger, Select: "COUNT" }),
  );
  return output.Count ?? 0;
}

let store: TestStore;
let handle: CommandHandler;
let reader: LedgerReader;

beforeAll(async () => {
  store = await createTestStore({ COUNTER_MAX: "3" });
  const committer = new Committer({ client: store.client, config: store.config });
  handle = createCommandHandler({ committer, config: store.config, log: () => undefined });
  reader = new LedgerReader(store.client, store.config.tables, store.config.bounds);
});

describe("POST /number against DynamoDB Local", () => {
  it("applies an increment: 200 with the event, the key echoed, Location, and one ledger event", async () => {
    const before = await reader.readAggregate(store.config.counterId);
    const result = await handle(commandEvent("increment", "apply-1"));
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({
      "Idempotency-Key": "apply-1",
      Location: "/number/events/apply-1",
      "X-Request-Id": expect.any(String) as unknown,
    });
    const body = json<{ value: number; version: number; event: Record<string, unknown> }>(result.body);
    expect(body).toMatchObject({ value: before.value + 1, version: before.version + 1 });
    expect(body.event).toMatchObject({
      id: "apply-1",
      action: "increment",
      delta: 1,
      valueBefore: before.value,
      valueAfter: before.value + 1,
      version: before.version + 1,
    });
    expect(body.event.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const aggregate = await reader.readAggregate(store.config.counterId);
    expect(aggregate).toMatchObject({ value: before.value + 1, version: before.version + 1 });
    const eventId = eventIdOf(store.config.counterId, "apply-1", actor);
    expect(aggregate.lastEventId).toBe(eventId);
    expect(await reader.readEvent(eventId)).toMatchObject({ schemaVersion: 3, actor });
    expect(body.event.actor).toEqual({ sub: ALICE.sub, name: "alice" });
  });

  it("I4: replays a repeated key with the same request: the original body, Idempotent-Replayed, no change", async () => {
    const first = await handle(commandEvent("increment", "replay-1"));
    const eventsAfterFirst = await ledgerSize(store);
    const aggregateAfterFirst = await reader.readAggregate(store.config.counterId);
    const second = await handle(commandEvent("increment", "replay-1"));
    expect(second.statusCode).toBe(200);
    expect(second.body).toBe(first.body);
    expect(second.headers?.["Idempotent-Replayed"]).toBe("true");
    expect(first.headers?.["Idempotent-Replayed"]).toBeUndefined();
    expect(await ledgerSize(store)).toBe(eventsAfterFirst);
    expect(await reader.readAggregate(store.config.counterId)).toEqual(aggregateAfterFirst);
  });

  it("I4: accepts the quoted structured-field form as the same key", async () => {
    const first = await handle(commandEvent("decrement", "quoted-1"));
    const second = await handle(commandEvent("decrement", '"quoted-1"'));
    expect(second.headers?.["Idempotent-Replayed"]).toBe("true");
    expect(second.body).toBe(first.body);
  });

  it("I4: refuses a repeated key with another action as 422 and changes nothing", async () => {
    await handle(commandEvent("increment", "reuse-1"));
    const eventsBefore = await ledgerSize(store);
    const aggregateBefore = await reader.readAggregate(store.config.counterId);
    const result = await handle(commandEvent("decrement", "reuse-1"));
    expect(result.statusCode).toBe(422);
    expect(result.headers?.["Content-Type"]).toMatch(/^application\/problem\+json/);
    expect(json<Problem>(result.body).type).toMatch(/\/idempotency-key-reused$/);
    expect(await ledgerSize(store)).toBe(eventsBefore);
    expect(await reader.readAggregate(store.config.counterId)).toEqual(aggregateBefore);
  });

  it("makes a key when none is sent, and never deduplicates such requests", async () => {
    const first = await handle(commandEvent("decrement"));
    const second = await handle(commandEvent("increment"));
    const firstKey = first.headers?.["Idempotency-Key"];
    expect(firstKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.headers?.["Idempotency-Key"]).not.toBe(firstKey);
    expect(json<{ event: { id: string } }>(first.body).event.id).toBe(firstKey);
  });
});

describe("bounds", () => {
  it("refuses a change past the bound with 409, value and bound, and writes nothing", async () => {
    const bounded = await createTestStore({ COUNTER_MAX: "1" });
    const committer = new Committer({ client: bounded.client, config: bounded.config });
    const handleBounded = createCommandHandler({ committer, config: bounded.config, log: () => undefined });
    expect((await handleBounded(commandEvent("decrement", "low"))).statusCode).toBe(409);
    const low = json<Problem>((await handleBounded(commandEvent("decrement", "low-2"))).body);
    expect(low).toMatchObject({ status: 409, value: 0, bound: 0 });
    expect(low.type).toMatch(/\/out-of-bounds$/);
    expect((await handleBounded(commandEvent("increment", "up"))).statusCode).toBe(200);
    const high = await handleBounded(commandEvent("increment", "up-2"));
    expect(json<Problem>(high.body)).toMatchObject({ status: 409, value: 1, bound: 1 });
    expect(await ledgerSize(bounded)).toBe(1);
    const aggregate = await new LedgerReader(
      bounded.client,
      bounded.config.tables,
      bounded.config.bounds,
    ).readAggregate(bounded.config.counterId);
    expect(aggregate).toMatchObject({ value: 1, version: 1 });
  });

  it("replays, not refuses, the retry of the command that reached the bound", async () => {
    const bounded = await createTestStore({ COUNTER_MAX: "1" });
    const committer = new Committer({ client: bounded.client, config: bounded.config });
    const handleBounded = createCommandHandler({ committer, config: bounded.config, log: () => undefined });
    const first = await handleBounded(commandEvent("increment", "to-the-top"));
    const retry = await handleBounded(commandEvent("increment", "to-the-top"));
    expect(retry.statusCode).toBe(200);
    expect(retry.body).toBe(first.body);
    expect(retry.headers?.["Idempotent-Replayed"]).toBe("true");
    const reused = await handleBounded(commandEvent("decrement", "to-the-top"));
    expect(reused.statusCode).toBe(422);
  });

  it("decides a 409 afresh on a later retry with the same key", async () => {
    const bounded = await createTestStore({ COUNTER_MAX: "1" });
    const committer = new Committer({ client: bounded.client, config: bounded.config });
    const handleBounded = createCommandHandler({ committer, config: bounded.config, log: () => undefined });
    expect((await handleBounded(commandEvent("decrement", "later"))).statusCode).toBe(409);
    await handleBounded(commandEvent("increment", "lift"));
    const retry = await handleBounded(commandEvent("decrement", "later"));
    expect(retry.statusCode).toBe(200);
    expect(retry.headers?.["Idempotent-Replayed"]).toBeUndefined();
  });

  it("the database itself refuses a value past the bound, even when the domain is wrong", async () => {
    const bounded = await createTestStore({ COUNTER_MAX: "1" });
    const command = (idempotencyKey: string) => ({
      action: "increment" as const,
      counterId: bounded.config.counterId,
      idempotencyKey,
      actor,
      requestFingerprint: "fingerprint",
      requestId: "request",
    });
    await new Committer({ client: bounded.client, config: bounded.config }).commit(command("honest"));
    // A broken decider that ignores the bounds: only the transaction's condition stands in the way.
    const broken = new Committer({
      client: bounded.client,
      config: bounded.config,
      decide: (action, state) => ({
        kind: "applied",
        change: {
          version: state.version + 1,
          action,
          delta: 1,
          valueBefore: state.value,
          valueAfter: state.value + 1,
        },
      }),
    });
    await expect(broken.commit(command("past-the-bound"))).rejects.toThrow(/I3/);
    expect(await ledgerSize(bounded)).toBe(1);
    const reader = new LedgerReader(bounded.client, bounded.config.tables, bounded.config.bounds);
    expect(await reader.readAggregate(bounded.config.counterId)).toMatchObject({ value: 1, version: 1 });
  });
});

describe("a lower bound above 0 (COUNTER_MIN 5, COUNTER_MAX 8)", () => {
  const bounds = { min: 5, max: 8 };

  async function boundedAbove0(): Promise<{ store: TestStore; handle: CommandHandler }> {
    const raised = await createTestStore({}, bounds);
    const committer = new Committer({ client: raised.client, config: raised.config });
    return {
      store: raised,
      handle: createCommandHandler({ committer, config: raised.config, log: () => undefined }),
    };
  }

  async function walk(raised: { store: TestStore; handle: CommandHandler }): Promise<void> {
    // A new counter starts at its lower bound: the first decrement is refused at 5, the first increment gives 6.
    const low = await raised.handle(commandEvent("decrement", "first-down"));
    expect(low.statusCode).toBe(409);
    expect(json<Problem>(low.body)).toMatchObject({ value: 5, bound: 5 });
    const first = await raised.handle(commandEvent("increment", "first-up"));
    expect(first.statusCode).toBe(200);
    expect(json<{ event: Record<string, unknown> }>(first.body).event).toMatchObject({
      version: 1,
      valueBefore: 5,
      valueAfter: 6,
    });
    const values: number[] = [];
    for (const [index, action] of (["increment", "increment", "increment", "decrement"] as const).entries()) {
      const result = await raised.handle(commandEvent(action, `step-${index}`));
      values.push(
        result.statusCode === 200 ? json<{ value: number }>(result.body).value : -(result.statusCode ?? 0),
      );
    }
    expect(values).toEqual([7, 8, -409, 7]);
    for (const [index, action] of (["decrement", "decrement", "decrement"] as const).entries()) {
      await raised.handle(commandEvent(action, `down-${index}`));
    }
    const atMin = await raised.handle(commandEvent("decrement", "below-min"));
    expect(atMin.statusCode).toBe(409);
    expect(json<Problem>(atMin.body)).toMatchObject({ value: 5, bound: 5 });
    const reader = new LedgerReader(raised.store.client, raised.store.config.tables, bounds);
    expect(await reader.readAggregate(raised.store.config.counterId)).toMatchObject({ value: 5, version: 6 });
    const report = await verifyLedger({
      client: raised.store.client,
      tables: raised.store.config.tables,
      counterId: raised.store.config.counterId,
      bounds,
      sleep: () => Promise.resolve(),
    });
    expect(report).toMatchObject({ ok: true, events: 6, ledgerSum: 0, aggregate: { value: 5, version: 6 } });
    expect(report.problems).toEqual([]);
  }

  it("the bootstrapped aggregate starts at the lower bound, and the value never leaves [5, 8]", async () => {
    const raised = await boundedAbove0();
    const reader = new LedgerReader(raised.store.client, raised.store.config.tables, bounds);
    expect(await reader.readAggregate(raised.store.config.counterId)).toMatchObject({ value: 5, version: 0 });
    const { Item } = await raised.store.client.send(
      new GetCommand({
        TableName: raised.store.config.tables.counters,
        Key: { [COUNTERS.partitionKey]: raised.store.config.counterId },
      }),
    );
    // Only the attributes the transaction itself writes: no domain object's fields (a `head` map) stored as-is.
    expect(Item).toEqual({
      counterId: raised.store.config.counterId,
      value: 5,
      version: 0,
      updatedAt: null,
      lastEventId: null,
      headVersion: 0,
      headHash: GENESIS_HASH,
    });
    await walk(raised);
  });

  it("a counter with no aggregate item at all starts at the lower bound too", async () => {
    const raised = await boundedAbove0();
    await raised.store.client.send(
      new DeleteCommand({
        TableName: raised.store.config.tables.counters,
        Key: { [COUNTERS.partitionKey]: raised.store.config.counterId },
      }),
    );
    await walk(raised);
  });
});

describe("refusals before any I/O", () => {
  it.each([
    ["malformed JSON", { "content-type": "application/json" }, "{", 400],
    ["an unknown field", { "content-type": "application/json" }, '{"action":"increment","x":1}', 400],
    ["a bad action", { "content-type": "application/json" }, '{"action":"double"}', 400],
    [
      "a bad key",
      { "content-type": "application/json", "idempotency-key": "bad key" },
      '{"action":"increment"}',
      400,
    ],
    ["a non-JSON content type", { "content-type": "text/plain" }, '{"action":"increment"}', 415],
    [
      "an oversize body",
      { "content-type": "application/json" },
      `{"action":"increment","p":"${"x".repeat(1100)}"}`,
      413,
    ],
  ])("refuses %s with a safe problem and writes nothing", async (_, headers, body, status) => {
    const eventsBefore = await ledgerSize(store);
    const result = await handle(httpEvent({ method: "POST", path: "/number", headers, body }));
    expect(result.statusCode).toBe(status);
    expect(result.headers?.["Content-Type"]).toMatch(/^application\/problem\+json/);
    const problem = json<Problem>(result.body);
    expect(problem).toMatchObject({ status, requestId: expect.any(String) as unknown });
    expect(Object.keys(problem).sort()).toEqual(["detail", "requestId", "status", "title", "type"]);
    expect(result.body).not.toMatch(/Exception|arn:|test-|at .*\.ts|counter-ledger-/);
    expect(await ledgerSize(store)).toBe(eventsBefore);
  });
});

describe("contention", () => {
  /** A victim committer whose every transaction is preceded by another writer moving the aggregate. */
  async function contendedVictim(clock: () => Date) {
    const contended = await createTestStore();
    const competitor = new Committer({ client: contended.client, config: contended.config });
    const victimClient = createDocumentClient(contended.config);
    const counts = { competitorWrites: 0 };
    victimClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "TransactWriteItemsCommand") {
          counts.competitorWrites += 1;
          await competitor.commit({
            action: "increment",
            counterId: contended.config.counterId,
            idempotencyKey: `competitor-${counts.competitorWrites}`,
            actor,
            requestFingerprint: "competitor",
            requestId: "competitor",
          });
        }
        return next(args);
      },
      { step: "initialize", name: "competingWriter" },
    );
    const victim = new Committer({
      client: victimClient,
      config: contended.config,
      clock,
      sleep: () => Promise.resolve(),
    });
    const handle = createCommandHandler({
      committer: victim,
      config: contended.config,
      log: () => undefined,
    });
    const victimEvent = () =>
      new LedgerReader(contended.client, contended.config.tables, contended.config.bounds).readEvent(
        eventIdOf(contended.config.counterId, "victim", actor),
      );
    return { victim, counts, handle, victimEvent, destroy: () => victimClient.destroy() };
  }

  function expectContention(result: Awaited<ReturnType<ReturnType<typeof createCommandHandler>>>): void {
    expect(result.statusCode).toBe(503);
    expect(result.headers?.["Retry-After"]).toBe("1");
    expect(JSON.parse(result.body ?? "")).toMatchObject({
      type: expect.stringMatching(/\/contention$/) as unknown,
    });
  }

  it("retries on a moved aggregate, then gives 503 with Retry-After after the attempts cap, writing nothing", async () => {
    // A clock that stands still: this test is about the attempts cap, so the wall-clock budget must not run
    // out first on a loaded machine (the next test is about the budget).
    const { victim, counts, handle, victimEvent, destroy } = await contendedVictim(
      () => new Date("2026-01-01T00:00:00.000Z"),
    );
    expectContention(await handle(commandEvent("increment", "victim")));
    expect(counts.competitorWrites).toBe(COMMIT_ATTEMPTS_MAX);
    expect(victim.statistics.conflicts).toBe(COMMIT_ATTEMPTS_MAX);
    expect(await victimEvent()).toBeUndefined();
    destroy();
  });

  it("stops retrying once the retry budget is spent, before the attempts cap, writing nothing", async () => {
    // Each reading of this clock is a second later: past the 2 s budget after the third conflict.
    let nowMs = Date.parse("2026-01-01T00:00:00.000Z");
    const { victim, counts, handle, victimEvent, destroy } = await contendedVictim(() => {
      nowMs += 1_000;
      return new Date(nowMs);
    });
    expectContention(await handle(commandEvent("increment", "victim")));
    expect(victim.statistics.conflicts).toBeLessThan(COMMIT_ATTEMPTS_MAX);
    expect(victim.statistics.conflicts).toBeGreaterThanOrEqual(1);
    expect(counts.competitorWrites).toBe(victim.statistics.conflicts);
    expect(await victimEvent()).toBeUndefined();
    destroy();
  });
});
