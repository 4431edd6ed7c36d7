// Evidence of a rewritten ledger: the ledger is append-only (docs/architecture.md#append-only-enforced-where-it-can-be),
// so a MODIFY or REMOVE record of its stream means someone or something changed or deleted an event after it
// was written. The projector never applies such a record; it logs it at `error` with what changed — the
// event's id, its version as first written, and the old and new values field by field — and the metric
// filter of infra/alarms.tf counts that line into an alarm. Events hold no secret, so their values may be
// logged. Nothing here throws: an image that cannot be read is reported as such.

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { isDeepStrictEqual } from "node:util";
import type { LogLine } from "../ledger/log";

/**
 * The message of the error line, and the phrase the CloudWatch metric filter matches (infra/alarms.tf). Plain
 * words only: a quoted filter term matches it in the Lambda text log format as in raw JSON.
 */
export const LEDGER_REWRITE_MESSAGE = "ledger event rewritten";

/** One field of a rewritten event: its value as first written and after the change (null when absent). */
export interface FieldChange {
  readonly before: unknown;
  readonly after: unknown;
}

/** What a MODIFY or REMOVE record of the ledger stream shows. */
export interface LedgerRewrite {
  readonly change: "MODIFY" | "REMOVE";
  readonly eventId: string | null;
  readonly counterId: string | null;
  /** The version as first written (the old image's), else the new image's; null when neither tells. */
  readonly version: number | null;
  readonly sequenceNumber: string | null;
  /** Whether the record carried the old image (a stream of NEW_AND_OLD_IMAGES does). */
  readonly oldImage: boolean;
  /** Every field whose value differs between the images; for a REMOVE, every field of the removed event. */
  readonly changes: Readonly<Record<string, FieldChange>>;
  /** Who made the change when DynamoDB says (a TTL deletion names the DynamoDB service). */
  readonly userIdentity: unknown;
  /** Images that could not be read as DynamoDB items, if any. */
  readonly unreadable: readonly string[];
}

type Image = Record<string, unknown>;

function readImage(image: unknown, name: string, unreadable: string[]): Image | undefined {
  if (image === undefined || image === null) return undefined;
  try {
    // Lambda's attribute values are the wire format unmarshall reads (binaries stay base64 text).
    return unmarshall(image as Record<string, AttributeValue>);
  } catch {
    unreadable.push(name);
    return undefined;
  }
}

function stringField(...values: unknown[]): string | null {
  for (const value of values) if (typeof value === "string") return value;
  return null;
}

function numberField(...values: unknown[]): number | null {
  for (const value of values) if (typeof value === "number" && Number.isFinite(value)) return value;
  return null;
}

function fieldChanges(before: Image | undefined, after: Image | undefined): Record<string, FieldChange> {
  const names = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  const changes: Record<string, FieldChange> = {};
  for (const name of names) {
    const old = before?.[name] ?? null;
    const current = after?.[name] ?? null;
    if (!isDeepStrictEqual(old, current)) changes[name] = { before: old, after: current };
  }
  return changes;
}

/** The evidence in a MODIFY or REMOVE record of the ledger stream. */
export function ledgerRewriteOf(record: DynamoDBRecord, change: "MODIFY" | "REMOVE"): LedgerRewrite {
  const unreadable: string[] = [];
  const stream = record.dynamodb;
  const before = readImage(stream?.OldImage, "OldImage", unreadable);
  const after = change === "REMOVE" ? undefined : readImage(stream?.NewImage, "NewImage", unreadable);
  const keys = readImage(stream?.Keys, "Keys", unreadable);
  return {
    change,
    eventId: stringField(before?.eventId, keys?.eventId, after?.eventId),
    counterId: stringField(before?.counterId, after?.counterId),
    version: numberField(before?.version, after?.version),
    sequenceNumber: stream?.SequenceNumber ?? null,
    oldImage: before !== undefined,
    // Without the old image only the new values are known: they are reported as the change.
    changes: fieldChanges(before, after),
    userIdentity: (record as { userIdentity?: unknown }).userIdentity ?? null,
    unreadable,
  };
}

/** The error line of a rewrite: what the alarm counts and what a person reads first. */
export function rewriteLogLine(rewrite: LedgerRewrite): LogLine {
  return {
    level: "error",
    message: LEDGER_REWRITE_MESSAGE,
    ...rewrite,
    changedFields: Object.keys(rewrite.changes),
  };
}
