// The store's ceiling on this machine: one writer, back to back, each transaction 99 ledger Puts plus one
// aggregate Update — the most events one counter can take per round trip. Also used to fill a large
// ledger quickly for the replay benchmark. Events are real, chained ledger events (I1–I3 hold).

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { writeBatch, type ChainedState } from "../services/command/transaction";
import { GENESIS_HEAD } from "../services/ledger/domain/chain";
import type { LedgerConfig } from "../services/ledger/config";
import { decide, evolve } from "../services/ledger/domain/decider";
import { ANONYMOUS_ACTOR } from "../services/ledger/http/caller";
import { createEvent, type CurrentLedgerEvent } from "../services/ledger/domain/event";
import { TRANSACTION_ITEMS_MAX } from "../services/ledger/domain/limits";

export interface CeilingResult {
  readonly events: number;
  readonly transactions: number;
  readonly durationMs: number;
}

/**
 * Writes batches of 99 increments until `durationMs` has passed or `eventsMax` events are written, after
 * `from` (the counter's current state; a new counter by default).
 */
export async function writeAtCeiling(
  client: DynamoDBDocumentClient,
  config: LedgerConfig,
  limits: { durationMs: number; eventsMax: number },
  from: ChainedState = { value: 0, version: 0, head: GENESIS_HEAD },
): Promise<CeilingResult> {
  const startedAt = performance.now();
  let state: ChainedState = from;
  let events = 0;
  let transactions = 0;
  while (performance.now() - startedAt < limits.durationMs && events < limits.eventsMax) {
    const batch: CurrentLedgerEvent[] = [];
    const at = new Date();
    let next = state;
    const size = Math.min(TRANSACTION_ITEMS_MAX - 1, limits.eventsMax - events);
    for (let index = 0; index < size; index++) {
      const decision = decide("increment", next, config.bounds);
      if (decision.kind !== "applied") throw new Error("the ceiling run reached the bound");
      const command = {
        action: "increment" as const,
        counterId: config.counterId,
        idempotencyKey: `ceiling-${next.version + 1}`,
        actor: ANONYMOUS_ACTOR,
        requestFingerprint: "ceiling",
        requestId: "ceiling",
      };
      const event = createEvent(command, decision.change, at, next.head.hash);
      batch.push(event);
      next = { ...evolve(next, decision.change), head: { version: event.version, hash: event.hash } };
    }
    const result = await writeBatch(client, config.tables, config.bounds, {
      counterId: config.counterId,
      expected: state,
      events: batch,
    });
    if (result.kind !== "committed")
      throw new Error(`the ceiling writer met ${result.kind}: it must be alone`);
    state = next;
    events += batch.length;
    transactions += 1;
  }
  return { events, transactions, durationMs: performance.now() - startedAt };
}
