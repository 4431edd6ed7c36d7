// Escrow shards (docs/architecture.md#escrow-shards): a bounded counter split over S shards, each a counter of
// its own with its own slice of the headroom to both bounds. Pure: the shard states, the routing of a command
// to a shard, the transfer of headroom between two shards, and the decision to refuse (409) from a consistent
// snapshot of every shard. It never knows about DynamoDB; the command path moves state with it.
//
// Each shard s holds a value v, a floor f and a ceiling h with f ≤ v ≤ h. Over all shards Σf = COUNTER_MIN
// and Σh = COUNTER_MAX, so Σv (the counter's value) lies in the bounds whatever each shard does within its own
// floor and ceiling: no shard-local guard can let the counter cross a bound. Floors never move (shard 0 holds
// COUNTER_MIN, every other shard 0): moving value and ceiling together moves lower headroom, moving the
// ceiling alone moves upper headroom, and every distribution of headroom is reachable that way, while every
// shard value stays ≥ 0 (so shard events fit the ledger's value schema).

import type { Bounds } from "./decider";

/** At most 64 shards: a consistent snapshot of all of them is one TransactGetItems (≤ 100 items). */
export const SHARDS_MAX = 64;

/** One shard's escrow: its value, its fixed floor, its ceiling, and the number of events on its chain. */
export interface ShardState {
  readonly value: number;
  readonly floor: number;
  readonly ceiling: number;
  readonly version: number;
}

/** Moves `lower` of lower headroom and `upper` of upper headroom from shard `from` to shard `to`. */
export interface Transfer {
  readonly from: number;
  readonly to: number;
  /** Value moved (and as much ceiling with it): the recipient gains this much lower headroom. */
  readonly lower: number;
  /** Ceiling moved alone: the recipient gains this much upper headroom. */
  readonly upper: number;
}

export type Delta = 1 | -1;

/**
 * What a command on a shard needs: `commit` (the shard has the headroom), `transfer` (it has none, another
 * shard has some: move it, then decide again), or `outOfBounds` (no shard has any: the snapshot proves the
 * counter is at its bound).
 */
export type Plan =
  | { readonly kind: "commit" }
  | { readonly kind: "transfer"; readonly transfer: Transfer }
  | { readonly kind: "outOfBounds"; readonly value: number; readonly bound: number };

export function assertShardCount(shards: number): void {
  if (!Number.isInteger(shards) || shards < 1 || shards > SHARDS_MAX) {
    throw new Error(`a counter has 1 to ${SHARDS_MAX} shards, not ${shards}`);
  }
}

/**
 * The id of shard `shard` of counter `counterId`: shard 0 is the counter itself (so one shard is today's
 * counter, item for item); shard s ≥ 1 is `<counterId>#<s>`. A counter id never holds `#`.
 */
export function shardIdOf(counterId: string, shard: number): string {
  return shard === 0 ? counterId : `${counterId}#${shard}`;
}

/** A shard nobody has written: shard 0 holds the whole range, the others nothing (f = h = v = 0). */
export function initialShard(bounds: Bounds, shard: number): ShardState {
  return shard === 0
    ? { value: bounds.min, floor: bounds.min, ceiling: bounds.max, version: 0 }
    : { value: 0, floor: 0, ceiling: 0, version: 0 };
}

/** A shard's own bounds, the decider's `Bounds`: a shard is a counter bounded by its floor and ceiling. */
export function shardBoundsOf(state: ShardState): Bounds {
  return { min: state.floor, max: state.ceiling };
}

/** How far the shard's value may move in the direction of `delta` without leaving its floor or ceiling. */
export function headroomOf(state: ShardState, delta: Delta): number {
  return delta > 0 ? state.ceiling - state.value : state.value - state.floor;
}

/**
 * The shard a committer sends its next command to: its home shard (chosen at random when it starts) if no
 * command of its own waits there, else the next shard without one, else the one where the fewest wait. A
 * Lambda environment serves one request at a time, so it always writes its home shard and its expectation of
 * that shard stays fresh unless another environment shares it; a process serving many requests at once
 * spreads them over the shards. Correctness never depends on it: a key is unique over all shards.
 */
export function chooseShard(home: number, waiting: readonly number[]): number {
  let best = home;
  for (let offset = 0; offset < waiting.length; offset++) {
    const shard = (home + offset) % waiting.length;
    if (waiting[shard] === 0) return shard;
    if (waiting[shard]! < waiting[best]!) best = shard;
  }
  return best;
}

/** Whether a shard's escrow holds: integers, f ≤ v ≤ h. */
export function isShardSound(state: ShardState): boolean {
  const { value, floor, ceiling, version } = state;
  return (
    [value, floor, ceiling, version].every(Number.isSafeInteger) &&
    version >= 0 &&
    floor <= value &&
    value <= ceiling
  );
}

/** What a snapshot of every shard breaks of the escrow rules; empty when sound. */
export function escrowBreaches(snapshot: readonly ShardState[], bounds: Bounds): string[] {
  const breaches: string[] = [];
  snapshot.forEach((state, shard) => {
    if (!isShardSound(state)) breaches.push(`shard ${shard} is not floor ≤ value ≤ ceiling`);
  });
  const floors = snapshot.reduce((sum, state) => sum + state.floor, 0);
  const ceilings = snapshot.reduce((sum, state) => sum + state.ceiling, 0);
  if (floors !== bounds.min) breaches.push(`the floors add up to ${floors}, not ${bounds.min}`);
  if (ceilings !== bounds.max) breaches.push(`the ceilings add up to ${ceilings}, not ${bounds.max}`);
  return breaches;
}

/** The counter's value: the sum of its shards' values. */
export function valueOf(snapshot: readonly ShardState[]): number {
  return snapshot.reduce((sum, state) => sum + state.value, 0);
}

/**
 * The two shards after a transfer, each one event further on its chain. Throws when the transfer would break
 * f ≤ v ≤ h on either side (a bug: plans only ever ask for headroom the donor has). The proof: the donor keeps
 * f ≤ v − lower (it had `lower` of lower headroom) and v − lower ≤ h − lower − upper (it had `upper` more of
 * upper headroom); the recipient's value and ceiling both grow by `lower`, its ceiling by `upper` more.
 */
export function applyTransfer(
  from: ShardState,
  to: ShardState,
  transfer: Transfer,
): { readonly from: ShardState; readonly to: ShardState } {
  const { lower, upper } = transfer;
  if (!Number.isSafeInteger(lower) || !Number.isSafeInteger(upper) || lower < 0 || upper < 0) {
    throw new Error("a transfer moves non-negative integers of headroom");
  }
  if (lower + upper === 0 || transfer.from === transfer.to) throw new Error("a transfer moves something");
  if (headroomOf(from, -1) < lower || headroomOf(from, 1) < upper) {
    throw new Error("a transfer takes only headroom the donor has");
  }
  const after = {
    from: {
      ...from,
      value: from.value - lower,
      ceiling: from.ceiling - lower - upper,
      version: from.version + 1,
    },
    to: { ...to, value: to.value + lower, ceiling: to.ceiling + lower + upper, version: to.version + 1 },
  };
  if (!isShardSound(after.from) || !isShardSound(after.to)) throw new Error("a transfer broke f ≤ v ≤ h");
  return after;
}

/**
 * What a command of `delta` on `shard` needs, given a consistent snapshot of every shard. The shard has the
 * headroom: commit. Else the donor is a shard with at least half the most headroom in that direction, and
 * gives half of its own (at least 1), so that the next commands on the shard find headroom too. When no shard has any, the sum of
 * the headroom is 0: the counter is at its bound (Σh − Σv = max − value, Σv − Σf = value − min), and only
 * then is the answer outOfBounds.
 */
export function planCommand(
  snapshot: readonly ShardState[],
  shard: number,
  delta: Delta,
  bounds: Bounds,
  random: () => number = () => 0,
): Plan {
  const target = snapshot[shard];
  if (target === undefined) throw new Error(`no shard ${shard} in a snapshot of ${snapshot.length}`);
  if (headroomOf(target, delta) >= 1) return { kind: "commit" };
  const most = Math.max(
    0,
    ...snapshot.map((state, index) => (index === shard ? 0 : headroomOf(state, delta))),
  );
  if (most < 1) {
    return { kind: "outOfBounds", value: valueOf(snapshot), bound: delta > 0 ? bounds.max : bounds.min };
  }
  // The donor: any shard with at least half the most headroom, picked by `random` (the first by default), so
  // that environments short of headroom at once do not all take it from the same shard.
  const rich = snapshot.flatMap((state, index) =>
    index !== shard && headroomOf(state, delta) >= Math.ceil(most / 2) ? [index] : [],
  );
  const donor = rich[Math.min(rich.length - 1, Math.floor(random() * rich.length))]!;
  const amount = Math.ceil(headroomOf(snapshot[donor]!, delta) / 2);
  return {
    kind: "transfer",
    transfer: {
      from: donor,
      to: shard,
      lower: delta < 0 ? amount : 0,
      upper: delta > 0 ? amount : 0,
    },
  };
}
