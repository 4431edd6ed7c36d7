// Verification of an escrow-sharded counter (COUNTER_SHARDS > 1) against DynamoDB Local, through what users
// call: GET /number/verify (the API's handler) and `npm run verify` on the tables. After a sharded run with
// transfers both answer ok; after one value of one shard's event is changed in the table, both answer not ok,
// naming that shard and the event's version on it. GET /number/history merges the shards' audit entries by
// `at`, then shard, without the transfers, and pages through them in both orders without a repeat or a gap.

import { ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createCommandHandler } from "../../services/command/handler";
import { createProjectorHandler } from "../../services/projector/handler";
import { encodeCursor } from "../../services/query/history";
import { ShardedCommitter } from "../../services/command/sharded-committer";
import { shardIdOf } from "../../services/ledger/domain/escrow";
import { ESCROW_PROBLEM_KIND } from "../../services/ledger/storage/escrow-replay";
import { createDocumentClient } from "../../services/ledger/storage/clients";
import { LEDGER } from "../../services/ledger/storage/tables";
import { createReadHandler } from "../../services/query/handler";
import { commandEvent, httpEvent } from "../support/fixtures";
import { streamRecordOf } from "../support/ledger-fixtures";
import { createTestStore, type TestStore } from "../support/store";

const run = promisify(execFile);

interface Report {
  readonly ok: boolean;
  readonly events: number;
  readonly ledgerSum: number;
  readonly aggregate: { readonly value: number; readonly version: number };
  readonly problems: readonly { readonly kind: string; readonly version?: number; readonly detail: string }[];
}

const SHARDS = 4;
const COMMANDS = 24;

/** A 4-shard counter after COUNTER_SHARDS commands from 4 environments at once: transfers among them. */
async function shardedRun(): Promise<{ store: TestStore; ledger: Record<string, unknown>[] }> {
  const store = await createTestStore({ AUTH: "off", COUNTER_SHARDS: String(SHARDS), COUNTER_MAX: "100" });
  const handlers = Array.from({ length: 4 }, () =>
    createCommandHandler({
      committer: new ShardedCommitter({
        client: createDocumentClient(store.config),
        config: store.config,
        shards: SHARDS,
      }),
      config: store.config,
      log: () => undefined,
    }),
  );
  await Promise.all(
    Array.from({ length: COMMANDS }, async (_, index) => {
      // A contended command answers 503; the client retries it with its key until it settles.
      for (let attempt = 0; attempt < 50; attempt++) {
        const answer = await handlers[index % 4]!(commandEvent("increment", `run-${index}`));
        if (answer.statusCode === 200) return;
        expect(answer.statusCode).toBe(503);
      }
      throw new Error(`run-${index} never settled`);
    }),
  );
  const scan = await store.client.send(
    new ScanCommand({ TableName: store.config.tables.ledger, ConsistentRead: true }),
  );
  return { store, ledger: scan.Items ?? [] };
}

function verifyQuery(store: TestStore) {
  const query = createReadHandler({ client: store.client, config: store.config, log: () => undefined }, [
    "query",
    "audit",
  ]);
  return async (): Promise<Report> => {
    const answer = await query(httpEvent({ method: "GET", path: "/number/verify" }));
    expect(answer.statusCode).toBe(200);
    return JSON.parse(answer.body ?? "") as Report;
  };
}

/** A command event of a shard above 0 (one a transfer made room for), and its version there. */
function shardCommandEvent(store: TestStore, ledger: readonly Record<string, unknown>[]) {
  const shardIds = new Set(
    Array.from({ length: SHARDS - 1 }, (_, s) => shardIdOf(store.config.counterId, s + 1)),
  );
  const event = ledger.find((item) => shardIds.has(String(item.counterId)) && item.action === "increment");
  if (event === undefined) throw new Error("no command landed on a shard above 0");
  return { eventId: String(event.eventId), shardId: String(event.counterId), version: Number(event.version) };
}

async function tamper(store: TestStore, eventId: string): Promise<void> {
  await store.client.send(
    new UpdateCommand({
      TableName: store.config.tables.ledger,
      Key: { [LEDGER.partitionKey]: eventId },
      UpdateExpression: "SET #delta = :delta",
      ExpressionAttributeNames: { "#delta": "delta" },
      ExpressionAttributeValues: { ":delta": -1 },
    }),
  );
}

describe("verification of an escrow-sharded counter", () => {
  it("GET /number/verify answers ok after a sharded run with transfers, and not ok naming the shard's version after one tampered value", async () => {
    const { store, ledger } = await shardedRun();
    expect(ledger.some((item) => item.action === "transfer")).toBe(true);
    const verify = verifyQuery(store);
    const sound = await verify();
    expect(sound.problems).toEqual([]);
    expect(sound).toMatchObject({ ok: true, events: ledger.length, ledgerSum: COMMANDS });
    expect(sound.aggregate).toEqual({ value: COMMANDS, version: ledger.length });
    const { eventId, shardId, version } = shardCommandEvent(store, ledger);
    await tamper(store, eventId);
    const corrupted = await verify();
    expect(corrupted.ok).toBe(false);
    const named = corrupted.problems.filter((problem) =>
      problem.detail.startsWith(`${shardId} v${version}:`),
    );
    expect(named.length).toBeGreaterThan(0);
    for (const problem of named) expect(problem).toMatchObject({ kind: ESCROW_PROBLEM_KIND, version });
  });

  it("npm run verify on the tables checks every shard: exit 0 when sound, 1 naming the shard's version when tampered", async () => {
    const { store, ledger } = await shardedRun();
    const tsx = resolve("node_modules/.bin/tsx");
    const environment = { ...process.env, ...store.environment };
    const sound = await run(tsx, ["scripts/verify.ts", "--json"], { env: environment });
    expect(JSON.parse(sound.stdout)).toMatchObject({ ok: true, events: ledger.length, ledgerSum: COMMANDS });
    const { eventId, shardId, version } = shardCommandEvent(store, ledger);
    await tamper(store, eventId);
    const failed = await run(tsx, ["scripts/verify.ts"], { env: environment }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stdout: string },
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toContain(`${ESCROW_PROBLEM_KIND} at version ${version}: ${shardId} v${version}:`);
    expect(failed?.stdout).toContain("NOT OK");
  });
});

interface Page {
  readonly items: readonly { readonly at: string; readonly version: number; readonly valueAfter: number }[];
  readonly nextCursor: string | null;
}

/** Every shard's ledger through the projector, one batch per shard in version order, as its stream shard. */
async function project(store: TestStore, ledger: readonly Record<string, unknown>[]): Promise<void> {
  const projector = createProjectorHandler({
    client: store.client,
    tables: store.config.tables,
    log: () => undefined,
  });
  for (let shard = 0; shard < SHARDS; shard++) {
    const shardId = shardIdOf(store.config.counterId, shard);
    const items = ledger
      .filter((item) => item.counterId === shardId)
      .sort((a, b) => Number(a.version) - Number(b.version));
    const response = await projector({
      Records: items.map((item, index) => streamRecordOf(item, shard * 1000 + index + 1)),
    });
    expect(response.batchItemFailures).toEqual([]);
  }
}

describe("history of an escrow-sharded counter", () => {
  it("merges the shards' commands by at, then shard, leaves the transfers out, and pages both ways", async () => {
    const { store, ledger } = await shardedRun();
    await project(store, ledger);
    const shardOf = (item: Record<string, unknown>) =>
      Array.from({ length: SHARDS }, (_, s) => shardIdOf(store.config.counterId, s)).indexOf(
        String(item.counterId),
      );
    const expected = ledger
      .filter((item) => item.action !== "transfer")
      .sort(
        (a, b) =>
          String(a.at).localeCompare(String(b.at)) ||
          shardOf(a) - shardOf(b) ||
          Number(a.version) - Number(b.version),
      )
      .map((item) => `${String(item.at)} v${Number(item.version)} → ${Number(item.valueAfter)}`);
    expect(expected).toHaveLength(COMMANDS);
    const query = createReadHandler({ client: store.client, config: store.config, log: () => undefined }, [
      "query",
    ]);
    const walk = async (order: "asc" | "desc"): Promise<string[]> => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const parameters: Record<string, string> = {
          limit: "5",
          order,
          ...(cursor === null ? {} : { cursor }),
        };
        const answer = await query(
          httpEvent({ method: "GET", path: "/number/history", queryStringParameters: parameters }),
        );
        expect(answer.statusCode).toBe(200);
        const page = JSON.parse(answer.body ?? "") as Page;
        expect(page.items.length).toBeLessThanOrEqual(5);
        seen.push(...page.items.map((item) => `${item.at} v${item.version} → ${item.valueAfter}`));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return seen;
    };
    expect(await walk("asc")).toEqual(expected);
    expect(await walk("desc")).toEqual([...expected].reverse());
    // A one-chain cursor was not issued for this counter: refused, not guessed at.
    const foreign = encodeCursor({ order: "asc", version: 3 });
    const refused = await query(
      httpEvent({ method: "GET", path: "/number/history", queryStringParameters: { cursor: foreign } }),
    );
    expect(refused.statusCode).toBe(400);
  });
});
