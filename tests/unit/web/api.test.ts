// The API client against the API contract (contract/): the requests it makes, and how it reads each kind of answer into a
// value — including the answers that are not in the contract (a proxy's HTML page, a broken body).

import { describe, expect, it } from "vitest";
import {
  createCounterApi,
  idempotencyKeyOf,
  parseRetryAfterSeconds,
  problemName,
} from "../../../web/src/api";
import { FakeCounterApi } from "./fake-api";

describe("createCounterApi", () => {
  it("reads the number, then asks with If-None-Match and takes 304 as nothing new", async () => {
    const fake = new FakeCounterApi();
    const api = createCounterApi({ baseUrl: "", fetch: fake.fetch });
    const first = await api.readNumber(null);
    expect(first).toEqual({
      kind: "current",
      snapshot: { value: 0, version: 0, updatedAt: null, bounds: { min: 0, max: 1_000_000_000 } },
      etag: '"0"',
    });
    expect(await api.readNumber('"0"')).toEqual({ kind: "notModified" });
    expect(fake.requests[1]?.headers.get("If-None-Match")).toBe('"0"');
    fake.applyElsewhere("increment");
    expect(await api.readNumber('"0"')).toMatchObject({
      kind: "current",
      snapshot: { value: 1, version: 1 },
    });
  });

  it("puts the base URL chosen at build time in front of every path, without a double slash", async () => {
    const urls: string[] = [];
    const api = createCounterApi({
      baseUrl: "https://api.example.test/prod/",
      fetch: (input) => {
        urls.push(input instanceof Request ? input.url : input.toString());
        return Promise.resolve(new Response(JSON.stringify({ status: "ok" }), { status: 200 }));
      },
    });
    await api.readNumber(null);
    await api.readHistory({ limit: 10, cursor: "abc/=", order: "desc" });
    expect(urls).toEqual([
      "https://api.example.test/prod/number",
      "https://api.example.test/prod/number/history?limit=10&order=desc&cursor=abc%2F%3D",
    ]);
  });

  it("reads a problem's detail and Retry-After", async () => {
    const fake = new FakeCounterApi();
    fake.commandFaults.push({ kind: "status", status: 503, retryAfterSeconds: 1 });
    const api = createCounterApi({ baseUrl: "", fetch: fake.fetch });
    const answer = await api.sendCommand("increment", "key-1");
    expect(answer).toMatchObject({ kind: "problem", problem: { status: 503 }, retryAfterSeconds: 1 });
    if (answer.kind === "problem") expect(problemName(answer.problem)).toBe("unavailable");
  });

  it("gives an error page that is not a problem a plain description of its status", async () => {
    const api = createCounterApi({
      baseUrl: "",
      fetch: () =>
        Promise.resolve(new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" })),
    });
    expect(await api.verify()).toEqual({
      kind: "problem",
      problem: {
        type: "about:blank",
        title: "Bad Gateway",
        status: 502,
        detail: "The API answered with status 502.",
      },
      retryAfterSeconds: null,
    });
  });

  it("counts a network failure, a timeout and a body that breaks the contract as no answer", async () => {
    const failing = createCounterApi({
      baseUrl: "",
      fetch: () => Promise.reject(new TypeError("Failed to fetch")),
    });
    expect(await failing.readNumber(null)).toEqual({ kind: "unreachable", reason: "Failed to fetch" });

    const silent = createCounterApi({
      baseUrl: "",
      requestTimeoutMs: 20,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))),
        ),
    });
    expect(await silent.readNumber(null)).toEqual({
      kind: "unreachable",
      reason: "no answer within 0.02 seconds",
    });

    const broken = createCounterApi({
      baseUrl: "",
      fetch: () => Promise.resolve(new Response(JSON.stringify({ value: "many" }), { status: 200 })),
    });
    expect(await broken.readNumber(null)).toEqual({
      kind: "unreachable",
      reason: "the number did not match the API contract",
    });
  });

  it("sends a command as docs/api.md asks: JSON body with the action only, and the Idempotency-Key header", async () => {
    const fake = new FakeCounterApi();
    const api = createCounterApi({ baseUrl: "", fetch: fake.fetch });
    const answer = await api.sendCommand("increment", "key-1");
    expect(answer).toMatchObject({
      kind: "applied",
      replayed: false,
      applied: { value: 1, event: { id: "key-1" } },
    });
    const [request] = fake.commandRequests();
    expect(request?.headers.get("Content-Type")).toBe("application/json");
    expect(request?.headers.get("Idempotency-Key")).toBe("key-1");
    expect(JSON.parse(request?.body ?? "")).toEqual({ action: "increment" });
    expect(await api.sendCommand("increment", "key-1")).toMatchObject({ kind: "applied", replayed: true });
  });

  it("parses every answer with the contract's schemas: a field out of its bounds is no answer", async () => {
    const answering = (body: unknown) =>
      createCounterApi({
        baseUrl: "",
        fetch: () => Promise.resolve(new Response(JSON.stringify(body), { status: 200 })),
      });
    const number = {
      value: 1,
      version: 1,
      updatedAt: "2025-01-02T03:04:05.678Z",
      bounds: { min: 0, max: 3 },
    };
    expect(await answering(number).readNumber(null)).toMatchObject({ kind: "current", snapshot: number });
    for (const broken of [
      { ...number, bounds: undefined },
      { ...number, bounds: { min: 0, max: 2_000_000_000 } },
      { ...number, updatedAt: "yesterday" },
      { ...number, value: 1.5 },
      { ...number, internal: "aggregateValue" },
    ]) {
      expect(await answering(broken).readNumber(null), JSON.stringify(broken)).toEqual({
        kind: "unreachable",
        reason: "the number did not match the API contract",
      });
    }
    expect(
      await answering({ items: [], nextCursor: "not a cursor", projectedVersion: 0 }).readHistory({
        limit: 1,
        cursor: null,
        order: "desc",
      }),
    ).toMatchObject({ kind: "unreachable" });
  });

  it("finds an event by its key, and says plainly when there is none", async () => {
    const fake = new FakeCounterApi();
    const api = createCounterApi({ baseUrl: "", fetch: fake.fetch });
    fake.applyElsewhere("increment", "key-found");
    expect(await api.readEvent("key-found")).toMatchObject({
      kind: "found",
      event: { id: "key-found", version: 1 },
    });
    expect(await api.readEvent("key-missing")).toEqual({ kind: "notFound" });
  });
});

describe("small readers", () => {
  it("reads Retry-After in seconds and ignores the date form", () => {
    expect(parseRetryAfterSeconds("2")).toBe(2);
    expect(parseRetryAfterSeconds(null)).toBeNull();
    expect(parseRetryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT")).toBeNull();
  });

  it("takes the idempotency key out of a ledger eventId", () => {
    expect(idempotencyKeyOf("default#0b7c-key")).toBe("0b7c-key");
    expect(idempotencyKeyOf("bare-key")).toBe("bare-key");
  });
});
