// Accounting of what clients saw, for the concurrency properties (I4, I6): per key of one caller (keys are
// per actor) at most one answer that applied, one event behind every 200, outcomes the client could not see
// (503) settled through GET /number/events/{key} by the same caller as a real client would, and the ledger
// and aggregate agreeing with the sum.

import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { expect } from "vitest";
import type { Action } from "../../services/ledger/domain/decider";
import { createQueryHandler } from "../../services/query/handler";
import { withClaims, type TestClaims } from "../../testkit/claims";
import { httpEvent } from "./fixtures";
import { expectLedgerInvariants } from "./invariants";
import type { TestStore } from "./store";

interface KeyOutcome {
  applied: number;
  /** Distinct bodies of every 200 under this key: one event, so at most one body. */
  bodies: Set<string>;
  action: Action | undefined;
  unknown: boolean;
}

/** `callers[i]` sent the request answered by `responses[i]` (undefined: no claims, under AUTH=off). */
export async function expectOutcomesAddUp(
  store: TestStore,
  responses: readonly APIGatewayProxyStructuredResultV2[],
  baseValue = 0,
  callers: readonly (TestClaims | undefined)[] = [],
): Promise<{ acceptedKeys: number }> {
  // A 429 (a user's quota spent) wrote nothing: it counts like a refusal.
  for (const response of responses) expect([200, 409, 422, 429, 503]).toContain(response.statusCode);

  const outcomes = new Map<string, KeyOutcome & { key: string; caller: TestClaims | undefined }>();
  responses.forEach((response, index) => {
    const key = String(response.headers?.["Idempotency-Key"] ?? `unanswered-${index}`);
    const caller = callers[index];
    const entry = outcomes.get(`${caller?.sub ?? ""}|${key}`) ?? {
      key,
      caller,
      applied: 0,
      bodies: new Set<string>(),
      action: undefined,
      unknown: false,
    };
    if (response.statusCode === 200) {
      const body = JSON.parse(response.body ?? "") as { event: { action: Action } };
      entry.action = body.event.action;
      entry.bodies.add(JSON.stringify(body));
      if (response.headers?.["Idempotent-Replayed"] === undefined) entry.applied += 1;
    }
    if (response.statusCode === 503) entry.unknown = true;
    outcomes.set(`${caller?.sub ?? ""}|${key}`, entry);
  });

  const query = createQueryHandler({ client: store.client, config: store.config, log: () => undefined });
  let acceptedSum = 0;
  let acceptedKeys = 0;
  for (const [callerKey, entry] of outcomes) {
    const { key } = entry;
    expect(entry.applied, `key ${callerKey} applied at most once`).toBeLessThanOrEqual(1);
    expect(entry.bodies.size, `key ${callerKey} answers one event`).toBeLessThanOrEqual(1);
    let action = entry.bodies.size === 1 ? entry.action : undefined;
    if (action === undefined && entry.unknown) {
      const request = httpEvent({
        method: "GET",
        path: `/number/events/${key}`,
        pathParameters: { key },
        routeKey: "GET /number/events/{key}",
      });
      const settled = await query(entry.caller === undefined ? request : withClaims(request, entry.caller));
      if (settled.statusCode === 200) action = (JSON.parse(settled.body ?? "") as { action: Action }).action;
    }
    if (action !== undefined) {
      acceptedKeys += 1;
      acceptedSum += action === "increment" ? 1 : -1;
    }
  }

  const { events, aggregate } = await expectLedgerInvariants(store, store.config.bounds, baseValue);
  expect(events.length).toBe(acceptedKeys);
  expect(aggregate.value).toBe(baseValue + acceptedSum);
  return { acceptedKeys };
}
