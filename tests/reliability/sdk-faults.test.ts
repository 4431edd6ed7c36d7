// Faults at the AWS SDK, injected by middleware on the real DynamoDB client of a running local system (never a
// mock): failures before the request is sent, ambiguous failures after DynamoDB committed, throttling errors as
// the SDK raises them, slow answers; each inside the SDK's retry loop (per attempt) and outside it (per call).
// Proves: a client that retries with the same key gets its one event back (never a second), a refused or failed
// call writes nothing, throttling is a 503 with Retry-After and never a 500, and under a random mix of all of them
// with concurrent clients, nothing is lost, nothing doubled, and every client ends with the true outcome.

import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import {
  injectSdkFaults,
  randomSdkFaultPlan,
  seededRandom,
  SDK_FAULT_KINDS,
  type SdkFault,
  type SdkFaultInjector,
  type SdkFaultPlacement,
} from "../../testkit/faults";
import { startLocalSystem, type LocalSystem } from "../../local/system";
import type { Action } from "../../services/ledger/domain/decider";
import { readLedger } from "../support/invariants";
import { createTestStore, type TestStore } from "../support/store";
import {
  DEFAULT_CLIENT_LIMITS,
  inParallel,
  sendCommand,
  settleUnknownOutcomes,
  type ClientLimits,
  type CommandRecord,
} from "../../testkit/client";
import { waitForConvergence } from "../../testkit/convergence";
import { expectLedgerAgreesWithClients } from "./support/ledger-check";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

const SEED = Number(process.env.RELIABILITY_SEED ?? 11);
const TRANSACTION = "TransactWriteItemsCommand";
/** Clients that retry after 50 ms whatever Retry-After says, so that the test stays short. */
const QUICK_CLIENT: ClientLimits = { ...DEFAULT_CLIENT_LIMITS, retryAfterMsMax: 50 };

const running: { system?: LocalSystem; store?: TestStore }[] = [];

afterAll(async () => {
  for (const { system, store } of running) {
    await system?.stop();
    store?.client.destroy();
  }
});

/** A local system on fresh tables whose DynamoDB client carries the given fault plans. */
async function systemWithFaults(
  plans: readonly {
    plan: (call: { commandName: string }) => SdkFault | undefined;
    placement: SdkFaultPlacement;
  }[],
  overrides: Record<string, string> = {},
): Promise<{ system: LocalSystem; store: TestStore; injectors: SdkFaultInjector[] }> {
  const store = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, ...overrides });
  const injectors: SdkFaultInjector[] = [];
  const system = await startLocalSystem({
    environment: store.environment,
    port: 0,
    configureClient: (client) => {
      for (const { plan, placement } of plans) injectors.push(injectSdkFaults(client, plan, placement));
    },
  });
  running.push({ system, store });
  return { system, store, injectors };
}

/** Injects `fault` into the first `times` transactions, then nothing. */
function firstTransactions(fault: SdkFault, times = 1) {
  let left = times;
  return ({ commandName }: { commandName: string }): SdkFault | undefined => {
    if (commandName !== TRANSACTION || left === 0) return undefined;
    left--;
    return fault;
  };
}

async function post(system: LocalSystem, action: Action, idempotencyKey: string): Promise<Response> {
  return fetch(`${system.url}/number`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
    body: JSON.stringify({ action }),
  });
}

describe("one fault at a time, outside the SDK's retries (it reaches the committer)", () => {
  it("ambiguous: DynamoDB committed and the answer was lost → 503; the retry with the same key replays the one event", async () => {
    const { system, store } = await systemWithFaults([
      { plan: firstTransactions({ kind: "failAfterCommit" }), placement: "eachCall" },
    ]);
    const key = randomUUID();
    const lost = await post(system, "increment", key);
    expect(lost.status).toBe(503);
    expect(lost.headers.get("retry-after")).toBe("1");
    expect(lost.headers.get("content-type")).toContain("application/problem+json");
    const lostBody = (await lost.json()) as { detail: string };
    expect(lostBody.detail).not.toMatch(/ECONNRESET|socket|Injected|Error/);
    // The write happened although the client was told "unavailable"…
    expect((await readLedger(store)).map((event) => event.idempotencyKey)).toEqual([key]);

    // …so the retry must replay it, not apply it again.
    const retried = await post(system, "increment", key);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    const body = (await retried.json()) as { version: number; event: { id: string } };
    expect(body).toMatchObject({ value: 1, version: 1, event: { id: key } });
    expect(await readLedger(store)).toHaveLength(1);

    // The outcome the client never saw can also be settled by asking.
    const settled = await fetch(`${system.url}/number/events/${key}`);
    expect(settled.status).toBe(200);
    expect(await settled.json()).toMatchObject({ id: key, version: 1, action: "increment" });
  });

  it("before send: nothing was written → 503; the retry with the same key applies it once", async () => {
    const { system, store } = await systemWithFaults([
      { plan: firstTransactions({ kind: "failBeforeSend" }), placement: "eachCall" },
    ]);
    const key = randomUUID();
    expect((await post(system, "increment", key)).status).toBe(503);
    expect(await readLedger(store)).toEqual([]);
    const retried = await post(system, "increment", key);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect((await readLedger(store)).map((event) => event.idempotencyKey)).toEqual([key]);
  });

  it.each(["ProvisionedThroughputExceededException", "ThrottlingException"] as const)(
    "throttled (%s, HTTP 400 from DynamoDB) → 503 with Retry-After, never a 500, nothing written",
    async (errorName) => {
      const { system, store } = await systemWithFaults([
        { plan: firstTransactions({ kind: "throttle", errorName }, 1), placement: "eachCall" },
      ]);
      const key = randomUUID();
      const throttled = await post(system, "increment", key);
      expect(throttled.status).toBe(503);
      expect(throttled.headers.get("retry-after")).toBe("1");
      expect(await readLedger(store)).toEqual([]);
      const retried = await post(system, "increment", key);
      expect(retried.status).toBe(200);
      expect(retried.headers.get("idempotent-replayed")).toBeNull();
      expect((await readLedger(store)).map((event) => event.idempotencyKey)).toEqual([key]);
    },
  );
});

describe("one fault at a time, inside the SDK's retries (as a real network fault would be)", () => {
  it("ambiguous: the SDK resends the very same transaction (ClientRequestToken) and the client sees one plain 200", async () => {
    const { system, store, injectors } = await systemWithFaults([
      { plan: firstTransactions({ kind: "failAfterCommit" }), placement: "eachAttempt" },
    ]);
    const key = randomUUID();
    const response = await post(system, "increment", key);
    expect(response.status).toBe(200);
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    expect(injectors[0]?.statistics.injected.failAfterCommit).toBe(1);
    expect((await readLedger(store)).map((event) => event.idempotencyKey)).toEqual([key]);
  });

  it("throttled and slow answers are absorbed by the SDK's retries: 200, one event", async () => {
    let call = 0;
    const plan = ({ commandName }: { commandName: string }): SdkFault | undefined => {
      if (commandName !== TRANSACTION) return undefined;
      call++;
      if (call === 1) return { kind: "throttle", errorName: "ThrottlingException" };
      if (call === 2) return { kind: "slowAnswer", delayMs: 300 };
      return undefined;
    };
    const { system, store } = await systemWithFaults([{ plan, placement: "eachAttempt" }]);
    const startedAtMs = Date.now();
    const response = await post(system, "increment", randomUUID());
    expect(response.status).toBe(200);
    expect(Date.now() - startedAtMs).toBeGreaterThanOrEqual(300);
    expect(await readLedger(store)).toHaveLength(1);
  });
});

describe("a random mix of every SDK fault, concurrent clients retrying with the same key", () => {
  it("nothing lost, nothing doubled, every client ends with the true outcome, the projection converges", async () => {
    const random = seededRandom(SEED);
    const { system, store, injectors } = await systemWithFaults(
      [
        {
          plan: randomSdkFaultPlan({
            rates: { failBeforeSend: 0.05, failAfterCommit: 0.08, throttle: 0.03, slowAnswer: 0.15 },
            random,
            slowAnswerMsMax: 60,
          }),
          placement: "eachAttempt",
        },
        {
          plan: randomSdkFaultPlan({
            rates: { failBeforeSend: 0.03, failAfterCommit: 0.06, throttle: 0.03 },
            random,
          }),
          placement: "eachCall",
        },
      ],
      // Near both bounds, and a projector that retries long enough to outlast transient faults.
      { COUNTER_MAX: "30", STREAM_MAX_RETRY_ATTEMPTS: "30" },
    );
    const clients = 12;
    const commandsPerClient = 25;
    const plans = Array.from({ length: clients }, (_, client) =>
      Array.from({ length: commandsPerClient }, (_, index): { action: Action; idempotencyKey: string } => {
        const action: Action = random() < 0.65 ? "increment" : "decrement";
        // Every fifth command uses a key every client sends, with one action: duplicates race under faults too.
        return index % 5 === 0
          ? { action: "increment", idempotencyKey: `shared-${SEED}-${index}` }
          : { action, idempotencyKey: `sdk-${SEED}-${client}-${index}` };
      }),
    );
    const records: CommandRecord[] = (
      await inParallel(plans, clients, async (commands) => {
        const sent: CommandRecord[] = [];
        for (const { action, idempotencyKey } of commands) {
          sent.push(await sendCommand(system.url, action, idempotencyKey, QUICK_CLIENT));
        }
        return sent;
      })
    ).flat();

    for (const kind of SDK_FAULT_KINDS) {
      const injected = injectors.reduce((sum, injector) => sum + injector.statistics.injected[kind], 0);
      expect(injected, `${kind} faults were injected`).toBeGreaterThan(0);
    }
    const retried = records.filter((record) => record.attempts > 1).length;
    expect(retried, "some clients had to retry").toBeGreaterThan(0);

    // Settled with the faults still on, as a client in the real world would.
    const settled = await settleUnknownOutcomes(system.url, records, QUICK_CLIENT);
    const { appliedKeys } = await expectLedgerAgreesWithClients(store, settled);
    expect(appliedKeys).toBeGreaterThan(30);

    for (const injector of injectors) injector.enabled = false;
    const report = await waitForConvergence(system.url, 40_000);
    expect(report.checkedTo, "verified through the last version, over its incremental calls").toBe(
      appliedKeys,
    );
  }, 120_000);
});
