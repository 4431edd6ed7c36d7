// The read model's two kinds of item and their codecs: the projected state (sort key 0) and the audit entry
// of each version (sort key n), a field-for-field copy of the ledger event (I5). Written only by the projector,
// read by history and verification. Nothing here talks to DynamoDB, and an audit entry never holds anything
// the ledger event does not.

import { z } from "zod";
import type { CounterState } from "../domain/decider";
import { ledgerEventSchema, viewOfEvent, type EventView, type LedgerEvent } from "../domain/event";
import { VALUE_MAX, VALUE_MIN } from "../domain/limits";
import { READ_MODEL } from "./tables";

export const projectedStateSchema = z.object({
  counterId: z.string().min(1),
  entry: z.literal(READ_MODEL.stateEntry),
  value: z.number().int().min(VALUE_MIN).max(VALUE_MAX),
  version: z.number().int().min(0),
  /** The commit time of the event that brought the state here (never the projection time). */
  at: z.iso.datetime(),
  eventId: z.string().min(1),
});

export interface ProjectedState extends CounterState {
  /** Commit time of the last projected event; null while nothing is projected. */
  readonly at: string | null;
}

export const auditEntrySchema = ledgerEventSchema.extend({ entry: z.number().int().min(1) });

export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** The read model key of a counter's audit entry for one version. */
export function auditEntryKey(counterId: string, version: number): Record<string, string | number> {
  return { [READ_MODEL.partitionKey]: counterId, [READ_MODEL.sortKey]: version };
}

export function stateEntryKey(counterId: string): Record<string, string | number> {
  return { [READ_MODEL.partitionKey]: counterId, [READ_MODEL.sortKey]: READ_MODEL.stateEntry };
}

/** The audit entry of an event: the event itself under its version, so redelivery writes identical content. */
export function auditEntryOf(event: LedgerEvent): AuditEntry {
  if (event.version < 1)
    throw new Error(`an audit entry needs a version of 1 or more (got ${event.version})`);
  return { ...event, entry: event.version };
}

/** Decodes a stored projected state; a missing item means nothing is projected yet. Throws on a malformed item. */
export function projectedStateFromItem(item: Record<string, unknown> | undefined): ProjectedState {
  if (item === undefined) return { value: 0, version: 0, at: null };
  const parsed = projectedStateSchema.parse(item);
  return { value: parsed.value, version: parsed.version, at: parsed.at };
}

/** The ledger fields on which an audit entry differs from its event (I5); empty when they are the same. */
export function auditDifferences(stored: Readonly<Record<string, unknown>>, event: LedgerEvent): string[] {
  const expected: Record<string, unknown> = auditEntryOf(event);
  const names = new Set([...Object.keys(expected), ...Object.keys(stored)]);
  return [...names].filter((name) => stored[name] !== expected[name]).sort();
}

/** One item of GET /number/history (docs/api.md): the event's public view, its key named `eventId`. */
export type HistoryItem = Omit<EventView, "id"> & { readonly eventId: string };

export function historyItemOf(entry: AuditEntry): HistoryItem {
  const { id, ...view } = viewOfEvent(entry);
  return { ...view, eventId: id };
}
