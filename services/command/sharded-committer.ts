// The committer of an escrow-sharded counter (COUNTER_SHARDS > 1, docs/architecture.md#escrow-shards). A
// command goes to this environment's home shard (or, when commands of this process wait there, the next shard
// without any: escrow.ts, chooseShard), and is one transaction there: its event, the shard's
// Update (version, value, floor and ceiling guarded) and its user's quota. A shard without the headroom reads a
// consistent snapshot of every shard: no headroom anywhere is a 409 (the snapshot proves the bound), otherwise
// a transfer moves headroom to the shard in a transaction of its own and the command is decided again. One
// command per transaction (a Lambda environment serves one request at a time); the last state of each shard
// this process saw is kept as its expectation, so an uncontended command costs one round trip.

import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { fullJitterBackoffMs } from "../../common/backoff";
import type { LedgerConfig } from "../ledger/config";
import { decide, deltaOf, type Command } from "../ledger/domain/decider";
import {
  applyTransfer,
  headroomOf,
  planCommand,
  chooseShard,
  shardBoundsOf,
  shardIdOf,
  type Transfer,
} from "../ledger/domain/escrow";
import { createShardEvent, createTransferEvent, type ChainedShard } from "../ledger/domain/escrow-event";
import { eventIdOf, type LedgerEvent } from "../ledger/domain/event";
import {
  COMMIT_ATTEMPTS_MAX,
  COMMIT_BACKOFF_BASE_MS,
  COMMIT_BACKOFF_CAP_MS,
  COMMIT_QUEUE_COMMANDS_MAX,
  COMMIT_RETRY_BUDGET_MS,
} from "../ledger/domain/limits";
import { ShardReader, SnapshotCancelledError } from "../ledger/storage/shards";
import { LedgerReader } from "../ledger/storage/store";
import { NO_METRICS, type MetricsRecorder } from "../ledger/telemetry";
import { Committer, type CommitOutcome, type CommitterStatistics } from "./committer";
import {
  quotaApplies,
  quotaExpiresAtOf,
  quotaIdOf,
  quotaWindowOf,
  retryAfterSecondsOf,
  SpentCommands,
} from "./quota";
import { writeShardCommand, writeTransfer } from "./shard-transaction";

export interface ShardedCommitterDependencies {
  readonly client: DynamoDBDocumentClient;
  readonly config: LedgerConfig;
  /** 2 to 64 (1 is the unsharded Committer's). */
  readonly shards: number;
  readonly clock?: () => Date;
  readonly random?: () => number;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  readonly metrics?: MetricsRecorder;
}

/** Counters a test or benchmark can read; never used for decisions. */
export interface ShardedStatistics extends CommitterStatistics {
  transfers: number;
  snapshots: number;
}

/** What one step of a command left: its answer, or that it goes on (after a conflict, or not). */
type StepResult = { readonly outcome: CommitOutcome } | { readonly conflict: boolean };

const sleepFor = (milliseconds: number): Promise<void> =>
  new Promise((wake) => setTimeout(wake, milliseconds));

export class ShardedCommitter {
  readonly statistics: ShardedStatistics = {
    transactions: 0,
    conflicts: 0,
    eventsCommitted: 0,
    transfers: 0,
    snapshots: 0,
  };
  private readonly client: DynamoDBDocumentClient;
  private readonly config: LedgerConfig;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly sleep: (milliseconds: number) => Promise<void>;
  private readonly metrics: MetricsRecorder;
  private readonly shards: ShardReader;
  private readonly reader: LedgerReader;
  /** The last state of each shard this process knows to be committed; undefined means "read it first". */
  private readonly expected: (ChainedShard | undefined)[];
  private readonly spent = new SpentCommands();
  /** Per shard: the end of the queue of this process's commands, and how many wait in it. */
  private readonly turns: Promise<void>[];
  private readonly waiting: number[];
  /**
   * The shard this committer (an execution environment) writes first: chosen at random when it starts, and
   * again, among the others, whenever another writer beat it there, so that environments spread out over the
   * shards instead of sharing one.
   */
  private home: number;

  constructor(dependencies: ShardedCommitterDependencies) {
    const { client, config, shards } = dependencies;
    this.client = client;
    this.config = config;
    this.clock = dependencies.clock ?? (() => new Date());
    this.random = dependencies.random ?? Math.random;
    this.sleep = dependencies.sleep ?? sleepFor;
    this.metrics = dependencies.metrics ?? NO_METRICS;
    this.shards = new ShardReader(client, config.tables, config.bounds, config.counterId, shards);
    this.reader = new LedgerReader(client, config.tables, config.bounds);
    this.expected = new Array<ChainedShard | undefined>(shards).fill(undefined);
    this.turns = new Array<Promise<void>>(shards).fill(Promise.resolve());
    this.waiting = new Array<number>(shards).fill(0);
    this.home = Math.floor(this.random() * shards) % shards;
  }

  /**
   * Applies one command at most once, or says why not. Rejects with StoreUnavailableError on store failure.
   * Commands of one shard take turns in this process (they would only cancel each other's transactions).
   */
  commit(command: Command): Promise<CommitOutcome> {
    const shard = chooseShard(this.home, this.waiting);
    if (this.waiting[shard]! >= COMMIT_QUEUE_COMMANDS_MAX) {
      return Promise.resolve({ kind: "contention", attempts: 0 });
    }
    this.waiting[shard]!++;
    const turn = this.turns[shard]!.then(() => this.commitOnShard(command, shard));
    this.turns[shard] = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn.finally(() => this.waiting[shard]!--);
  }

  private async commitOnShard(command: Command, shard: number): Promise<CommitOutcome> {
    const startedAtMs = this.clock().getTime();
    let conflicts = 0;
    // Bounded: each step answers, spends a conflict, or moves headroom (a transfer, or a fresher expectation),
    // and a command needs at most one transfer between two conflicts.
    for (let step = 0; step < 3 * (COMMIT_ATTEMPTS_MAX + 1); step++) {
      let result: StepResult;
      try {
        result = await this.step(command, shard);
      } catch (error) {
        this.expected[shard] = undefined;
        throw error;
      }
      if ("outcome" in result) return result.outcome;
      if (!result.conflict) continue;
      this.statistics.conflicts++;
      this.metrics.record("transactionConflicts", 1);
      conflicts++;
      if (conflicts >= COMMIT_ATTEMPTS_MAX || this.clock().getTime() - startedAtMs > COMMIT_RETRY_BUDGET_MS)
        break;
      this.metrics.record("commitRetries", 1);
      await this.sleep(
        fullJitterBackoffMs(conflicts, COMMIT_BACKOFF_BASE_MS, COMMIT_BACKOFF_CAP_MS, this.random),
      );
    }
    return { kind: "contention", attempts: conflicts };
  }

  /** One try: from the shard's expected state, commit; or, without headroom, go to the snapshot. */
  private async step(command: Command, shard: number): Promise<StepResult> {
    const at = this.clock();
    const window = quotaWindowOf(at);
    const limit = this.config.quotaCommandsPerMinute;
    const user = quotaApplies(command.actor, limit) ? command.actor.sub : undefined;
    if (user !== undefined && (limit ?? 0) - this.spent.of(window, user) < 1) {
      return { outcome: await this.settleRefused(command, this.quotaRefusal(window, at)) };
    }
    const before = this.expected[shard] ?? (await this.shards.readShard(shard));
    this.expected[shard] = before;
    if (headroomOf(before, deltaOf(command.action)) < 1) return this.coordinate(command, shard);
    const decision = decide(command.action, before, shardBoundsOf(before));
    if (decision.kind !== "applied") throw new Error("a shard with headroom refused a command");
    const event = createShardEvent(command, before.shardId, decision.change, at, before.headHash);
    const charge =
      user === undefined
        ? undefined
        : {
            quotaId: quotaIdOf(user, window),
            commands: 1,
            limit: limit!,
            expiresAtSeconds: quotaExpiresAtOf(window),
          };
    this.statistics.transactions++;
    const result = await writeShardCommand(this.client, this.config.tables, { before, event, charge });
    switch (result.kind) {
      case "committed":
        this.expected[shard] = {
          ...before,
          value: event.valueAfter,
          version: event.version,
          headHash: event.hash,
        };
        this.statistics.eventsCommitted++;
        this.metrics.record("batchSize", 1);
        if (user !== undefined) this.spent.atLeast(window, user, this.spent.of(window, user) + 1);
        return { outcome: { kind: "applied", event } };
      case "keyExists": {
        const stored = result.event ?? (await this.reader.readEvent(ledgerKeyOf(command)));
        if (stored === undefined) throw new Error("a ledger key exists but its event cannot be read");
        return { outcome: settle(stored, command) };
      }
      case "quotaSpent":
        this.spent.atLeast(window, user!, result.count);
        return { conflict: false };
      case "conflict":
        this.expected[shard] = undefined;
        this.moveHome(shard);
        return { conflict: true };
    }
  }

  /**
   * The shard lacks headroom. Each shard read on its own finds a donor, and a transfer brings headroom here;
   * when none shows any, a consistent snapshot of every shard decides: no headroom anywhere proves the bound
   * (409, unless the key was applied: then its event).
   */
  private async coordinate(command: Command, shard: number): Promise<StepResult> {
    const delta = deltaOf(command.action);
    // First each shard on its own (no transaction, nothing for a writer to cancel): enough to find a donor.
    const each = await this.shards.readEach();
    each.forEach((state, index) => (this.expected[index] = state));
    const seen = planCommand(each, shard, delta, this.config.bounds, this.random);
    if (seen.kind === "commit") return { conflict: false };
    if (seen.kind === "transfer") {
      const written = await this.transfer(each, seen.transfer, command.requestId);
      return { conflict: written === "conflict" };
    }
    // No headroom seen anywhere: only a snapshot of one moment can prove it. A cancelled one is a conflict.
    this.statistics.snapshots++;
    let snapshot: ChainedShard[];
    try {
      snapshot = await this.shards.readSnapshot(1);
    } catch (error) {
      if (error instanceof SnapshotCancelledError) return { conflict: true };
      throw error;
    }
    snapshot.forEach((state, index) => (this.expected[index] = state));
    const plan = planCommand(snapshot, shard, delta, this.config.bounds, this.random);
    if (plan.kind === "commit") return { conflict: false };
    if (plan.kind === "outOfBounds") {
      const refusal: CommitOutcome = { kind: "outOfBounds", value: plan.value, bound: plan.bound };
      return { outcome: await this.settleRefused(command, refusal) };
    }
    const written = await this.transfer(snapshot, plan.transfer, command.requestId);
    return { conflict: written === "conflict" };
  }

  /** Writes one transfer from the snapshot; on success both shards' expectations move with it. */
  private async transfer(
    snapshot: readonly ChainedShard[],
    transfer: Transfer,
    requestId: string,
  ): Promise<"committed" | "conflict"> {
    const from = snapshot[transfer.from]!;
    const to = snapshot[transfer.to]!;
    const after = applyTransfer(from, to, transfer);
    const transferId = randomUUID();
    const at = this.clock();
    const side = (shard: number, before: ChainedShard, state: typeof after.from, peer: ChainedShard) => ({
      before,
      after: state,
      event: createTransferEvent({
        counterId: this.config.counterId,
        transferId,
        shard,
        before,
        after: state,
        peer: peer.shardId,
        at,
        requestId,
      }),
    });
    const sides = {
      from: side(transfer.from, from, after.from, to),
      to: side(transfer.to, to, after.to, from),
    };
    this.statistics.transactions++;
    const result = await writeTransfer(this.client, this.config.tables, sides);
    if (result === "committed") {
      this.statistics.transfers++;
      this.expected[transfer.from] = {
        ...sides.from.after,
        shardId: from.shardId,
        headHash: sides.from.event.hash,
      };
      this.expected[transfer.to] = { ...sides.to.after, shardId: to.shardId, headHash: sides.to.event.hash };
    } else {
      this.expected[transfer.from] = undefined;
      this.expected[transfer.to] = undefined;
    }
    return result;
  }

  /** Another writer shares the home shard: the next commands go to another one, chosen at random. */
  private moveHome(from: number): void {
    const shards = this.shards.shards;
    if (this.home !== from) return;
    this.home = (from + 1 + Math.floor(this.random() * (shards - 1))) % shards;
  }

  private quotaRefusal(window: ReturnType<typeof quotaWindowOf>, at: Date): CommitOutcome {
    return {
      kind: "quotaExceeded",
      limit: this.config.quotaCommandsPerMinute ?? 0,
      retryAfterSeconds: retryAfterSecondsOf(window, at),
    };
  }

  /** A refusal may be the retry of an applied command: its key's event answers it first (I4). */
  private async settleRefused(command: Command, refusal: CommitOutcome): Promise<CommitOutcome> {
    const existing = await this.reader.readEvent(ledgerKeyOf(command));
    return existing === undefined ? refusal : settle(existing, command);
  }

  /** The shard ids of this counter, shard 0 first. */
  shardIds(): string[] {
    return Array.from({ length: this.shards.shards }, (_, shard) => shardIdOf(this.config.counterId, shard));
  }
}

/** The ledger key of a command: the counter's, whatever its shard, so a key is unique across shards. */
function ledgerKeyOf(command: Command): string {
  return eventIdOf(command.counterId, command.idempotencyKey, command.actor);
}

/** A replay when the stored request is the same request, a refusal (422) otherwise (I4). */
function settle(existing: LedgerEvent, command: Command): CommitOutcome {
  return existing.requestFingerprint === command.requestFingerprint
    ? { kind: "replayed", event: existing }
    : { kind: "keyReused" };
}

/**
 * The committer the configuration asks for: the unsharded one with group commit for one shard (today's design,
 * unchanged), the escrow-sharded one for COUNTER_SHARDS above 1.
 */
export function createCommitter(
  dependencies: Pick<ShardedCommitterDependencies, "client" | "config" | "metrics">,
): Pick<Committer, "commit" | "statistics"> {
  const shards = dependencies.config.counterShards;
  return shards === undefined || shards === 1
    ? new Committer(dependencies)
    : new ShardedCommitter({ ...dependencies, shards });
}
