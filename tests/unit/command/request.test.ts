// Validation of POST /number before any I/O: every refusal of docs/api.md, and the Idempotency-Key forms.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommandRequest, parseIdempotencyKey } from "../../../services/command/request";
import { commandEvent, httpEvent } from "../../support/fixtures";

function post(body: string, headers: Record<string, string> = { "content-type": "application/json" }) {
  return parseCommandRequest(httpEvent({ method: "POST", path: "/number", headers, body }));
}

describe("Idempotency-Key", () => {
  it("accepts 1 to 128 characters of A-Z a-z 0-9 - _ . :", () => {
    expect(parseIdempotencyKey("a")).toBe("a");
    expect(parseIdempotencyKey("x".repeat(128))).toBe("x".repeat(128));
    expect(parseIdempotencyKey("Ab-9_.:z")).toBe("Ab-9_.:z");
    expect(parseIdempotencyKey("6f1c1a52-5b6a-4c4b-9f57-0d3f1d2f9d11")).toBe(
      "6f1c1a52-5b6a-4c4b-9f57-0d3f1d2f9d11",
    );
  });

  it("accepts the quoted form of a structured-field string and strips the quotes", () => {
    expect(parseIdempotencyKey('"order-17"')).toBe("order-17");
  });

  it("treats a missing header as absent, and refuses empty, long, spaced, comma-joined or unicode keys", () => {
    expect(parseIdempotencyKey(undefined)).toBeNull();
    for (const bad of ["", '""', "x".repeat(129), "a b", "a,b", "clé", '"a', "a\u0000", "%41"]) {
      expect(parseIdempotencyKey(bad), bad).toBeUndefined();
    }
  });

  it("matches the contract's pattern exactly, for any string", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140, unit: "binary" }), (key) => {
        const valid = /^[A-Za-z0-9\-_.:]{1,128}$/.test(key);
        expect(parseIdempotencyKey(key) === key).toBe(valid);
      }),
    );
  });
});

describe("parseCommandRequest", () => {
  it("accepts {action} with a client key and fingerprints the request", () => {
    const parsed = parseCommandRequest(commandEvent("increment", "k-1"));
    expect(parsed.kind).toBe("valid");
    if (parsed.kind !== "valid") return;
    expect(parsed.request).toMatchObject({ action: "increment", idempotencyKey: "k-1", keyFromClient: true });
    expect(parsed.request.requestFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it("makes a fresh key when none is sent", () => {
    const first = parseCommandRequest(commandEvent("decrement"));
    const second = parseCommandRequest(commandEvent("decrement"));
    if (first.kind !== "valid" || second.kind !== "valid") throw new Error("expected valid requests");
    expect(first.request.keyFromClient).toBe(false);
    expect(first.request.idempotencyKey).not.toBe(second.request.idempotencyKey);
    expect(first.request.requestFingerprint).toBe(second.request.requestFingerprint);
  });

  it("gives the two actions different fingerprints", () => {
    const increment = parseCommandRequest(commandEvent("increment", "k"));
    const decrement = parseCommandRequest(commandEvent("decrement", "k"));
    if (increment.kind !== "valid" || decrement.kind !== "valid") throw new Error("expected valid requests");
    expect(increment.request.requestFingerprint).not.toBe(decrement.request.requestFingerprint);
  });

  it("accepts one action member, spaced or not", () => {
    expect(post('{ "action" : "increment" }').kind).toBe("valid");
    expect(post('{"action":"decrement"}').kind).toBe("valid");
  });

  it("accepts a base64-encoded body and a charset parameter", () => {
    const body = Buffer.from('{"action":"increment"}').toString("base64");
    const event = httpEvent({
      method: "POST",
      path: "/number",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body,
      isBase64Encoded: true,
    });
    expect(parseCommandRequest(event).kind).toBe("valid");
  });

  it.each([
    ["malformed JSON", "{", "badRequest"],
    ["an array", "[]", "badRequest"],
    ["null", "null", "badRequest"],
    ["a missing action", "{}", "badRequest"],
    ["an unknown field", '{"action":"increment","by":5}', "badRequest"],
    ["a bad action", '{"action":"reset"}', "badRequest"],
    ["an action of the wrong type", '{"action":1}', "badRequest"],
    ["a byte-order mark", '\uFEFF{"action":"increment"}', "badRequest"],
    ["a __proto__ key", '{"action":"increment","__proto__":{"x":1}}', "badRequest"],
    ["a duplicate action", '{"action":"increment","action":"decrement"}', "badRequest"],
    [
      "a duplicate action written with an escape",
      '{"\\u0061ction":"increment","action":"decrement"}',
      "badRequest",
    ],
    [
      "a duplicate action whose first value is an object",
      '{"action":{"action":1},"action":"decrement"}',
      "badRequest",
    ],
    ["a body over 1 KiB", JSON.stringify({ action: "increment", pad: "x".repeat(1100) }), "payloadTooLarge"],
  ])("refuses %s", (_, body, problem) => {
    expect(post(body)).toMatchObject({ kind: "invalid", problem });
  });

  it("refuses invalid UTF-8 as 400", () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("base64");
    const event = httpEvent({
      method: "POST",
      path: "/number",
      headers: { "content-type": "application/json" },
      body,
      isBase64Encoded: true,
    });
    expect(parseCommandRequest(event)).toMatchObject({ kind: "invalid", problem: "badRequest" });
  });

  it("refuses a missing or non-JSON Content-Type as 415", () => {
    expect(post('{"action":"increment"}', {})).toMatchObject({ problem: "unsupportedMediaType" });
    expect(post('{"action":"increment"}', { "content-type": "text/plain" })).toMatchObject({
      problem: "unsupportedMediaType",
    });
  });

  it("refuses a bad key as 400 before looking at the body", () => {
    expect(
      post("{", { "content-type": "application/json", "idempotency-key": "no spaces allowed" }),
    ).toMatchObject({ problem: "badRequest", detail: expect.stringContaining("Idempotency-Key") as unknown });
  });

  it("never echoes more than 64 characters of an unknown field name", () => {
    const parsed = post(JSON.stringify({ action: "increment", ["f".repeat(500)]: 1 }));
    if (parsed.kind !== "invalid") throw new Error("expected a refusal");
    expect(parsed.detail.length).toBeLessThan(140);
    expect(parsed.detail).not.toContain("f".repeat(65));
  });
});
