// The check behind verification (docs/architecture.md, invariants I1–I3 and I5), as a pure fold: ledger items
// in version order, the audit entries joined to them by version, then the aggregate, go in; a report comes
// out. It reads nothing itself (services/ledger/storage/replay.ts reads the pages and feeds them), never
// throws on bad data (bad data is what it reports), and moves its state with the decider's `step`, so the
// I2/I3 rules are the very ones the committer obeys. Events of schema version 1 (no actor) and 2 are both
// read; an audit entry must carry its event's actor, field for field (I5).

import { z } from "zod";
import { auditDifferences } from "./audit";
import { ChainWalk, GENESIS_HEAD, HASH_PATTERN, type ChainHead } from "./chain";
import { initialState, isWithinBounds, step, type Bounds, type CounterState } from "./decider";
import { expectedEventIdOf } from "./event";
import { readLedgerEvent, type LedgerEventParse } from "./event-read";
import { leafOfChainHash, MerkleAccumulator, toHex } from "./merkle";
import { VERIFY_PROBLEMS_LISTED_MAX } from "./limits";

/** The kinds of violation, each named after what went wrong, with the invariant it breaks. */
export const PROBLEM_KINDS = {
  malformedEvent: "I2/I3: a ledger item is not a readable ledger event",
  duplicateVersion: "I2: two ledger events carry the same version",
  versionGap: "I2: versions are missing from the ledger",
  aggregateVersion: "I2: the aggregate's version is not the number of ledger events",
  aggregateLastEvent: "I2: the aggregate names another event as its last",
  aggregateValue: "I1: the aggregate's value is not the sum of the ledger's deltas",
  aggregateMalformed: "I1/I2: the aggregate item is not readable",
  deltaInvalid: "I3: the delta is not the one of the event's action",
  valueAfterWrong: "I3: valueAfter is not valueBefore + delta",
  chainBroken: "I3: valueBefore is not the previous event's valueAfter",
  previousHashMismatch: "I7: an event's previousHash is not the hash of the event before it",
  hashMismatch: "I7: an event's hash is not the hash of its contents",
  aggregateHead: "I7: the aggregate's chain head is not the hash of the ledger's last event",
  digestMismatch: "I7: the ledger's chain does not reach the hash a signed digest committed to",
  rolledBack: "I7: the ledger ends below a version a signed digest committed to",
  outOfBounds: "I3: a value lies outside the counter's bounds",
  auditMissing: "I5: a projected version has no audit entry",
  auditAltered: "I5: an audit entry differs from its ledger event",
  auditExtra: "I5: an audit entry has no ledger event",
  projectedAhead: "I5: the projected state is ahead of the aggregate",
  projectedValue: "I5: the projected state differs from the ledger at its version",
  projectedStateMalformed: "I5: the projected state item is not readable",
} as const;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

export interface VerificationProblem {
  readonly kind: ProblemKind;
  readonly version?: number;
  readonly detail: string;
}

export interface ReportedState {
  readonly value: number;
  readonly version: number;
}

/**
 * A projector that is merely behind: not a violation, so it leaves `ok` alone. `versions` is how far the
 * projected state trails the aggregate; `auditEntries` counts audit entries not written yet.
 */
export interface ProjectionLag {
  readonly versions: number;
  readonly auditEntries: number;
}

export interface VerificationReport {
  readonly ok: boolean;
  /** Ledger events replayed, up to the aggregate's version. */
  readonly events: number;
  /** The sum of every event's delta; a sound aggregate holds the counter's start value (COUNTER_MIN) plus it. */
  readonly ledgerSum: number;
  readonly aggregate: ReportedState;
  readonly readModel: ReportedState;
  readonly lag: ProjectionLag;
  readonly problems: readonly VerificationProblem[];
  /** Violations found beyond the VERIFY_PROBLEMS_LISTED_MAX listed ones. */
  readonly problemsOmitted: number;
  readonly durationMs: number;
}

/** What the check needs besides the data: whose ledger, its bounds, and the time for telling lag apart. */
export interface CheckContext {
  readonly counterId: string;
  /** The bounds the counter was created with: its start value is their minimum. */
  readonly bounds: Bounds;
  /** When the check runs (epoch ms): an audit entry missing for long enough is a violation, not lag. */
  readonly nowMs: number;
  readonly lagGraceMs: number;
  /**
   * Heads the ledger once had, each committed to by a signed digest (verified before it gets here), in any
   * order: the chain must reach each one's hash at its version (docs/architecture.md#the-hash-chain).
   */
  readonly trustedHeads?: readonly TrustedHead[];
}

/**
 * A head a signed digest committed to: the chain's hash at its version and, when the digest has one, the Merkle
 * root of versions 1..version (docs/architecture.md#the-merkle-tree), which a replay from the genesis recomputes.
 */
export interface TrustedHead extends ChainHead {
  readonly root?: string;
}

/**
 * Where a fold starts when it does not start from the genesis: a verified checkpoint (the state after the
 * event at `version`), so only the events after it are fed (services/ledger/storage/checkpoint.ts).
 */
export interface StartState {
  /** The last version already verified; the ledger holds exactly this many events up to it. */
  readonly version: number;
  /** The event's valueAfter at `version`. */
  readonly value: number;
  /** The sum of the deltas of versions 1 to `version`. */
  readonly ledgerSum: number;
  /** The eventId at `version`, for the aggregate's lastEventId when no event follows. */
  readonly eventId: string;
  /**
   * The chain's hash at `version` (I7): the first event after it must link to it. Undefined for a checkpoint
   * written before the chain: the link of that first event is then not checked.
   */
  readonly hash?: string | null | undefined;
}

const safeInteger = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/** As much of an event as the arithmetic checks need; anything stricter is checked and reported apart. */
const replayedEventSchema = z.object({
  eventId: z.string(),
  version: safeInteger,
  action: z.string(),
  delta: safeInteger,
  valueBefore: safeInteger,
  valueAfter: safeInteger,
  at: z.string(),
});

type ReplayedEvent = z.infer<typeof replayedEventSchema>;

/** Fields whose faults the arithmetic checks already name; the schema check reports only the others. */
const ARITHMETIC_FIELDS: ReadonlySet<string> = new Set([
  "version",
  "action",
  "delta",
  "valueBefore",
  "valueAfter",
]);

const storedStateSchema = z.object({ value: safeInteger, version: safeInteger.min(0) });

type Item = Readonly<Record<string, unknown>>;

type StrictParse = LedgerEventParse;

/**
 * A stored aggregate or projected state: a missing item is the initial state; `malformed` says the item
 * exists but its value or version is not an integer (the state is then the initial one).
 */
export function storedStateOf(
  item: Item | undefined,
  bounds: Bounds,
): { state: ReportedState; malformed: boolean } {
  if (item === undefined) return { state: initialState(bounds), malformed: false };
  const parsed = storedStateSchema.safeParse(item);
  return parsed.success
    ? { state: parsed.data, malformed: false }
    : { state: initialState(bounds), malformed: true };
}

/**
 * The version through which audit entries must have been fed before this ledger item is checked, so that
 * its own entry (and those the ledger lacks below it) can be joined; undefined when it has no version.
 */
export function auditJoinVersionOf(item: Item): number | undefined {
  return Number.isSafeInteger(item.version) ? (item.version as number) : undefined;
}

/** The chain head an aggregate item records, if it records one. */
function storedHeadOf(item: Item | undefined): ChainHead | undefined {
  const version = item?.headVersion;
  const hash = item?.headHash;
  if (!Number.isSafeInteger(version) || typeof hash !== "string" || !HASH_PATTERN.test(hash))
    return undefined;
  return { version: version as number, hash };
}

/** Collects violations, listing the first VERIFY_PROBLEMS_LISTED_MAX and counting the rest. */
class ProblemList {
  readonly listed: VerificationProblem[] = [];
  omitted = 0;

  add(kind: ProblemKind, detail: string, version?: number): void {
    if (this.listed.length >= VERIFY_PROBLEMS_LISTED_MAX) {
      this.omitted++;
      return;
    }
    this.listed.push(version === undefined ? { kind, detail } : { kind, version, detail });
  }
}

function fieldsOf(issues: readonly { path: readonly PropertyKey[] }[], first: boolean): string[] {
  return [
    ...new Set(issues.map((issue) => (first ? String(issue.path[0] ?? "(item)") : issue.path.join(".")))),
  ];
}

/**
 * The fold. Feed it, in this order: the projected state (constructor); then for each ledger item in version
 * order, the audit entries up to `auditJoinVersionOf(item)` (`auditEntry`) and the item (`event`); then the
 * aggregate read after the ledger (`aggregate`), more ledger items if the ledger had not caught up with it,
 * `endLedger()`, the audit entries left (`auditEntry`); and take the `report`. Given a `start` state (a
 * verified checkpoint), feed only the items and audit entries after its version: the fold goes on from there.
 */
export class LedgerCheck {
  private readonly problems = new ProblemList();
  private readonly context: CheckContext;
  private readonly projected: ReportedState;
  /** The replayed state: the last version read and its valueAfter (the decider's initial state at first). */
  private state: CounterState;
  private eventsRead = 0;
  /** Events before the start state, vouched for by it (0 from the genesis). */
  private readonly eventsBefore: number;
  private ledgerSum = 0;
  /** The previous version was unreadable, so valueBefore has nothing to be compared with. */
  private continuityUnknown = false;
  /** The eventId of the last version read, to check the aggregate's lastEventId. */
  private lastEventId = "";
  private auditEntriesPending = 0;
  /** Audit entries fed and not yet joined, in version order. */
  private readonly audit: { version: number; entry: Item }[] = [];
  private stored: (ReportedState & { lastEventId: unknown; head: ChainHead | undefined }) | undefined;
  /** The hash chain (I7), walked over the items as they are read, from the start state's head. */
  private readonly chain: ChainWalk;
  /** The trusted heads still ahead, by version; and the last version at which one matched. */
  private readonly trustedAhead: TrustedHead[];
  /**
   * The Merkle tree of the chain's hashes as read, when a trusted head has a root to hold it to and the fold
   * starts at the genesis; undefined once an unreadable item leaves a leaf unknown.
   */
  private tree: MerkleAccumulator | undefined;
  private lastTrustedMatch = 0;
  private ledgerEnded = false;

  constructor(context: CheckContext, projectedItem: Item | undefined, start?: StartState) {
    this.context = context;
    this.trustedAhead = this.trustedBeyondGenesis(context.trustedHeads ?? []);
    const rooted = this.trustedAhead.some((head) => head.root !== undefined);
    this.tree = rooted && start === undefined ? new MerkleAccumulator() : undefined;
    this.state =
      start === undefined ? initialState(context.bounds) : { value: start.value, version: start.version };
    this.eventsBefore = start?.version ?? 0;
    this.ledgerSum = start?.ledgerSum ?? 0;
    this.lastEventId = start?.eventId ?? "";
    this.chain = new ChainWalk(
      start === undefined ? GENESIS_HEAD : { version: start.version, hash: start.hash ?? undefined },
    );
    const projected = storedStateOf(projectedItem, context.bounds);
    if (projected.malformed) {
      this.problems.add(
        "projectedStateMalformed",
        "The projected state's value or version is not an integer.",
      );
    }
    this.projected = projected.state;
  }

  /** Ledger events checked so far (after the start state). */
  get events(): number {
    return this.eventsRead;
  }

  /** The highest version read so far (0 before the first). */
  get lastVersion(): number {
    return this.state.version;
  }

  /** An audit entry, in version order; after `endLedger`, an entry no ledger event was read for. */
  auditEntry(version: number, entry: Item): void {
    if (!this.ledgerEnded) {
      this.audit.push({ version, entry });
      return;
    }
    // Entries beyond the aggregate read were projected from events committed after it.
    if (version <= (this.stored?.version ?? 0)) this.auditExtra(version);
  }

  /** One ledger item, in version order, whatever it holds. */
  event(item: Item): void {
    // Parsed strictly once (the schema check and the audit join both need it): an event the strict schema
    // accepts has every field the arithmetic needs, so the looser parse runs only on one it refuses.
    const strict = readLedgerEvent(item);
    let event: ReplayedEvent;
    if (strict.success) event = strict.data;
    else {
      const parsed = replayedEventSchema.safeParse(item);
      if (!parsed.success) {
        this.malformedEvent(item, fieldsOf(parsed.error.issues, false));
        return;
      }
      event = parsed.data;
    }
    const { version } = event;
    this.eventsRead++;
    this.ledgerSum += event.delta;
    const next = step(this.state, event, this.context.bounds);
    const breaches = new Set(next.breaches);
    if (breaches.has("versionRepeated") || breaches.has("versionBehind")) {
      const detail = breaches.has("versionRepeated")
        ? `Version ${version} is recorded more than once.`
        : `Version ${version} comes after version ${this.state.version}: the ledger is out of order.`;
      this.problems.add("duplicateVersion", detail, version);
      return;
    }
    if (breaches.has("versionSkipped")) this.versionGap(version);
    // After a gap the missing events explain any jump, so continuity is checked only between neighbours.
    if (breaches.has("versionSkipped") || this.continuityUnknown) breaches.delete("chainBroken");
    this.reportArithmetic(event, breaches);
    this.reportChain(item, version);
    this.checkTrustedHeads(version);
    this.continuityUnknown = false;
    this.checkSchema(strict, version);
    this.state = next.state;
    if (version === this.projected.version && event.valueAfter !== this.projected.value) {
      this.problems.add(
        "projectedValue",
        `The projected state says ${this.projected.value} at version ${version}; the ledger says ${event.valueAfter}.`,
        version,
      );
    }
    this.lastEventId = event.eventId;
    this.joinAuditEntry(strict, event);
  }

  /** The aggregate, read after the ledger; answers its version, up to which the ledger must be read. */
  aggregate(item: Item | undefined): number {
    const stored = storedStateOf(item, this.context.bounds);
    if (stored.malformed)
      this.problems.add("aggregateMalformed", "The aggregate's value or version is not an integer.");
    this.stored = {
      ...stored.state,
      lastEventId: stored.malformed ? undefined : item?.lastEventId,
      head: stored.malformed ? undefined : storedHeadOf(item),
    };
    return this.stored.version;
  }

  /** The ledger is read through the aggregate's version: checks the aggregate against it (I1, I2). */
  endLedger(): void {
    const aggregate = this.stored ?? {
      ...initialState(this.context.bounds),
      lastEventId: undefined,
      head: undefined,
    };
    this.stored = aggregate;
    this.checkAggregateVersion(aggregate);
    const start = initialState(this.context.bounds).value;
    if (start + this.ledgerSum !== aggregate.value) {
      const from = start === 0 ? "" : ` from the start value ${start}`;
      this.problems.add(
        "aggregateValue",
        `The aggregate's value is ${aggregate.value} but the ledger's deltas sum to ${this.ledgerSum}${from}.`,
        aggregate.version,
      );
    }
    const lastEventMatters =
      typeof aggregate.lastEventId === "string" && this.state.version === aggregate.version;
    if (lastEventMatters && aggregate.version > 0 && this.lastEventId !== aggregate.lastEventId) {
      this.problems.add(
        "aggregateLastEvent",
        "The aggregate names another event than the ledger's last.",
        aggregate.version,
      );
    }
    this.checkAggregateHead(aggregate);
    this.checkRollback();
    this.ledgerEnded = true;
    for (const { version, entry } of this.audit.splice(0)) this.auditEntry(version, entry);
  }

  /** The head of the chain as read so far (undefined while an unreadable item leaves it unknown). */
  get head(): ChainHead | undefined {
    return this.chain.head;
  }

  /** I7: each event linked to the one before it, its hash that of its contents. */
  private reportChain(item: Item, version: number): void {
    const breaches = this.chain.link(item, version);
    const head = this.chain.head;
    if (head === undefined) this.tree = undefined;
    else this.tree?.append(leafOfChainHash(head.hash));
    for (const breach of breaches) {
      if (breach === "previousHash") {
        this.problems.add(
          "previousHashMismatch",
          `The event's previousHash is not the hash of version ${version - 1}.`,
          version,
        );
      } else {
        this.problems.add("hashMismatch", "The event's hash is not the hash of its contents.", version);
      }
    }
  }

  /**
   * The trusted heads past version 0, by version. A head at version 0 (a digest of an empty counter) is the
   * genesis, where every chain starts: it holds when its hash is the genesis hash, and there is nothing to read.
   */
  private trustedBeyondGenesis(heads: readonly TrustedHead[]): TrustedHead[] {
    for (const head of heads) {
      if (head.version === 0 && head.hash !== GENESIS_HEAD.hash) {
        this.problems.add(
          "digestMismatch",
          "A digest signed version 0 with a hash that is not the genesis.",
          0,
        );
      }
    }
    return heads.filter((head) => head.version > 0).sort((left, right) => left.version - right.version);
  }

  /** I7 against digests: at a trusted head's version, the chain must have its hash. */
  private checkTrustedHeads(version: number): void {
    while (this.trustedAhead.length > 0 && this.trustedAhead[0]!.version <= version) {
      const trusted = this.trustedAhead.shift()!;
      const head = this.chain.head;
      if (trusted.version === version && head !== undefined && head.hash === trusted.hash) {
        this.lastTrustedMatch = version;
        this.checkTrustedRoot(trusted);
        continue;
      }
      const after = this.lastTrustedMatch === 0 ? "" : `, after version ${this.lastTrustedMatch}`;
      this.problems.add(
        "digestMismatch",
        `The chain's hash at version ${trusted.version} is not the one a digest signed: history at or below it` +
          ` was rewritten${after}.`,
        trusted.version,
      );
    }
  }

  /**
   * A digest whose chain hash holds but whose Merkle root is not the tree of the events read: the service signed a
   * tree that is not its ledger's (its kept subtrees were changed), so proofs against that digest cannot be trusted.
   */
  private checkTrustedRoot(trusted: TrustedHead): void {
    if (trusted.root === undefined || this.tree?.size !== trusted.version) return;
    if (toHex(this.tree.root()) === trusted.root) return;
    this.problems.add(
      "digestMismatch",
      `The Merkle root a digest signed at version ${trusted.version} is not the root of the ledger's events up to` +
        " it: the kept tree it was computed from was changed.",
      trusted.version,
    );
  }

  /** I7 against digests: a digest's version beyond the ledger's end is history that was taken away. */
  private checkRollback(): void {
    const beyond = this.trustedAhead.splice(0);
    if (beyond.length === 0) return;
    const highest = beyond.at(-1)!.version;
    this.problems.add(
      "rolledBack",
      `The ledger ends at version ${this.state.version}; a digest signed version ${highest}.`,
      this.state.version + 1,
    );
  }

  /** I7: an aggregate that records a head at its own version names the ledger's last hash. */
  private checkAggregateHead(aggregate: { version: number; head: ChainHead | undefined }): void {
    const { head } = aggregate;
    const replayed = this.chain.head;
    if (head === undefined || replayed === undefined || head.version !== aggregate.version) return;
    if (replayed.version === head.version && replayed.hash !== head.hash) {
      this.problems.add(
        "aggregateHead",
        `The aggregate's chain head at version ${head.version} is not the ledger's hash there.`,
        head.version,
      );
    }
  }

  /** The report, taken once at the end; `durationMs` is the caller's measure of the whole verification. */
  report(durationMs: number): VerificationReport {
    if (!this.ledgerEnded) this.endLedger();
    const aggregate = this.stored ?? initialState(this.context.bounds);
    const { problems } = this;
    if (this.projected.version > aggregate.version) {
      problems.add(
        "projectedAhead",
        `The projected state is at version ${this.projected.version}, beyond the aggregate's ${aggregate.version}.`,
        this.projected.version,
      );
    }
    return {
      ok: problems.listed.length === 0,
      events: this.eventsRead,
      ledgerSum: this.ledgerSum,
      aggregate: { value: aggregate.value, version: aggregate.version },
      readModel: { value: this.projected.value, version: this.projected.version },
      lag: {
        versions: Math.max(0, aggregate.version - this.projected.version),
        auditEntries: this.auditEntriesPending,
      },
      problems: problems.listed,
      problemsOmitted: problems.omitted,
      durationMs,
    };
  }

  /** Still an event of the ledger: it counts, and it takes its version, so its neighbours are not misread. */
  private malformedEvent(item: Item, fields: readonly string[]): void {
    const version = auditJoinVersionOf(item);
    this.problems.add(
      "malformedEvent",
      `A ledger item cannot be read as an event (bad ${fields.join(", ")}).`,
      version,
    );
    this.eventsRead++;
    if (version !== undefined) this.chain.lose(version);
    if (Number.isSafeInteger(item.delta)) this.ledgerSum += item.delta as number;
    if (version !== undefined && version > this.state.version) {
      this.state = { value: this.state.value, version };
      this.continuityUnknown = true;
      // Pass its audit entry (the event is already reported), still naming entries the ledger lacks.
      this.takeAuditEntryAt(version);
    }
  }

  private versionGap(version: number): void {
    const first = this.state.version + 1;
    const missing = first === version - 1 ? `${version - 1}` : `${first}–${version - 1}`;
    this.problems.add("versionGap", `Version ${missing} is missing from the ledger.`, first);
  }

  /** The I3 breaches the decider found in a readable event, in the report's words. */
  private reportArithmetic(event: ReplayedEvent, breaches: ReadonlySet<string>): void {
    const { version } = event;
    const { bounds } = this.context;
    if (breaches.has("deltaInvalid")) {
      this.problems.add(
        "deltaInvalid",
        `The delta ${event.delta} does not belong to a ${event.action}.`,
        version,
      );
    }
    if (breaches.has("valueAfterWrong")) {
      this.problems.add(
        "valueAfterWrong",
        `valueAfter ${event.valueAfter} is not valueBefore ${event.valueBefore} + delta ${event.delta}.`,
        version,
      );
    }
    if (breaches.has("chainBroken")) {
      this.problems.add(
        "chainBroken",
        `valueBefore ${event.valueBefore} is not the previous valueAfter ${this.state.value}.`,
        version,
      );
    }
    if (breaches.has("outOfBounds")) {
      const outside = [event.valueBefore, event.valueAfter].find((value) => !isWithinBounds(value, bounds));
      this.problems.add(
        "outOfBounds",
        `The value ${outside} lies outside [${bounds.min}, ${bounds.max}].`,
        version,
      );
    }
  }

  private checkSchema(strict: StrictParse, version: number): void {
    const fields = strict.success
      ? []
      : fieldsOf(strict.error.issues, true).filter((field) => !ARITHMETIC_FIELDS.has(field));
    if (fields.length > 0) {
      this.problems.add("malformedEvent", `The event has a bad ${fields.join(", ")}.`, version);
    } else if (strict.success && strict.data.counterId !== this.context.counterId) {
      this.problems.add("malformedEvent", "The event belongs to another counter.", version);
    } else if (strict.success && strict.data.eventId !== expectedEventIdOf(strict.data)) {
      // The key names the counter, the idempotency key and the actor: an actor changed afterwards shows here.
      this.problems.add("malformedEvent", "The event is not stored under its key and actor.", version);
    }
  }

  /**
   * Takes the audit entries up to `version` in order, reporting those the ledger lacks (below it), and
   * returns the entry of `version` itself, if there is one.
   */
  private takeAuditEntryAt(version: number): Item | undefined {
    while (this.audit.length > 0 && (this.audit[0]?.version ?? Infinity) <= version) {
      const { version: entryVersion, entry } = this.audit.shift()!;
      if (entryVersion === version) return entry;
      this.auditExtra(entryVersion);
    }
    return undefined;
  }

  private auditExtra(version: number): void {
    this.problems.add(
      "auditExtra",
      `The audit trail holds version ${version}, which the ledger lacks.`,
      version,
    );
  }

  private joinAuditEntry(strict: StrictParse, event: ReplayedEvent): void {
    const { version } = event;
    const entry = this.takeAuditEntryAt(version);
    if (entry !== undefined) {
      const differences = strict.success
        ? auditDifferences(entry, strict.data)
        : ["(the ledger event itself is malformed)"];
      if (differences.length > 0) {
        this.problems.add(
          "auditAltered",
          `The audit entry differs from the ledger in ${differences.join(", ")}.`,
          version,
        );
      }
      return;
    }
    const committedMsAgo = this.context.nowMs - Date.parse(event.at);
    const stillProjecting = version > this.projected.version || !(committedMsAgo >= this.context.lagGraceMs);
    if (stillProjecting) this.auditEntriesPending++;
    else
      this.problems.add("auditMissing", `Version ${version} is projected but has no audit entry.`, version);
  }

  private checkAggregateVersion(aggregate: ReportedState): void {
    const lastVersion = this.state.version;
    if (lastVersion > aggregate.version) {
      // Every event read was committed before the aggregate was read, so none may be beyond it.
      this.problems.add(
        "aggregateVersion",
        `The ledger reaches version ${lastVersion} but the aggregate is at version ${aggregate.version}.`,
        aggregate.version + 1,
      );
    } else if (lastVersion < aggregate.version) {
      this.problems.add(
        "aggregateVersion",
        `The aggregate is at version ${aggregate.version} but the ledger ends at version ${lastVersion}.`,
        lastVersion + 1,
      );
    } else if (this.eventsBefore + this.eventsRead !== aggregate.version) {
      this.problems.add(
        "aggregateVersion",
        `The aggregate is at version ${aggregate.version} but the ledger holds ${this.eventsBefore + this.eventsRead} events.`,
        aggregate.version,
      );
    }
  }
}
