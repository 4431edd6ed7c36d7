// The replay behind verification (docs/architecture.md#replay-and-verification): reads a counter's ledger
// through the byVersion index in version order, a page at a time, beside the audit trail in the same order, and
// feeds both to the pure check (services/ledger/domain/verification.ts), which reports I1–I3 against the
// aggregate and I5 against the read model (each audit entry, its actor included, against its event), naming
// the version of each violation. Shared by GET /number/verify, which goes on from a verified checkpoint and
// checks a bounded number of events per call (docs/architecture.md#checkpointed-verification), and
// `npm run verify`, which replays everything, optionally reading version segments in parallel. It never writes,
// holds at most two pages of the ledger and two of the audit trail at a time (with segments, `segments`
// segments of each), and never throws on bad data: bad data is what it reports.

import type { ChainHead } from "../domain/chain";
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Bounds } from "../domain/decider";
import {
  PROJECTION_LAG_GRACE_MS,
  REPLAY_PAGE_EVENTS_MAX,
  VERIFY_TAIL_PAUSE_MS,
  VERIFY_TAIL_READS_MAX,
} from "../domain/limits";
import {
  auditJoinVersionOf,
  LedgerCheck,
  storedStateOf,
  type ProblemKind,
  type ReportedState,
  type TrustedHead,
  type VerificationReport,
} from "../domain/verification";
import type { VerifyCheckpoint } from "./checkpoint";
import { stateEntryKey } from "./read-model";
import { storeCall } from "./store";
import { COUNTERS, LEDGER, READ_MODEL, type TableNames } from "./tables";

export interface ReplayProgress {
  readonly eventsRead: number;
  /** The events this replay expects when it begins: the aggregate's version (less the checkpoint's). */
  readonly eventsExpected: number;
}

export interface VerificationDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly tables: TableNames;
  readonly counterId: string;
  /** The counter's bounds: a new counter starts at their minimum (changing them later is not supported). */
  readonly bounds: Bounds;
  readonly clock?: () => Date;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** Called after every page of the ledger. */
  readonly onProgress?: (progress: ReplayProgress) => void;
  readonly lagGraceMs?: number;
  /** Heads that signed digests committed to (verified by the caller): the chain must reach each (I7). */
  readonly trustedHeads?: readonly TrustedHead[];
  /**
   * Version ranges of the ledger (through the byVersion index) and of the audit trail read in parallel (each
   * REPLAY_SEGMENT_EVENTS versions, at most this many of each in flight), folded in order; 1 (the default)
   * reads each as one sequence.
   */
  readonly segments?: number;
  /** Versions per segment (REPLAY_SEGMENT_EVENTS); smaller in tests, to make many segments of a short ledger. */
  readonly segmentEvents?: number;
}

/** A verification report with how far the replay got. */
export interface ReplayReport extends VerificationReport {
  /** The first version this replay read: 1, or the checkpoint's version + 1. */
  readonly checkedFrom: number;
  /** The last version it read; checkedFrom − 1 when nothing followed the checkpoint. */
  readonly checkedTo: number;
  /** Events remain beyond checkedTo: the cap on events per replay was reached. */
  readonly more: boolean;
}

/** Where a verified checkpoint may move after a replay: the state after the event at `version`. */
export type ReachedState = Omit<VerifyCheckpoint, "verifiedAt">;

export interface IncrementalVerification {
  readonly report: ReplayReport;
  /**
   * The last version checked sound below any audit entry not yet written (an entry the projector still owes
   * is checked by a later replay): where the checkpoint may move. Undefined when the report is not ok or when
   * nothing new was checked.
   */
  readonly reached: ReachedState | undefined;
}

/** Versions per segment of a parallel replay: ten pages, so that each segment's Query is worth its round trips. */
export const REPLAY_SEGMENT_EVENTS = 10 * REPLAY_PAGE_EVENTS_MAX;

type Page = readonly Record<string, unknown>[];

interface QueryPage {
  readonly Items?: Record<string, unknown>[];
  readonly LastEvaluatedKey?: Record<string, unknown>;
}

/**
 * Pages of a query, each asked for while the one before is being checked: the replay waits on the store
 * (measured: the process is idle most of the time otherwise), so overlapping the two roughly halves its
 * time. At most two pages are held at once.
 */
async function* pagesReadAhead(
  readPage: (startKey: Record<string, unknown> | undefined) => Promise<QueryPage>,
): AsyncGenerator<Page> {
  let pending: Promise<QueryPage> | undefined = readPage(undefined);
  try {
    while (pending !== undefined) {
      const page: QueryPage = await pending;
      const startKey = page.LastEvaluatedKey;
      pending = startKey === undefined ? undefined : readPage(startKey);
      yield page.Items ?? [];
    }
  } finally {
    // A reader that stops early (a replay at its deadline) leaves the page read ahead: its failure is nobody's.
    pending?.catch(() => undefined);
  }
}

/** The ledger of a counter in version order, versions in (afterVersion, throughVersion], one page at a time. */
export async function* ledgerPages(
  client: Pick<DynamoDBDocumentClient, "send">,
  tables: Pick<TableNames, "ledger">,
  counterId: string,
  afterVersion: number,
  throughVersion: number = Number.MAX_SAFE_INTEGER,
): AsyncGenerator<Page> {
  const index = LEDGER.byVersionIndex;
  yield* pagesReadAhead((startKey) =>
    storeCall(() =>
      client.send(
        new QueryCommand({
          TableName: tables.ledger,
          IndexName: index.name,
          KeyConditionExpression: "#counterId = :counterId AND #version BETWEEN :after AND :through",
          ExpressionAttributeNames: { "#counterId": index.partitionKey, "#version": index.sortKey },
          ExpressionAttributeValues: {
            ":counterId": counterId,
            ":after": afterVersion + 1,
            ":through": throughVersion,
          },
          ExclusiveStartKey: startKey,
          Limit: REPLAY_PAGE_EVENTS_MAX,
        }),
      ),
    ),
  );
}

async function collect(pages: AsyncGenerator<Page>): Promise<Page[]> {
  const collected: Page[] = [];
  for await (const page of pages) collected.push(page);
  return collected;
}

/** Version ranges of a parallel read: (after, through], as one sequential Query would return them. */
interface VersionRange {
  readonly after: number;
  readonly through: number;
  /** The aggregate's version when the replay began: the ranges are planned up to it. */
  readonly plannedThrough: number;
}

/**
 * Pages of the versions in (after, through] in version order, read as ranges of `segmentEvents` versions up to
 * `plannedThrough`, plus one range for whatever lies beyond: up to `segments` ranges are read at once, each
 * whole, and handed on in order — the same items, in the same order, as one sequential Query, in less time
 * when the store answers several reads at once.
 */
async function* segmentedPages(
  readRange: (after: number, through: number) => AsyncGenerator<Page>,
  range: VersionRange,
  parallel: { readonly segments: number; readonly segmentEvents?: number },
): AsyncGenerator<Page> {
  const { segments, segmentEvents = REPLAY_SEGMENT_EVENTS } = parallel;
  const planned = Math.min(range.plannedThrough, range.through);
  const ranges: { after: number; through: number }[] = [];
  for (let after = range.after; after < planned; after += segmentEvents) {
    ranges.push({ after, through: Math.min(after + segmentEvents, planned) });
  }
  if (planned < range.through) ranges.push({ after: Math.max(range.after, planned), through: range.through });
  const inFlight: Promise<Page[]>[] = [];
  let next = 0;
  const startNext = (): void => {
    const segment = ranges[next++];
    if (segment === undefined) return;
    const read = collect(readRange(segment.after, segment.through));
    // Awaited in its turn; handled now so that a failure while an earlier segment is awaited is not "unhandled".
    read.catch(() => undefined);
    inFlight.push(read);
  };
  while (next < ranges.length && inFlight.length < segments) startNext();
  for (let read = inFlight.shift(); read !== undefined; read = inFlight.shift()) {
    const pages = await read;
    startNext();
    yield* pages;
  }
}

/** The ledger's versions in (after, through], read in parallel version ranges (see segmentedPages). */
export function segmentedLedgerPages(
  client: Pick<DynamoDBDocumentClient, "send">,
  tables: Pick<TableNames, "ledger">,
  counterId: string,
  range: VersionRange,
  parallel: { readonly segments: number; readonly segmentEvents?: number },
): AsyncGenerator<Page> {
  return segmentedPages(
    (after, through) => ledgerPages(client, tables, counterId, after, through),
    range,
    parallel,
  );
}

/** The audit trail of a counter in version order, versions in (afterVersion, throughVersion], a page at a time. */
function auditPages(
  client: Pick<DynamoDBDocumentClient, "send">,
  tables: Pick<TableNames, "readModel">,
  counterId: string,
  afterVersion: number,
  throughVersion: number,
): AsyncGenerator<Page> {
  return pagesReadAhead((startKey) =>
    storeCall(() =>
      client.send(
        new QueryCommand({
          TableName: tables.readModel,
          KeyConditionExpression: "#counterId = :counterId AND #entry BETWEEN :after AND :through",
          ExpressionAttributeNames: { "#counterId": READ_MODEL.partitionKey, "#entry": READ_MODEL.sortKey },
          ExpressionAttributeValues: {
            ":counterId": counterId,
            // The state entry 0 (and the checkpoint's and lease's negative keys) left out.
            ":after": Math.max(afterVersion, READ_MODEL.stateEntry) + 1,
            ":through": throughVersion,
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
          Limit: REPLAY_PAGE_EVENTS_MAX,
        }),
      ),
    ),
  );
}

/**
 * The audit trail's entries in (range.after, range.through], in version order: with `segments` > 1 read in
 * the same parallel version ranges as the ledger, so that neither waits for the other.
 */
async function* auditEntries(
  dependencies: VerificationDependencies,
  range: VersionRange,
  segments: number,
): AsyncGenerator<Record<string, unknown>> {
  const { client, tables, counterId, segmentEvents } = dependencies;
  const readRange = (after: number, through: number) => auditPages(client, tables, counterId, after, through);
  const pages =
    segments > 1
      ? segmentedPages(readRange, range, { segments, segmentEvents })
      : readRange(range.after, range.through);
  for await (const page of pages) yield* page;
}
/** Reads the audit trail one entry ahead, so that the replay can join it to the ledger by version. */
class AuditCursor {
  private readonly entries: AsyncGenerator<Record<string, unknown>>;
  private head: Record<string, unknown> | undefined;
  private done = false;

  constructor(entries: AsyncGenerator<Record<string, unknown>>) {
    this.entries = entries;
  }

  /** The next entry without taking it; undefined at the end. */
  async peek(): Promise<Record<string, unknown> | undefined> {
    if (this.head === undefined && !this.done) {
      const next = await this.entries.next();
      if (next.done === true) this.done = true;
      else this.head = next.value;
    }
    return this.head;
  }

  take(): void {
    this.head = undefined;
  }

  /** Stops reading: a page read ahead is dropped, its failure with it. */
  async close(): Promise<void> {
    this.done = true;
    await this.entries.return(undefined);
  }
}

function entryVersionOf(entry: Record<string, unknown>): number {
  return Number(entry[READ_MODEL.sortKey]);
}

const sleepFor = (milliseconds: number): Promise<void> =>
  new Promise((wake) => setTimeout(wake, milliseconds));

type Client = Pick<DynamoDBDocumentClient, "send">;

async function readItem(
  client: Client,
  tableName: string,
  key: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const output = await storeCall(() =>
    client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true })),
  );
  return output.Item;
}

/**
 * Follows a sound replay to find where the checkpoint may move: the last event whose audit entry was joined,
 * before the first one still owed by the projector.
 */
class ReachTracker {
  private ledgerSum: number;
  private stopped = false;
  reached: ReachedState | undefined;

  constructor(start: VerifyCheckpoint | undefined) {
    this.ledgerSum = start?.ledgerSum ?? 0;
  }

  /** `head` is the fold's chain head after the item: the hash a checkpoint here must carry (I7). */
  event(item: Record<string, unknown>, joined: boolean, head: ChainHead | undefined): void {
    if (this.stopped) return;
    const { version, valueAfter, delta, eventId } = item;
    const readable =
      Number.isSafeInteger(version) &&
      Number.isSafeInteger(valueAfter) &&
      Number.isSafeInteger(delta) &&
      typeof eventId === "string";
    if (!joined || !readable) {
      this.stopped = true;
      return;
    }
    this.ledgerSum += delta as number;
    this.reached = {
      version: version as number,
      value: valueAfter as number,
      ledgerSum: this.ledgerSum,
      eventId,
      hash: head !== undefined && head.version === version ? head.hash : null,
    };
  }
}

interface FeedRange extends VersionRange {
  /** The events this replay expects, for the progress. */
  readonly expected: number;
  readonly segments: number;
  /** Date.now() past which no further page is read; undefined reads to the end of the range. */
  readonly deadlineAtMs?: number | undefined;
}

/**
 * Feeds the check the ledger's versions in (after, through], each after the audit entries it joins; answers
 * whether it stopped at its deadline, after a whole page, before the end of the range.
 */
async function feedLedger(
  dependencies: VerificationDependencies,
  check: LedgerCheck,
  audit: AuditCursor,
  reach: ReachTracker,
  range: FeedRange,
): Promise<boolean> {
  const { client, tables, counterId } = dependencies;
  const pages =
    range.segments > 1
      ? segmentedLedgerPages(client, tables, counterId, range, {
          segments: range.segments,
          segmentEvents: dependencies.segmentEvents,
        })
      : ledgerPages(client, tables, counterId, range.after, range.through);
  for await (const page of pages) {
    for (const item of page) {
      const joinVersion = auditJoinVersionOf(item);
      let joined = false;
      if (joinVersion !== undefined) {
        for (let entry = await audit.peek(); entry !== undefined; entry = await audit.peek()) {
          if (entryVersionOf(entry) > joinVersion) break;
          joined = entryVersionOf(entry) === joinVersion;
          check.auditEntry(entryVersionOf(entry), entry);
          audit.take();
        }
      }
      check.event(item);
      reach.event(item, joined, check.head);
    }
    dependencies.onProgress?.({ eventsRead: check.events, eventsExpected: range.expected });
    if (range.deadlineAtMs !== undefined && Date.now() >= range.deadlineAtMs) return true;
  }
  return false;
}

/** What a replay that stopped at its cap did not check: the aggregate and the projected state's version. */
const CHECKED_ONLY_AT_THE_END: ReadonlySet<ProblemKind> = new Set([
  "aggregateVersion",
  "aggregateValue",
  "aggregateLastEvent",
  "projectedAhead",
]);

/**
 * The report of a replay that stopped at its cap or its deadline: the check was closed on its own last
 * version, so what that says about the aggregate is left out (the replay that reaches the aggregate checks
 * it), and the aggregate and the lag are the real ones. Stopped at its deadline, it may also have ended below
 * a digest's version, which is no rollback.
 */
function partialReport(
  report: VerificationReport,
  aggregate: ReportedState,
  cut: boolean,
): VerificationReport {
  const problems = report.problems.filter(
    (problem) => !CHECKED_ONLY_AT_THE_END.has(problem.kind) && !(cut && problem.kind === "rolledBack"),
  );
  return {
    ...report,
    ok: problems.length === 0 && report.problemsOmitted === 0,
    problems,
    aggregate,
    lag: {
      versions: Math.max(0, aggregate.version - report.readModel.version),
      auditEntries: report.lag.auditEntries,
    },
  };
}

/**
 * Replays the ledger after `start` (from the genesis without one), at most `eventsMax` events, and checks
 * I1–I3 and I5. The aggregate is read after the ledger (so every event read was committed before it), and the
 * tail is read again up to the aggregate's version when the index had not caught up: a sound ledger read
 * during traffic is reported sound. With `deadlineAtMs` it reads no page after that time (Date.now()): it
 * stops after the page it is on and reports `more`, as at its cap, so that a request ends inside its budget.
 */
export async function verifyAfterCheckpoint(
  dependencies: VerificationDependencies,
  options: {
    readonly start: VerifyCheckpoint | undefined;
    readonly eventsMax: number;
    readonly deadlineAtMs?: number | undefined;
  },
): Promise<IncrementalVerification> {
  const startedAtMs = Date.now();
  const { client, tables, counterId, bounds, start } = { ...dependencies, ...options };
  const sleep = dependencies.sleep ?? sleepFor;
  const aggregateKey = { [COUNTERS.partitionKey]: counterId };
  const check = new LedgerCheck(
    {
      counterId,
      bounds,
      nowMs: (dependencies.clock ?? (() => new Date()))().getTime(),
      lagGraceMs: dependencies.lagGraceMs ?? PROJECTION_LAG_GRACE_MS,
      trustedHeads: dependencies.trustedHeads,
    },
    await readItem(client, tables.readModel, stateEntryKey(counterId)),
    start,
  );
  const after = start?.version ?? 0;
  const through = Math.min(Number.MAX_SAFE_INTEGER, after + options.eventsMax);
  const plannedThrough = storedStateOf(await readItem(client, tables.counters, aggregateKey), bounds).state
    .version;
  const segments = dependencies.segments ?? 1;
  const audit = new AuditCursor(auditEntries(dependencies, { after, through, plannedThrough }, segments));
  const reach = new ReachTracker(start);
  const expected = Math.max(0, Math.min(plannedThrough, through) - after);
  const range = { after, through, plannedThrough, expected, segments, deadlineAtMs: options.deadlineAtMs };
  const cut = await feedLedger(dependencies, check, audit, reach, range);
  const aggregateItem = await readItem(client, tables.counters, aggregateKey);
  const aggregate = storedStateOf(aggregateItem, bounds).state;
  const more = aggregate.version > (cut ? check.lastVersion : through);
  const aggregateVersion = check.aggregate(more ? { value: 0, version: check.lastVersion } : aggregateItem);
  for (let read = 1; check.lastVersion < aggregateVersion && read <= VERIFY_TAIL_READS_MAX; read++) {
    await sleep(VERIFY_TAIL_PAUSE_MS);
    const tail = {
      after: check.lastVersion,
      through: aggregateVersion,
      plannedThrough,
      expected,
      segments: 1,
    };
    await feedLedger(dependencies, check, audit, reach, tail);
  }
  check.endLedger();
  for (let entry = await audit.peek(); entry !== undefined; entry = await audit.peek()) {
    // Stopped at its deadline, the audit entries beyond the last event read are the next replay's.
    if (cut && more && entryVersionOf(entry) > check.lastVersion) break;
    audit.take();
    check.auditEntry(entryVersionOf(entry), entry);
  }
  await audit.close();
  const whole = check.report(Date.now() - startedAtMs);
  const report = more ? partialReport(whole, aggregate, cut) : whole;
  return {
    report: { ...report, checkedFrom: after + 1, checkedTo: check.lastVersion, more },
    reached: report.ok ? reach.reached : undefined,
  };
}

/**
 * Replays the whole ledger of the counter and checks I1–I3 and I5: the auditor's replay of `npm run verify`,
 * which no checkpoint shortens. `segments` > 1 reads version ranges in parallel.
 */
export async function verifyLedger(dependencies: VerificationDependencies): Promise<ReplayReport> {
  const { report } = await verifyAfterCheckpoint(dependencies, {
    start: undefined,
    eventsMax: Number.MAX_SAFE_INTEGER,
  });
  return report;
}
