// The audit entry of a ledger event, and how an entry is compared with its event (I5). An audit entry is a
// field-for-field copy of the event under its version (`entry`, the read model's sort key), actor included,
// so that a redelivery writes identical content and verification can name every field that differs.

import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { ledgerEventV1Schema, ledgerEventV2Schema, ledgerEventV3Schema, type LedgerEvent } from "./event";

const entry = z.number().int().min(1);

/** Every stored shape of an audit entry: the event's, of any schema version, plus `entry`. */
export const auditEntrySchema = z.discriminatedUnion("schemaVersion", [
  ledgerEventV1Schema.extend({ entry }),
  ledgerEventV2Schema.extend({ entry }),
  ledgerEventV3Schema.extend({ entry }),
]);

export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** The audit entry of an event: the event itself under its version, so redelivery writes identical content. */
export function auditEntryOf(event: LedgerEvent): AuditEntry {
  if (event.version < 1)
    throw new Error(`an audit entry needs a version of 1 or more (got ${event.version})`);
  return { ...event, entry: event.version };
}

/**
 * The ledger fields on which an audit entry differs from its event (I5); empty when they are the same. The
 * actor is a map: it is compared by content, so an entry naming another actor than its event differs.
 */
export function auditDifferences(stored: Readonly<Record<string, unknown>>, event: LedgerEvent): string[] {
  if (isEntryOf(stored, event)) return [];
  const expected: Record<string, unknown> = auditEntryOf(event);
  const names = new Set([...Object.keys(expected), ...Object.keys(stored)]);
  return [...names].filter((name) => !isDeepStrictEqual(stored[name], expected[name])).sort();
}

/**
 * Whether `stored` is exactly the audit entry of `event` — the case of every sound entry, which verification
 * compares for every event — decided without building the entry: the same fields, primitives equal as
 * isDeepStrictEqual has them (Object.is), the actor map compared by isDeepStrictEqual. False sends the caller
 * to the full comparison, which names the differences.
 */
function isEntryOf(stored: Readonly<Record<string, unknown>>, event: LedgerEvent): boolean {
  const fields: Readonly<Record<string, unknown>> = event;
  const names = Object.keys(fields);
  const withEntry = Object.hasOwn(fields, "entry") ? names.length : names.length + 1;
  if (Object.keys(stored).length !== withEntry || !Object.hasOwn(stored, "entry")) return false;
  // auditEntryOf refuses a version below 1: such an event takes the full comparison, which throws as before.
  if (!(event.version >= 1) || !Object.is(stored.entry, event.version)) return false;
  for (const name of names) {
    if (name === "entry") continue;
    const value = fields[name];
    if (!Object.hasOwn(stored, name)) return false;
    const same =
      typeof value === "object" && value !== null
        ? isDeepStrictEqual(stored[name], value)
        : Object.is(stored[name], value);
    if (!same) return false;
  }
  return true;
}
