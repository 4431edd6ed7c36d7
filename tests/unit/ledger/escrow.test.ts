// The pure escrow of a sharded counter (services/ledger/domain/escrow.ts): by example, and by fast-check over
// interleavings of clients that decide from snapshots taken at any earlier moment (stale views), write with
// the version guard the database applies (a stale write is a conflict and changes nothing), repeat keys, and
// crash between steps. After every step: the bound is never crossed, Σ floors and Σ ceilings are the bounds,
// every shard keeps f ≤ v ≤ h, and a 409 is only ever decided from a snapshot whose total headroom was zero.

import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyTransfer,
  escrowBreaches,
  headroomOf,
  initialShard,
  planCommand,
  chooseShard,
  shardIdOf,
  valueOf,
  type Delta,
  type ShardState,
} from "../../../services/ledger/domain/escrow";
import { ConfigurationError, loadLedgerConfig } from "../../../services/ledger/config";
import { decide } from "../../../services/ledger/domain/decider";
import { GENESIS_HASH } from "../../../services/ledger/domain/chain";
import { createShardEvent, createTransferEvent } from "../../../services/ledger/domain/escrow-event";
import { eventIdOf } from "../../../services/ledger/domain/event";
import { decodeLedgerRecord } from "../../../services/projector/projection";
import type { Bounds } from "../../../services/ledger/domain/decider";

const bounds: Bounds = { min: 2, max: 10 };
const fresh = (shards: number): ShardState[] =>
  Array.from({ length: shards }, (_, shard) => initialShard(bounds, shard));

describe("COUNTER_SHARDS", () => {
  it("is one shard (no sharding) by default, and 2 to 64 shards when set", () => {
    expect(loadLedgerConfig({}).counterShards).toBeUndefined();
    expect(loadLedgerConfig({ COUNTER_SHARDS: "1" }).counterShards).toBeUndefined();
    expect(loadLedgerConfig({ COUNTER_SHARDS: "16" }).counterShards).toBe(16);
    expect(loadLedgerConfig({ COUNTER_SHARDS: "64" }).counterShards).toBe(64);
  });

  it.each(["0", "65", "4.5", "-2", "many"])("refuses %s, naming the rule", (shards) => {
    expect(() => loadLedgerConfig({ COUNTER_SHARDS: shards })).toThrow(
      new ConfigurationError(`COUNTER_SHARDS must be an integer from 1 to 64 (got "${shards}")`),
    );
  });
});

describe("escrow shards by example", () => {
  it("keeps shard 0 as the counter itself and names the others with #", () => {
    expect(shardIdOf("default", 0)).toBe("default");
    expect(shardIdOf("default", 3)).toBe("default#3");
  });

  it("starts a counter with the whole range on shard 0 and nothing on the others", () => {
    const snapshot = fresh(4);
    expect(snapshot[0]).toEqual({ value: 2, floor: 2, ceiling: 10, version: 0 });
    expect(snapshot.slice(1)).toEqual([1, 2, 3].map(() => ({ value: 0, floor: 0, ceiling: 0, version: 0 })));
    expect(escrowBreaches(snapshot, bounds)).toEqual([]);
  });

  it("sends an environment's commands to its home shard, and a busy process's to the next idle shard", () => {
    expect(chooseShard(2, [0, 0, 0, 0])).toBe(2);
    expect(chooseShard(2, [0, 0, 1, 0])).toBe(3);
    expect(chooseShard(3, [0, 0, 1, 1])).toBe(0);
    expect(chooseShard(1, [3, 2, 2, 1])).toBe(3);
    expect(chooseShard(0, [1])).toBe(0);
  });

  it("moves upper headroom by the ceiling alone and lower headroom by value and ceiling together", () => {
    const [zero, one] = fresh(2) as [ShardState, ShardState];
    const up = applyTransfer(zero, one, { from: 0, to: 1, lower: 0, upper: 3 });
    expect(up.from).toEqual({ value: 2, floor: 2, ceiling: 7, version: 1 });
    expect(up.to).toEqual({ value: 0, floor: 0, ceiling: 3, version: 1 });
    const raised = { ...up.from, value: 6 };
    const down = applyTransfer(raised, up.to, { from: 0, to: 1, lower: 4, upper: 0 });
    expect(down.from).toEqual({ value: 2, floor: 2, ceiling: 3, version: 2 });
    expect(down.to).toEqual({ value: 4, floor: 0, ceiling: 7, version: 2 });
    expect(headroomOf(down.to, -1)).toBe(4);
    expect(headroomOf(down.to, 1)).toBe(3);
  });

  it("refuses a transfer of headroom the donor lacks", () => {
    const [zero, one] = fresh(2) as [ShardState, ShardState];
    expect(() => applyTransfer(zero, one, { from: 0, to: 1, lower: 1, upper: 0 })).toThrow(/donor/);
    expect(() => applyTransfer(zero, one, { from: 0, to: 1, lower: 0, upper: 9 })).toThrow(/donor/);
    expect(() => applyTransfer(zero, one, { from: 0, to: 1, lower: 0, upper: 0 })).toThrow();
  });

  it("plans a commit, then a transfer of half the richest donor's headroom, then a refusal at the bound", () => {
    const snapshot = fresh(3);
    expect(planCommand(snapshot, 0, 1, bounds)).toEqual({ kind: "commit" });
    expect(planCommand(snapshot, 2, 1, bounds)).toEqual({
      kind: "transfer",
      transfer: { from: 0, to: 2, lower: 0, upper: 4 },
    });
    expect(planCommand(snapshot, 2, -1, bounds)).toEqual({ kind: "outOfBounds", value: 2, bound: 2 });
    const full = [
      { value: 5, floor: 2, ceiling: 5, version: 3 },
      { value: 5, floor: 0, ceiling: 5, version: 3 },
    ];
    expect(planCommand(full, 1, 1, bounds)).toEqual({ kind: "outOfBounds", value: 10, bound: 10 });
  });
});

/** What a client holds between its steps: the command in flight and the snapshot it last took. */
interface Client {
  readonly key: string;
  readonly delta: Delta;
  /** Any routing: the shard the client's committer chose (correctness must not depend on it). */
  readonly shard: number;
  snapshot?: ShardState[];
  /** The table's true headroom in the command's direction when that snapshot was taken. */
  headroomAtSnapshot?: number;
}

type Step =
  | {
      readonly kind: "start";
      readonly client: number;
      readonly key: number;
      readonly delta: Delta;
      readonly shard: number;
    }
  | { readonly kind: "snapshot"; readonly client: number }
  | { readonly kind: "act"; readonly client: number }
  | { readonly kind: "crash"; readonly client: number };

const clientIndex = fc.integer({ min: 0, max: 3 });
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("start" as const),
    client: clientIndex,
    key: fc.integer({ min: 0, max: 40 }),
    delta: fc.constantFrom<Delta>(1, -1),
    shard: fc.nat({ max: 63 }),
  }),
  fc.record({ kind: fc.constant("snapshot" as const), client: clientIndex }),
  fc.record({ kind: fc.constant("act" as const), client: clientIndex }),
  fc.record({ kind: fc.constant("act" as const), client: clientIndex }),
  fc.record({ kind: fc.constant("crash" as const), client: clientIndex }),
);

/** The store: shard items guarded by version as the database guards them, and the ledger's keys. */
class Store {
  readonly shards: ShardState[];
  readonly applied = new Map<string, Delta>();
  refusals = 0;
  transfers = 0;
  constructor(
    count: number,
    readonly bounds: Bounds,
  ) {
    this.shards = Array.from({ length: count }, (_, shard) => initialShard(bounds, shard));
  }

  totalHeadroom(delta: Delta): number {
    return this.shards.reduce((sum, state) => sum + headroomOf(state, delta), 0);
  }

  /** One client step; returns whether the client's command is settled. */
  act(client: Client): boolean {
    if (this.applied.has(client.key)) return true; // the ledger's key exists: a replay, nothing written
    const shard = client.shard % this.shards.length;
    const view = client.snapshot ?? [];
    if (view.length === 0) return false; // nothing known yet: the next step reads
    // Any donor among the rich ones: the client's shard number picks one (as a random number would).
    const plan = planCommand(view, shard, client.delta, this.bounds, () => (client.shard * 0.37) % 1);
    if (plan.kind === "outOfBounds") {
      // A 409 is only ever answered from a consistent snapshot: that snapshot must have had no headroom.
      expect(client.headroomAtSnapshot).toBe(0);
      this.refusals++;
      return true;
    }
    if (plan.kind === "transfer") {
      const { from, to } = plan.transfer;
      // Both shards guarded by the versions the plan was made from: a stale plan changes nothing.
      if (this.shards[from]!.version !== view[from]!.version) return false;
      if (this.shards[to]!.version !== view[to]!.version) return false;
      const after = applyTransfer(view[from]!, view[to]!, plan.transfer);
      this.shards[from] = after.from;
      this.shards[to] = after.to;
      this.transfers++;
      return false;
    }
    const state = view[shard]!;
    if (this.shards[shard]!.version !== state.version) return false;
    const decision = decide(client.delta > 0 ? "increment" : "decrement", state, {
      min: state.floor,
      max: state.ceiling,
    });
    if (decision.kind !== "applied") throw new Error("a commit plan is always applicable");
    this.shards[shard] = { ...state, value: decision.change.valueAfter, version: state.version + 1 };
    this.applied.set(client.key, client.delta);
    return true;
  }
}

function run(store: Store, steps: readonly Step[]): void {
  const clients = new Map<number, Client>();
  for (const step of steps) {
    const client = clients.get(step.client);
    if (step.kind === "start") {
      if (client === undefined)
        clients.set(step.client, { key: `key-${step.key}`, delta: step.delta, shard: step.shard });
    } else if (step.kind === "crash") {
      clients.delete(step.client);
    } else if (client !== undefined && step.kind === "snapshot") {
      client.snapshot = store.shards.map((state) => ({ ...state }));
      client.headroomAtSnapshot = store.totalHeadroom(client.delta);
    } else if (client !== undefined && store.act(client)) {
      clients.delete(step.client);
    }
    expect(escrowBreaches(store.shards, store.bounds)).toEqual([]);
    const value = valueOf(store.shards);
    expect(value).toBeGreaterThanOrEqual(store.bounds.min);
    expect(value).toBeLessThanOrEqual(store.bounds.max);
    const sum = [...store.applied.values()].reduce<number>((total, delta) => total + delta, 0);
    expect(value).toBe(store.bounds.min + sum);
  }
}

describe("escrow shards by property", () => {
  const boundsArbitrary = fc
    .tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 12 }))
    .map(([min, width]) => ({ min, max: min + width }));

  it("never crosses a bound, keeps Σf, Σh and f ≤ v ≤ h, and refuses only with no headroom anywhere", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        boundsArbitrary,
        fc.array(stepArbitrary, { minLength: 100, maxLength: 300 }),
        (shards, counterBounds, steps) => run(new Store(shards, counterBounds), steps),
      ),
      { numRuns: 250 },
    );
  });

  it("a command from a fresh snapshot always settles: commit, transfer then commit, or a rightful 409", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        boundsArbitrary,
        fc.array(fc.constantFrom<Delta>(1, 1, -1), { minLength: 20, maxLength: 80 }),
        (shards, counterBounds, deltas) => {
          const store = new Store(shards, counterBounds);
          // The plain bounded counter the sharded one must be indistinguishable from, command by command.
          let plain = counterBounds.min;
          deltas.forEach((delta, index) => {
            const client: Client = { key: `k${index}`, delta, shard: index };
            const refusalsBefore = store.refusals;
            let settled = false;
            // Alone, with a fresh snapshot before each try: at most one transfer, then it settles.
            for (let attempt = 0; attempt < 2 && !settled; attempt++) {
              client.snapshot = store.shards.map((state) => ({ ...state }));
              client.headroomAtSnapshot = store.totalHeadroom(delta);
              settled = store.act(client);
            }
            expect(settled).toBe(true);
            const fits = plain + delta >= counterBounds.min && plain + delta <= counterBounds.max;
            expect(store.applied.has(client.key)).toBe(fits);
            expect(store.refusals - refusalsBefore).toBe(fits ? 0 : 1);
            if (fits) plain += delta;
          });
          expect(valueOf(store.shards)).toBe(plain);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("the projector and the events of escrow shards", () => {
  const command = {
    action: "increment" as const,
    counterId: "default",
    idempotencyKey: "key-1",
    actor: { sub: "7d3f2a10-alice", name: "alice" },
    requestFingerprint: "fingerprint",
    requestId: "request-1",
  };
  const at = new Date("2026-12-02T12:00:00.000Z");
  const change = {
    version: 1,
    action: "increment" as const,
    delta: 1 as const,
    valueBefore: 0,
    valueAfter: 1,
  };
  const recordOf = (item: object): DynamoDBRecord => ({
    eventName: "INSERT",
    dynamodb: { NewImage: marshall(item, { removeUndefinedValues: true }) as never },
  });

  it("projects a shard's command event, stored under its counter's key, as the shard's", () => {
    const event = createShardEvent(command, "default#3", change, at, GENESIS_HASH);
    expect(event.eventId).toBe(eventIdOf("default", "key-1", command.actor));
    expect(decodeLedgerRecord(recordOf(event))).toEqual({ kind: "event", event });
    const misfiled = { ...event, eventId: eventIdOf("other", "key-1", command.actor) };
    expect(decodeLedgerRecord(recordOf(misfiled)).kind).toBe("undecodable");
  });

  it("skips a transfer, and refuses a malformed one", () => {
    const before = { ...initialShard(bounds, 0), shardId: "default", headHash: GENESIS_HASH };
    const after = applyTransfer(before, initialShard(bounds, 1), { from: 0, to: 1, lower: 0, upper: 2 });
    const side = createTransferEvent({
      counterId: "default",
      transferId: "t-1",
      shard: 0,
      before,
      after: after.from,
      peer: "default#1",
      at,
      requestId: "request-1",
    });
    expect(side.eventId).toBe("default#!transfer!t-1!0");
    expect(decodeLedgerRecord(recordOf(side)).kind).toBe("ignored");
    expect(decodeLedgerRecord(recordOf({ ...side, ceilingAfter: -1 })).kind).toBe("undecodable");
  });
});
