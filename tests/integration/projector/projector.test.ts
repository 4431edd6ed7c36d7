// The projector handler against DynamoDB Local, fed stream records in the real event shape: the audit entry is
// the event itself, redelivery changes nothing, the state only moves forward, and every record it cannot
// project is answered in batchItemFailures (the first one), never thrown.

import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../local/dynamodb-local";
import { createDocumentClient } from "../../../services/ledger/storage/clients";
import { stateEntryKey } from "../../../services/ledger/storage/read-model";
import { auditEntryOf } from "../../../services/ledger/domain/audit";
import { createProjectorHandler, type ProjectorHandler } from "../../../services/projector/handler";
import { createTestStore, type TestStore } from "../../support/store";
import { ledgerOf, readAuditTrail, streamRecordOf } from "../../support/ledger-fixtures";

let store: TestStore;
let project: ProjectorHandler;
let counterSerial = 0;

beforeAll(async () => {
  store = await createTestStore();
  project = createProjectorHandler({
    client: store.client,
    tables: store.config.tables,
    log: () => undefined,
  });
});

function freshLedger(length: number) {
  const counterId = `projector-${++counterSerial}`;
  const actions = Array.from({ length }, () => "increment" as const);
  return { counterId, ...ledgerOf(counterId, actions, store.config.bounds) };
}

async function projectedState(counterId: string) {
  const output = await store.client.send(
    new GetCommand({
      TableName: store.config.tables.readModel,
      Key: stateEntryKey(counterId),
      ConsistentRead: true,
    }),
  );
  return output.Item;
}

describe("projector", () => {
  it("projects an INSERT into an audit entry equal to the event, and the state at its version", async () => {
    const { counterId, events } = freshLedger(2);
    const response = await project({
      Records: events.map((event, index) => streamRecordOf(event, index + 1)),
    });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await readAuditTrail(store, counterId)).toEqual(events.map(auditEntryOf));
    expect(await projectedState(counterId)).toMatchObject({ value: 2, version: 2, at: events[1]?.at });
  });

  it("writes identical content on redelivery and answers success again", async () => {
    const { counterId, events } = freshLedger(3);
    const records = events.map((event, index) => streamRecordOf(event, index + 1));
    await project({ Records: records });
    const first = { trail: await readAuditTrail(store, counterId), state: await projectedState(counterId) };
    const again = await project({ Records: [...records, ...records] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect({ trail: await readAuditTrail(store, counterId), state: await projectedState(counterId) }).toEqual(
      first,
    );
  });

  it("moves the state forward only: an older version delivered after a newer one leaves it", async () => {
    const { counterId, events } = freshLedger(3);
    const [first, second, third] = events.map((event, index) => streamRecordOf(event, index + 1));
    await project({ Records: [third!] });
    await project({ Records: [first!, second!] });
    expect(await projectedState(counterId)).toMatchObject({ value: 3, version: 3 });
    expect((await readAuditTrail(store, counterId)).map((entry) => entry.version)).toEqual([1, 2, 3]);
  });

  it("reports an undecodable record by its SequenceNumber and projects the state only up to it", async () => {
    const { counterId, events } = freshLedger(3);
    const broken = { ...events[1], delta: 7 };
    const records = [
      streamRecordOf(events[0]!, 10),
      streamRecordOf(broken, 11),
      streamRecordOf(events[2]!, 12),
    ];
    const response = await project({ Records: records });
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: records[1]?.dynamodb?.SequenceNumber }],
    });
    expect(await projectedState(counterId)).toMatchObject({ version: 1 });
  });

  it("reports a record with no image or an image that is not an item, and never throws", async () => {
    const { events } = freshLedger(1);
    const noImage = streamRecordOf(events[0]!, 20);
    delete noImage.dynamodb?.NewImage;
    const notAnItem = streamRecordOf(events[0]!, 21);
    notAnItem.dynamodb!.NewImage = { version: { X: "1" } } as never;
    expect(await project({ Records: [noImage] })).toEqual({
      batchItemFailures: [{ itemIdentifier: noImage.dynamodb?.SequenceNumber }],
    });
    expect(await project({ Records: [notAnItem] })).toEqual({
      batchItemFailures: [{ itemIdentifier: notAnItem.dynamodb?.SequenceNumber }],
    });
    expect(await project({} as never)).toEqual({ batchItemFailures: [] });
  });

  it("never projects a MODIFY or REMOVE of a ledger event: the audit trail keeps the original", async () => {
    const { counterId, events } = freshLedger(1);
    await project({ Records: [streamRecordOf(events[0]!, 30)] });
    const altered = { ...events[0], valueAfter: 999 };
    const response = await project({
      Records: [streamRecordOf(altered, 31, "MODIFY"), streamRecordOf(altered, 32, "REMOVE")],
    });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await readAuditTrail(store, counterId)).toEqual([auditEntryOf(events[0]!)]);
  });

  it("never overwrites an audit entry that holds another event for the version, and reports the record", async () => {
    const { counterId, events } = freshLedger(1);
    const impostor = { ...events[0]!, idempotencyKey: "other", eventId: `${counterId}#other` };
    await store.client.send(
      new PutCommand({ TableName: store.config.tables.readModel, Item: auditEntryOf(impostor) }),
    );
    const record = streamRecordOf(events[0]!, 40);
    expect(await project({ Records: [record] })).toEqual({
      batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber }],
    });
    expect(await readAuditTrail(store, counterId)).toEqual([auditEntryOf(impostor)]);
  });

  it("answers a store it cannot reach with the first record, and does not throw", async () => {
    const client = createDocumentClient({
      endpoint: `http://127.0.0.1:${await freePort()}`,
      region: "us-east-1",
    });
    const unreachable = createProjectorHandler({ client, tables: store.config.tables, log: () => undefined });
    const { events } = freshLedger(2);
    const records = events.map((event, index) => streamRecordOf(event, 50 + index));
    expect(await unreachable({ Records: records })).toEqual({
      batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }],
    });
    client.destroy();
  });
});
