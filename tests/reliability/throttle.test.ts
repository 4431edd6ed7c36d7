// Stage throttling of the local runtime (local/throttle.ts), equivalent to API Gateway's: a token bucket of rate
// and burst, 429 problem+json with Retry-After, configured by THROTTLE_RATE_PER_SECOND and THROTTLE_BURST.
// Proves: the bucket admits the burst then the rate, and says how long to wait; the defaults admit far more than
// `npm run bench` sends; 0 or off turns it off; a bad value names its variable; through HTTP a throttled command
// writes nothing and its retry with the same key is applied afresh.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../local/system";
import { createTokenBucket } from "../../local/throttle";
import { loadThrottleSettings } from "../../local/config";
import { ConfigurationError } from "../../services/ledger/config";
import { THROTTLE_BURST_REQUESTS_DEFAULT, THROTTLE_RATE_PER_SECOND_DEFAULT } from "../../local/limits";
import { readLedger } from "../support/invariants";
import { createTestStore, type TestStore } from "../support/store";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

describe("the token bucket", () => {
  it("admits the burst at once, then the rate, and a refusal says how many seconds to wait", () => {
    let nowMs = 0;
    const bucket = createTokenBucket({ ratePerSecond: 2, burstRequests: 3 }, () => nowMs);
    expect([bucket.take(), bucket.take(), bucket.take()].map((decision) => decision.kind)).toEqual([
      "allowed",
      "allowed",
      "allowed",
    ]);
    expect(bucket.take()).toEqual({ kind: "throttled", retryAfterSeconds: 1 });
    nowMs += 500; // one token at 2 per second
    expect(bucket.take().kind).toBe("allowed");
    expect(bucket.take().kind).toBe("throttled");
    nowMs += 60_000; // a long quiet spell refills only up to the burst
    const afterQuiet = Array.from({ length: 5 }, () => bucket.take().kind);
    expect(afterQuiet).toEqual(["allowed", "allowed", "allowed", "throttled", "throttled"]);
  });

  it("Retry-After is the whole seconds until the next token, at least 1", () => {
    let nowMs = 0;
    const slow = createTokenBucket({ ratePerSecond: 0.25, burstRequests: 1 }, () => nowMs);
    expect(slow.take().kind).toBe("allowed");
    expect(slow.take()).toEqual({ kind: "throttled", retryAfterSeconds: 4 });
    nowMs += 3_000;
    expect(slow.take()).toEqual({ kind: "throttled", retryAfterSeconds: 1 });
  });

  it("a clock that steps back never adds tokens", () => {
    let nowMs = 10_000;
    const bucket = createTokenBucket({ ratePerSecond: 1, burstRequests: 1 }, () => nowMs);
    expect(bucket.take().kind).toBe("allowed");
    nowMs = 0;
    expect(bucket.take().kind).toBe("throttled");
  });

  it("the defaults admit a sustained 5 000 requests/s from 64 clients for 10 s (npm run bench sends far fewer)", () => {
    const settings = loadThrottleSettings({});
    expect(settings).toEqual({
      ratePerSecond: THROTTLE_RATE_PER_SECOND_DEFAULT,
      burstRequests: THROTTLE_BURST_REQUESTS_DEFAULT,
    });
    let nowMs = 0;
    const bucket = createTokenBucket(settings!, () => nowMs);
    let throttled = 0;
    for (let tick = 0; tick < 10_000; tick++) {
      nowMs = tick; // every millisecond, 5 requests: 5 000 per second
      for (let request = 0; request < 5; request++) if (bucket.take().kind === "throttled") throttled++;
    }
    // …and 64 clients arriving at the very same instant are one small burst.
    for (let client = 0; client < 64; client++) if (bucket.take().kind === "throttled") throttled++;
    expect(throttled).toBe(0);
  });
});

describe("THROTTLE_RATE_PER_SECOND and THROTTLE_BURST", () => {
  it.each([
    [{ THROTTLE_RATE_PER_SECOND: "0" }],
    [{ THROTTLE_RATE_PER_SECOND: "off" }],
    [{ THROTTLE_BURST: "OFF" }],
    [{ THROTTLE_RATE_PER_SECOND: "100", THROTTLE_BURST: "0" }],
  ])("%j turns throttling off", (environment) => {
    expect(loadThrottleSettings(environment)).toBeUndefined();
  });

  it("reads the stage's rate and burst", () => {
    expect(loadThrottleSettings({ THROTTLE_RATE_PER_SECOND: "100", THROTTLE_BURST: "200" })).toEqual({
      ratePerSecond: 100,
      burstRequests: 200,
    });
  });

  it.each([
    ["THROTTLE_RATE_PER_SECOND", "-1"],
    ["THROTTLE_RATE_PER_SECOND", "1.5"],
    ["THROTTLE_RATE_PER_SECOND", "fast"],
    ["THROTTLE_BURST", "1000001"],
    ["THROTTLE_BURST", "1e3"],
  ])("%s=%s stops start-up with a message naming the variable", (name, value) => {
    expect(() => loadThrottleSettings({ [name]: value })).toThrow(ConfigurationError);
    expect(() => loadThrottleSettings({ [name]: value })).toThrow(name);
  });
});

describe("throttling through the local runtime (THROTTLE_RATE_PER_SECOND=2, THROTTLE_BURST=5)", () => {
  let store: TestStore;
  let system: LocalSystem;

  beforeAll(async () => {
    store = await createTestStore({
      ...LEDGER_ONLY_ENVIRONMENT,
      THROTTLE_RATE_PER_SECOND: "2",
      THROTTLE_BURST: "5",
    });
    system = await startLocalSystem({ environment: store.environment, port: 0 });
  });

  afterAll(async () => {
    await system?.stop();
    store?.client.destroy();
  });

  it("429 problem with Retry-After past the burst; a throttled command writes nothing; its retry applies once", async () => {
    const keys = Array.from({ length: 20 }, () => randomUUID());
    const sentAtMs = Date.now();
    const responses = await Promise.all(
      keys.map((key) =>
        fetch(`${system.url}/number`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": key },
          body: '{"action":"increment"}',
        }),
      ),
    );
    const accepted = keys.filter((_, index) => responses[index]?.status === 200);
    const throttled = keys.filter((_, index) => responses[index]?.status === 429);
    // The burst, plus at most what the rate (2/s) refilled while the requests arrived.
    const refilledMax = Math.ceil(((Date.now() - sentAtMs) / 1_000) * 2);
    expect(accepted.length).toBeGreaterThanOrEqual(5);
    expect(accepted.length).toBeLessThanOrEqual(5 + refilledMax);
    expect(throttled.length).toBeGreaterThan(0);
    expect(accepted.length + throttled.length).toBe(keys.length);

    const refusal = responses.find((response) => response.status === 429)!;
    expect(refusal.headers.get("content-type")).toContain("application/problem+json");
    expect(Number(refusal.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refusal.headers.get("x-request-id")).toBeTruthy();
    const problem = (await refusal.json()) as { type: string; status: number; requestId: string };
    expect(problem.type).toMatch(/\/throttled$/);
    expect(problem.status).toBe(429);
    expect(problem.requestId).toBe(refusal.headers.get("x-request-id"));

    const ledgerKeys = (await readLedger(store)).map((event) => event.idempotencyKey);
    expect(new Set(ledgerKeys)).toEqual(new Set(accepted));

    await new Promise((wake) => setTimeout(wake, Number(refusal.headers.get("retry-after")) * 1_000));
    const retried = await fetch(`${system.url}/number`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": throttled[0]! },
      body: '{"action":"increment"}',
    });
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    expect(await readLedger(store)).toHaveLength(accepted.length + 1);
  });

  it("reads are throttled too, as on the API Gateway stage", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => (await fetch(`${system.url}/number`)).status),
    );
    expect(statuses).toContain(429);
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
  });
});
