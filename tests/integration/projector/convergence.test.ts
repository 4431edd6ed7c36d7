// I5 as a property, against DynamoDB Local: an arbitrary ledger, split across stream shards, delivered in
// batches of any size with shards interleaved in any order, with redeliveries, store failures before and
// after a write, and invocations lost after they wrote — once drained, the read model equals the aggregate
// and the audit trail holds exactly the ledger's events, field for field.

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Action } from "../../../services/ledger/domain/decider";
import { auditEntryOf } from "../../../services/ledger/domain/audit";
import { verifyLedger } from "../../../services/ledger/storage/replay";
import { createProjectorHandler } from "../../../services/projector/handler";
import { createTestStore, type TestStore } from "../../support/store";
import { ledgerOf, readAuditTrail, streamRecordOf, writeLedger } from "../../support/ledger-fixtures";

type Fault = "none" | "beforeWrite" | "afterWrite";

interface Delivery {
  /** Which shard the event source mapping reads next (taken modulo the shards still open). */
  readonly shardChoice: number;
  readonly batchSize: number;
  /** The invocation wrote but its answer was lost (a timeout): the batch comes again in full. */
  readonly answerLost: boolean;
}

const STEPS_MAX = 2_000;

let store: TestStore;
let runSerial = 0;

beforeAll(async () => {
  store = await createTestStore();
});

/** A throttling error as the SDK raises it: the store refused, nothing was written. */
function throttled(): Error {
  return Object.assign(new Error("injected throttling"), {
    name: "ProvisionedThroughputExceededException",
    $metadata: { httpStatusCode: 400 },
  });
}

/** The real client, with faults injected on a schedule; once the schedule runs out, no more faults. */
function faultyClient(faults: readonly Fault[]): Pick<DynamoDBDocumentClient, "send"> {
  let call = 0;
  const send = async (...parameters: Parameters<DynamoDBDocumentClient["send"]>): Promise<unknown> => {
    const fault = faults[call++] ?? "none";
    if (fault === "beforeWrite") throw throttled();
    const output: unknown = await (store.client.send as (...all: typeof parameters) => Promise<unknown>)(
      ...parameters,
    );
    if (fault === "afterWrite") throw throttled();
    return output;
  };
  return { send: send as DynamoDBDocumentClient["send"] };
}

describe("I5: the projection converges whatever the delivery", () => {
  it("duplicates, reordering across shards and injected failures end in the same read model", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Action>("increment", "increment", "decrement"), {
          minLength: 1,
          maxLength: 24,
        }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.nat(), { minLength: 24, maxLength: 24 }),
        fc.array(
          fc.record({
            shardChoice: fc.nat(),
            batchSize: fc.integer({ min: 1, max: 6 }),
            answerLost: fc.boolean(),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.array(fc.constantFrom<Fault>("none", "none", "none", "beforeWrite", "afterWrite"), {
          maxLength: 120,
        }),
        async (actions, shardCount, shardOfEvent, deliveries, faults) => {
          const counterId = `convergence-${++runSerial}`;
          const { events, state } = ledgerOf(counterId, actions, { min: 0, max: 4 });
          await writeLedger(store, counterId, events, state);

          // Records of one shard keep their write order; shards are independent of each other.
          const shards: DynamoDBRecord[][] = Array.from({ length: shardCount }, () => []);
          for (const [index, event] of events.entries()) {
            shards[(shardOfEvent[index] ?? 0) % shardCount]?.push(streamRecordOf(event, index + 1));
          }
          const positions = shards.map(() => 0);
          const project = createProjectorHandler({
            client: faultyClient(faults),
            tables: store.config.tables,
            log: () => undefined,
          });

          for (let step = 0; step < STEPS_MAX; step++) {
            const open = shards.flatMap((records, shard) =>
              (positions[shard] ?? 0) < records.length ? [shard] : [],
            );
            if (open.length === 0) break;
            const delivery: Delivery = deliveries[step % deliveries.length] ?? {
              shardChoice: 0,
              batchSize: 1,
              answerLost: false,
            };
            const shard = open[delivery.shardChoice % open.length] ?? 0;
            const position = positions[shard] ?? 0;
            const batch = shards[shard]?.slice(position, position + delivery.batchSize) ?? [];
            const response = await project({ Records: batch });
            // Past the first pass through the deliveries, answers are no longer lost: the shard must drain.
            if (delivery.answerLost && step < deliveries.length) continue;
            const failed = response.batchItemFailures[0]?.itemIdentifier;
            const failedAt = batch.findIndex((record) => record.dynamodb?.SequenceNumber === failed);
            positions[shard] = position + (failed === undefined ? batch.length : Math.max(failedAt, 0));
          }

          expect(positions).toEqual(shards.map((records) => records.length));
          expect(await readAuditTrail(store, counterId)).toEqual(events.map(auditEntryOf));
          const report = await verifyLedger({
            client: store.client,
            tables: store.config.tables,
            counterId,
            bounds: store.config.bounds,
          });
          expect(report.problems).toEqual([]);
          expect(report).toMatchObject({
            ok: true,
            readModel: state,
            aggregate: state,
            lag: { versions: 0, auditEntries: 0 },
          });
        },
      ),
      { numRuns: 50 },
    );
  });
});
