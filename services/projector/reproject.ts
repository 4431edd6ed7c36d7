// Rebuilding the projection from the ledger (docs/runbook.md#rebuilding-the-projection): reads a counter's
// ledger through the byVersion index from a version on, a page at a time, and hands each page to the
// projector's own projectBatch as the INSERT records the stream would have delivered — so it writes exactly
// what the projector writes, under the same guards:
//   - an audit entry is put only where none exists (attribute_not_exists), and an existing one must be the
//     very event, field for field, or the page fails (it never overwrites);
//   - the projected state moves only forward (a version condition).
// Hence it is idempotent (a second run finds every entry in place and the state at or past its version) and
// safe while the stream projector runs (both write the same content under the same conditions; whichever
// comes second changes nothing). A checkpoint of the last version done lets an interrupted run resume.

import { marshall } from "@aws-sdk/util-dynamodb";
import { QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AttributeValue, DynamoDBRecord } from "aws-lambda";
import type { Bounds } from "../ledger/domain/decider";
import { REPLAY_PAGE_EVENTS_MAX } from "../ledger/domain/limits";
import type { Logger, LogLine } from "../ledger/log";
import { LedgerReader, storeCall } from "../ledger/storage/store";
import { LEDGER, type TableNames } from "../ledger/storage/tables";
import { Projector } from "./projection";

/** Where a reprojection keeps the last version it finished, so that an interrupted one resumes after it. */
export interface ReprojectCheckpoint {
  /** The last version done by an earlier run with the same arguments; undefined when there is none. */
  readonly load: () => Promise<number | undefined>;
  readonly save: (doneThroughVersion: number) => Promise<void>;
  /** Called once the whole ledger from the version is projected. */
  readonly clear: () => Promise<void>;
}

export interface ReprojectProgress {
  readonly eventsDone: number;
  /** Versions from where this run starts to the aggregate's version when it began. */
  readonly eventsExpected: number;
}

export interface ReprojectOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly counterId: string;
  readonly bounds: Bounds;
  /** The first version to rebuild (1 rebuilds everything). */
  readonly fromVersion: number;
  readonly checkpoint?: ReprojectCheckpoint;
  readonly onProgress?: (progress: ReprojectProgress) => void;
  /** Stop after this many pages, checkpoint kept: an interruption, for tests and for bounded runs. */
  readonly pagesMax?: number;
  /** Events per page (one Query, one projectBatch); REPLAY_PAGE_EVENTS_MAX unless a test asks for fewer. */
  readonly pageEvents?: number;
  readonly log?: Logger;
}

export type ReprojectResult =
  | {
      readonly kind: "done" | "stopped";
      /** Events handed to the projection by this run. */
      readonly events: number;
      /** The version this run started after: fromVersion − 1, or the checkpoint's. */
      readonly startedAfter: number;
      /** The last version this run projected, or startedAfter when it found nothing. */
      readonly throughVersion: number;
    }
  | { readonly kind: "failed"; readonly version: number | null; readonly detail: string };

/** A ledger item as the stream would deliver its INSERT to the projector (Lambda's record shape). */
export function insertRecordOf(item: Record<string, unknown>): DynamoDBRecord {
  const image = marshall(item, { removeUndefinedValues: true }) as unknown as Record<string, AttributeValue>;
  return {
    eventName: "INSERT",
    eventSource: "aws:dynamodb",
    dynamodb: {
      Keys: { [LEDGER.partitionKey]: image[LEDGER.partitionKey] ?? { S: "" } },
      NewImage: image,
      // The version: a failed record is reported by it.
      SequenceNumber: String(item[LEDGER.byVersionIndex.sortKey]),
      StreamViewType: LEDGER.streamViewType,
    },
  };
}

/** The ledger of a counter in version order after a version, a page at a time (consistent: the index). */
async function* ledgerPagesAfter(
  options: ReprojectOptions,
  afterVersion: number,
): AsyncGenerator<Record<string, unknown>[]> {
  const index = LEDGER.byVersionIndex;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await storeCall(() =>
      options.client.send(
        new QueryCommand({
          TableName: options.tables.ledger,
          IndexName: index.name,
          KeyConditionExpression: "#counterId = :counterId AND #version > :after",
          ExpressionAttributeNames: { "#counterId": index.partitionKey, "#version": index.sortKey },
          ExpressionAttributeValues: { ":counterId": options.counterId, ":after": afterVersion },
          ExclusiveStartKey: startKey,
          Limit: options.pageEvents ?? REPLAY_PAGE_EVENTS_MAX,
        }),
      ),
    );
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/** The projector's batch line tells why a page failed; every other line goes to the caller's log. */
function failureCatchingLog(log: Logger | undefined): { log: Logger; failure: () => string | undefined } {
  let failure: string | undefined;
  return {
    log: (line: LogLine) => {
      if (line.message === "projected batch") {
        if (typeof line.failure === "string") {
          failure = typeof line.detail === "string" ? `${line.failure}: ${line.detail}` : line.failure;
        }
        return;
      }
      log?.(line);
    },
    failure: () => failure,
  };
}

export async function reproject(options: ReprojectOptions): Promise<ReprojectResult> {
  const { client, tables, counterId } = options;
  const resumed = await options.checkpoint?.load();
  const startedAfter = Math.max(options.fromVersion - 1, resumed ?? 0);
  const aggregate = await new LedgerReader(client, tables, options.bounds).readAggregate(counterId);
  const eventsExpected = Math.max(0, aggregate.version - startedAfter);
  const caught = failureCatchingLog(options.log);
  const projector = new Projector({ client, tables, log: caught.log });

  let events = 0;
  let pages = 0;
  let throughVersion = startedAfter;
  options.onProgress?.({ eventsDone: 0, eventsExpected });
  for await (const page of ledgerPagesAfter(options, startedAfter)) {
    if (page.length === 0) continue;
    const response = await projector.projectBatch(page.map(insertRecordOf));
    const failed = response.batchItemFailures[0];
    if (failed !== undefined) {
      const version = Number.parseInt(failed.itemIdentifier, 10);
      return {
        kind: "failed",
        version: Number.isInteger(version) ? version : null,
        detail: caught.failure() ?? "the projection refused the page",
      };
    }
    events += page.length;
    throughVersion = Number(page.at(-1)?.[LEDGER.byVersionIndex.sortKey]);
    await options.checkpoint?.save(throughVersion);
    options.onProgress?.({ eventsDone: events, eventsExpected });
    if (options.pagesMax !== undefined && ++pages >= options.pagesMax) {
      return { kind: "stopped", events, startedAfter, throughVersion };
    }
  }
  await options.checkpoint?.clear();
  return { kind: "done", events, startedAfter, throughVersion };
}
