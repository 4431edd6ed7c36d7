// Model-based property test (fast-check `fc.commands` + `fc.asyncModelRun`) of POST /number against the
// real tables on DynamoDB Local: arbitrary sequences of increments, decrements, retries with the same key
// and reuse of a key for the other action, near both bounds, by two users whose keys are their own (AUTH on,
// verified claims as API Gateway passes them). After every step: I1–I4 hold, and the real system agrees
// with a plain model of what the API promises.

import { PutCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { createCommandHandler, type CommandHandler } from "../../services/command/handler";
import type { Action } from "../../services/ledger/domain/decider";
import { VALUE_MAX } from "../../services/ledger/domain/limits";
import { ALICE, BOB, withClaims, type TestClaims } from "../../testkit/claims";
import { commandEvent } from "../support/fixtures";
import { expectLedgerInvariants } from "../support/invariants";
import { createTestStore, type TestStore } from "../support/store";

interface Model {
  value: number;
  version: number;
  /** What each client key was first applied with, and the body the client saw: per user (`sub|key`). */
  readonly applied: Map<string, { action: Action; body: string }>;
  readonly base: number;
  readonly bounds: { min: number; max: number };
}

interface Real {
  readonly handle: CommandHandler;
  readonly store: TestStore;
}

class Post implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly action: Action,
    readonly idempotencyKey: string | undefined,
    readonly user: TestClaims,
  ) {}

  check(): boolean {
    return true;
  }

  async run(model: Model, real: Real): Promise<void> {
    const result = await real.handle(withClaims(commandEvent(this.action, this.idempotencyKey), this.user));
    const body = result.body ?? "";
    const modelKey = `${this.user.sub}|${this.idempotencyKey}`;
    const earlier = this.idempotencyKey === undefined ? undefined : model.applied.get(modelKey);
    if (earlier !== undefined && earlier.action === this.action) {
      // I4: a repeat of the same request is the original answer, unchanged.
      expect(result.statusCode).toBe(200);
      expect(result.headers?.["Idempotent-Replayed"]).toBe("true");
      expect(body).toBe(earlier.body);
    } else if (earlier !== undefined) {
      // I4: a repeat with another request is refused.
      expect(result.statusCode).toBe(422);
    } else {
      const after = model.value + (this.action === "increment" ? 1 : -1);
      if (after < model.bounds.min || after > model.bounds.max) {
        expect(result.statusCode).toBe(409);
        const bound = this.action === "increment" ? model.bounds.max : model.bounds.min;
        expect(JSON.parse(body)).toMatchObject({ value: model.value, bound });
      } else {
        expect(result.statusCode).toBe(200);
        expect(result.headers?.["Idempotent-Replayed"]).toBeUndefined();
        expect(JSON.parse(body)).toMatchObject({ value: after, version: model.version + 1 });
        model.value = after;
        model.version += 1;
        if (this.idempotencyKey !== undefined) {
          model.applied.set(modelKey, { action: this.action, body });
        }
      }
    }
    const { aggregate } = await expectLedgerInvariants(real.store, model.bounds, model.base);
    expect(aggregate).toEqual({ value: model.value, version: model.version });
  }

  toString(): string {
    return `POST ${this.action} key=${this.idempotencyKey ?? "(server-made)"} by ${this.user.username ?? this.user.sub}`;
  }
}

const commands = [
  fc
    .tuple(
      fc.constantFrom<Action>("increment", "decrement"),
      fc.option(fc.constantFrom("k1", "k2", "k3", "k4")),
      fc.constantFrom(ALICE, BOB),
    )
    .map(([action, key, user]) => new Post(action, key ?? undefined, user)),
];

/**
 * `base` is where the counter starts: its lower bound when `seeded` is false (a new counter), else a value
 * seeded into the aggregate. `min` above 0 is configured directly in the config object.
 */
async function runScenario(start: {
  base: number;
  max: number;
  min?: number;
  seeded?: boolean;
}): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), async (scenario) => {
      const store = await createTestStore(
        { COUNTER_MAX: String(start.max) },
        start.min === undefined ? undefined : { min: start.min, max: start.max },
      );
      if (start.seeded === true) {
        // Seed the aggregate just below the top: I1 is then checked relative to this base value.
        await store.client.send(
          new PutCommand({
            TableName: store.config.tables.counters,
            Item: {
              counterId: store.config.counterId,
              value: start.base,
              version: 0,
              updatedAt: null,
              lastEventId: null,
            },
          }),
        );
      }
      const committer = new Committer({ client: store.client, config: store.config });
      const real: Real = {
        handle: createCommandHandler({ committer, config: store.config, log: () => undefined }),
        store,
      };
      const model: Model = {
        value: start.base,
        version: 0,
        applied: new Map(),
        base: start.base,
        bounds: store.config.bounds,
      };
      await fc.asyncModelRun(() => ({ model, real }), scenario);
      store.client.destroy();
    }),
    { numRuns: 25 },
  );
}

describe("POST /number, model-based, on DynamoDB Local", () => {
  it("I1–I4 hold after every step of any sequence starting at the lower bound", async () => {
    await runScenario({ base: 0, max: VALUE_MAX });
  });

  it("I1–I4 hold after every step of any sequence starting just below 1 000 000 000", async () => {
    await runScenario({ base: VALUE_MAX - 2, max: VALUE_MAX, seeded: true });
  });

  it("I1–I4 hold with a tight configured bound, where both bounds are met often", async () => {
    await runScenario({ base: 0, max: 2 });
  });

  it("I1–I4 hold for a new counter whose lower bound is above 0: it starts at COUNTER_MIN, never leaves [5, 8]", async () => {
    await runScenario({ base: 5, min: 5, max: 8 });
  });
});
