// The replay and its verification (docs/architecture.md#verify-and-replay): reads a counter's ledger through
// the byVersion index in version order, a page at a time, beside the audit trail in the same order, and
// checks I1–I3 against the aggregate and I5 against the read model, naming the version of each violation.
// Shared by GET /number/verify and `npm run verify`. It never writes, never holds more than two pages of the
// ledger (and two of the audit trail) at a time, and never throws on bad data: bad data is what it reports.

import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { deltaOf, type Bounds } from "../domain/decider";
import { ledgerEventSchema } from "../domain/event";
import {
  PROJECTION_LAG_GRACE_MS,
  REPLAY_PAGE_EVENTS_MAX,
  VERIFY_PROBLEMS_LISTED_MAX,
  VERIFY_TAIL_PAUSE_MS,
  VERIFY_TAIL_READS_MAX,
} from "../domain/limits";
import { auditDifferences, stateEntryKey } from "./read-model";
import { storeCall } from "./store";
import { COUNTERS, LEDGER, READ_MODEL, type TableNames } from "./tables";

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
  readonly ledgerSum: number;
  readonly aggregate: ReportedState;
  readonly readModel: ReportedState;
  readonly lag: ProjectionLag;
  readonly problems: readonly VerificationProblem[];
  /** Violations found beyond the VERIFY_PROBLEMS_LISTED_MAX listed ones. */
  readonly problemsOmitted: number;
  readonly durationMs: number;
}

export interface ReplayProgress {
  readonly eventsRead: number;
  /** The aggregate's version when the replay began: the number of events a sound ledger holds. */
  readonly eventsExpected: number;
}

export interface VerificationDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly tables: TableNames;
  readonly counterId: string;
  readonly bounds: Bounds;
  readonly clock?: () => Date;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** Called after every page of the ledger. */
  readonly onProgress?: (progress: ReplayProgress) => void;
  readonly lagGraceMs?: number;
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
  while (pending !== undefined) {
    const page: QueryPage = await pending;
    const startKey = page.LastEvaluatedKey;
    pending = startKey === undefined ? undefined : readPage(startKey);
    yield page.Items ?? [];
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

/** The audit trail of a counter in version order, one page at a time (the state entry 0 left out). */
async function* auditEntries(
  client: Pick<DynamoDBDocumentClient, "send">,
  tables: Pick<TableNames, "readModel">,
  counterId: string,
): AsyncGenerator<Record<string, unknown>> {
  const pages = pagesReadAhead((startKey) =>
    storeCall(() =>
      client.send(
        new QueryCommand({
          TableName: tables.readModel,
          KeyConditionExpression: "#counterId = :counterId AND #entry > :state",
          ExpressionAttributeNames: { "#counterId": READ_MODEL.partitionKey, "#entry": READ_MODEL.sortKey },
          ExpressionAttributeValues: { ":counterId": counterId, ":state": READ_MODEL.stateEntry },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
          Limit: REPLAY_PAGE_EVENTS_MAX,
        }),
      ),
    ),
  );
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
}

function entryVersionOf(entry: Record<string, unknown>): number {
  return Number(entry[READ_MODEL.sortKey]);
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

const sleepFor = (milliseconds: number): Promise<void> =>
  new Promise((wake) => setTimeout(wake, milliseconds));

/**
 * Replays the whole ledger of the counter and checks I1–I3 and I5. The aggregate is read after the ledger
 * (so every event read was committed before it), and the tail is read again up to the aggregate's version
 * when the index had not caught up: a sound ledger read during traffic is reported sound.
 */
export async function verifyLedger(dependencies: VerificationDependencies): Promise<VerificationReport> {
  const startedAtMs = Date.now();
  const { client, tables, counterId, bounds } = dependencies;
  const clock = dependencies.clock ?? (() => new Date());
  const sleep = dependencies.sleep ?? sleepFor;
  const lagGraceMs = dependencies.lagGraceMs ?? PROJECTION_LAG_GRACE_MS;
  const problems = new ProblemList();

  const readStored = async (tableName: string, key: Record<string, unknown>): Promise<unknown> =>
    (
      await storeCall(() =>
        client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true })),
      )
    ).Item;
  const readAggregate = async (): Promise<ReportedState & { lastEventId: unknown }> => {
    const item = (await readStored(tables.counters, { [COUNTERS.partitionKey]: counterId })) as
      Record<string, unknown> | undefined;
    if (item === undefined) return { value: 0, version: 0, lastEventId: undefined };
    const parsed = storedStateSchema.safeParse(item);
    if (parsed.success) return { ...parsed.data, lastEventId: item.lastEventId };
    problems.add("aggregateMalformed", "The aggregate's value or version is not an integer.");
    return { value: 0, version: 0, lastEventId: undefined };
  };

  const projectedItem = (await readStored(tables.readModel, stateEntryKey(counterId))) as
    Record<string, unknown> | undefined;
  let projected: ReportedState & { eventId?: unknown } = { value: 0, version: 0 };
  if (projectedItem !== undefined) {
    const parsed = storedStateSchema.safeParse(projectedItem);
    if (parsed.success) projected = { ...parsed.data, eventId: projectedItem.eventId };
    else problems.add("projectedStateMalformed", "The projected state's value or version is not an integer.");
  }
  const eventsExpected = (await readAggregate()).version;

  const audit = new AuditCursor(auditEntries(client, tables, counterId));
  const replay = {
    events: 0,
    ledgerSum: 0,
    lastVersion: 0,
    lastValueAfter: 0,
    /** The previous version was unreadable, so valueBefore has nothing to be compared with. */
    continuityUnknown: false,
    /** The eventId of the last version read, to check the aggregate's lastEventId. */
    lastEventId: "",
    auditEntriesPending: 0,
  };

  const checkEvent = async (item: Record<string, unknown>): Promise<void> => {
    const parsed = replayedEventSchema.safeParse(item);
    if (!parsed.success) {
      const version = Number.isSafeInteger(item.version) ? (item.version as number) : undefined;
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".")))].join(", ");
      problems.add("malformedEvent", `A ledger item cannot be read as an event (bad ${fields}).`, version);
      // Still an event of the ledger: it counts, and it takes its version, so its neighbours are not misread.
      replay.events++;
      if (Number.isSafeInteger(item.delta)) replay.ledgerSum += item.delta as number;
      if (version !== undefined && version > replay.lastVersion) {
        replay.lastVersion = version;
        replay.continuityUnknown = true;
        // Pass its audit entry (the event is already reported), still naming entries the ledger lacks.
        await takeAuditEntryAt(version);
      }
      return;
    }
    const event = parsed.data;
    const { version } = event;
    replay.events++;
    replay.ledgerSum += event.delta;

    if (version === replay.lastVersion) {
      problems.add("duplicateVersion", `Version ${version} is recorded more than once.`, version);
      return;
    }
    const followsGap = version > replay.lastVersion + 1;
    if (followsGap) {
      const missing =
        replay.lastVersion + 1 === version - 1
          ? `${version - 1}`
          : `${replay.lastVersion + 1}–${version - 1}`;
      problems.add("versionGap", `Version ${missing} is missing from the ledger.`, replay.lastVersion + 1);
    }
    checkArithmetic(event, followsGap || replay.continuityUnknown);
    replay.continuityUnknown = false;
    checkSchema(item, version);
    replay.lastVersion = version;
    replay.lastValueAfter = event.valueAfter;
    if (version === projected.version && event.valueAfter !== projected.value) {
      problems.add(
        "projectedValue",
        `The projected state says ${projected.value} at version ${version}; the ledger says ${event.valueAfter}.`,
        version,
      );
    }
    replay.lastEventId = event.eventId;
    await joinAuditEntry(item, event);
  };

  const checkArithmetic = (event: ReplayedEvent, followsGap: boolean): void => {
    const { version } = event;
    const action = event.action === "increment" || event.action === "decrement" ? event.action : undefined;
    if (action === undefined || deltaOf(action) !== event.delta) {
      problems.add("deltaInvalid", `The delta ${event.delta} does not belong to a ${event.action}.`, version);
    }
    if (event.valueAfter !== event.valueBefore + event.delta) {
      problems.add(
        "valueAfterWrong",
        `valueAfter ${event.valueAfter} is not valueBefore ${event.valueBefore} + delta ${event.delta}.`,
        version,
      );
    }
    // After a gap the missing events explain any jump, so continuity is checked only between neighbours.
    if (!followsGap && event.valueBefore !== replay.lastValueAfter) {
      problems.add(
        "chainBroken",
        `valueBefore ${event.valueBefore} is not the previous valueAfter ${replay.lastValueAfter}.`,
        version,
      );
    }
    for (const value of [event.valueBefore, event.valueAfter]) {
      if (value < bounds.min || value > bounds.max) {
        problems.add(
          "outOfBounds",
          `The value ${value} lies outside [${bounds.min}, ${bounds.max}].`,
          version,
        );
        break;
      }
    }
  };

  const checkSchema = (item: Record<string, unknown>, version: number): void => {
    const strict = ledgerEventSchema.safeParse(item);
    const fields = strict.success
      ? []
      : [...new Set(strict.error.issues.map((issue) => String(issue.path[0] ?? "(item)")))].filter(
          (field) => !ARITHMETIC_FIELDS.has(field),
        );
    if (fields.length > 0) {
      problems.add("malformedEvent", `The event has a bad ${fields.join(", ")}.`, version);
    } else if (strict.success && strict.data.counterId !== counterId) {
      problems.add("malformedEvent", "The event belongs to another counter.", version);
    }
  };

  /**
   * Takes the audit entries up to `version` in order, reporting those the ledger lacks (below it), and
   * returns the entry of `version` itself, if there is one.
   */
  const takeAuditEntryAt = async (version: number): Promise<Record<string, unknown> | undefined> => {
    for (let entry = await audit.peek(); entry !== undefined; entry = await audit.peek()) {
      const entryVersion = entryVersionOf(entry);
      if (entryVersion > version) return undefined;
      audit.take();
      if (entryVersion === version) return entry;
      problems.add(
        "auditExtra",
        `The audit trail holds version ${entryVersion}, which the ledger lacks.`,
        entryVersion,
      );
    }
    return undefined;
  };

  const joinAuditEntry = async (item: Record<string, unknown>, event: ReplayedEvent): Promise<void> => {
    const { version } = event;
    const entry = await takeAuditEntryAt(version);
    if (entry !== undefined) {
      const strict = ledgerEventSchema.safeParse(item);
      const differences = strict.success
        ? auditDifferences(entry, strict.data)
        : ["(the ledger event itself is malformed)"];
      if (differences.length > 0) {
        problems.add(
          "auditAltered",
          `The audit entry differs from the ledger in ${differences.join(", ")}.`,
          version,
        );
      }
      return;
    }
    const committedMsAgo = clock().getTime() - Date.parse(event.at);
    const stillProjecting = version > projected.version || !(committedMsAgo >= lagGraceMs);
    if (stillProjecting) replay.auditEntriesPending++;
    else problems.add("auditMissing", `Version ${version} is projected but has no audit entry.`, version);
  };

  const readLedger = async (afterVersion: number, throughVersion?: number): Promise<void> => {
    for await (const page of ledgerPages(client, tables, counterId, afterVersion, throughVersion)) {
      for (const item of page) await checkEvent(item);
      dependencies.onProgress?.({ eventsRead: replay.events, eventsExpected });
    }
  };

  await readLedger(0);
  const aggregate = await readAggregate();
  for (let read = 1; replay.lastVersion < aggregate.version && read <= VERIFY_TAIL_READS_MAX; read++) {
    await sleep(VERIFY_TAIL_PAUSE_MS);
    await readLedger(replay.lastVersion, aggregate.version);
  }
  if (replay.lastVersion > aggregate.version) {
    // Every event read was committed before the aggregate was read, so none may be beyond it.
    problems.add(
      "aggregateVersion",
      `The ledger reaches version ${replay.lastVersion} but the aggregate is at version ${aggregate.version}.`,
      aggregate.version + 1,
    );
  } else if (replay.lastVersion < aggregate.version) {
    problems.add(
      "aggregateVersion",
      `The aggregate is at version ${aggregate.version} but the ledger ends at version ${replay.lastVersion}.`,
      replay.lastVersion + 1,
    );
  } else if (replay.events !== aggregate.version) {
    problems.add(
      "aggregateVersion",
      `The aggregate is at version ${aggregate.version} but the ledger holds ${replay.events} events.`,
      aggregate.version,
    );
  }
  if (replay.ledgerSum !== aggregate.value) {
    problems.add(
      "aggregateValue",
      `The aggregate's value is ${aggregate.value} but the ledger's deltas sum to ${replay.ledgerSum}.`,
      aggregate.version,
    );
  }
  const lastEventMatters =
    typeof aggregate.lastEventId === "string" && replay.lastVersion === aggregate.version;
  if (lastEventMatters && aggregate.version > 0 && replay.lastEventId !== aggregate.lastEventId) {
    problems.add(
      "aggregateLastEvent",
      "The aggregate names another event than the ledger's last.",
      aggregate.version,
    );
  }

  for (let entry = await audit.peek(); entry !== undefined; entry = await audit.peek()) {
    audit.take();
    const entryVersion = entryVersionOf(entry);
    // Entries beyond the aggregate read were projected from events committed after it.
    if (entryVersion <= aggregate.version) {
      problems.add(
        "auditExtra",
        `The audit trail holds version ${entryVersion}, which the ledger lacks.`,
        entryVersion,
      );
    }
  }
  if (projected.version > aggregate.version) {
    problems.add(
      "projectedAhead",
      `The projected state is at version ${projected.version}, beyond the aggregate's ${aggregate.version}.`,
      projected.version,
    );
  }

  return {
    ok: problems.listed.length === 0,
    events: replay.events,
    ledgerSum: replay.ledgerSum,
    aggregate: { value: aggregate.value, version: aggregate.version },
    readModel: { value: projected.value, version: projected.version },
    lag: {
      versions: Math.max(0, aggregate.version - projected.version),
      auditEntries: replay.auditEntriesPending,
    },
    problems: problems.listed,
    problemsOmitted: problems.omitted,
    durationMs: Date.now() - startedAtMs,
  };
}
