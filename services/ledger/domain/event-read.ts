// Reading a stored ledger item as an event, for the replay (services/ledger/domain/verification.ts), which reads
// every event of the ledger: a hand-written check of the current shape (schema version 3) that answers what the
// zod schema (ledgerEventSchema, services/ledger/domain/event.ts) would answer for it, several times faster, and
// leaves to the schema every item it does not accept. It is a sufficient condition only: an item it accepts is one
// the schema accepts, with the same data (tests/unit/ledger/event-read.test.ts holds it to that on arbitrary and
// tampered items); anything else — an older schema version, a field too many, a bad value — goes to the schema,
// so a malformed event is reported exactly as the schema reports it.

import { actorSchema } from "../../../contract/schemas";
import { ACTIONS } from "./decider";
import { HASH_PATTERN } from "./chain";
import { ledgerEventSchema, ledgerEventV3Schema, type LedgerEvent } from "./event";
import { VALUE_MAX, VALUE_MIN } from "./limits";

export type LedgerEventParse = ReturnType<typeof ledgerEventSchema.safeParse>;

/** The fields of a schema version 3 event: an item with exactly these is checked by hand. */
const V3_FIELDS = Object.keys(ledgerEventV3Schema.shape);

const TEXT_FIELDS = ["eventId", "counterId", "idempotencyKey", "requestFingerprint", "requestId"] as const;

const atSchema = ledgerEventV3Schema.shape.at;

/** Actors already checked by the schema, by their JSON: a ledger has few actors and many events. */
const actorsChecked = new Map<string, boolean>();
const ACTORS_REMEMBERED_MAX = 10_000;

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= VALUE_MIN && (value as number) <= VALUE_MAX;
}

function isHash(value: unknown): boolean {
  return typeof value === "string" && HASH_PATTERN.test(value);
}

/** An actor map of exactly `sub` and `name`, strings the contract's actor schema accepts. */
function isActor(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const actor = value as Readonly<Record<string, unknown>>;
  if (Object.keys(actor).length !== 2 || !Object.hasOwn(actor, "sub") || !Object.hasOwn(actor, "name")) {
    return false;
  }
  const { sub, name } = actor;
  if (typeof sub !== "string" || typeof name !== "string") return false;
  const key = JSON.stringify([sub, name]);
  let valid = actorsChecked.get(key);
  if (valid === undefined) {
    valid = actorSchema.safeParse({ sub, name }).success;
    if (actorsChecked.size >= ACTORS_REMEMBERED_MAX) actorsChecked.clear();
    actorsChecked.set(key, valid);
  }
  return valid;
}

/** Whether `item` has exactly the fields of schema version 3, each as its schema requires. */
function isCurrentEvent(item: Readonly<Record<string, unknown>>): boolean {
  const keys = Object.keys(item);
  if (keys.length !== V3_FIELDS.length || !V3_FIELDS.every((field) => Object.hasOwn(item, field))) {
    return false;
  }
  return (
    item.schemaVersion === 3 &&
    TEXT_FIELDS.every((field) => typeof item[field] === "string" && item[field].length >= 1) &&
    Number.isSafeInteger(item.version) &&
    (item.version as number) >= 1 &&
    (ACTIONS as readonly unknown[]).includes(item.action) &&
    (item.delta === 1 || item.delta === -1) &&
    isCount(item.valueBefore) &&
    isCount(item.valueAfter) &&
    isHash(item.previousHash) &&
    isHash(item.hash) &&
    typeof item.at === "string" &&
    atSchema.safeParse(item.at).success &&
    isActor(item.actor)
  );
}

/**
 * The item read as a ledger event: what ledgerEventSchema.safeParse(item) answers, its data a copy of the
 * item's fields when the hand-written check accepts it.
 */
export function readLedgerEvent(item: Readonly<Record<string, unknown>>): LedgerEventParse {
  if (!isCurrentEvent(item)) return ledgerEventSchema.safeParse(item);
  const actor = item.actor as { sub: string; name: string };
  const data = { ...item, actor: { sub: actor.sub, name: actor.name } } as LedgerEvent;
  return { success: true, data };
}
