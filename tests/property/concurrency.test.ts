// Concurrency property on DynamoDB Local: commands fired truly in parallel, through several committers
// (as several Lambda instances would), with duplicate keys sent at the same moment. No key is ever applied
// twice, and the final value equals accepted increments minus accepted decrements (I6), where an outcome
// the client could not see (503) is settled by asking for the event under its key. Two users share the key
// pool (AUTH on, verified claims as API Gateway passes them): their keys are their own.

import fc from "fast-check";
import { describe, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { createCommandHandler, type CommandHandler } from "../../services/command/handler";
import type { Action } from "../../services/ledger/domain/decider";
import { ALICE, BOB, withClaims, type TestClaims } from "../../testkit/claims";
import { commandEvent } from "../support/fixtures";
import { expectOutcomesAddUp } from "../support/outcomes";
import { createTestStore } from "../support/store";

const LAMBDA_INSTANCES = 3;

interface Request {
  readonly action: Action;
  /** A key from a small pool (so duplicates collide), or undefined for a server-made key. */
  readonly idempotencyKey: string | undefined;
  readonly user: TestClaims;
}

const request: fc.Arbitrary<Request> = fc.record({
  action: fc.constantFrom<Action>("increment", "decrement"),
  idempotencyKey: fc.option(fc.constantFrom("a", "b", "c", "d", "e", "f"), { nil: undefined }),
  user: fc.constantFrom(ALICE, BOB),
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
              handlers[index % LAMBDA_INSTANCES]!(
                withClaims(commandEvent(next.action, next.idempotencyKey), next.user),
              ),
            ),
          );

          await expectOutcomesAddUp(
            store,
            responses,
            0,
            requests.map((next) => next.user),
          );
          store.client.destroy();
        },
      ),
      { numRuns: 25 },
    );
  });
});
