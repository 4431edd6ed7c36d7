// A rewritten ledger leaves evidence: on DynamoDB Local, through the real stream (NEW_AND_OLD_IMAGES), the
// local poller and the real projector, a ledger event overwritten in place and another one deleted each
// come out as an error line naming the event, its version and what changed — old value against new — while
// the read model stays exactly as it was and no record is failed or given up on. Plus the handler on its own:
// a record without an old image (a stream of NEW_IMAGE) is still reported, by what it has.

import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStreamPoller, type StreamPoller } from "../../../local/poller";
import { FAILURE_LOG_FILE } from "../../../local/stream-delivery";
import { Committer } from "../../../services/command/committer";
import type { Action } from "../../../services/ledger/domain/decider";
import type { LedgerEvent } from "../../../services/ledger/domain/event";
import { requestFingerprint } from "../../../services/ledger/domain/fingerprint";
import type { LogLine } from "../../../services/ledger/log";
import { stateEntryKey } from "../../../services/ledger/storage/read-model";
import { createProjectorHandler } from "../../../services/projector/handler";
import { LEDGER_REWRITE_MESSAGE } from "../../../services/projector/rewrite";
import { ALICE, LEDGER_ONLY_ENVIRONMENT, actorOfClaims } from "../../../testkit/claims";
import { eventually, ledgerOf, readAuditTrail, streamRecordOf } from "../../support/ledger-fixtures";
import { createTestStore, type TestStore } from "../../support/store";

let store: TestStore;
let directory: string;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
  directory = await mkdtemp(join(tmpdir(), "rewrite-evidence-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function commit(actions: readonly Action[]): Promise<LedgerEvent[]> {
  const committer = new Committer({ client: store.client, config: store.config });
  const events: LedgerEvent[] = [];
  for (const action of actions) {
    const outcome = await committer.commit({
      action,
      counterId: store.config.counterId,
      idempotencyKey: randomUUID(),
      actor: actorOfClaims(ALICE),
      requestFingerprint: requestFingerprint(action),
      requestId: randomUUID(),
    });
    if (outcome.kind !== "applied") throw new Error(`commit: ${outcome.kind}`);
    events.push(outcome.event);
  }
  return events;
}

async function readModel(counterId: string) {
  const state = await store.client.send(
    new GetCommand({
      TableName: store.config.tables.readModel,
      Key: stateEntryKey(counterId),
      ConsistentRead: true,
    }),
  );
  return { state: state.Item, trail: await readAuditTrail(store, counterId) };
}

function rewriteLines(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((line) => line.message === LEDGER_REWRITE_MESSAGE);
}

describe("a rewritten ledger event, through DynamoDB Local's stream and the local poller", () => {
  let poller: StreamPoller;
  const lines: LogLine[] = [];

  afterAll(async () => {
    await poller?.stop();
  });

  it("an overwrite and a deletion are each an error line with the event's version and the old and new values; the read model is unchanged", async () => {
    const events = await commit(["increment", "increment", "increment", "decrement"]);
    const project = createProjectorHandler({
      client: store.client,
      tables: store.config.tables,
      log: (line) => lines.push(line),
    });
    poller = startStreamPoller({
      config: store.config,
      handler: project,
      dataDirectory: directory,
      log: () => undefined,
    });
    const counterId = store.config.counterId;
    await eventually(
      () => readModel(counterId),
      (model) => model.trail.length === events.length && model.state?.version === events.length,
    );
    const before = await readModel(counterId);
    expect(rewriteLines(lines)).toEqual([]);

    // Version 2 turned into a decrement in place, as the attacker did; version 3 deleted.
    const [, second, third] = events as [LedgerEvent, LedgerEvent, LedgerEvent, LedgerEvent];
    const forged = { ...second, action: "decrement", delta: -1, valueAfter: second.valueBefore - 1 };
    await store.client.send(new PutCommand({ TableName: store.config.tables.ledger, Item: forged }));
    await store.client.send(
      new DeleteCommand({ TableName: store.config.tables.ledger, Key: { eventId: third.eventId } }),
    );

    const evidence = await eventually(
      () => Promise.resolve(rewriteLines(lines)),
      (found) => found.length === 2,
    );
    expect(evidence).toHaveLength(2);
    const [modified, removed] = evidence as [LogLine, LogLine];
    expect(modified).toMatchObject({
      level: "error",
      change: "MODIFY",
      eventId: second.eventId,
      counterId,
      version: 2,
      oldImage: true,
      changedFields: ["action", "delta", "valueAfter"],
      changes: {
        action: { before: "increment", after: "decrement" },
        delta: { before: 1, after: -1 },
        valueAfter: { before: second.valueAfter, after: second.valueBefore - 1 },
      },
    });
    expect(removed).toMatchObject({
      level: "error",
      change: "REMOVE",
      eventId: third.eventId,
      version: 3,
      oldImage: true,
    });
    // A deletion shows every field of the event it removed, each going to nothing.
    const removedChanges = removed.changes as Record<string, { before: unknown; after: unknown }>;
    expect(Object.keys(removedChanges).sort()).toEqual(Object.keys(third).sort());
    expect(removedChanges.valueAfter).toEqual({ before: third.valueAfter, after: null });

    // Neither record was projected, failed or given up on: the read model is as it was.
    expect(await readModel(counterId)).toEqual(before);
    expect(poller.statistics.recordsGivenUp).toBe(0);
    await expect(readFile(join(directory, FAILURE_LOG_FILE), "utf8")).rejects.toThrow(/ENOENT/);
  });
});

describe("the projector handler, on a rewrite record alone", () => {
  it("without an old image (a NEW_IMAGE stream) still reports the event and version by the new image, and fails nothing", async () => {
    const counterId = `rewrite-${randomUUID().slice(0, 8)}`;
    const { events } = ledgerOf(counterId, ["increment", "increment"], store.config.bounds);
    const lines: LogLine[] = [];
    const project = createProjectorHandler({
      client: store.client,
      tables: store.config.tables,
      log: (line) => lines.push(line),
    });
    await project({ Records: events.map((event, index) => streamRecordOf(event, index + 1)) });
    const before = await readModel(counterId);

    const altered = { ...events[1]!, valueAfter: 999 };
    const response = await project({
      Records: [streamRecordOf(altered, 10, "MODIFY"), streamRecordOf(events[0]!, 11, "REMOVE")],
    });
    expect(response).toEqual({ batchItemFailures: [] });
    const evidence = rewriteLines(lines);
    expect(evidence.map((line) => [line.level, line.change, line.version, line.oldImage])).toEqual([
      ["error", "MODIFY", 2, false],
      // A REMOVE without an old image has only the key: the version is unknown, the event id is not.
      ["error", "REMOVE", null, false],
    ]);
    expect(evidence[0]?.eventId).toBe(events[1]?.eventId);
    expect(evidence[1]?.eventId).toBe(events[0]?.eventId);
    expect(evidence[0]?.changes).toMatchObject({ valueAfter: { before: null, after: 999 } });
    expect(await readModel(counterId)).toEqual(before);
  });
});
