// Verification of an escrow-sharded counter (docs/architecture.md#escrow-shards), beside the unsharded fold of
// verification.ts: each shard's chain is checked as a counter of its own whose floor and ceiling move only by
// its transfer events (I2, I3 per shard with the decider's own `step`, I7 with the chain's `ChainWalk`), and
// the escrow rules across shards: every transfer has its two sides on two shards naming each other with net
// change zero, Σ floors and Σ ceilings are the bounds, each shard item agrees with its chain, and the counter's
// value is COUNTER_MIN plus the commands' deltas (I1). Pure: the ledger's items and the shard items come in.

import { ChainWalk } from "./chain";
import { step, type Bounds } from "./decider";
import {
  escrowBreaches,
  initialShard,
  isShardSound,
  shardBoundsOf,
  shardIdOf,
  type ShardState,
} from "./escrow";
import { transferEventSchema, type TransferEvent } from "./escrow-event";
import { eventIdOf, ledgerEventSchema, actorOf, ANONYMOUS_SUB } from "./event";

export interface EscrowReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
  /** Every shard's state as its chain leaves it. */
  readonly shards: readonly ShardState[];
  readonly commands: number;
  readonly transfers: number;
  /** COUNTER_MIN plus the sum of the commands' deltas. */
  readonly ledgerValue: number;
}

interface ShardWalk {
  state: ShardState;
  commands: number;
  deltas: number;
  readonly problems: string[];
  readonly sides: TransferEvent[];
}

/** Walks one shard's items in version order from its initial state. */
function walkShard(
  counterId: string,
  shard: number,
  bounds: Bounds,
  items: readonly Record<string, unknown>[],
): ShardWalk {
  const shardId = shardIdOf(counterId, shard);
  const walk: ShardWalk = {
    state: initialShard(bounds, shard),
    commands: 0,
    deltas: 0,
    problems: [],
    sides: [],
  };
  const chain = new ChainWalk();
  const ordered = [...items].sort((a, b) => Number(a.version) - Number(b.version));
  for (const item of ordered) {
    const version = Number(item.version);
    const at = `${shardId} v${version}`;
    for (const breach of chain.link(item, version)) walk.problems.push(`${at}: chain ${breach}`);
    if (item.action === "transfer") {
      const parsed = transferEventSchema.safeParse(item);
      if (!parsed.success) {
        walk.problems.push(`${at}: malformed transfer`);
        continue;
      }
      walk.sides.push(parsed.data);
      walk.state = followTransfer(walk.state, parsed.data, walk.problems, at);
      continue;
    }
    const parsed = ledgerEventSchema.safeParse(item);
    if (!parsed.success) {
      walk.problems.push(`${at}: malformed event`);
      continue;
    }
    const event = parsed.data;
    const key = eventIdOf(counterId, event.idempotencyKey, actorOf(event) ?? { sub: ANONYMOUS_SUB });
    if (event.eventId !== key) walk.problems.push(`${at}: stored under ${event.eventId}, not ${key}`);
    const next = step(walk.state, event, shardBoundsOf(walk.state));
    for (const breach of next.breaches) walk.problems.push(`${at}: ${breach}`);
    walk.state = { ...walk.state, value: next.state.value, version: next.state.version };
    walk.commands++;
    walk.deltas += event.delta;
  }
  return walk;
}

/** One side of a transfer on its shard's chain: it must follow the state, and leave f ≤ v ≤ h. */
function followTransfer(state: ShardState, side: TransferEvent, problems: string[], at: string): ShardState {
  if (side.version !== state.version + 1) problems.push(`${at}: version follows ${state.version}`);
  if (
    side.valueBefore !== state.value ||
    side.ceilingBefore !== state.ceiling ||
    side.floor !== state.floor
  ) {
    problems.push(`${at}: transfer does not start where the shard was`);
  }
  const after = {
    value: side.valueAfter,
    floor: side.floor,
    ceiling: side.ceilingAfter,
    version: side.version,
  };
  if (!isShardSound(after)) problems.push(`${at}: transfer leaves floor ≤ value ≤ ceiling`);
  return after;
}

/** Every transfer has exactly two sides, on two shards that name each other, with net change zero. */
function transferProblems(sides: readonly TransferEvent[]): { problems: string[]; transfers: number } {
  const byId = new Map<string, TransferEvent[]>();
  for (const side of sides) byId.set(side.transferId, [...(byId.get(side.transferId) ?? []), side]);
  const problems: string[] = [];
  for (const [id, pair] of byId) {
    const [a, b] = pair;
    if (pair.length !== 2 || a === undefined || b === undefined) {
      problems.push(`transfer ${id}: ${pair.length} sides, not 2`);
      continue;
    }
    if (a.peer !== b.counterId || b.peer !== a.counterId || a.counterId === b.counterId)
      problems.push(`transfer ${id}: its sides do not name each other`);
    const value = a.valueAfter - a.valueBefore + (b.valueAfter - b.valueBefore);
    const ceiling = a.ceilingAfter - a.ceilingBefore + (b.ceilingAfter - b.ceilingBefore);
    if (value !== 0 || ceiling !== 0)
      problems.push(`transfer ${id}: net change ${value}, ceiling ${ceiling}`);
  }
  return { problems, transfers: byId.size };
}

/**
 * Checks the ledger of a counter of `shards` shards (`events`: its ledger items, any order; items of other
 * counters are ignored) against its shard items (`stored[s]`, undefined where a shard has no item).
 */
export function verifyEscrow(input: {
  readonly counterId: string;
  readonly shards: number;
  readonly bounds: Bounds;
  readonly events: readonly Record<string, unknown>[];
  readonly stored: readonly (ShardState | undefined)[];
}): EscrowReport {
  const { counterId, shards, bounds } = input;
  const ids = Array.from({ length: shards }, (_, shard) => shardIdOf(counterId, shard));
  const walks = ids.map((id, shard) =>
    walkShard(
      counterId,
      shard,
      bounds,
      input.events.filter((item) => item.counterId === id),
    ),
  );
  const problems = walks.flatMap((walk) => walk.problems);
  const transfers = transferProblems(walks.flatMap((walk) => walk.sides));
  problems.push(...transfers.problems);
  const states = walks.map((walk) => walk.state);
  problems.push(...escrowBreaches(states, bounds));
  states.forEach((state, shard) => {
    const stored = input.stored[shard] ?? initialShard(bounds, shard);
    for (const field of ["value", "version", "floor", "ceiling"] as const) {
      if (stored[field] !== state[field])
        problems.push(`${ids[shard]}: item's ${field} ${stored[field]}, chain's ${state[field]}`);
    }
  });
  const ledgerValue = bounds.min + walks.reduce((sum, walk) => sum + walk.deltas, 0);
  const value = states.reduce((sum, state) => sum + state.value, 0);
  if (value !== ledgerValue) problems.push(`I1: the shards add up to ${value}, the ledger to ${ledgerValue}`);
  return {
    ok: problems.length === 0,
    problems,
    shards: states,
    commands: walks.reduce((sum, walk) => sum + walk.commands, 0),
    transfers: transfers.transfers,
    ledgerValue,
  };
}
