// The ledger event: one immutable record per accepted command, and its schema.
// The event is also the idempotency record, so it is never updated or deleted once written. Its key is per
// actor (docs/architecture.md#ledger--counter-ledger-ledger): two actors never share, squat or read each
// other's idempotency keys.

import { createHash } from "node:crypto";
import { z } from "zod";
import { actorSchema, type Actor, type EventView } from "../../../contract/schemas";
import { chainedHashOf, HASH_PATTERN } from "./chain";
import { ACTIONS, type Change, type Command } from "./decider";
import { VALUE_MAX, VALUE_MIN } from "./limits";

/**
 * Bumped when the stored shape of an event changes; readers accept every version they know.
 * 1: no actor. 2: `actor`, the verified caller who made it. 3: `previousHash` and `hash`, the hash chain
 * (services/ledger/domain/chain.ts).
 */
export const EVENT_SCHEMA_VERSION = 3 as const;

/** The subject of every command under AUTH=off (services/ledger/http/caller.ts, ANONYMOUS_ACTOR). */
export const ANONYMOUS_SUB = "anonymous";

export type { Actor };

const count = z.number().int().min(VALUE_MIN).max(VALUE_MAX);

const eventFields = {
  eventId: z.string().min(1),
  counterId: z.string().min(1),
  idempotencyKey: z.string().min(1),
  version: z.number().int().min(1),
  action: z.enum(ACTIONS),
  delta: z.union([z.literal(1), z.literal(-1)]),
  valueBefore: count,
  valueAfter: count,
  at: z.iso.datetime(),
  requestFingerprint: z.string().min(1),
  requestId: z.string().min(1),
};

/** An event written before the ledger kept its actor: still valid, read as by nobody known (`actor: null`). */
export const ledgerEventV1Schema = z.object({ ...eventFields, schemaVersion: z.literal(1) });

export const ledgerEventV2Schema = z.object({
  ...eventFields,
  actor: actorSchema,
  schemaVersion: z.literal(2),
});

const hash = z.string().regex(HASH_PATTERN);

/** An event of the hash chain: the hash of the event before it, and its own (docs/architecture.md#the-hash-chain). */
export const ledgerEventV3Schema = z.object({
  ...eventFields,
  actor: actorSchema,
  previousHash: hash,
  hash,
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
});

/** Every stored shape a reader accepts. */
export const ledgerEventSchema = z.discriminatedUnion("schemaVersion", [
  ledgerEventV1Schema,
  ledgerEventV2Schema,
  ledgerEventV3Schema,
]);

export type LedgerEvent = z.infer<typeof ledgerEventSchema>;

/** An event as this version writes it. */
export type CurrentLedgerEvent = z.infer<typeof ledgerEventV3Schema>;

/** Who made an event; null for a version 1 event, which did not record it. */
export function actorOf(event: LedgerEvent): Actor | null {
  return event.schemaVersion === 1 ? null : event.actor;
}

/** The part of the ledger key that names the actor: base64url(SHA-256(sub)), 43 characters, no `#`. */
export function actorKeyOf(sub: string): string {
  return createHash("sha256").update(sub, "utf8").digest("base64url");
}

/**
 * The ledger key of an idempotency key, per counter and per actor. The anonymous actor (AUTH=off) keeps the
 * key of schema version 1, `<counterId>#<key>`, so that an event written before actors were recorded is still
 * found under its key and a retry across the upgrade cannot apply twice; any other actor's is
 * `<counterId>#<base64url(SHA-256(sub))>#<key>`. Counter ids, keys and the hash never hold `#`, so the two
 * forms never collide and different actors' keys never meet.
 */
export function eventIdOf(counterId: string, idempotencyKey: string, actor: Pick<Actor, "sub">): string {
  return actor.sub === ANONYMOUS_SUB
    ? `${counterId}#${idempotencyKey}`
    : `${counterId}#${actorKeyOf(actor.sub)}#${idempotencyKey}`;
}

/** The ledger key an event must be stored under: a version 1 event was always under the anonymous form. */
export function expectedEventIdOf(event: LedgerEvent): string {
  return eventIdOf(event.counterId, event.idempotencyKey, actorOf(event) ?? { sub: ANONYMOUS_SUB });
}

/** An event as schema version 2 wrote it, before the chain: no `previousHash`, no `hash`. */
export type UnchainedLedgerEvent = z.infer<typeof ledgerEventV2Schema>;

/**
 * The event of a decided change without the chain (schema version 2, as written before it). The committer
 * writes it only when bench/run.ts builds one without the chain, to measure the chain's cost on the write
 * path; nothing in configuration reaches that switch.
 */
export function createUnchainedEvent(command: Command, change: Change, at: Date): UnchainedLedgerEvent {
  return {
    eventId: eventIdOf(command.counterId, command.idempotencyKey, command.actor),
    counterId: command.counterId,
    idempotencyKey: command.idempotencyKey,
    version: change.version,
    action: change.action,
    delta: change.delta,
    valueBefore: change.valueBefore,
    valueAfter: change.valueAfter,
    at: at.toISOString(),
    requestFingerprint: command.requestFingerprint,
    requestId: command.requestId,
    actor: { sub: command.actor.sub, name: command.actor.name },
    schemaVersion: 2,
  };
}

/** The event of a decided change, linked after `previousHash` (the head before it) and hashed. */
export function createEvent(
  command: Command,
  change: Change,
  at: Date,
  previousHash: string,
): CurrentLedgerEvent {
  const fields = {
    ...createUnchainedEvent(command, change, at),
    previousHash,
    schemaVersion: EVENT_SCHEMA_VERSION,
  };
  return { ...fields, hash: chainedHashOf(fields, previousHash) };
}

/**
 * An event's hash in the chain after `previousHash`: recomputed, never taken from the item, so that a stored
 * `hash` that lies is found by comparing the two.
 */
export function hashOfEvent(event: LedgerEvent, previousHash: string): string {
  return chainedHashOf(event, previousHash);
}

/** The public view of an event (docs/api.md: `event` of POST /number and GET /number/events/{key}): the contract's. */
export type { EventView };

export function viewOfEvent(event: LedgerEvent): EventView {
  return {
    id: event.idempotencyKey,
    version: event.version,
    action: event.action,
    delta: event.delta,
    valueBefore: event.valueBefore,
    valueAfter: event.valueAfter,
    at: event.at,
    actor: actorOf(event),
  };
}
