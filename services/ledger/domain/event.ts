// The ledger event: one immutable record per accepted command, and its schema.
// The event is also the idempotency record, so it is never updated or deleted once written.

import { z } from "zod";
import type { EventView } from "../../../contract/schemas";
import { ACTIONS, type Change, type Command } from "./decider";
import { VALUE_MAX, VALUE_MIN } from "./limits";

/** Bumped when the stored shape of an event changes; readers accept every version they know. */
export const EVENT_SCHEMA_VERSION = 1;

const count = z.number().int().min(VALUE_MIN).max(VALUE_MAX);

export const ledgerEventSchema = z.object({
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
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
});

export type LedgerEvent = z.infer<typeof ledgerEventSchema>;

/** The ledger key of an idempotency key: events of different counters never collide. */
export function eventIdOf(counterId: string, idempotencyKey: string): string {
  return `${counterId}#${idempotencyKey}`;
}

export function createEvent(command: Command, change: Change, at: Date): LedgerEvent {
  return {
    eventId: eventIdOf(command.counterId, command.idempotencyKey),
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
    schemaVersion: EVENT_SCHEMA_VERSION,
  };
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
  };
}
