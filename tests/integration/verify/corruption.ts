// The ledgers and the deliberate corruptions of the verification tests, shared by verify.test.ts (each
// corruption named with its version), checkpoint.test.ts (before and after the API's checkpoint) and
// segments.test.ts (the parallel replay against the sequential one). Everything is written into DynamoDB Local.

import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import type { Action } from "../../../services/ledger/domain/decider";
import type { LedgerEvent } from "../../../services/ledger/domain/event";
import { auditEntryKey } from "../../../services/ledger/storage/read-model";
import { COUNTERS, LEDGER } from "../../../services/ledger/storage/tables";
import { createProjectorHandler } from "../../../services/projector/handler";
import { ledgerOf, streamRecordOf, writeLedger } from "../../support/ledger-fixtures";
import type { TestStore } from "../../support/store";

const ACTIONS: Action[] = ["increment", "increment", "increment", "decrement", "increment", "increment"];
/** Events of a sound counter unless told otherwise. */
export const LENGTH = 12;
/** Committed an hour ago: old enough that a missing audit entry is a violation, not lag. */
const AN_HOUR_AGO_MS = Date.now() - 3_600_000;

let counterSerial = 0;

/**
 * Writes the counter's first `length` events (those it already has are written again, unchanged), the
 * aggregate at the last, and projects versions `projectedFrom` to `projectedUpTo`.
 */
export async function growCounter(
  store: TestStore,
  counterId: string,
  length: number,
  projected: { readonly from?: number; readonly upTo?: number } = {},
): Promise<LedgerEvent[]> {
  const { events, state } = ledgerOf(
    counterId,
    Array.from({ length }, (_, index) => ACTIONS[index % ACTIONS.length] ?? "increment"),
    store.config.bounds,
    AN_HOUR_AGO_MS,
  );
  await writeLedger(store, counterId, events, state);
  const project = createProjectorHandler({
    client: store.client,
    tables: store.config.tables,
    log: () => undefined,
  });
  const from = projected.from ?? 1;
  const upTo = projected.upTo ?? length;
  const records = events.slice(from - 1, upTo).map((event, index) => streamRecordOf(event, from + index));
  expect(await project({ Records: records })).toEqual({ batchItemFailures: [] });
  return events;
}

/** A fresh counter with a sound ledger of `length` events, projected up to `projectedUpTo`. */
export async function soundCounter(
  store: TestStore,
  options: { readonly length?: number; readonly projectedUpTo?: number; readonly prefix?: string } = {},
): Promise<{ counterId: string; events: LedgerEvent[] }> {
  const counterId = `${options.prefix ?? "verify"}-${++counterSerial}`;
  const events = await growCounter(store, counterId, options.length ?? LENGTH, {
    upTo: options.projectedUpTo,
  });
  return { counterId, events };
}

export function eventOf(events: readonly LedgerEvent[], version: number): LedgerEvent {
  const event = events[version - 1];
  if (event === undefined) throw new Error(`no event at version ${version}`);
  return event;
}

export async function updateLedgerEvent(
  store: TestStore,
  event: LedgerEvent,
  changes: Record<string, unknown>,
): Promise<void> {
  const names = Object.keys(changes);
  await store.client.send(
    new UpdateCommand({
      TableName: store.config.tables.ledger,
      Key: { [LEDGER.partitionKey]: event.eventId },
      UpdateExpression: `SET ${names.map((name, index) => `#n${index} = :v${index}`).join(", ")}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, index) => [`#n${index}`, name])),
      ExpressionAttributeValues: Object.fromEntries(
        names.map((name, index) => [`:v${index}`, changes[name]]),
      ),
    }),
  );
}

/** The versions at which the report names this kind of problem. */
export function versionsOf(
  report: { readonly problems: readonly { readonly kind: string; readonly version?: number }[] },
  kind: string,
): (number | undefined)[] {
  return report.problems.filter((problem) => problem.kind === kind).map((problem) => problem.version);
}

type Corruption = (store: TestStore, counterId: string, events: readonly LedgerEvent[]) => Promise<void>;

/** The corruptions of verify.test.ts, each in the middle of a LENGTH-event ledger. */
export const CORRUPTIONS: Readonly<Record<string, Corruption>> = {
  "a tampered delta": (store, _, events) => updateLedgerEvent(store, eventOf(events, 5), { delta: -1 }),
  "a broken chain": (store, _, events) => {
    const event = eventOf(events, 6);
    return updateLedgerEvent(store, event, {
      valueBefore: event.valueBefore + 1,
      valueAfter: event.valueAfter + 1,
    });
  },
  "a deleted event": async (store, _, events) => {
    await store.client.send(
      new DeleteCommand({
        TableName: store.config.tables.ledger,
        Key: { [LEDGER.partitionKey]: eventOf(events, 4).eventId },
      }),
    );
  },
  "a duplicated version": async (store, counterId, events) => {
    const twin = { ...eventOf(events, 6), idempotencyKey: "twin", eventId: `${counterId}#twin` };
    await store.client.send(new PutCommand({ TableName: store.config.tables.ledger, Item: twin }));
  },
  "a wrong aggregate value": async (store, counterId) => {
    await store.client.send(
      new UpdateCommand({
        TableName: store.config.tables.counters,
        Key: { [COUNTERS.partitionKey]: counterId },
        UpdateExpression: "SET #value = #value + :one",
        ExpressionAttributeNames: { "#value": "value" },
        ExpressionAttributeValues: { ":one": 1 },
      }),
    );
  },
  "a missing audit entry": async (store, counterId) => {
    await store.client.send(
      new DeleteCommand({ TableName: store.config.tables.readModel, Key: auditEntryKey(counterId, 3) }),
    );
  },
  "an altered audit entry": async (store, counterId) => {
    await store.client.send(
      new UpdateCommand({
        TableName: store.config.tables.readModel,
        Key: auditEntryKey(counterId, 7),
        UpdateExpression: "SET valueAfter = :forged",
        ExpressionAttributeValues: { ":forged": 77 },
      }),
    );
  },
  "an unreadable event": (store, _, events) =>
    updateLedgerEvent(store, eventOf(events, 5), { delta: "one", at: "yesterday" }),
};

/**
 * The store's client with the replay's pages of the ledger made `pageEvents` long (the byVersion Query's Limit,
 * 1 000 in the service): a short ledger then takes several pages, so a replay can stop between two of them.
 * DynamoDB Local answers every read; only the page size differs.
 */
export function smallPagesClient(store: TestStore, pageEvents: number): Pick<DynamoDBDocumentClient, "send"> {
  return {
    send: ((command: unknown) => {
      if (command instanceof QueryCommand && command.input.IndexName === LEDGER.byVersionIndex.name) {
        command.input.Limit = pageEvents;
      }
      return store.client.send(command as QueryCommand);
    }) as DynamoDBDocumentClient["send"],
  };
}
