// The local stream poller against DynamoDB Local, with the real projector: POST → stream → read model →
// history end to end; a restart resumes from the checkpoint (nothing lost, nothing replayed needlessly);
// a failed record is retried from where it failed; a poison record reaches the failure log and the shard moves on.

import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStreamPoller } from "../../local/poller";
import { FAILURE_LOG_FILE, type StreamHandler } from "../../local/stream-delivery";
import { CHECKPOINTS_FILE } from "../../local/stream-checkpoints";
import { startLocalSystem, type LocalSystem } from "../../local/system";
import { Committer } from "../../services/command/committer";
import type { Action } from "../../services/ledger/domain/decider";
import { requestFingerprint } from "../../services/ledger/domain/fingerprint";
import { ALICE, actorOfClaims } from "../../testkit/claims";
import { stateEntryKey } from "../../services/ledger/storage/read-model";
import { auditEntryOf } from "../../services/ledger/domain/audit";
import { createProjectorHandler } from "../../services/projector/handler";
import { createTestStore, type TestStore } from "../support/store";
import { eventually, readAuditTrail } from "../support/ledger-fixtures";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

const directories: string[] = [];

async function dataDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "poller-test-"));
  directories.push(directory);
  return directory;
}

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function commit(store: TestStore, actions: readonly Action[]) {
  const committer = new Committer({ client: store.client, config: store.config });
  const events = [];
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

/** The real projector, with every invocation's records noted. */
function recordingProjector(store: TestStore) {
  const project = createProjectorHandler({
    client: store.client,
    tables: store.config.tables,
    log: () => undefined,
  });
  const invocations: DynamoDBRecord[][] = [];
  const handler: StreamHandler = (event: DynamoDBStreamEvent) => {
    invocations.push(event.Records);
    return project(event);
  };
  return { handler, invocations };
}

const quiet = () => undefined;

async function projectedState(store: TestStore) {
  const output = await store.client.send(
    new GetCommand({
      TableName: store.config.tables.readModel,
      Key: stateEntryKey(store.config.counterId),
      ConsistentRead: true,
    }),
  );
  return output.Item;
}

describe("npm start's stream poller, end to end through the gateway", () => {
  let store: TestStore;
  let system: LocalSystem;

  beforeAll(async () => {
    store = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, LOG_LEVEL: "silent" });
    system = await startLocalSystem({
      environment: store.environment,
      port: 0,
      dataDirectory: await dataDirectory(),
    });
  });

  afterAll(async () => {
    await system.stop();
  });

  it("POST → stream → read model → history: every event, in order, field for field, and verify is ok", async () => {
    const actions = [
      "increment",
      "increment",
      "increment",
      "decrement",
      "increment",
      "increment",
      "decrement",
    ];
    const posted = [];
    for (const action of actions) {
      const response = await fetch(`${system.url}/number`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ action }),
      });
      expect(response.status).toBe(200);
      posted.push(((await response.json()) as { event: Record<string, unknown> }).event);
    }
    const page = await eventually(
      async () =>
        (await (await fetch(`${system.url}/number/history?order=asc&limit=100`)).json()) as {
          items: Record<string, unknown>[];
          projectedVersion: number;
          nextCursor: string | null;
        },
      (history) => history.projectedVersion === actions.length && history.items.length === actions.length,
    );
    expect(page.projectedVersion).toBe(actions.length);
    expect(page.nextCursor).toBeNull();
    expect(page.items).toEqual(posted.map(({ id, ...event }) => ({ ...event, eventId: id })));

    const report = (await (await fetch(`${system.url}/number/verify`)).json()) as Record<string, unknown>;
    expect(report).toMatchObject({
      ok: true,
      events: actions.length,
      ledgerSum: 3,
      aggregate: { value: 3, version: actions.length },
      readModel: { value: 3, version: actions.length },
      lag: { versions: 0, auditEntries: 0 },
      problems: [],
    });
  });
});

describe("the poller on its own", () => {
  it("resumes from its checkpoint after a restart: nothing lost, nothing delivered twice", async () => {
    const store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
    const directory = await dataDirectory();
    const first = recordingProjector(store);
    const before = await commit(store, ["increment", "increment", "increment", "increment", "increment"]);
    const firstRun = startStreamPoller({
      config: store.config,
      handler: first.handler,
      dataDirectory: directory,
      log: quiet,
    });
    await eventually(
      () => readAuditTrail(store, store.config.counterId),
      (trail) => trail.length === 5,
    );
    await firstRun.stop();
    const checkpoints = JSON.parse(await readFile(join(directory, CHECKPOINTS_FILE), "utf8")) as {
      streams: Record<string, Record<string, { sequenceNumber?: string }>>;
    };
    const shards = Object.values(checkpoints.streams[firstRun.streamArn ?? ""] ?? {});
    expect(shards.some((shard) => shard.sequenceNumber !== undefined)).toBe(true);

    const after = await commit(store, ["increment", "decrement", "increment"]);
    const second = recordingProjector(store);
    const secondRun = startStreamPoller({
      config: store.config,
      handler: second.handler,
      dataDirectory: directory,
      log: quiet,
    });
    const trail = await eventually(
      () => readAuditTrail(store, store.config.counterId),
      (entries) => entries.length === 8,
    );
    await secondRun.stop();
    expect(trail).toEqual([...before, ...after].map(auditEntryOf));
    const delivered = second.invocations.flat().map((record) => record.dynamodb?.NewImage?.version?.N);
    expect(delivered).toEqual(["6", "7", "8"]);
  });

  it("retries from the first failed record, with the records before it never delivered again", async () => {
    const store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
    const events = await commit(store, ["increment", "increment", "increment", "increment"]);
    const real = recordingProjector(store);
    let failed = false;
    const handler: StreamHandler = async (event) => {
      const response = await real.handler(event);
      const third = event.Records[2];
      if (!failed && third !== undefined) {
        failed = true;
        return { batchItemFailures: [{ itemIdentifier: third.dynamodb?.SequenceNumber ?? "" }] };
      }
      return response;
    };
    const poller = startStreamPoller({
      config: store.config,
      handler,
      dataDirectory: await dataDirectory(),
      log: quiet,
      retryBackoffBaseMs: 10,
    });
    await eventually(
      () => Promise.resolve(poller.statistics.recordsDelivered),
      (delivered) => delivered === 4,
    );
    await poller.stop();
    const firstVersions = real.invocations.map((records) => records[0]?.dynamodb?.NewImage?.version?.N);
    expect(firstVersions).toEqual(["1", "3"]);
    expect(await readAuditTrail(store, store.config.counterId)).toEqual(events.map(auditEntryOf));
  });

  it("writes a poison record to the failure log after bounded retries, and the shard keeps moving", async () => {
    const store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
    const directory = await dataDirectory();
    const before = await commit(store, ["increment"]);
    const poison = { eventId: "poison#1", counterId: "poison", version: 1, delta: 7 };
    await store.client.send(new PutCommand({ TableName: store.config.tables.ledger, Item: poison }));
    const after = await commit(store, ["increment", "increment"]);
    const { handler } = recordingProjector(store);
    const poller = startStreamPoller({
      config: store.config,
      handler,
      dataDirectory: directory,
      log: quiet,
      retryAttemptsMax: 2,
      retryBackoffBaseMs: 10,
    });
    await eventually(
      () => Promise.resolve(poller.statistics.recordsDelivered),
      (delivered) => delivered === 3,
    );
    await poller.stop();
    expect(poller.statistics.recordsGivenUp).toBe(1);
    expect(await readAuditTrail(store, store.config.counterId)).toEqual(
      [...before, ...after].map(auditEntryOf),
    );
    expect(await projectedState(store)).toMatchObject({ value: 3, version: 3 });
    const lines = (await readFile(join(directory, FAILURE_LOG_FILE), "utf8")).trim().split("\n");
    expect(lines).toHaveLength(1);
    const failure = JSON.parse(lines[0] ?? "") as {
      requestContext: { condition: string; approximateInvokeCount: number };
      DDBStreamBatchInfo: { streamArn: string; startSequenceNumber: string };
      record: DynamoDBRecord;
    };
    expect(failure.requestContext).toEqual({
      condition: "RetryAttemptsExhausted",
      approximateInvokeCount: 3,
    });
    expect(failure.DDBStreamBatchInfo.streamArn).toBe(poller.streamArn);
    expect(failure.record.dynamodb?.NewImage?.eventId).toEqual({ S: "poison#1" });
    expect(failure.record.eventSourceARN).toBe(poller.streamArn);
    expect(typeof failure.record.dynamodb?.ApproximateCreationDateTime).toBe("number");
  });
});
