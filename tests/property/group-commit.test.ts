// Group commit under fast-check, on DynamoDB Local: commands arrive at one batching committer in arbitrary
// interleavings (staggered arrivals, duplicate keys, both actions near both bounds) while a second writer
// in "another process" moves the same aggregate and forces conflicts, from two users sharing the key pool (a
// batch holds both users' commands, and one key of each). I1–I4 and I6 must hold, and each command must get
// its own answer.

import { PutCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import type { Action } from "../../services/ledger/domain/decider";
import { ALICE, BOB, actorOfClaims, withClaims, type TestClaims } from "../../testkit/claims";
import { VALUE_MAX } from "../../services/ledger/domain/limits";
import { commandEvent } from "../support/fixtures";
import { expectLedgerInvariants } from "../support/invariants";
import { expectOutcomesAddUp } from "../support/outcomes";
import { createTestStore } from "../support/store";

interface Arrival {
  readonly action: Action;
  readonly idempotencyKey: string | undefined;
  /** Milliseconds after the start at which the command arrives. */
  readonly delayMs: number;
  /** Which process receives it: the batching committer, or the competing writer. */
  readonly writer: "batching" | "competing";
  readonly user: TestClaims;
}

const arrival: fc.Arbitrary<Arrival> = fc.record({
  action: fc.constantFrom<Action>("increment", "decrement"),
  idempotencyKey: fc.option(fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h"), { nil: undefined }),
  delayMs: fc.integer({ min: 0, max: 15 }),
  writer: fc.constantFrom<"batching" | "competing">("batching", "batching", "batching", "competing"),
  user: fc.constantFrom(ALICE, BOB),
});

describe("group commit on DynamoDB Local", () => {
  it("I1–I4 and I6 hold for any interleaving, with a competing writer and both bounds", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arrival, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(
          { base: 0, max: 3 },
          { base: 0, max: VALUE_MAX },
          { base: VALUE_MAX - 2, max: VALUE_MAX },
        ),
        async (arrivals, start) => {
          const store = await createTestStore({ COUNTER_MAX: String(start.max) });
          if (start.base !== 0) {
            await store.client.send(
              new PutCommand({
                TableName: store.config.tables.counters,
                Item: { counterId: store.config.counterId, value: start.base, version: 0 },
              }),
            );
          }
          const batching = new Committer({ client: store.client, config: store.config });
          const competing = new Committer({ client: store.client, config: store.config, batchEventsMax: 1 });
          const handlers = {
            batching: createCommandHandler({
              committer: batching,
              config: store.config,
              log: () => undefined,
            }),
            competing: createCommandHandler({
              committer: competing,
              config: store.config,
              log: () => undefined,
            }),
          };
          const responses = await Promise.all(
            arrivals.map(async (next) => {
              await new Promise((wake) => setTimeout(wake, next.delayMs));
              return handlers[next.writer](
                withClaims(commandEvent(next.action, next.idempotencyKey), next.user),
              );
            }),
          );
          await expectOutcomesAddUp(
            store,
            responses,
            start.base,
            arrivals.map((next) => next.user),
          );
          store.client.destroy();
        },
      ),
      { numRuns: 30 },
    );
  });

  // That batching really happens is proved here deterministically, not left to how the arrivals fell above.
  it("commands arriving while a transaction is in flight all join the next one", async () => {
    const store = await createTestStore();
    const committer = new Committer({ client: store.client, config: store.config });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        committer.commit({
          action: "increment",
          counterId: store.config.counterId,
          idempotencyKey: `together-${index}`,
          actor: actorOfClaims(ALICE),
          requestFingerprint: "fingerprint",
          requestId: `request-${index}`,
        }),
      ),
    );
    expect(outcomes.every((outcome) => outcome.kind === "applied")).toBe(true);
    // The first starts a transaction alone; the 19 that arrive meanwhile share the next one.
    expect(committer.statistics).toMatchObject({ transactions: 2, eventsCommitted: 20, conflicts: 0 });
    const { aggregate } = await expectLedgerInvariants(store, store.config.bounds);
    expect(aggregate).toEqual({ value: 20, version: 20 });
    store.client.destroy();
  });
});
