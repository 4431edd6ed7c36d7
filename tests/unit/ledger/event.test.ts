// The ledger event of schema version 2 (services/ledger/domain/event.ts): the actor it records, the per-actor
// ledger key and its one exception (the anonymous actor keeps version 1's key), and the reading of both
// versions. By example, then by fast-check property over the key mapping.

import { GENESIS_HASH } from "../../../services/ledger/domain/chain";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IDEMPOTENCY_KEY_LENGTH_MAX } from "../../../contract/limits";
import { decide, initialState, type Command } from "../../../services/ledger/domain/decider";
import {
  ANONYMOUS_SUB,
  actorOf,
  createEvent,
  EVENT_SCHEMA_VERSION,
  eventIdOf,
  expectedEventIdOf,
  ledgerEventSchema,
  viewOfEvent,
} from "../../../services/ledger/domain/event";
import { auditDifferences, auditEntryOf } from "../../../services/ledger/domain/audit";
import { ANONYMOUS_ACTOR } from "../../../services/ledger/http/caller";
import { requestFingerprint } from "../../../services/ledger/domain/fingerprint";

const ALICE = { sub: "0f6c1e9a-alice", name: "alice" };
const AT = new Date("2026-02-03T04:05:06.789Z");

function commandBy(actor: Command["actor"], idempotencyKey = "key-1"): Command {
  return {
    action: "increment",
    counterId: "default",
    idempotencyKey,
    actor,
    requestFingerprint: requestFingerprint("increment"),
    requestId: "request-1",
  };
}

function eventBy(actor: Command["actor"], idempotencyKey = "key-1") {
  const decision = decide("increment", initialState({ min: 0, max: 10 }));
  if (decision.kind !== "applied") throw new Error("an increment from 0 applies");
  return createEvent(commandBy(actor, idempotencyKey), decision.change, AT, GENESIS_HASH);
}

/** An event as schema version 1 wrote it: no actor, the key `<counterId>#<key>`. */
const VERSION_1_EVENT = {
  eventId: "default#old-key",
  counterId: "default",
  idempotencyKey: "old-key",
  version: 1,
  action: "increment",
  delta: 1,
  valueBefore: 0,
  valueAfter: 1,
  at: "2025-12-31T23:59:59.000Z",
  requestFingerprint: requestFingerprint("increment"),
  requestId: "request-0",
  schemaVersion: 1,
};

describe("the ledger event, schema versions 2 and 3", () => {
  it("records the command's actor, under the per-actor key <counterId>#base64url(SHA-256(sub))#<key>", () => {
    const event = eventBy(ALICE);
    const hash = createHash("sha256").update(ALICE.sub).digest("base64url");
    expect(event).toMatchObject({
      eventId: `default#${hash}#key-1`,
      idempotencyKey: "key-1",
      actor: ALICE,
      previousHash: GENESIS_HASH,
      schemaVersion: 3,
    });
    expect(EVENT_SCHEMA_VERSION).toBe(3);
    expect(ledgerEventSchema.parse(event)).toEqual(event);
    expect(viewOfEvent(event).actor).toEqual(ALICE);
  });

  it("keeps version 1's key for the anonymous actor of AUTH=off, so a retry across the upgrade finds its event", () => {
    expect(ANONYMOUS_ACTOR.sub).toBe(ANONYMOUS_SUB);
    const event = eventBy(ANONYMOUS_ACTOR, "old-key");
    expect(event.eventId).toBe(VERSION_1_EVENT.eventId);
    expect(event.actor).toEqual({ sub: "anonymous", name: "anonymous" });
  });

  it("reads a version 1 event as it was written: no actor (null in the view), found under its old key", () => {
    const event = ledgerEventSchema.parse(VERSION_1_EVENT);
    expect(actorOf(event)).toBeNull();
    expect(viewOfEvent(event)).toEqual({
      id: "old-key",
      version: 1,
      action: "increment",
      delta: 1,
      valueBefore: 0,
      valueAfter: 1,
      at: VERSION_1_EVENT.at,
      actor: null,
    });
    expect(expectedEventIdOf(event)).toBe(event.eventId);
  });

  it("refuses a version 2 or 3 event without an actor, a version 3 one without its hashes, and a schema version it does not know", () => {
    const { actor: _actor, previousHash: _previous, hash: _hash, ...withoutActor } = eventBy(ALICE);
    expect(ledgerEventSchema.safeParse({ ...withoutActor, schemaVersion: 2 }).success).toBe(false);
    expect(ledgerEventSchema.safeParse({ ...withoutActor, actor: ALICE, schemaVersion: 3 }).success).toBe(
      false,
    );
    expect(ledgerEventSchema.safeParse({ ...eventBy(ALICE), schemaVersion: 4 }).success).toBe(false);
    expect(ledgerEventSchema.safeParse({ ...eventBy(ALICE), actor: { sub: "", name: "x" } }).success).toBe(
      false,
    );
  });

  it("copies the actor into the audit entry and compares it by content (I5)", () => {
    const event = eventBy(ALICE);
    const stored = JSON.parse(JSON.stringify(auditEntryOf(event))) as Record<string, unknown>;
    expect(auditDifferences(stored, event)).toEqual([]);
    expect(auditDifferences({ ...stored, actor: { ...ALICE, name: "mallory" } }, event)).toEqual(["actor"]);
    const old = ledgerEventSchema.parse(VERSION_1_EVENT);
    expect(auditDifferences({ ...auditEntryOf(old) }, old)).toEqual([]);
    expect(auditDifferences({ ...auditEntryOf(old), actor: ALICE }, old)).toEqual(["actor"]);
  });
});

const keyCharacter = fc.constantFrom(..."ABZabz019-_.:");
/** Often one of a few keys, so that equal and nearly equal pairs come up, else any valid key. */
const idempotencyKey = fc.oneof(
  fc.constantFrom("a", "a:b", "key-1"),
  fc.string({ unit: keyCharacter, minLength: 1, maxLength: IDEMPOTENCY_KEY_LENGTH_MAX }),
);
/** Subjects as issuers make them, and the anonymous one, and look-alikes of the key's own characters. */
const sub = fc.oneof(
  fc.constant(ANONYMOUS_SUB),
  fc.uuid(),
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.constantFrom("anonymous ", "Anonymous", "a#b", "#", "default"),
);

describe("the per-actor ledger key, by property", () => {
  it("is injective over (actor, key) pairs: two commands share a ledger key only when actor and key are the same", () => {
    fc.assert(
      fc.property(sub, idempotencyKey, sub, idempotencyKey, (subA, keyA, subB, keyB) => {
        const same = eventIdOf("default", keyA, { sub: subA }) === eventIdOf("default", keyB, { sub: subB });
        expect(same).toBe(subA === subB && keyA === keyB);
      }),
      { numRuns: 2_000 },
    );
  });

  it("never gives a user's key the form of an anonymous (or version 1) key: one `#` against two", () => {
    fc.assert(
      fc.property(sub, idempotencyKey, (subject, key) => {
        const eventId = eventIdOf("default", key, { sub: subject });
        const hashes = eventId.split("#").length - 1;
        expect(hashes).toBe(subject === ANONYMOUS_SUB ? 1 : 2);
        expect(eventId.endsWith(`#${key}`)).toBe(true);
      }),
    );
  });
});
