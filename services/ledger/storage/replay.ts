// The replay behind verification (docs/architecture.md#replay-and-verification): reads a counter's ledger
// through the byVersion index in version order, a page at a time, beside the audit trail in the same order, and
// feeds both to the pure check (services/ledger/domain/verification.ts), which reports I1–I3 against the
// aggregate and I5 against the read model (each audit entry, its actor included, against its event), naming
// the version of each violation. Shared by GET /number/verify and `npm run verify`. It never writes, never holds more than two pages of the ledger (and two of the audit
// trail) at a time, and never throws on bad data: bad data is what it reports.

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
  type VerificationReport,
} from "../domain/verification";
import { stateEntryKey } from "./read-model";
import { storeCall } from "./store";
import { COUNTERS, LEDGER, READ_MODEL, type TableNames } from "./tables";

export interface ReplayProgress {
  readonly eventsRead: number;
  /** The aggregate's version when the replay began: the number of events a sound ledger holds. */
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
  readonly trustedHeads?: readonly ChainHead[];
}

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

/** Feeds the check the ledger's versions in (afterVersion, throughVersion], each after the audit entries it joins. */
async function feedLedger(
  dependencies: VerificationDependencies,
  check: LedgerCheck,
  audit: AuditCursor,
  versions: { readonly after: number; readonly through?: number; readonly expected: number },
): Promise<void> {
  const { client, tables, counterId } = dependencies;
  for await (const page of ledgerPages(client, tables, counterId, versions.after, versions.through)) {
    for (const item of page) {
      const joinVersion = auditJoinVersionOf(item);
      if (joinVersion !== undefined) {
        for (let entry = await audit.peek(); entry !== undefined; entry = await audit.peek()) {
          if (entryVersionOf(entry) > joinVersion) break;
          check.auditEntry(entryVersionOf(entry), entry);
          audit.take();
        }
      }
      check.event(item);
    }
    dependencies.onProgress?.({ eventsRead: check.events, eventsExpected: versions.expected });
  }
}

/**
 * Replays the whole ledger of the counter and checks I1–I3 and I5. The aggregate is read after the ledger
 * (so every event read was committed before it), and the tail is read again up to the aggregate's version
 * when the index had not caught up: a sound ledger read during traffic is reported sound.
 */
export async function verifyLedger(dependencies: VerificationDependencies): Promise<VerificationReport> {
  const startedAtMs = Date.now();
  const { client, tables, counterId, bounds } = dependencies;
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
  );
  const expected = storedStateOf(await readItem(client, tables.counters, aggregateKey), bounds).state.version;
  const audit = new AuditCursor(auditEntries(client, tables, counterId));
  await feedLedger(dependencies, check, audit, { after: 0, expected });
  const aggregateVersion = check.aggregate(await readItem(client, tables.counters, aggregateKey));
  for (let read = 1; check.lastVersion < aggregateVersion && read <= VERIFY_TAIL_READS_MAX; read++) {
    await sleep(VERIFY_TAIL_PAUSE_MS);
    await feedLedger(dependencies, check, audit, {
      after: check.lastVersion,
      through: aggregateVersion,
      expected,
    });
  }
  check.endLedger();
  for (let entry = await audit.peek(); entry !== undefined; entry = await audit.peek()) {
    audit.take();
    check.auditEntry(entryVersionOf(entry), entry);
  }
  return check.report(Date.now() - startedAtMs);
}
