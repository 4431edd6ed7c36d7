// The command sender against a fake API: one key per command, the same key on every retry, backoff
// between attempts, and an outcome settled by asking for the event when every answer was lost.
// Together these are the client's half of invariants I4 and I6: a click is applied at most once.

import { describe, expect, it } from "vitest";
import { createCounterApi } from "../../web/src/api";
import { createIdempotencyKey, runCommand, type CommandOptions } from "../../web/src/command";
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

  it("I6: when no attempt reached the counter, asking for the event settles it as not applied", async () => {
    const { fake, api, options } = setUp();
    for (let attempt = 0; attempt < 6; attempt += 1) fake.commandFaults.push({ kind: "lostRequest" });
    const result = await runCommand(api, "increment", "key-never", options);
    expect(result).toMatchObject({ kind: "notApplied", attempts: 6 });
    expect(fake.events).toHaveLength(0);
  });

  it("when the lookup goes unanswered too, the outcome is reported as unconfirmed with its key", async () => {
    const { fake, api, options } = setUp();
    fake.unreachable = true;
    const result = await runCommand(api, "increment", "key-unknown", options);
    expect(result).toMatchObject({ kind: "unconfirmed", attempts: 6, idempotencyKey: "key-unknown" });
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
