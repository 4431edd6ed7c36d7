// Race / ACID through the HTTP runtime: a couple of thousand POST /number at once, spread over two local
// systems on the same tables (two processes' committers, as two Lambda instances), with and without keys,
// each key sent several times at the same moment (and some with the other action too), near the upper bound.
// Proves: no key is applied twice (I4), every 200 is one stored event, the value is accepted increments minus
// accepted decrements (I6), the bound holds, and once the projector drains, verify is ok (I5).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../testkit/faults";
import { startLocalSystem, type LocalSystem } from "../../local/system";
import type { Action } from "../../services/ledger/domain/decider";
import { expectOutcomesAddUp } from "../support/outcomes";
import { createTestStore, type TestStore } from "../support/store";
import { inParallel } from "../../testkit/client";
import { waitForConvergence } from "../../testkit/convergence";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

const SEED = Number(process.env.RELIABILITY_SEED ?? 7);
const KEYS = 450;
const COPIES_PER_KEY = 4;
const KEYLESS_REQUESTS = 400;
/** Keys that also get one request with the other action: exactly one action may win (I4), the other is 422. */
const CONFLICTING_KEYS = 60;
/** Requests in flight at once; the copies of a key are adjacent, so they go out together. */
const IN_FLIGHT_MAX = 256;
const COUNTER_MAX = 120;

interface PlannedRequest {
  readonly action: Action;
  readonly idempotencyKey: string | undefined;
}

function plan(random: () => number): PlannedRequest[] {
  const action = (): Action => (random() < 0.7 ? "increment" : "decrement");
  const requests: PlannedRequest[] = [];
  for (let index = 0; index < KEYS; index++) {
    const idempotencyKey = `race-${SEED}-${index}`;
    const keyAction = action();
    for (let copy = 0; copy < COPIES_PER_KEY; copy++) requests.push({ action: keyAction, idempotencyKey });
    if (index < CONFLICTING_KEYS) {
      requests.push({ action: keyAction === "increment" ? "decrement" : "increment", idempotencyKey });
    }
    if (index < KEYLESS_REQUESTS) requests.push({ action: action(), idempotencyKey: undefined });
  }
  return requests;
}

/** A fetch answer in the shape tests/support/outcomes.ts reads (the handler's result, headers as sent). */
async function resultOf(response: Response): Promise<APIGatewayProxyStructuredResultV2> {
  const headers: Record<string, string> = {};
  const key = response.headers.get("idempotency-key");
  if (key !== null) headers["Idempotency-Key"] = key;
  const replayed = response.headers.get("idempotent-replayed");
  if (replayed !== null) headers["Idempotent-Replayed"] = replayed;
  return { statusCode: response.status, headers, body: await response.text() };
}

let store: TestStore;
const systems: LocalSystem[] = [];

beforeAll(async () => {
  store = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, COUNTER_MAX: String(COUNTER_MAX) });
  systems.push(await startLocalSystem({ environment: store.environment, port: 0 }));
  systems.push(
    await startLocalSystem({
      environment: store.environment,
      port: 0,
      dataDirectory: mkdtempSync(join(tmpdir(), "race-second-poller-")),
    }),
  );
});

afterAll(async () => {
  await Promise.all(systems.map((system) => system.stop()));
  store?.client.destroy();
});

describe("race: thousands of parallel POST /number through two local systems", () => {
  it("I4 and I6 hold, duplicates sent at the same moment apply once, and verify is ok after the drain", async () => {
    const requests = plan(seededRandom(SEED));
    expect(requests.length).toBeGreaterThan(2_000);
    const results = await inParallel(requests, IN_FLIGHT_MAX, async (request, index) => {
      const system = systems[index % systems.length] as LocalSystem;
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (request.idempotencyKey !== undefined) headers["Idempotency-Key"] = request.idempotencyKey;
      const response = await fetch(`${system.url}/number`, {
        method: "POST",
        headers,
        body: JSON.stringify({ action: request.action }),
      });
      return resultOf(response);
    });

    const statuses = new Map<number, number>();
    for (const result of results)
      statuses.set(result.statusCode ?? 0, (statuses.get(result.statusCode ?? 0) ?? 0) + 1);
    const replays = results.filter((result) => result.headers?.["Idempotent-Replayed"] === "true").length;
    // The race really raced: duplicates were replayed, conflicting keys refused, the bound reached.
    expect(replays, `statuses ${JSON.stringify([...statuses])}`).toBeGreaterThan(KEYS);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(409) ?? 0, `statuses ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);

    const { acceptedKeys } = await expectOutcomesAddUp(store, results);
    expect(acceptedKeys).toBeGreaterThan(COUNTER_MAX);

    const report = await waitForConvergence(systems[0]!.url, 30_000);
    expect(report.checkedTo, "verified through the last version, over its incremental calls").toBe(
      acceptedKeys,
    );
    expect(report.aggregate.value).toBeLessThanOrEqual(COUNTER_MAX);
  }, 120_000);
});
