// The command sender against a fake API: one key per command, the same key on every retry, backoff
// between attempts, and an outcome settled by asking for the event when every answer was lost.
// An outcome still unknown after that is settled later under the same key (settleCommand).
// Together these are the client's half of invariants I4 and I6: a click is applied at most once.

import { describe, expect, it } from "vitest";
import { createCounterApi } from "../../../web/src/api";
import {
  createIdempotencyKey,
  runCommand,
  settleCommand,
  type CommandOptions,
} from "../../../web/src/command";
import { FakeCounterApi } from "./fake-api";

function setUp() {
  const fake = new FakeCounterApi();
  const api = createCounterApi({ baseUrl: "", fetch: fake.fetch });
  const delaysMs: number[] = [];
  const options: CommandOptions = {
    sleep: (milliseconds) => {
      delaysMs.push(milliseconds);
      return Promise.resolve();
    },
    random: () => 1,
  };
  const keysSent = () => fake.commandRequests().map((request) => request.headers.get("Idempotency-Key"));
  return { fake, api, delaysMs, options, keysSent };
}

describe("runCommand", () => {
  it("sends one POST with the key it is given, and no wait, when the first answer arrives", async () => {
    const { fake, api, delaysMs, options, keysSent } = setUp();
    const result = await runCommand(api, "increment", "key-1", options);
    expect(result).toMatchObject({ kind: "applied", attempts: 1, applied: { value: 1, version: 1 } });
    expect(keysSent()).toEqual(["key-1"]);
    expect(fake.commandRequests()[0]?.body).toBe('{"action":"increment"}');
    expect(delaysMs).toEqual([]);
  });

  it("I4: a lost answer is retried with the same key, and the command is applied once", async () => {
    const { fake, api, delaysMs, options, keysSent } = setUp();
    fake.commandFaults.push({ kind: "lostAnswer" }, { kind: "lostAnswer" });
    const result = await runCommand(api, "increment", "key-lost", options);
    expect(result).toMatchObject({ kind: "applied", attempts: 3, applied: { value: 1, version: 1 } });
    expect(keysSent()).toEqual(["key-lost", "key-lost", "key-lost"]);
    expect(fake.events).toHaveLength(1);
    expect(fake.value).toBe(1);
    expect(delaysMs).toEqual([250, 500]);
  });

  it("503 and 429 are retried with the same key, waiting at least their Retry-After", async () => {
    const { fake, api, delaysMs, options, keysSent } = setUp();
    fake.commandFaults.push(
      { kind: "status", status: 503, retryAfterSeconds: 1 },
      { kind: "status", status: 429, retryAfterSeconds: 2 },
    );
    const result = await runCommand(api, "increment", "key-busy", options);
    expect(result).toMatchObject({ kind: "applied", attempts: 3 });
    expect(keysSent()).toEqual(["key-busy", "key-busy", "key-busy"]);
    expect(delaysMs).toEqual([1000, 2000]);
    expect(fake.value).toBe(1);
  });

  it("a Retry-After longer than a click waits (WAF's minute) ends the click's attempts: nothing is sent before it", async () => {
    const { fake, api, delaysMs, options, keysSent } = setUp();
    fake.commandFaults.push({ kind: "status", status: 429, retryAfterSeconds: 60 });
    const result = await runCommand(api, "increment", "key-waf", options);
    // Left to settling, with the API's Retry-After: one POST, no retry and no lookup before the minute is up.
    expect(result).toEqual({
      kind: "unsettled",
      attempts: 1,
      reason: expect.any(String) as string,
      retryAfterSeconds: 60,
    });
    expect(keysSent()).toEqual(["key-waf"]);
    expect(fake.requests.filter((request) => request.path.startsWith("/number/events/"))).toEqual([]);
    expect(delaysMs).toEqual([]);
    expect(fake.value).toBe(0);
    // Settling later goes on under the same key, and applies it once.
    const settled = await settleCommand(api, "increment", "key-waf", 1);
    expect(settled).toMatchObject({ kind: "applied", attempts: 2 });
    expect(keysSent()).toEqual(["key-waf", "key-waf"]);
    expect(fake.value).toBe(1);
  });

  it("a Retry-After within what a click waits is waited for, then the click's attempts go on", async () => {
    const { fake, api, delaysMs, options } = setUp();
    fake.commandFaults.push({ kind: "status", status: 429, retryAfterSeconds: 10 });
    const result = await runCommand(api, "increment", "key-short", options);
    expect(result).toMatchObject({ kind: "applied", attempts: 2 });
    expect(delaysMs).toEqual([10_000]);
  });

  it("a refusal is not retried and changes nothing", async () => {
    const { fake, api, delaysMs, options } = setUp();
    const result = await runCommand(api, "decrement", "key-refused", options);
    expect(result).toMatchObject({ kind: "refused", problem: { status: 409 } });
    expect(fake.commandRequests()).toHaveLength(1);
    expect(delaysMs).toEqual([]);
    expect(fake.value).toBe(0);
  });

  it("I6: when every answer is lost, asking for the event settles it as applied, once", async () => {
    const { fake, api, options, keysSent } = setUp();
    for (let attempt = 0; attempt < 6; attempt += 1) fake.commandFaults.push({ kind: "lostAnswer" });
    const result = await runCommand(api, "increment", "key-settled", options);
    expect(result).toMatchObject({
      kind: "applied",
      settledByLookup: true,
      applied: { value: 1, version: 1 },
    });
    expect(new Set(keysSent())).toEqual(new Set(["key-settled"]));
    expect(keysSent()).toHaveLength(6);
    expect(fake.requests.filter((request) => request.path === "/number/events/key-settled")).toHaveLength(1);
    expect(fake.events).toHaveLength(1);
  });

  it("I6: when no attempt reached the counter, a 404 is not taken as 'not applied': it stays unsettled", async () => {
    const { fake, api, options } = setUp();
    for (let attempt = 0; attempt < 6; attempt += 1) fake.commandFaults.push({ kind: "lostRequest" });
    const result = await runCommand(api, "increment", "key-never", options);
    // 404 means "not so far": an attempt still on its way may land, so a new key could apply it twice.
    expect(result).toEqual({
      kind: "unsettled",
      attempts: 6,
      reason: "the API did not answer",
      retryAfterSeconds: null,
    });
    expect(fake.requests.filter((request) => request.path === "/number/events/key-never")).toHaveLength(1);
    expect(fake.events).toHaveLength(0);
  });

  it("when the lookup goes unanswered too, the outcome is unsettled, in plain words", async () => {
    const { fake, api, options } = setUp();
    fake.unreachable = true;
    const result = await runCommand(api, "increment", "key-unknown", options);
    expect(result).toEqual({
      kind: "unsettled",
      attempts: 6,
      reason: "the API did not answer",
      retryAfterSeconds: null,
    });
  });

  it("tells each retry's reason in plain words, never the browser's", async () => {
    const { fake, api } = setUp();
    fake.commandFaults.push({ kind: "lostRequest" }, { kind: "status", status: 503, retryAfterSeconds: 1 });
    const reasons: string[] = [];
    await runCommand(api, "increment", "key-words", {
      sleep: () => Promise.resolve(),
      onRetry: (notice) => reasons.push(notice.reason),
    });
    expect(reasons).toEqual(["the API did not answer", "the API is unavailable for a moment"]);
  });
});

describe("settleCommand", () => {
  it("an event under the key settles it as applied, by asking, without sending the command again", async () => {
    const { fake, api } = setUp();
    fake.applyElsewhere("increment", "key-landed");
    const result = await settleCommand(api, "increment", "key-landed", 6);
    expect(result).toMatchObject({
      kind: "applied",
      settledByLookup: true,
      attempts: 7,
      applied: { value: 1, version: 1, event: { id: "key-landed" } },
    });
    expect(fake.commandRequests()).toHaveLength(0);
  });

  it("no event so far: it resends the same command under the same key, the final answer, applied once", async () => {
    const { fake, api, keysSent } = setUp();
    const result = await settleCommand(api, "increment", "key-resent", 6);
    expect(result).toMatchObject({ kind: "applied", settledByLookup: false, applied: { value: 1 } });
    expect(keysSent()).toEqual(["key-resent"]);
    expect(await settleCommand(api, "increment", "key-resent", 7)).toMatchObject({ kind: "applied" });
    expect(fake.events).toHaveLength(1);
  });

  it("a refusal of the resend settles it as not applied, and changes nothing", async () => {
    const { fake, api } = setUp();
    const result = await settleCommand(api, "decrement", "key-refused-later", 6);
    expect(result).toMatchObject({ kind: "refused", problem: { status: 409 } });
    expect(fake.events).toHaveLength(0);
  });

  it("stays unsettled while the API does not answer, or answers 503, with its Retry-After", async () => {
    const { fake, api } = setUp();
    fake.unreachable = true;
    expect(await settleCommand(api, "increment", "key-away", 6)).toEqual({
      kind: "unsettled",
      attempts: 7,
      reason: "the API did not answer",
      retryAfterSeconds: null,
    });
    fake.unreachable = false;
    fake.commandFaults.push({ kind: "status", status: 503, retryAfterSeconds: 2 });
    expect(await settleCommand(api, "increment", "key-away", 7)).toEqual({
      kind: "unsettled",
      attempts: 8,
      reason: "the API is unavailable for a moment",
      retryAfterSeconds: 2,
    });
    expect(fake.events).toHaveLength(0);
  });
});

describe("createIdempotencyKey", () => {
  it("makes version 4 UUIDs that the API accepts, a new one every time", () => {
    const keys = Array.from({ length: 100 }, createIdempotencyKey);
    for (const key of keys)
      expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
