// The projection: turns a batch of ledger stream records into the read model — one audit entry per version
// (a copy of the event, its actor included, identical on every redelivery) and the projected state, moved
// forward only.
// Delivery is at least once and, across shards, in any order, so every write here is idempotent and
// order-insensitive. It must never throw past a batch: a record it cannot project is reported in
// `batchItemFailures`, and it never overwrites an audit entry with another event. A MODIFY or REMOVE of a
// ledger item is evidence of tampering (services/projector/rewrite.ts): logged at error, never projected,
// never a failure — evidence must not block the projection.

import { ConditionalCheckFailedException, type AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord } from "aws-lambda";
import { expectedEventIdOf, ledgerEventSchema, type LedgerEvent } from "../ledger/domain/event";
import { expectedShardEventIdOf, transferEventSchema } from "../ledger/domain/escrow-event";
import { PROJECTOR_RECORDS_IN_FLIGHT_MAX, PROJECTOR_TRANSACTION_ENTRIES_MAX } from "../ledger/domain/limits";
import { describeError, type Logger } from "../ledger/log";
import { stateEntryKey } from "../ledger/storage/read-model";
import { auditDifferences, auditEntryOf } from "../ledger/domain/audit";
import { classifyStoreError } from "../ledger/storage/store";
import { READ_MODEL, type TableNames } from "../ledger/storage/tables";
import { NO_METRICS, type MetricsRecorder } from "../ledger/telemetry";
import { ledgerRewriteOf, rewriteLogLine, type LedgerRewrite } from "./rewrite";

/** What reading one stream record gives: a ledger event to project, a record to skip, or one that is broken. */
export type DecodedRecord =
  | { readonly kind: "event"; readonly event: LedgerEvent }
  | { readonly kind: "ignored"; readonly reason: string }
  | { readonly kind: "rewritten"; readonly rewrite: LedgerRewrite }
  | { readonly kind: "undecodable"; readonly detail: string };

/** What projecting one record came to. Only the last three ask for a redelivery. */
export type RecordOutcome =
  | { readonly kind: "projected" }
  | { readonly kind: "alreadyProjected" }
  | { readonly kind: "ignored" }
  | { readonly kind: "rewritten" }
  | { readonly kind: "undecodable"; readonly detail: string }
  | { readonly kind: "conflict"; readonly detail: string }
  | { readonly kind: "storeFailed"; readonly detail: string };

const FAILED_KINDS: ReadonlySet<RecordOutcome["kind"]> = new Set(["undecodable", "conflict", "storeFailed"]);

export interface ProjectorDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly tables: Pick<TableNames, "readModel">;
  readonly log: Logger;
  readonly clock?: () => Date;
  /** Where the lag and the failed records go (services/ledger/telemetry.ts); none by default. */
  readonly metrics?: MetricsRecorder;
}

/**
 * Reads the ledger event out of a stream record. The ledger is append-only, so a MODIFY or REMOVE is never
 * projected: it is the evidence of a rewrite, the audit trail keeps the original, and verification reports
 * the difference.
 */
export function decodeLedgerRecord(record: DynamoDBRecord): DecodedRecord {
  if (record.eventName === "MODIFY" || record.eventName === "REMOVE") {
    return { kind: "rewritten", rewrite: ledgerRewriteOf(record, record.eventName) };
  }
  if (record.eventName !== "INSERT") {
    return { kind: "ignored", reason: `a ${String(record.eventName)} of a ledger event is never projected` };
  }
  const image = record.dynamodb?.NewImage;
  if (image === undefined) return { kind: "undecodable", detail: "the record has no NewImage" };
  let item: Record<string, unknown>;
  try {
    // Lambda's attribute values are the wire format that unmarshall reads (binaries stay base64 text).
    item = unmarshall(image as unknown as Record<string, AttributeValue>);
  } catch (error) {
    return {
      kind: "undecodable",
      detail: `NewImage is not a DynamoDB item: ${describeError(error).errorMessage}`,
    };
  }
  if (item.action === "transfer" && transferEventSchema.safeParse(item).success) {
    // A transfer moves escrow headroom between two shards and changes no value: no audit entry is its.
    return { kind: "ignored", reason: "a transfer between escrow shards is not projected" };
  }
  const parsed = ledgerEventSchema.safeParse(item);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(item)"))];
    return { kind: "undecodable", detail: `not a ledger event: bad ${fields.join(", ")}` };
  }
  const event = parsed.data;
  // A command event of escrow shard s ≥ 1 is stored under its counter's key (docs/architecture.md#escrow-shards).
  if (event.eventId !== expectedEventIdOf(event) && event.eventId !== expectedShardEventIdOf(event)) {
    return { kind: "undecodable", detail: "eventId does not match counterId, idempotencyKey and actor" };
  }
  return { kind: "event", event };
}

/** Runs `work` over every item with at most `limit` running at once; results keep the items' order. */
async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class Projector {
  private readonly client: Pick<DynamoDBDocumentClient, "send">;
  private readonly readModelTable: string;
  private readonly log: Logger;
  private readonly clock: () => Date;
  private readonly metrics: MetricsRecorder;

  constructor(dependencies: ProjectorDependencies) {
    this.client = dependencies.client;
    this.readModelTable = dependencies.tables.readModel;
    this.log = dependencies.log;
    this.clock = dependencies.clock ?? (() => new Date());
    this.metrics = dependencies.metrics ?? NO_METRICS;
  }

  /**
   * Projects a batch of one shard's records, in their order. Audit entries first; then, per counter, the state
   * moves to the highest version among the records before the first failure — so within a shard a projected
   * version n implies its audit entries up to n exist. Answers the first failed record, if any.
   */
  async projectBatch(records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
    const startedAtMs = Date.now();
    const decoded = records.map(decodeLedgerRecord);
    for (const record of decoded) if (record.kind === "rewritten") this.log(rewriteLogLine(record.rewrite));
    const outcomes = await this.writeAuditEntries(decoded);

    let firstFailed = outcomes.findIndex((outcome) => FAILED_KINDS.has(outcome.kind));
    const newestByCounter = new Map<string, { event: LedgerEvent; index: number }>();
    for (const [index, record] of decoded.entries()) {
      if (firstFailed !== -1 && index >= firstFailed) break;
      if (record.kind !== "event") continue;
      const newest = newestByCounter.get(record.event.counterId);
      if (newest === undefined || newest.event.version < record.event.version) {
        newestByCounter.set(record.event.counterId, { event: record.event, index });
      }
    }
    for (const { event, index } of newestByCounter.values()) {
      const failure = await this.moveStateForward(event);
      if (failure !== undefined) {
        outcomes[index] = failure;
        if (firstFailed === -1 || index < firstFailed) firstFailed = index;
      }
    }

    this.logBatch(records, decoded, outcomes, firstFailed, startedAtMs);
    if (firstFailed === -1) return { batchItemFailures: [] };
    // An empty identifier fails the whole batch, which is the only safe answer for a record without one.
    return { batchItemFailures: [{ itemIdentifier: records[firstFailed]?.dynamodb?.SequenceNumber ?? "" }] };
  }

  /**
   * Writes the audit entries of a batch, up to 100 in one TransactWriteItems of conditional Puts: on DynamoDB
   * Local that is about 3.5 times the rate of single Puts (measured), which keeps the projection up with group
   * commit. Any refusal (an entry exists: a redelivery) sends that chunk down the one-record path, which tells
   * each record's outcome. The guard is the same either way: an audit entry is never overwritten.
   */
  private async writeAuditEntries(decoded: readonly DecodedRecord[]): Promise<RecordOutcome[]> {
    const outcomes: RecordOutcome[] = decoded.map((record) =>
      record.kind === "event"
        ? { kind: "projected" }
        : record.kind === "ignored" || record.kind === "rewritten"
          ? { kind: record.kind }
          : record,
    );
    const eventIndexes = decoded.flatMap((record, index) => (record.kind === "event" ? [index] : []));
    for (let start = 0; start < eventIndexes.length; start += PROJECTOR_TRANSACTION_ENTRIES_MAX) {
      const chunk = eventIndexes.slice(start, start + PROJECTOR_TRANSACTION_ENTRIES_MAX);
      if (await this.writeAuditChunk(chunk.map((index) => decoded[index] as DecodedRecord))) continue;
      const oneByOne = await mapWithLimit(chunk, PROJECTOR_RECORDS_IN_FLIGHT_MAX, (index) =>
        this.writeAuditEntry(decoded[index] as DecodedRecord),
      );
      chunk.forEach((index, position) => (outcomes[index] = oneByOne[position] as RecordOutcome));
    }
    return outcomes;
  }

  /** True when every entry of the chunk was written by one transaction; false sends it one by one. */
  private async writeAuditChunk(records: readonly DecodedRecord[]): Promise<boolean> {
    const entries = records.flatMap((record) =>
      record.kind === "event" ? [auditEntryOf(record.event)] : [],
    );
    const keys = new Set(entries.map((entry) => `${entry.counterId}#${entry.entry}`));
    // A transaction may touch an item once; a chunk with one version twice is settled record by record.
    if (entries.length < 2 || keys.size !== entries.length) return false;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: entries.map((entry) => ({
            Put: {
              TableName: this.readModelTable,
              Item: entry,
              ConditionExpression: "attribute_not_exists(#entry)",
              ExpressionAttributeNames: { "#entry": READ_MODEL.sortKey },
            },
          })),
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Writes the audit entry unless it exists; an existing one must be this very event, field for field. */
  private async writeAuditEntry(record: DecodedRecord): Promise<RecordOutcome> {
    if (record.kind === "ignored" || record.kind === "rewritten") return { kind: record.kind };
    if (record.kind === "undecodable") return record;
    const { event } = record;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.readModelTable,
          Item: auditEntryOf(event),
          ConditionExpression: "attribute_not_exists(#entry)",
          ExpressionAttributeNames: { "#entry": READ_MODEL.sortKey },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { kind: "projected" };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) return storeFailure(error);
      return this.compareExistingEntry(event, error.Item);
    }
  }

  /** The entry that made the Put's condition fail comes back with it (ALL_OLD): no read, no GetItem right. */
  private compareExistingEntry(
    event: LedgerEvent,
    returnedItem: Record<string, AttributeValue> | undefined,
  ): RecordOutcome {
    if (returnedItem === undefined) {
      return { kind: "storeFailed", detail: "the existing audit entry did not come back with the refusal" };
    }
    const differences = auditDifferences(unmarshall(returnedItem), event);
    if (differences.length === 0) return { kind: "alreadyProjected" };
    return {
      kind: "conflict",
      detail: `the audit entry of version ${event.version} holds another event (differs in ${differences.join(", ")})`,
    };
  }

  /** Moves the projected state to this event unless it is there or beyond already. Undefined means done. */
  private async moveStateForward(event: LedgerEvent): Promise<RecordOutcome | undefined> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.readModelTable,
          Key: stateEntryKey(event.counterId),
          UpdateExpression: "SET #value = :value, #version = :version, #at = :at, #eventId = :eventId",
          ConditionExpression: "attribute_not_exists(#version) OR #version < :version",
          ExpressionAttributeNames: {
            "#value": "value",
            "#version": "version",
            "#at": "at",
            "#eventId": "eventId",
          },
          ExpressionAttributeValues: {
            ":value": event.valueAfter,
            ":version": event.version,
            ":at": event.at,
            ":eventId": event.eventId,
          },
        }),
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      return storeFailure(error);
    }
  }

  private logBatch(
    records: readonly DynamoDBRecord[],
    decoded: readonly DecodedRecord[],
    outcomes: readonly RecordOutcome[],
    firstFailed: number,
    startedAtMs: number,
  ): void {
    const counts: Record<string, number> = {};
    for (const outcome of outcomes) counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1;
    // Lag is measured from the event's own commit time: ApproximateCreationDateTime is too coarse for it.
    let newestCommitMs: number | undefined;
    for (const record of decoded) {
      if (record.kind !== "event") continue;
      const committedAtMs = Date.parse(record.event.at);
      if (newestCommitMs === undefined || committedAtMs > newestCommitMs) newestCommitMs = committedAtMs;
    }
    const failure = firstFailed === -1 ? undefined : outcomes[firstFailed];
    const lagMs = newestCommitMs === undefined ? null : this.clock().getTime() - newestCommitMs;
    // The lag of a projected batch only: a failed one is not in the read model yet.
    if (failure === undefined && lagMs !== null) this.metrics.record("projectorLag", lagMs);
    const failed = outcomes.filter((outcome) => FAILED_KINDS.has(outcome.kind)).length;
    if (failed > 0) this.metrics.record("projectorFailedRecords", failed);
    this.log({
      level: failure === undefined ? "info" : "warn",
      message: "projected batch",
      records: records.length,
      outcomes: counts,
      lagMs,
      latencyMs: Date.now() - startedAtMs,
      ...(failure === undefined
        ? {}
        : {
            failedSequenceNumber: records[firstFailed]?.dynamodb?.SequenceNumber ?? null,
            failure: failure.kind,
            detail: "detail" in failure ? failure.detail : undefined,
          }),
    });
  }
}

function storeFailure(error: unknown): RecordOutcome {
  const classified = classifyStoreError(error);
  const { errorName, errorMessage } = describeError(classified);
  return { kind: "storeFailed", detail: `${errorName}: ${errorMessage}` };
}
