// Projector faults, on the real stream poller and the real projector over DynamoDB Local: SDK faults on the
// projector's own client (failed, ambiguous, throttled and slow writes to the read model), invocations that
// fail outright or report a random record as failed, batches redelivered out of order, a poller restarted from
// its checkpoint, and poison records (ledger items that are no ledger event) in the middle of the stream.
// Proves: the shard never stalls for good (every event behind a poison record is projected), I5 holds after the
// drain (verify ok, read model = aggregate, audit trail = ledger), and exactly the poison records reach the
// failure log.

import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { injectSdkFaults, randomSdkFaultPlan, seededRandom } from "../../testkit/faults";
import { startStreamPoller, type StreamPoller } from "../../local/poller";
import { FAILURE_LOG_FILE } from "../../local/stream-delivery";
import { Committer } from "../../services/command/committer";
import { createDocumentClient } from "../../services/ledger/storage/clients";
import type { Action } from "../../services/ledger/domain/decider";
import { requestFingerprint } from "../../services/ledger/domain/fingerprint";
import { ALICE, actorOfClaims } from "../../testkit/claims";
import { verifyLedger } from "../../services/ledger/storage/replay";
import { createProjectorHandler } from "../../services/projector/handler";
import { readAuditTrail } from "../support/ledger-fixtures";
import { expectLedgerInvariants } from "../support/invariants";
import { createTestStore } from "../support/store";

const SEED = Number(process.env.RELIABILITY_SEED ?? 31);
/** Handler failures injected per record at most, so that a sound record is always projected in the end. */
const INJECTED_FAILURES_PER_RECORD_MAX = 2;
const EVENTS_PER_ROUND = 40;
const ROUNDS = 4;
const POISON_RECORDS = 3;
const DRAIN_TIMEOUT_MS = 60_000;
/** Records remembered for stale redelivery. */
const RECENT_RECORDS_KEPT = 20;

/** The ledger version a stream record carries, or -1 for a record that is no ledger event. */
function versionOf(record: DynamoDBRecord): number {
  const version = Number(record.dynamodb?.NewImage?.version?.N);
  return Number.isInteger(version) ? version : -1;
}

const directories: string[] = [];
const pollers: StreamPoller[] = [];

afterAll(async () => {
  await Promise.all(pollers.map((poller) => poller.stop()));
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

const quiet = (): void => undefined;

describe("the projector under faults, poison records and redelivery", () => {
  it("never stalls for good, converges to I5 after the drain, and logs exactly the poison records", async () => {
    const random = seededRandom(SEED);
    const store = await createTestStore();
    const directory = await mkdtemp(join(tmpdir(), "projector-faults-"));
    directories.push(directory);

    // The projector's own client, with faults at the SDK: failed, ambiguous, throttled and slow writes.
    const projectorClient = createDocumentClient(store.config);
    const sdkFaults = injectSdkFaults(
      projectorClient,
      randomSdkFaultPlan({
        rates: { failBeforeSend: 0.02, failAfterCommit: 0.03, throttle: 0.02, slowAnswer: 0.1 },
        random,
        slowAnswerMsMax: 30,
      }),
      "eachCall",
    );
    const project = createProjectorHandler({
      client: projectorClient,
      tables: store.config.tables,
      log: quiet,
    });

    // Around the real handler: whole invocations that fail, random records reported failed, batches delivered
    // in reverse order before the real delivery, and older records delivered again after newer ones.
    const injectedFailures = new Map<string, number>();
    const handlerFaults = { thrown: 0, reported: 0, reversed: 0, staleRedeliveries: 0 };
    const mayFail = (sequenceNumber: string | undefined): boolean => {
      const key = sequenceNumber ?? "";
      const count = injectedFailures.get(key) ?? 0;
      if (count >= INJECTED_FAILURES_PER_RECORD_MAX) return false;
      injectedFailures.set(key, count + 1);
      return true;
    };
    let recentRecords: DynamoDBRecord[] = [];
    const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
      const records = event.Records;
      if (random() < 0.15 && mayFail(records[0]?.dynamodb?.SequenceNumber)) {
        handlerFaults.thrown++;
        throw new Error("injected: the invocation failed");
      }
      if (records.length > 1 && random() < 0.3) {
        handlerFaults.reversed++;
        await project({ Records: [...records].reverse() });
      }
      const answer = await project(event);
      if (answer.batchItemFailures.length > 0) return answer;
      // Stale redelivery after the fact: older records arrive again after newer ones were projected.
      const newestVersion = Math.max(...records.map(versionOf));
      const stale = recentRecords
        .filter((record) => versionOf(record) < newestVersion)
        .slice(-5)
        .reverse();
      recentRecords = [...recentRecords, ...records].slice(-RECENT_RECORDS_KEPT);
      if (stale.length > 0) {
        handlerFaults.staleRedeliveries++;
        await project({ Records: stale });
      }
      if (random() < 0.3) {
        const index = Math.floor(random() * records.length);
        const sequenceNumber = records[index]?.dynamodb?.SequenceNumber;
        if (sequenceNumber !== undefined && mayFail(sequenceNumber)) {
          handlerFaults.reported++;
          return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
        }
      }
      return answer;
    };
    const startPoller = (): StreamPoller => {
      const poller = startStreamPoller({
        config: store.config,
        handler,
        dataDirectory: directory,
        log: quiet,
        batchSize: 10,
        retryAttemptsMax: 8,
        retryBackoffBaseMs: 5,
        idlePauseMs: 20,
      });
      pollers.push(poller);
      return poller;
    };

    const committer = new Committer({ client: store.client, config: store.config });
    const commit = async (count: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: count }, async () => {
          const action: Action = random() < 0.7 ? "increment" : "decrement";
          await committer.commit({
            action,
            counterId: store.config.counterId,
            idempotencyKey: randomUUID(),
            actor: actorOfClaims(ALICE),
            requestFingerprint: requestFingerprint(action),
            requestId: randomUUID(),
          });
        }),
      );
    };
    const poisonIds: string[] = [];
    const writePoison = async (): Promise<void> => {
      const eventId = `poison-${poisonIds.length}-${randomUUID()}`;
      poisonIds.push(eventId);
      // An item in the ledger table that is no ledger event: the projector can never project it.
      await store.client.send(
        new PutCommand({
          TableName: store.config.tables.ledger,
          Item: { eventId, note: "not a ledger event" },
        }),
      );
    };

    let poller = startPoller();
    for (let round = 0; round < ROUNDS; round++) {
      await commit(EVENTS_PER_ROUND / 2);
      if (round < POISON_RECORDS) await writePoison();
      await commit(EVENTS_PER_ROUND / 2);
      if (round === 1) {
        // A restart from the checkpoint: whatever was in hand is delivered again.
        await poller.stop();
        poller = startPoller();
      }
    }
    const { aggregate } = await expectLedgerInvariants(store, store.config.bounds);

    const deadlineMs = Date.now() + DRAIN_TIMEOUT_MS;
    let report = await verifyLedger({ client: store.client, ...reportTarget(store) });
    let failureLog: { record: { dynamodb: { Keys: { eventId: { S: string } } } } }[] = [];
    while (Date.now() < deadlineMs) {
      report = await verifyLedger({ client: store.client, ...reportTarget(store) });
      failureLog = await readFailureLog(directory);
      if (report.readModel.version === aggregate.version && failureLog.length === POISON_RECORDS) break;
      await new Promise((wake) => setTimeout(wake, 200));
    }
    // Stopped first, so that the report below is read after the last invocation, not during it.
    await poller.stop();
    report = await verifyLedger({ client: store.client, ...reportTarget(store) });

    // Faults of every kind really happened.
    expect(sdkFaults.statistics.injected.failAfterCommit).toBeGreaterThan(0);
    expect(
      sdkFaults.statistics.injected.failBeforeSend + sdkFaults.statistics.injected.throttle,
    ).toBeGreaterThan(0);
    expect(handlerFaults.thrown).toBeGreaterThan(0);
    expect(handlerFaults.reported).toBeGreaterThan(0);
    expect(handlerFaults.reversed).toBeGreaterThan(0);
    expect(handlerFaults.staleRedeliveries).toBeGreaterThan(0);

    // I5 after the drain: the projection caught up past every poison record, field for field.
    expect(report).toMatchObject({ ok: true, problems: [], lag: { versions: 0, auditEntries: 0 } });
    expect(report.readModel).toEqual({ value: aggregate.value, version: aggregate.version });
    const audit = await readAuditTrail(store, store.config.counterId);
    expect(audit).toHaveLength(aggregate.version);

    // Exactly the poison records were given up on.
    const loggedIds = failureLog.map((entry) => entry.record.dynamodb.Keys.eventId.S).sort();
    expect(loggedIds).toEqual([...poisonIds].sort());
    projectorClient.destroy();
    store.client.destroy();
  }, 120_000);
});

function reportTarget(store: Awaited<ReturnType<typeof createTestStore>>) {
  return { tables: store.config.tables, counterId: store.config.counterId, bounds: store.config.bounds };
}

async function readFailureLog(
  directory: string,
): Promise<{ record: { dynamodb: { Keys: { eventId: { S: string } } } } }[]> {
  const text = await readFile(join(directory, FAILURE_LOG_FILE), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { record: { dynamodb: { Keys: { eventId: { S: string } } } } });
}
