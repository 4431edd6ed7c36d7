// The read model's two kinds of item and their codecs: the projected state (sort key 0) and the audit entry
// of each version (sort key n), a field-for-field copy of the ledger event (I5). Written only by the projector,
// read by history and verification. Nothing here talks to DynamoDB, and an audit entry never holds anything
// the ledger event does not.

import { z } from "zod";
import type { AuditEntry } from "../domain/audit";
import { DEFAULT_BOUNDS, initialState, type Bounds, type CounterState } from "../domain/decider";
import { viewOfEvent, type EventView } from "../domain/event";
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

/** The read model key of a counter's audit entry for one version. */
export function auditEntryKey(counterId: string, version: number): Record<string, string | number> {
  return { [READ_MODEL.partitionKey]: counterId, [READ_MODEL.sortKey]: version };
}

export function stateEntryKey(counterId: string): Record<string, string | number> {
  return { [READ_MODEL.partitionKey]: counterId, [READ_MODEL.sortKey]: READ_MODEL.stateEntry };
}

/**
 * Decodes a stored projected state; a missing item means nothing is projected yet, so the state is the
 * counter's initial one (its lower bound, version 0: the bounds tell the value, callers that only need the
 * version may leave them out). Throws on a malformed item.
 */
export function projectedStateFromItem(
  item: Record<string, unknown> | undefined,
  bounds: Bounds = DEFAULT_BOUNDS,
): ProjectedState {
  if (item === undefined) return { ...initialState(bounds), at: null };
  const parsed = projectedStateSchema.parse(item);
  return { value: parsed.value, version: parsed.version, at: parsed.at };
}

/**
 * One item of GET /number/history (docs/api.md): the event's public view with its actor, its key named
 * `eventId` and present only when `showKey` (a caller with scope counter:audit).
 */
export type HistoryItem = Omit<EventView, "id"> & { readonly eventId?: string };

export function historyItemOf(entry: AuditEntry, { showKey }: { readonly showKey: boolean }): HistoryItem {
  const { id, ...view } = viewOfEvent(entry);
  return showKey ? { ...view, eventId: id } : view;
}
