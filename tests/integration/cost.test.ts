// What a command costs in DynamoDB write units, measured on DynamoDB Local through the real command path (the
// command handler and committer, one command per transaction as on Lambda) and the real projector (one stream
// record per invocation, in version order), each write asking for ReturnConsumedCapacity: INDEXES. Every
// reported figure is held to the units the written items' sizes give by AWS's rules (testkit/capacity.ts), and
// the README's figure of write units per command to the measured total as AWS bills it: a change of the items'
// sizes that crosses a kilobyte, or of the writes a command makes, fails here until the README's cost is
// corrected. Where AWS differs: DynamoDB Local reports the byVersion index entry a transaction writes at the
// transactional rate (2 units for an item of up to 1 KB, like the item), while real DynamoDB bills an index write
// inside a transaction at the standard rate, what the same write costs outside one (measured against DynamoDB in
// https://github.com/nubo-db/dynoxide/pull/188; AWS's pages do not say). So AWS's figure is Local's total less
// half of the index's units.

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import { createDocumentClient, dynamoDbClientConfig } from "../../services/ledger/storage/clients";
import { createProjectorHandler } from "../../services/projector/handler";
import {
  costsOf,
  itemSize,
  meterWrites,
  scanAll,
  STORAGE_OVERHEAD_BYTES_PER_ITEM,
} from "../../testkit/capacity";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";
import { commandEvent } from "../support/fixtures";
import { streamRecordOf } from "../support/ledger-fixtures";
import { createTestStore, type TestStore } from "../support/store";

const COMMANDS = 20;

let store: TestStore;
beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
});

async function measured() {
  const client = createDocumentClient(store.config);
  const meter = meterWrites(client);
  const committer = new Committer({ client, config: store.config });
  const handle = createCommandHandler({ committer, config: store.config, log: () => undefined });
  for (let index = 0; index < COMMANDS; index++) {
    // One at a time, as Lambda serves them: each command its own transaction.
    expect(
      await handle(commandEvent(index % 3 === 2 ? "decrement" : "increment", randomUUID())),
    ).toMatchObject({
      statusCode: 200,
    });
  }
  const raw = new DynamoDBClient(dynamoDbClientConfig(store.config));
  const { tables } = store.config;
  const ledger = (await scanAll(raw, tables.ledger)).sort(
    (a, b) => Number(a.version?.N) - Number(b.version?.N),
  );
  const project = createProjectorHandler({ client, tables, log: () => undefined });
  for (const [index, item] of ledger.entries()) {
    expect(await project({ Records: [streamRecordOf(unmarshall(item), index + 1)] })).toEqual({
      batchItemFailures: [],
    });
  }
  const readModel = await scanAll(raw, tables.readModel);
  const [aggregate] = await scanAll(raw, tables.counters);
  raw.destroy();
  meter.detach();
  return costsOf(
    meter.writes,
    {
      ledger,
      audit: readModel.filter((item) => Number(item.entry?.N) > 0),
      projectedState: readModel.find((item) => item.entry?.N === "0")!,
      aggregate: aggregate!,
    },
    tables,
  );
}

describe("write units per command, against DynamoDB Local", () => {
  it("reports, for every write, the units its items' sizes give, and the README states the total", async () => {
    const costs = await measured();
    console.log(
      `per command: ${JSON.stringify(costs.reported)}; mean item bytes ${JSON.stringify(costs.bytes)}; storage per event ` +
        `${costs.bytes.ledgerItem * 2 + costs.bytes.auditEntry + 3 * STORAGE_OVERHEAD_BYTES_PER_ITEM} bytes`,
    );
    expect(costs.commands).toBe(COMMANDS);
    expect(costs.disagreements).toEqual([]);
    const readme = readFileSync("README.md", "utf8");
    const stated = /\*\*(\d+) write units per command\*\*/.exec(readme);
    expect(stated, "the README states the write units per command").not.toBeNull();
    // Local reports the index entry at twice the units of the same write outside a transaction.
    expect(costs.reported.byVersion).toBe(2);
    const onAws = costs.reported.total - costs.reported.byVersion / 2;
    expect(onAws).toBe(Number(stated![1]));
  });

  it("sizes items by AWS's documented rules", () => {
    // The examples of CapacityUnitCalculations: names count, numbers by significant digits, maps 3 + 1 each.
    expect(itemSize({ id: { S: "abc" } })).toBe(5);
    expect(itemSize({ n: { N: "123" } })).toBe(1 + 2 + 1);
    expect(itemSize({ n: { N: "1000" } })).toBe(1 + 1 + 1);
    expect(itemSize({ m: { M: { a: { S: "xy" } } } })).toBe(1 + 3 + 1 + 1 + 2);
    expect(itemSize({ b: { BOOL: true } })).toBe(2);
  });
});
