// Per-user quotas against DynamoDB Local, through the real command handler with real API Gateway envelopes and
// verified claims (docs/architecture.md#per-user-quotas). Several committers stand in for several Lambda
// execution environments, each knowing nothing of the others, so only the store can hold the quota. The
// committers share one injected clock, set near the real time so that no item is past its TTL.

import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../../contract/auth";
import { Committer } from "../../services/command/committer";
import { createCommandHandler, type CommandHandler } from "../../services/command/handler";
import { createLocalMetrics } from "../../local/metrics";
import { quotaIdOf, quotaWindowOf } from "../../services/command/quota";
import { LedgerReader } from "../../services/ledger/storage/store";
import { QUOTAS } from "../../services/ledger/storage/tables";
import { withClaims, type TestClaims } from "../../testkit/claims";
import { contractViolations } from "./contract/contract";
import { commandEvent } from "../support/fixtures";
import { expectLedgerInvariants } from "../support/invariants";
import { createTestStore, type TestStore } from "../support/store";

const QUOTA = 5;

/** Ten seconds into the next whole minute: a window's end is 50 s away. */
const clock = { now: new Date((Math.floor(Date.now() / 60_000) + 1) * 60_000 + 10_000) };

let store: TestStore;
let reader: LedgerReader;

beforeAll(async () => {
  store = await createTestStore({ QUOTA_COMMANDS_PER_MINUTE: String(QUOTA) });
  reader = new LedgerReader(store.client, store.config.tables, store.config.bounds);
});

/** A command handler with a committer of its own: one execution environment. */
function environment(): { handle: CommandHandler; committer: Committer } {
  const committer = new Committer({ client: store.client, config: store.config, clock: () => clock.now });
  return {
    committer,
    handle: createCommandHandler({ committer, config: store.config, log: () => undefined }),
  };
}

let users = 0;
function newUser(name: string): TestClaims {
  users += 1;
  return { sub: `${name}-${users}`, username: name, scope: SCOPES.write };
}

function post(handle: CommandHandler, user: TestClaims, key: string) {
  return handle(withClaims(commandEvent("increment", key), user));
}

/** The ledger events of one user, read by a consistent scan. */
async function eventsOf(user: TestClaims): Promise<{ idempotencyKey: string }[]> {
  const output = await store.client.send(
    new ScanCommand({ TableName: store.config.tables.ledger, ConsistentRead: true }),
  );
  return (output.Items ?? []).filter(
    (item) => (item.actor as { sub?: string } | undefined)?.sub === user.sub,
  ) as {
    idempotencyKey: string;
  }[];
}

/** What the user's quota item holds for the window of `at` (0 when there is none). */
async function chargedTo(user: TestClaims, at: Date = clock.now): Promise<number> {
  const output = await store.client.send(
    new GetCommand({
      TableName: store.config.tables.quotas,
      Key: { [QUOTAS.partitionKey]: quotaIdOf(user.sub, quotaWindowOf(at)) },
      ConsistentRead: true,
    }),
  );
  return (output.Item?.commands as number | undefined) ?? 0;
}

function statuses(responses: readonly APIGatewayProxyStructuredResultV2[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { statusCode } of responses) counts[statusCode ?? 0] = (counts[statusCode ?? 0] ?? 0) + 1;
  return counts;
}

/** The user spends the whole quota through one environment, one command at a time. */
async function spend(handle: CommandHandler, user: TestClaims): Promise<APIGatewayProxyStructuredResultV2[]> {
  const answers = [];
  for (let index = 0; index < QUOTA; index++) answers.push(await post(handle, user, `spend-${index}`));
  expect(answers.map((answer) => answer.statusCode)).toEqual(Array(QUOTA).fill(200));
  return answers;
}

describe("per-user quota, exact under parallel requests", () => {
  it("N parallel commands of one user over four environments: exactly the quota applied, the rest 429 writing nothing", async () => {
    const alice = newUser("alice");
    const environments = Array.from({ length: 4 }, environment);
    const before = await reader.readAggregate(store.config.counterId);
    const responses = await Promise.all(
      Array.from({ length: 24 }, (_, index) =>
        post(environments[index % environments.length]!.handle, alice, `parallel-${index}`),
      ),
    );
    expect(statuses(responses)).toEqual({ 200: QUOTA, 429: 24 - QUOTA });
    for (const refused of responses.filter((response) => response.statusCode === 429)) {
      // The window ends 50 s after the clock: Retry-After says so, and the key is echoed for the retry.
      expect(refused.headers).toMatchObject({
        "Retry-After": "50",
        "Content-Type": expect.stringMatching(/^application\/problem\+json/) as unknown,
      });
      expect(refused.headers?.["Idempotency-Key"]).toMatch(/^parallel-\d+$/);
      const problem = JSON.parse(refused.body ?? "") as Record<string, unknown>;
      expect(problem).toMatchObject({ status: 429, title: "Quota exceeded", limit: QUOTA });
      expect(problem.type).toMatch(/\/quota-exceeded$/);
    }
    // The answer is the one openapi.json documents for a 429 of POST /number.
    const refused = responses.find((response) => response.statusCode === 429)!;
    const headers = new Headers(refused.headers as Record<string, string>);
    expect(
      contractViolations({
        method: "POST",
        path: "/number",
        status: 429,
        headers,
        bodyText: refused.body ?? "",
      }),
    ).toEqual([]);
    const applied = responses.filter((response) => response.statusCode === 200);
    const appliedKeys = applied.map((response) => response.headers?.["Idempotency-Key"]).sort();
    expect((await eventsOf(alice)).map((event) => event.idempotencyKey).sort()).toEqual(appliedKeys);
    const after = await reader.readAggregate(store.config.counterId);
    expect(after).toMatchObject({ value: before.value + QUOTA, version: before.version + QUOTA });
    expect(await chargedTo(alice)).toBe(QUOTA);
    await expectLedgerInvariants(store, store.config.bounds);
  });

  it("another user is unaffected by a user whose quota is spent", async () => {
    const alice = newUser("alice");
    const bob = newUser("bob");
    const { handle } = environment();
    await spend(handle, alice);
    expect((await post(handle, alice, "one-more")).statusCode).toBe(429);
    const bobs = await Promise.all(
      Array.from({ length: QUOTA }, (_, index) => post(handle, bob, `bob-${index}`)),
    );
    expect(statuses(bobs)).toEqual({ 200: QUOTA });
    expect(await chargedTo(bob)).toBe(QUOTA);
    expect(await chargedTo(alice)).toBe(QUOTA);
  });

  it("counts each 429 as a throttle for the quota, and nothing else as one", async () => {
    const metrics = createLocalMetrics();
    const committer = new Committer({ client: store.client, config: store.config, clock: () => clock.now });
    const handle = createCommandHandler({ committer, config: store.config, log: () => undefined, metrics });
    const alice = newUser("alice");
    const answers = await Promise.all(
      Array.from({ length: QUOTA + 3 }, (_, index) => post(handle, alice, `metered-${index}`)),
    );
    expect(statuses(answers)).toEqual({ 200: QUOTA, 429: 3 });
    expect(await metrics.text()).toMatch(/^counter_ledger_throttles_total\{reason="quota"\} 3$/m);
  });
});

describe("a retry is never refused for the quota, and never charged", () => {
  it("after the quota is spent, a retry of an applied command gets its event back, in the same or another environment", async () => {
    const alice = newUser("alice");
    const first = environment();
    const answers = await spend(first.handle, alice);
    // The first environment knows the quota is spent; a fresh one learns it only from the store.
    for (const handle of [first.handle, environment().handle]) {
      const retry = await post(handle, alice, "spend-2");
      expect(retry.statusCode).toBe(200);
      expect(retry.headers?.["Idempotent-Replayed"]).toBe("true");
      expect(retry.body).toBe(answers[2]!.body);
    }
    // Retries in parallel with new commands of the same user: the retries are replays, the new ones 429.
    const mixed = await Promise.all([
      post(environment().handle, alice, "spend-0"),
      post(environment().handle, alice, "new-0"),
      post(first.handle, alice, "spend-4"),
      post(first.handle, alice, "new-1"),
    ]);
    expect(mixed.map((answer) => answer.statusCode)).toEqual([200, 429, 200, 429]);
    expect(await chargedTo(alice)).toBe(QUOTA);
    expect(await eventsOf(alice)).toHaveLength(QUOTA);
  });

  it("a retry of an applied command below the quota is not charged either", async () => {
    const alice = newUser("alice");
    const { handle } = environment();
    await post(handle, alice, "once");
    await post(handle, alice, "once");
    await post(environment().handle, alice, "once");
    expect(await chargedTo(alice)).toBe(1);
  });

  it("a 429 is safe to retry with the same key: after the window ends it applies, once", async () => {
    const alice = newUser("alice");
    const { handle } = environment();
    await spend(handle, alice);
    const refused = await post(handle, alice, "next-minute");
    expect(refused.statusCode).toBe(429);
    expect(refused.headers?.["Retry-After"]).toBe("50");
    const spentWindow = clock.now;
    clock.now = new Date(clock.now.getTime() + 50_000);
    try {
      const applied = await post(handle, alice, "next-minute");
      expect(applied.statusCode).toBe(200);
      expect(applied.headers?.["Idempotent-Replayed"]).toBeUndefined();
      const again = await post(environment().handle, alice, "next-minute");
      expect(again.headers?.["Idempotent-Replayed"]).toBe("true");
      expect(await chargedTo(alice)).toBe(1);
      expect(await chargedTo(alice, spentWindow)).toBe(QUOTA);
      expect((await eventsOf(alice)).filter((event) => event.idempotencyKey === "next-minute")).toHaveLength(
        1,
      );
    } finally {
      clock.now = spentWindow;
    }
  });
});

describe("group commit with several users in one batch", () => {
  it("a batch mixing users: a spent user's commands leave it, the others' commit, and each user gets exactly the quota", async () => {
    const [alice, bob, carol] = [newUser("alice"), newUser("bob"), newUser("carol")];
    const { handle, committer } = environment();
    await post(handle, alice, "warm-up");
    const sent: [TestClaims, number][] = [
      [alice, QUOTA + 3],
      [bob, 2],
      [carol, QUOTA + 1],
    ];
    const requests = sent.flatMap(([user, count]) =>
      Array.from({ length: count }, (_, index) => ({ user, key: `batch-${index}` })),
    );
    const transactionsBefore = committer.statistics.transactions;
    const responses = await Promise.all(requests.map(({ user, key }) => post(handle, user, key)));
    const byUser = (user: TestClaims) =>
      statuses(responses.filter((_, index) => requests[index]!.user === user));
    // alice had spent one already: four more fit.
    expect(byUser(alice)).toEqual({ 200: QUOTA - 1, 429: 4 });
    expect(byUser(bob)).toEqual({ 200: 2 });
    expect(byUser(carol)).toEqual({ 200: QUOTA, 429: 1 });
    // They went together: a handful of transactions, not one per command.
    expect(committer.statistics.transactions - transactionsBefore).toBeLessThan(requests.length / 2);
    expect([await chargedTo(alice), await chargedTo(bob), await chargedTo(carol)]).toEqual([QUOTA, 2, QUOTA]);
    await expectLedgerInvariants(store, store.config.bounds);
  });

  it("a user the store shows spent, unknown to this environment, costs the others in the batch nothing but a retry", async () => {
    const [alice, bob] = [newUser("alice"), newUser("bob")];
    await spend(environment().handle, alice);
    const { handle } = environment();
    const responses = await Promise.all([
      post(handle, bob, "first"),
      post(handle, alice, "late-0"),
      post(handle, bob, "second"),
      post(handle, alice, "late-1"),
      post(handle, bob, "third"),
    ]);
    expect(responses.map((answer) => answer.statusCode)).toEqual([200, 429, 200, 429, 200]);
    expect(await chargedTo(bob)).toBe(3);
    expect(await chargedTo(alice)).toBe(QUOTA);
  });
});

describe("where no quota applies", () => {
  it("QUOTA_COMMANDS_PER_MINUTE=0 turns it off: nothing is counted, and no quota item is written", async () => {
    const open = await createTestStore({ QUOTA_COMMANDS_PER_MINUTE: "0" });
    const committer = new Committer({ client: open.client, config: open.config });
    const handle = createCommandHandler({ committer, config: open.config, log: () => undefined });
    const alice = newUser("alice");
    const responses = await Promise.all(
      Array.from({ length: QUOTA * 2 }, (_, index) => post(handle, alice, `open-${index}`)),
    );
    expect(statuses(responses)).toEqual({ 200: QUOTA * 2 });
    const items = await open.client.send(new ScanCommand({ TableName: open.config.tables.quotas }));
    expect(items.Count).toBe(0);
  });

  it("AUTH=off has no users: the anonymous actor is never counted", async () => {
    const anonymous = await createTestStore({ AUTH: "off", QUOTA_COMMANDS_PER_MINUTE: "1" });
    const committer = new Committer({ client: anonymous.client, config: anonymous.config });
    const handle = createCommandHandler({ committer, config: anonymous.config, log: () => undefined });
    const responses = await Promise.all(
      Array.from({ length: 3 }, (_, index) => handle(commandEvent("increment", `anonymous-${index}`))),
    );
    expect(statuses(responses)).toEqual({ 200: 3 });
    const items = await anonymous.client.send(new ScanCommand({ TableName: anonymous.config.tables.quotas }));
    expect(items.Count).toBe(0);
  });
});
