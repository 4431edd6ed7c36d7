// Concurrency property on DynamoDB Local: commands fired truly in parallel, through several committers
// (as several Lambda instances would), with duplicate keys sent at the same moment. No key is ever applied
// twice, and the final value equals accepted increments minus accepted decrements (I6), where an outcome
// the client could not see (503) is settled by asking for the event under its key.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { createCommandHandler, type CommandHandler } from "../../services/command/handler";
import type { Action } from "../../services/ledger/domain";
import { createQueryHandler } from "../../services/query/handler";
import { commandEvent, httpEvent } from "../support/fixtures";
import { expectLedgerInvariants } from "../support/invariants";
import { createTestStore } from "../support/store";

const LAMBDA_INSTANCES = 3;

interface Request {
  readonly action: Action;
  /** A key from a small pool (so duplicates collide), or undefined for a server-made key. */
  readonly idempotencyKey: string | undefined;
}

const request: fc.Arbitrary<Request> = fc.record({
  action: fc.constantFrom<Action>("increment", "decrement"),
  idempotencyKey: fc.option(fc.constantFrom("a", "b", "c", "d", "e", "f"), { nil: undefined }),
});

describe("concurrent POST /number on DynamoDB Local", () => {
  it("I4 and I6: parallel commands with duplicate keys never double-apply and the value adds up", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 2, maxLength: 30 }),
        fc.constantFrom(3, 1_000_000_000),
        async (requests, max) => {
          const store = await createTestStore({ COUNTER_MAX: String(max) });
          const handlers: CommandHandler[] = Array.from({ length: LAMBDA_INSTANCES }, () =>
            createCommandHandler({
              committer: new Committer({ client: store.client, config: store.config }),
              config: store.config,
              log: () => undefined,
            }),
          );
          const responses = await Promise.all(
            requests.map((next, index) =>
              handlers[index % LAMBDA_INSTANCES]!(commandEvent(next.action, next.idempotencyKey)),
            ),
          );

          // Every answer is one the contract allows.
          for (const response of responses) expect([200, 409, 422, 503]).toContain(response.statusCode);

          // Per key: at most one answer that applied; every 200 for a key shows the same event.
          const outcomes = new Map<
            string,
            { action: Action; applied: number; bodies: Set<string>; unknown: boolean }
          >();
          responses.forEach((response, index) => {
            const key = String(response.headers?.["Idempotency-Key"] ?? `unanswered-${index}`);
            const entry = outcomes.get(key) ?? {
              action: requests[index]!.action,
              applied: 0,
              bodies: new Set(),
              unknown: false,
            };
            if (response.statusCode === 200) {
              const body = JSON.parse(response.body ?? "") as { event: { action: Action } };
              entry.action = body.event.action;
              entry.bodies.add(JSON.stringify(body));
              if (response.headers?.["Idempotent-Replayed"] === undefined) entry.applied += 1;
            }
            if (response.statusCode === 503) entry.unknown = true;
            outcomes.set(key, entry);
          });

          // Settle outcomes the client could not see, as a client would: GET /number/events/{key}.
          const query = createQueryHandler({
            client: store.client,
            config: store.config,
            log: () => undefined,
          });
          let acceptedSum = 0;
          let acceptedKeys = 0;
          for (const [key, entry] of outcomes) {
            expect(entry.applied, `key ${key} applied at most once`).toBeLessThanOrEqual(1);
            expect(entry.bodies.size, `key ${key} answers one event`).toBeLessThanOrEqual(1);
            let accepted = entry.bodies.size === 1;
            if (!accepted && entry.unknown) {
              const settled = await query(
                httpEvent({
                  method: "GET",
                  path: `/number/events/${key}`,
                  pathParameters: { key },
                  routeKey: "GET /number/events/{key}",
                }),
              );
              accepted = settled.statusCode === 200;
            }
            if (accepted) {
              acceptedKeys += 1;
              acceptedSum += entry.action === "increment" ? 1 : -1;
            }
          }

          const { events, aggregate } = await expectLedgerInvariants(store, store.config.bounds);
          expect(events.length).toBe(acceptedKeys);
          expect(aggregate.value).toBe(acceptedSum);
          store.client.destroy();
        },
      ),
      { numRuns: 25 },
    );
  });
});
