// The check every fault test ends with: the ledger, read straight from DynamoDB Local, agrees with what the
// clients finally know. I1–I3 hold (tests/support/invariants.ts); every command a client saw applied is in the
// ledger, once, as the same event; no event exists that no client saw applied (nothing invented, nothing
// doubled); and the value is the sum of the applied commands (I6). It only reads.

import { expect } from "vitest";
import { expectLedgerInvariants, type StoredEvent } from "../../support/invariants";
import type { TestStore } from "../../support/store";
import type { CommandRecord } from "../../../testkit/client";

export interface LedgerAgreement {
  readonly events: StoredEvent[];
  readonly aggregate: { value: number; version: number };
  readonly appliedKeys: number;
}

export async function expectLedgerAgreesWithClients(
  store: TestStore,
  records: readonly CommandRecord[],
): Promise<LedgerAgreement> {
  const unsettled = records.filter((record) => record.outcome.kind === "unknown");
  expect(
    unsettled.map((record) => record.idempotencyKey),
    "every outcome is settled",
  ).toEqual([]);

  const { events, aggregate } = await expectLedgerInvariants(store, store.config.bounds);
  const ledgerByKey = new Map(events.map((event) => [event.idempotencyKey, event]));
  const appliedByKey = new Map<string, CommandRecord[]>();
  for (const record of records) {
    if (record.outcome.kind !== "applied") continue;
    appliedByKey.set(record.idempotencyKey, [...(appliedByKey.get(record.idempotencyKey) ?? []), record]);
  }

  for (const [key, applied] of appliedByKey) {
    const stored = ledgerByKey.get(key);
    expect(stored, `acknowledged key ${key} is in the ledger`).toBeDefined();
    for (const record of applied) {
      if (record.outcome.kind !== "applied") continue;
      const { event } = record.outcome;
      expect(
        { id: event.id, version: event.version, action: event.action, valueAfter: event.valueAfter },
        `key ${key}: the client saw the event that is stored`,
      ).toEqual({
        id: stored?.idempotencyKey,
        version: stored?.version,
        action: stored?.action,
        valueAfter: stored?.valueAfter,
      });
    }
  }
  for (const record of records) {
    if (record.outcome.kind === "notApplied") {
      expect(
        ledgerByKey.has(record.idempotencyKey),
        `key ${record.idempotencyKey} settled as not applied`,
      ).toBe(appliedByKey.has(record.idempotencyKey));
    }
  }
  const unexplained = events.filter((event) => !appliedByKey.has(event.idempotencyKey));
  expect(
    unexplained.map((event) => event.idempotencyKey),
    "no event that no client saw applied",
  ).toEqual([]);

  const appliedSum = [...appliedByKey.keys()].reduce(
    (sum, key) => sum + (ledgerByKey.get(key)?.delta ?? 0),
    0,
  );
  expect(aggregate.value, "I6: the value is the sum of the applied commands").toBe(appliedSum);
  return { events, aggregate, appliedKeys: appliedByKey.size };
}
