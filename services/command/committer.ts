// The committer: turns validated commands into ledger events and aggregate updates, with group commit
// (docs/architecture.md#committer-and-group-commit). Per counter, at most one transaction is in flight in
// this process; commands arriving meanwhile join the next one (up to 99 events). Each command keeps its own
// answer. The last committed aggregate is kept in memory as the expectation, so an uncontended command costs
// one round trip; the version guard keeps several processes correct. Each user's quota is charged in the same
// transaction (docs/architecture.md#per-user-quotas): a user without room is refused (429) and takes nothing
// from the others in the batch. It never writes an event the domain did not decide, never writes twice for
// one ledger key (an idempotency key of one actor: a batch may hold commands of several actors, and the same
// key from two actors is two commands), and never refuses the retry of an applied command.

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { fullJitterBackoffMs } from "../../common/backoff";
import type { LedgerConfig } from "../ledger/config";
import { decide, evolve, type Command } from "../ledger/domain/decider";
import { GENESIS_HASH } from "../ledger/domain/chain";
import {
  createEvent,
  createUnchainedEvent,
  eventIdOf,
  type CurrentLedgerEvent,
  type LedgerEvent,
  type UnchainedLedgerEvent,
} from "../ledger/domain/event";
import {
  COMMIT_ATTEMPTS_MAX,
  COMMIT_BACKOFF_BASE_MS,
  COMMIT_BACKOFF_CAP_MS,
  COMMIT_QUEUE_COMMANDS_MAX,
  COMMIT_RETRY_BUDGET_MS,
  TRANSACTION_ITEMS_MAX,
} from "../ledger/domain/limits";
import type { Aggregate } from "../ledger/storage/aggregate";
import { LedgerReader } from "../ledger/storage/store";
import { NO_METRICS, type MetricsRecorder } from "../ledger/telemetry";
import {
  planQuota,
  quotaApplies,
  quotaExpiresAtOf,
  quotaIdOf,
  quotaWindowOf,
  retryAfterSecondsOf,
  SpentCommands,
  type QuotaPlan,
  type QuotaWindow,
} from "./quota";
import { writeBatch, type ChainedState, type QuotaCharge } from "./transaction";

export type CommitOutcome =
  | { readonly kind: "applied"; readonly event: LedgerEvent }
  | { readonly kind: "replayed"; readonly event: LedgerEvent }
  | { readonly kind: "keyReused" }
  | { readonly kind: "outOfBounds"; readonly value: number; readonly bound: number }
  | { readonly kind: "contention"; readonly attempts: number }
  /** The user's quota for the window is spent: nothing was written; the window ends in `retryAfterSeconds`. */
  | { readonly kind: "quotaExceeded"; readonly limit: number; readonly retryAfterSeconds: number };

export interface CommitterDependencies {
  readonly client: DynamoDBDocumentClient;
  readonly config: LedgerConfig;
  readonly clock?: () => Date;
  /** Uniform in [0, 1); the jitter of the backoff. */
  readonly random?: () => number;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** The domain's decider; replaceable only so that tests can prove the database guard on its own. */
  readonly decide?: typeof decide;
  /** Events per transaction, 1 to 99; 1 turns group commit off (the per-request design, for comparison). */
  readonly batchEventsMax?: number;
  /**
   * false writes events without the hash chain (schema version 2) and the aggregate without its head: only
   * for bench/run.ts, which measures the chain's cost against it. Default true; no configuration sets it.
   */
  readonly chain?: boolean;
  /** Where batch sizes, conflicts and retries go (services/ledger/telemetry.ts); none by default. */
  readonly metrics?: MetricsRecorder;
}

/** Counters a benchmark or a log line can read; never used for decisions. */
export interface CommitterStatistics {
  transactions: number;
  conflicts: number;
  eventsCommitted: number;
}

interface Pending {
  readonly command: Command;
  readonly resolve: (outcome: CommitOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** A command decided into an event: chained, unless the committer was built without the chain. */
interface Applied {
  readonly pending: Pending;
  readonly event: CurrentLedgerEvent | UnchainedLedgerEvent;
}

/** What a pass leaves to the next: the commands still unsettled, and whether it lost a conflict. */
interface PassOutcome {
  readonly remaining: Pending[];
  readonly conflict: boolean;
}

/** A quota charge with the user it is for, so that a commit or a cancellation teaches SpentCommands. */
interface UserCharge {
  readonly user: string;
  readonly charge: QuotaCharge;
}

/** The per-counter queue: what waits, whether a transaction is in flight, and the expected aggregate. */
interface Lane {
  readonly queue: Pending[];
  inFlight: boolean;
  /** The last aggregate this process knows to be committed; undefined means "read it first". */
  expected: ChainedState | undefined;
}

const sleepFor = (milliseconds: number): Promise<void> =>
  new Promise((wake) => setTimeout(wake, milliseconds));

export class Committer {
  readonly statistics: CommitterStatistics = { transactions: 0, conflicts: 0, eventsCommitted: 0 };
  private readonly client: DynamoDBDocumentClient;
  private readonly config: LedgerConfig;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly sleep: (milliseconds: number) => Promise<void>;
  private readonly decide: typeof decide;
  private readonly reader: LedgerReader;
  private readonly batchEventsMax: number;
  private readonly chain: boolean;
  private readonly metrics: MetricsRecorder;
  private readonly lanes = new Map<string, Lane>();
  /** What each user has spent of the current window's quota, as far as this process knows (a lower bound). */
  private readonly spent = new SpentCommands();

  constructor(dependencies: CommitterDependencies) {
    this.client = dependencies.client;
    this.config = dependencies.config;
    this.clock = dependencies.clock ?? (() => new Date());
    this.random = dependencies.random ?? Math.random;
    this.sleep = dependencies.sleep ?? sleepFor;
    this.decide = dependencies.decide ?? decide;
    this.reader = new LedgerReader(
      dependencies.client,
      dependencies.config.tables,
      dependencies.config.bounds,
    );
    this.batchEventsMax = dependencies.batchEventsMax ?? TRANSACTION_ITEMS_MAX - 1;
    this.chain = dependencies.chain ?? true;
    this.metrics = dependencies.metrics ?? NO_METRICS;
    if (
      !Number.isInteger(this.batchEventsMax) ||
      this.batchEventsMax < 1 ||
      this.batchEventsMax > TRANSACTION_ITEMS_MAX - 1
    ) {
      throw new Error(`batchEventsMax must be 1 to ${TRANSACTION_ITEMS_MAX - 1}`);
    }
  }

  /** Applies one command at most once, or says why not. Rejects with StoreUnavailableError on store failure. */
  commit(command: Command): Promise<CommitOutcome> {
    let lane = this.lanes.get(command.counterId);
    if (lane === undefined) {
      lane = { queue: [], inFlight: false, expected: undefined };
      this.lanes.set(command.counterId, lane);
    }
    if (lane.queue.length >= COMMIT_QUEUE_COMMANDS_MAX)
      return Promise.resolve({ kind: "contention", attempts: 0 });
    const promise = new Promise<CommitOutcome>((resolve, reject) =>
      lane.queue.push({ command, resolve, reject }),
    );
    if (!lane.inFlight) void this.drain(lane);
    return promise;
  }

  private async drain(lane: Lane): Promise<void> {
    lane.inFlight = true;
    try {
      while (lane.queue.length > 0) await this.commitBatch(lane, this.takeBatch(lane));
    } finally {
      lane.inFlight = false;
    }
  }

  /**
   * Takes up to batchEventsMax commands in arrival order, as many as fit one transaction: an event is a ledger
   * Put, each user under a quota adds a quota Update, and the aggregate's Update is one more. A command whose
   * ledger key (its actor's key) is already in the batch stays queued for the next one, where the ledger
   * settles it (replay or 422): never two events for one key.
   */
  private takeBatch(lane: Lane): Pending[] {
    const batch: Pending[] = [];
    const keys = new Set<string>();
    const users = new Set<string>();
    const deferred: Pending[] = [];
    while (lane.queue.length > 0 && batch.length < this.batchEventsMax) {
      const pending = lane.queue.shift() as Pending;
      const key = ledgerKeyOf(pending.command);
      if (keys.has(key)) {
        deferred.push(pending);
        continue;
      }
      const user = this.quotaUserOf(pending.command);
      const usersAfter = users.size + (user === undefined || users.has(user) ? 0 : 1);
      if (batch.length + 1 + usersAfter + 1 > TRANSACTION_ITEMS_MAX) {
        lane.queue.unshift(pending);
        break;
      }
      if (user !== undefined) users.add(user);
      keys.add(key);
      batch.push(pending);
    }
    lane.queue.unshift(...deferred);
    return batch;
  }

  /** Settles every command of the batch, one way or another; never throws. */
  private async commitBatch(lane: Lane, batch: Pending[]): Promise<void> {
    const startedAtMs = this.clock().getTime();
    let remaining = batch;
    let conflicts = 0;
    try {
      // Bounded: a pass settles commands, spends a conflict, refreshes a stale expectation, or learns that a
      // user spent more than this process knew; the pass limit caps the last two kinds too.
      for (let pass = 0; pass < COMMIT_ATTEMPTS_MAX + batch.length + 1; pass++) {
        const next = await this.attempt(lane, remaining);
        remaining = next.remaining;
        if (remaining.length === 0) return;
        if (!next.conflict) continue;
        this.statistics.conflicts++;
        this.metrics.record("transactionConflicts", 1);
        conflicts++;
        const spentMs = this.clock().getTime() - startedAtMs;
        if (conflicts >= COMMIT_ATTEMPTS_MAX || spentMs > COMMIT_RETRY_BUDGET_MS) break;
        this.metrics.record("commitRetries", 1);
        await this.sleep(backoffMs(conflicts, this.random));
      }
      for (const pending of remaining) pending.resolve({ kind: "contention", attempts: conflicts });
    } catch (error) {
      // The outcome of a failed write is unknown: forget the expectation and let every client retry. (A
      // command settled already keeps its answer: a promise settles once.)
      lane.expected = undefined;
      for (const pending of remaining) pending.reject(error);
    }
  }

  /**
   * One pass over the commands left: users without quota left are refused, the commands that fit are decided
   * and written in one transaction, those beyond their user's room wait for the next pass. Returns what is
   * left, and whether the pass lost a conflict.
   */
  private async attempt(lane: Lane, commands: readonly Pending[]): Promise<PassOutcome> {
    const counterId = commands[0]!.command.counterId;
    const expected = lane.expected ?? (await this.readChainedState(counterId));
    lane.expected = expected;
    const at = this.clock();
    const window = quotaWindowOf(at);
    const plan = this.planOf(commands, window);
    const refusal: CommitOutcome = {
      kind: "quotaExceeded",
      limit: this.config.quotaCommandsPerMinute ?? 0,
      retryAfterSeconds: retryAfterSecondsOf(window, at),
    };
    await this.settleRefused(plan.spent.map((pending) => ({ pending, refusal })));
    const unsettled = commands.filter((pending) => !plan.spent.includes(pending));
    if (plan.admitted.length === 0) return { remaining: unsettled, conflict: false };
    const { applied, refused, after } = this.decideInOrder(plan.admitted, expected, at);
    if (applied.length === 0) {
      // Nothing to write proves the expectation fresh, so confirm it before refusing anyone with 409.
      const current = await this.readChainedState(counterId);
      lane.expected = current;
      if (current.version !== expected.version) return { remaining: unsettled, conflict: false };
      await this.settleRefused(refused);
      return { remaining: plan.held, conflict: false };
    }
    this.statistics.transactions++;
    const charges = this.chargesOf(applied, window);
    const result = await writeBatch(this.client, this.config.tables, this.config.bounds, {
      ...this.transactionOf(counterId, expected, applied),
      charges: charges.map(({ charge }) => charge),
    });
    switch (result.kind) {
      case "committed":
        lane.expected = after;
        this.statistics.eventsCommitted += applied.length;
        this.metrics.record("batchSize", applied.length);
        for (const { user, charge } of charges)
          this.spent.atLeast(window, user, this.spent.of(window, user) + charge.commands);
        for (const { pending, event } of applied) pending.resolve({ kind: "applied", event });
        // The commit proves the state each refusal was decided on: the refusals stand.
        await this.settleRefused(refused);
        return { remaining: plan.held, conflict: false };
      case "keysExist":
        await this.refreshFrom(lane, result.current);
        return { remaining: await this.settleExisting(unsettled, applied, result.existing), conflict: false };
      case "quotaSpent":
        await this.refreshFrom(lane, result.current);
        for (const [index, count] of result.spent) this.spent.atLeast(window, charges[index]!.user, count);
        return { remaining: unsettled, conflict: false };
      case "conflict":
        lane.expected = result.current === undefined ? undefined : await this.chained(result.current);
        return { remaining: unsettled, conflict: true };
    }
  }

  /** A cancelled transaction that brought the aggregate back makes it the next expectation. */
  private async refreshFrom(lane: Lane, current: Aggregate | undefined): Promise<void> {
    if (current !== undefined) lane.expected = await this.chained(current);
  }

  /** Answers the commands whose keys exist from their stored events; returns the commands left. */
  private async settleExisting(
    commands: readonly Pending[],
    applied: readonly Applied[],
    existing: ReadonlyMap<number, LedgerEvent | undefined>,
  ): Promise<Pending[]> {
    const settled = new Set<Pending>();
    for (const [index, stored] of existing) {
      const { pending } = applied[index]!;
      const event = stored ?? (await this.reader.readEvent(ledgerKeyOf(pending.command)));
      if (event === undefined) throw new Error("a ledger key exists but its event cannot be read");
      pending.resolve(settle(event, pending.command));
      settled.add(pending);
    }
    return commands.filter((pending) => !settled.has(pending));
  }

  /** The commands of a pass split by their users' room: the quota less what this process knows is spent. */
  private planOf(commands: readonly Pending[], window: QuotaWindow): QuotaPlan<Pending> {
    const limit = this.config.quotaCommandsPerMinute;
    return planQuota(
      commands,
      (pending) => this.quotaUserOf(pending.command),
      (user) => (limit ?? 0) - this.spent.of(window, user),
    );
  }

  /** The user whose quota a command counts against; undefined when no quota applies. */
  private quotaUserOf(command: Command): string | undefined {
    return quotaApplies(command.actor, this.config.quotaCommandsPerMinute) ? command.actor.sub : undefined;
  }

  /** One charge per user under a quota: as many commands as the user has events in the batch. */
  private chargesOf(applied: readonly Applied[], window: QuotaWindow): UserCharge[] {
    const limit = this.config.quotaCommandsPerMinute;
    if (limit === undefined) return [];
    const counts = new Map<string, number>();
    for (const { pending } of applied) {
      const user = this.quotaUserOf(pending.command);
      if (user !== undefined) counts.set(user, (counts.get(user) ?? 0) + 1);
    }
    return [...counts].map(([user, commands]) => ({
      user,
      charge: {
        quotaId: quotaIdOf(user, window),
        commands,
        limit,
        expiresAtSeconds: quotaExpiresAtOf(window),
      },
    }));
  }

  /** The aggregate with its chain's head at its own version (caught up from the ledger when it lags). */
  private async readChainedState(counterId: string): Promise<ChainedState> {
    return this.chained(await this.reader.readAggregate(counterId));
  }

  private async chained(aggregate: Aggregate): Promise<ChainedState> {
    if (!this.chain) return { ...aggregate, head: { version: aggregate.version, hash: GENESIS_HASH } };
    if (aggregate.head.version === aggregate.version) return aggregate;
    return { ...aggregate, head: await this.reader.catchUpHead(aggregate.counterId, aggregate) };
  }

  /**
   * Decides each command in arrival order from the expected state: the batch is a little ledger of its own,
   * and a little chain: each event is linked after the one before it (docs/architecture.md#the-hash-chain).
   */
  private decideInOrder(
    batch: readonly Pending[],
    expected: ChainedState,
    at: Date,
  ): {
    applied: Applied[];
    refused: { pending: Pending; refusal: CommitOutcome }[];
    after: ChainedState;
  } {
    const applied: Applied[] = [];
    const refused: { pending: Pending; refusal: CommitOutcome }[] = [];
    let state: ChainedState = expected;
    for (const pending of batch) {
      const decision = this.decide(pending.command.action, state, this.config.bounds);
      if (decision.kind === "outOfBounds") {
        refused.push({
          pending,
          refusal: { kind: "outOfBounds", value: decision.value, bound: decision.bound },
        });
        continue;
      }
      const event = this.chain
        ? createEvent(pending.command, decision.change, at, state.head.hash)
        : createUnchainedEvent(pending.command, decision.change, at);
      applied.push({ pending, event });
      const hash = event.schemaVersion === 3 ? event.hash : GENESIS_HASH;
      state = { ...evolve(state, decision.change), head: { version: event.version, hash } };
    }
    return { applied, refused, after: state };
  }

  /** The transaction of the applied events: chained, or (only for bench/, `chain: false`) without the chain. */
  private transactionOf(counterId: string, expected: ChainedState, applied: readonly Applied[]) {
    const events = applied.map(({ event }) => event);
    return this.chain
      ? { counterId, expected, events: events as CurrentLedgerEvent[] }
      : { counterId, expected, events: events as UnchainedLedgerEvent[], unchained: true as const };
  }

  /**
   * A refusal (409, or 429 for a spent quota) may be the retry of a command that was applied: settle such keys
   * from the ledger first, so that a retry gets its event, never a refusal.
   */
  private async settleRefused(
    refused: readonly { pending: Pending; refusal: CommitOutcome }[],
  ): Promise<void> {
    await Promise.all(
      refused.map(async ({ pending, refusal }) => {
        try {
          const existing = await this.reader.readEvent(ledgerKeyOf(pending.command));
          pending.resolve(existing === undefined ? refusal : settle(existing, pending.command));
        } catch (error) {
          pending.reject(error);
        }
      }),
    );
  }
}

/** The ledger key a command's event is (or would be) stored under: its counter, its actor, its key. */
function ledgerKeyOf(command: Command): string {
  return eventIdOf(command.counterId, command.idempotencyKey, command.actor);
}

/** The pause before conflict retry `attempt`: full-jitter exponential backoff (common/backoff.ts). */
function backoffMs(attempt: number, random: () => number): number {
  return fullJitterBackoffMs(attempt, COMMIT_BACKOFF_BASE_MS, COMMIT_BACKOFF_CAP_MS, random);
}

/** A replay when the stored request is the same request, a refusal (422) otherwise (I4). */
function settle(existing: LedgerEvent, command: Command): CommitOutcome {
  return existing.requestFingerprint === command.requestFingerprint
    ? { kind: "replayed", event: existing }
    : { kind: "keyReused" };
}
