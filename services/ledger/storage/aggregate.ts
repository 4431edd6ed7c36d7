// The aggregate item of the counters table and its codec. Written only by the command path.

import { z } from "zod";
import { GENESIS_HEAD, HASH_PATTERN, type ChainHead } from "../domain/chain";
import { initialState, type Bounds, type CounterState } from "../domain/decider";
import { VALUE_MAX, VALUE_MIN } from "../domain/limits";

export const aggregateSchema = z.object({
  counterId: z.string().min(1),
  value: z.number().int().min(VALUE_MIN).max(VALUE_MAX),
  version: z.number().int().min(0),
  updatedAt: z.iso.datetime().nullable().optional(),
  lastEventId: z.string().nullable().optional(),
  /** The hash chain's head (docs/architecture.md#the-hash-chain): absent on an aggregate written before it. */
  headVersion: z.number().int().min(0).optional(),
  headHash: z.string().regex(HASH_PATTERN).optional(),
  /**
   * An escrow shard's floor and ceiling (docs/architecture.md#escrow-shards): written only with COUNTER_SHARDS
   * above 1; absent, the shard's initial ones (shard 0: the counter's bounds).
   */
  floor: z.number().int().min(VALUE_MIN).max(VALUE_MAX).optional(),
  ceiling: z.number().int().min(VALUE_MIN).max(VALUE_MAX).optional(),
});

export interface Aggregate extends CounterState {
  readonly counterId: string;
  readonly updatedAt: string | null;
  readonly lastEventId: string | null;
  /**
   * The chain's head as the aggregate last recorded it. Its version equals the aggregate's own unless events
   * were written without it (by code from before the chain): then the head must be caught up from the ledger.
   */
  readonly head: ChainHead;
  /** An escrow shard's floor and ceiling, when the item holds them (never with one shard). */
  readonly floor?: number;
  readonly ceiling?: number;
}

/** The aggregate of a counter nobody has written yet: the decider's initial state (its lower bound, version 0). */
export function newAggregate(counterId: string, bounds: Bounds): Aggregate {
  return { counterId, ...initialState(bounds), updatedAt: null, lastEventId: null, head: GENESIS_HEAD };
}

/** The stored item of an aggregate: its chain head flattened into the two attributes the transaction writes. */
export function aggregateItem(aggregate: Aggregate): z.infer<typeof aggregateSchema> {
  const { head, ...rest } = aggregate;
  return { ...rest, headVersion: head.version, headHash: head.hash };
}

/** Decodes a stored aggregate; a missing item is a new counter. Throws on a malformed item (a bug). */
export function aggregateFromItem(
  counterId: string,
  item: Record<string, unknown> | undefined,
  bounds: Bounds,
): Aggregate {
  if (item === undefined) return newAggregate(counterId, bounds);
  const parsed = aggregateSchema.parse(item);
  return {
    counterId: parsed.counterId,
    value: parsed.value,
    version: parsed.version,
    updatedAt: parsed.updatedAt ?? null,
    lastEventId: parsed.lastEventId ?? null,
    head:
      parsed.headVersion === undefined || parsed.headHash === undefined
        ? GENESIS_HEAD
        : { version: parsed.headVersion, hash: parsed.headHash },
    ...(parsed.floor === undefined ? {} : { floor: parsed.floor }),
    ...(parsed.ceiling === undefined ? {} : { ceiling: parsed.ceiling }),
  };
}
