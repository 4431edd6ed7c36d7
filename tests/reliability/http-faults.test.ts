// Faults at the HTTP edge, in a real proxy between the clients and the local gateway (testkit/faults.ts): a 5xx
// before the gateway saw the request, the gateway's answer dropped (connection cut), or replaced by a 5xx.
// Proves: a lost answer hides a command that did happen, and the client's retry with the same key replays it
// rather than applying it again; a 5xx before forwarding wrote nothing; and under a random mix with concurrent
// clients, nothing is lost, nothing doubled, every client ends with the true outcome, and verify is ok.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HTTP_FAULT_KINDS,
  randomHttpFaultPlan,
  seededRandom,
  startHttpFaultProxy,
  type HttpFaultKind,
  type HttpFaultProxy,
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

const SEED = Number(process.env.RELIABILITY_SEED ?? 23);
const QUICK_CLIENT: ClientLimits = { ...DEFAULT_CLIENT_LIMITS, retryAfterMsMax: 50 };

let store: TestStore;
let system: LocalSystem;
const proxies: HttpFaultProxy[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  store = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, COUNTER_MAX: "25" });
  system = await startLocalSystem({ environment: store.environment, port: 0 });
});

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  for (const cleanup of cleanups) await cleanup();
  await system?.stop();
  store?.client.destroy();
});

/** A proxy in front of the system that injects `fault` into the next `times` POSTs, then relays faithfully. */
async function proxyFailingNextPosts(fault: HttpFaultKind, times = 1): Promise<HttpFaultProxy> {
  let left = times;
  const proxy = await startHttpFaultProxy({
    targetUrl: system.url,
    plan: ({ method }) => {
      if (method !== "POST" || left === 0) return undefined;
      left--;
      return fault;
    },
  });
  proxies.push(proxy);
  return proxy;
}

async function post(url: string, key: string): Promise<Response> {
  return fetch(`${url}/number`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": key },
    body: '{"action":"increment"}',
  });
}

async function ledgerKeys(): Promise<string[]> {
  return (await readLedger(store)).map((event) => event.idempotencyKey);
}

describe("one fault at a time", () => {
  it("a dropped answer hides an applied command; the retry with the same key replays it", async () => {
    const proxy = await proxyFailingNextPosts("dropResponse");
    const key = randomUUID();
    const before = await ledgerKeys();
    await expect(post(proxy.url, key)).rejects.toThrow();
    const after = await ledgerKeys();
    expect(after).toContain(key);
    expect(after).toHaveLength(before.length + 1);
    const retried = await post(proxy.url, key);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    expect((await ledgerKeys()).filter((stored) => stored === key)).toHaveLength(1);
  });

  it("a 5xx in place of the answer hides an applied command; the retry with the same key replays it", async () => {
    const proxy = await proxyFailingNextPosts("replaceWith5xx");
    const key = randomUUID();
    const failed = await post(proxy.url, key);
    expect(failed.status).toBeGreaterThanOrEqual(502);
    expect(await ledgerKeys()).toContain(key);
    const retried = await post(proxy.url, key);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    expect((await ledgerKeys()).filter((stored) => stored === key)).toHaveLength(1);
  });

  it("a 5xx before the gateway saw the request wrote nothing; the retry applies it once", async () => {
    const proxy = await proxyFailingNextPosts("failBeforeForward");
    const key = randomUUID();
    expect((await post(proxy.url, key)).status).toBeGreaterThanOrEqual(502);
    expect(await ledgerKeys()).not.toContain(key);
    const retried = await post(proxy.url, key);
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect((await ledgerKeys()).filter((stored) => stored === key)).toHaveLength(1);
  });
});

describe("a random mix of edge faults, concurrent clients retrying with the same key", () => {
  it("nothing lost, nothing doubled, every client ends with the true outcome, verify is ok", async () => {
    const random = seededRandom(SEED);
    // Fresh tables, so that the ledger holds only this test's commands.
    const mixStore = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, COUNTER_MAX: "25" });
    const mixSystem = await startLocalSystem({ environment: mixStore.environment, port: 0 });
    cleanups.push(async () => {
      await mixSystem.stop();
      mixStore.client.destroy();
    });
    const proxy = await startHttpFaultProxy({
      targetUrl: mixSystem.url,
      plan: randomHttpFaultPlan({ failBeforeForward: 0.1, dropResponse: 0.1, replaceWith5xx: 0.1 }, random),
      random,
    });
    proxies.push(proxy);
    const clients = 12;
    const commandsPerClient = 20;
    const plans = Array.from({ length: clients }, (_, client) =>
      Array.from({ length: commandsPerClient }, (_, index): { action: Action; idempotencyKey: string } =>
        index % 4 === 0
          ? { action: "decrement", idempotencyKey: `edge-shared-${SEED}-${index}` }
          : {
              action: random() < 0.6 ? "increment" : "decrement",
              idempotencyKey: `edge-${SEED}-${client}-${index}`,
            },
      ),
    );
    const records = (
      await inParallel(plans, clients, async (commands) => {
        const sent: CommandRecord[] = [];
        for (const { action, idempotencyKey } of commands) {
          sent.push(await sendCommand(proxy.url, action, idempotencyKey, QUICK_CLIENT));
        }
        return sent;
      })
    ).flat();
    for (const kind of HTTP_FAULT_KINDS) {
      expect(proxy.statistics.injected[kind], `${kind} faults were injected`).toBeGreaterThan(0);
    }

    const settled = await settleUnknownOutcomes(proxy.url, records, QUICK_CLIENT);
    await expectLedgerAgreesWithClients(mixStore, settled);
    await waitForConvergence(mixSystem.url, 30_000);
  }, 90_000);
});
