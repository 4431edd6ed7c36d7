// The verify checkpoint and the verify lease of a counter (docs/architecture.md#checkpointed-verification): two
// items of the read model under sort keys of their own, below the projected state's 0, so that no audit-trail or
// history query (sort keys ≥ 1) ever meets them. Written by the query side (GET /number/verify), never by the
// command path: the read model is derived data the query side may already rebuild, whereas the counters table
// holds the aggregate and its head, which only the command role may move.
//
// The checkpoint says "versions 1 to `version` were verified sound" and carries the fold's state there; it only
// ever moves forward (a conditional write). The lease lets one verification of a counter run at a time across
// Lambdas (a conditional put with an expiry) and keeps the last result for those who asked meanwhile.

import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import type { StartState } from "../domain/verification";
import { storeCall } from "./store";
import { READ_MODEL, type TableNames } from "./tables";

/** The read model's sort key of a counter's verify checkpoint. */
export const CHECKPOINT_ENTRY = -1;
/** The read model's sort key of a counter's verify lease (and last result). */
export const LEASE_ENTRY = -2;

type Client = Pick<DynamoDBDocumentClient, "send">;
type Tables = Pick<TableNames, "readModel">;

/** A verified point of the ledger: the fold's state after the event at `version`, and when it was verified. */
export interface VerifyCheckpoint extends StartState {
  /** The hash of the event at `version` (null for an event written before the ledger was chained). */
  readonly hash: string | null;
  readonly verifiedAt: string;
}

const safeInteger = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

const checkpointSchema = z.object({
  version: safeInteger.min(1),
  value: safeInteger,
  ledgerSum: safeInteger,
  eventId: z.string().min(1),
  hash: z.string().nullable(),
  verifiedAt: z.iso.datetime(),
});

function keyOf(counterId: string, entry: number): Record<string, string | number> {
  return { [READ_MODEL.partitionKey]: counterId, [READ_MODEL.sortKey]: entry };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

async function readEntry(
  client: Client,
  tables: Tables,
  counterId: string,
  entry: number,
): Promise<Record<string, unknown> | undefined> {
  const output = await storeCall(() =>
    client.send(
      new GetCommand({ TableName: tables.readModel, Key: keyOf(counterId, entry), ConsistentRead: true }),
    ),
  );
  return output.Item;
}

/**
 * The counter's checkpoint; undefined when there is none — or when the item is unreadable, which then costs
 * one verification from the genesis, never a check skipped.
 */
export async function readCheckpoint(
  client: Client,
  tables: Tables,
  counterId: string,
): Promise<VerifyCheckpoint | undefined> {
  const parsed = checkpointSchema.safeParse(await readEntry(client, tables, counterId, CHECKPOINT_ENTRY));
  return parsed.success ? parsed.data : undefined;
}

/**
 * Moves the checkpoint to `checkpoint` if that is forward (or there is none yet); answers whether it moved.
 * Never backwards, whoever else advanced it meanwhile.
 */
export async function advanceCheckpoint(
  client: Client,
  tables: Tables,
  counterId: string,
  checkpoint: VerifyCheckpoint,
): Promise<boolean> {
  try {
    await storeCall(() =>
      client.send(
        new UpdateCommand({
          TableName: tables.readModel,
          Key: keyOf(counterId, CHECKPOINT_ENTRY),
          UpdateExpression:
            "SET #version = :version, #value = :value, ledgerSum = :ledgerSum, eventId = :eventId, #hash = :hash, verifiedAt = :verifiedAt",
          ConditionExpression: "attribute_not_exists(#version) OR #version < :version",
          ExpressionAttributeNames: { "#version": "version", "#value": "value", "#hash": "hash" },
          ExpressionAttributeValues: {
            ":version": checkpoint.version,
            ":value": checkpoint.value,
            ":ledgerSum": checkpoint.ledgerSum,
            ":eventId": checkpoint.eventId,
            ":hash": checkpoint.hash,
            ":verifiedAt": checkpoint.verifiedAt,
          },
        }),
      ),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** What a verifier that did not get the lease learns: the last result (JSON) and when the lease runs out. */
export interface LeaseRefusal {
  readonly acquired: false;
  /** The last verification's report as JSON, if one was ever recorded. */
  readonly lastResult: string | undefined;
  readonly expiresAtMs: number | undefined;
}

/** The lease taken; `lastResult` is the report the lease item held (the last holder's), if any. */
export type LeaseAttempt =
  { readonly acquired: true; readonly lastResult: string | undefined } | LeaseRefusal;

/** Takes the counter's verify lease for `durationMs` if nobody holds it, or if its holder's time ran out. */
export async function acquireLease(
  client: Client,
  tables: Tables,
  counterId: string,
  lease: { readonly holder: string; readonly nowMs: number; readonly durationMs: number },
): Promise<LeaseAttempt> {
  try {
    const taken = await storeCall(() =>
      client.send(
        new UpdateCommand({
          TableName: tables.readModel,
          Key: keyOf(counterId, LEASE_ENTRY),
          ReturnValues: "ALL_OLD",
          UpdateExpression: "SET holder = :holder, expiresAtMs = :expiresAtMs",
          ConditionExpression: "attribute_not_exists(holder) OR expiresAtMs < :nowMs",
          ExpressionAttributeValues: {
            ":holder": lease.holder,
            ":expiresAtMs": lease.nowMs + lease.durationMs,
            ":nowMs": lease.nowMs,
          },
        }),
      ),
    );
    const lastResult: unknown = taken.Attributes?.lastResult;
    return { acquired: true, lastResult: typeof lastResult === "string" ? lastResult : undefined };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  return { acquired: false, ...(await readLease(client, tables, counterId)) };
}

/** The lease as it stands: its last result, and when it runs out if someone holds it. */
export async function readLease(
  client: Client,
  tables: Tables,
  counterId: string,
): Promise<Omit<LeaseRefusal, "acquired">> {
  const item = await readEntry(client, tables, counterId, LEASE_ENTRY);
  return {
    lastResult: typeof item?.lastResult === "string" ? item.lastResult : undefined,
    expiresAtMs: typeof item?.expiresAtMs === "number" ? item.expiresAtMs : undefined,
  };
}

/**
 * Gives the lease back, recording `lastResult` (a report as JSON) for those who ask while the next one runs.
 * A holder whose lease ran out and was taken by another changes nothing.
 */
export async function releaseLease(
  client: Client,
  tables: Tables,
  counterId: string,
  release: { readonly holder: string; readonly lastResult: string | undefined },
): Promise<void> {
  const recording = release.lastResult !== undefined;
  try {
    await storeCall(() =>
      client.send(
        new UpdateCommand({
          TableName: tables.readModel,
          Key: keyOf(counterId, LEASE_ENTRY),
          UpdateExpression: `${recording ? "SET lastResult = :lastResult " : ""}REMOVE holder, expiresAtMs`,
          ConditionExpression: "holder = :holder",
          ExpressionAttributeValues: {
            ":holder": release.holder,
            ...(recording ? { ":lastResult": release.lastResult } : {}),
          },
        }),
      ),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
