// Per-user quotas under fast-check, on DynamoDB Local: commands of several users, with duplicate keys, arrive in
// arbitrary interleavings at two committers (two Lambda instances, each with its own knowledge) within one
// minute. Whatever the interleaving: no user applies more than the quota; a user refused 429 applied exactly
// the quota (a refusal is never conservative); a key refused 429 is not in the ledger, and a replay is never
// counted (the quota item equals the user's events); I1–I4 and I6 hold.

import { GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SCOPES } from "../../contract/auth";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import { quotaIdOf, quotaWindowOf } from "../../services/command/quota";
import type { Action } from "../../services/ledger/domain/decider";
import { QUOTAS } from "../../services/ledger/storage/tables";
import { withClaims, type TestClaims } from "../../testkit/claims";
import { commandEvent } from "../support/fixtures";
import { expectOutcomesAddUp } from "../support/outcomes";
import { createTestStore, type TestStore } from "../support/store";

const USERS: readonly TestClaims[] = ["ann", "ben", "cat"].map((name) => ({
  sub: `${name}-sub`,
  username: name,
  scope: SCOPES.write,
}));

interface Arrival {
  readonly action: Action;
  readonly idempotencyKey: string;
  readonly delayMs: number;
  readonly environment: 0 | 1;
  readonly user: TestClaims;
}

const arrival: fc.Arbitrary<Arrival> = fc.record({
  action: fc.constantFrom<Action>("increment", "decrement"),
  idempotencyKey: fc.constantFrom("a", "b", "c", "d", "e", "f"),
  delayMs: fc.integer({ min: 0, max: 15 }),
  environment: fc.constantFrom<0 | 1>(0, 1),
  user: fc.constantFrom(...USERS),
});

async function chargedTo(store: TestStore, user: TestClaims, at: Date): Promise<number> {
  const output = await store.client.send(
    new GetCommand({
      TableName: store.config.tables.quotas,
      Key: { [QUOTAS.partitionKey]: quotaIdOf(user.sub, quotaWindowOf(at)) },
      ConsistentRead: true,
    }),
  );
  return (output.Item?.commands as number | undefined) ?? 0;
}

async function ledgerKeysOf(store: TestStore, user: TestClaims): Promise<string[]> {
  const output = await store.client.send(
    new ScanCommand({ TableName: store.config.tables.ledger, ConsistentRead: true }),
  );
  return (output.Items ?? [])
    .filter((item) => (item.actor as { sub?: string } | undefined)?.sub === user.sub)
    .map((item) => item.idempotencyKey as string);
}

describe("per-user quotas on DynamoDB Local", () => {
  it("for any interleaving over two instances, each user applies min(quota, keys) and a 429 is never early", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arrival, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (arrivals, quota) => {
          // Half a minute into the next minute, near the real time: no item is past its TTL, no run straddles.
          const now = new Date((Math.floor(Date.now() / 60_000) + 1) * 60_000 + 30_000);
          const store = await createTestStore({ QUOTA_COMMANDS_PER_MINUTE: String(quota) });
          // Far from both bounds: every refusal here is the quota's.
          const start = 1000;
          await store.client.send(
            new PutCommand({
              TableName: store.config.tables.counters,
              Item: { counterId: store.config.counterId, value: start, version: 0 },
            }),
          );
          const handlers = [0, 1].map(() =>
            createCommandHandler({
              committer: new Committer({ client: store.client, config: store.config, clock: () => now }),
              config: store.config,
              log: () => undefined,
            }),
          );
          const responses = await Promise.all(
            arrivals.map(async (next) => {
              await new Promise((wake) => setTimeout(wake, next.delayMs));
              return handlers[next.environment]!(
                withClaims(commandEvent(next.action, next.idempotencyKey), next.user),
              );
            }),
          );
          await expectOutcomesAddUp(
            store,
            responses,
            start,
            arrivals.map((next) => next.user),
          );
          for (const user of USERS) {
            const mine = responses.filter((_, index) => arrivals[index]!.user === user);
            const keys = await ledgerKeysOf(store, user);
            expect(keys.length, user.username).toBeLessThanOrEqual(quota);
            // A replay is never charged: the count is the events, one per applied key.
            expect(await chargedTo(store, user, now), user.username).toBe(keys.length);
            const refusedKeys = mine
              .filter((response) => response.statusCode === 429)
              .map((response) => String(response.headers?.["Idempotency-Key"]));
            for (const key of refusedKeys) expect(keys, `${user.username} ${key}`).not.toContain(key);
            if (refusedKeys.length > 0) expect(keys.length, `${user.username} refused early`).toBe(quota);
            const distinctKeys = new Set(
              arrivals.filter((next) => next.user === user).map((next) => next.idempotencyKey),
            ).size;
            if (!mine.some((response) => response.statusCode === 503)) {
              expect(keys.length, user.username).toBe(Math.min(quota, distinctKeys));
            }
          }
          store.client.destroy();
        },
      ),
      { numRuns: 20 },
    );
    // Each run makes its four tables: about a second of DynamoDB Local per run on a busy machine, and a
    // shrink after a failure makes more of them.
  }, 180_000);
});
