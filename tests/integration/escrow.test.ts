// The escrow-sharded counter (COUNTER_SHARDS > 1, docs/architecture.md#escrow-shards) against DynamoDB Local:
// several committers (several Lambda execution environments, each with its own client) writing at once, keys
// repeated, runs past both bounds. After each run the tables themselves are checked: each shard's chain, the
// transfers' pairs, Σ floors and ceilings, and the shards' values against the ledger's deltas (I1, I6).

import { randomUUID } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import { ShardedCommitter } from "../../services/command/sharded-committer";
import type { CommitOutcome } from "../../services/command/committer";
import type { Action, Command } from "../../services/ledger/domain/decider";
import { shardIdOf } from "../../services/ledger/domain/escrow";
import { verifyEscrow } from "../../services/ledger/domain/escrow-verification";
import { createDocumentClient } from "../../services/ledger/storage/clients";
import { ShardReader } from "../../services/ledger/storage/shards";
import { createQueryHandler } from "../../services/query/handler";
import { ALICE, BOB, actorOfClaims, withClaims } from "../../testkit/claims";
import { commandEvent, httpEvent } from "../support/fixtures";
import { createTestStore, type TestStore } from "../support/store";

const noSleep = (): Promise<void> => Promise.resolve();

function commandOf(store: TestStore, action: Action, key: string, user = ALICE): Command {
  return {
    action,
    counterId: store.config.counterId,
    idempotencyKey: key,
    actor: actorOfClaims(user),
    requestFingerprint: `fingerprint-${action}`,
    requestId: randomUUID(),
  };
}

/** `environments` committers, each with a client of its own, as that many Lambda execution environments. */
function environments(store: TestStore, count: number): ShardedCommitter[] {
  return Array.from(
    { length: count },
    () =>
      new ShardedCommitter({
        client: createDocumentClient(store.config),
        config: store.config,
        shards: store.config.counterShards ?? 1,
      }),
  );
}

/** A careful client: a 503 contention is retried with the same key until the command settles. */
async function settle(committer: ShardedCommitter, command: Command): Promise<CommitOutcome> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const outcome = await committer.commit(command);
    if (outcome.kind !== "contention") return outcome;
  }
  throw new Error(`${command.idempotencyKey} never settled`);
}

/** The whole escrow check, from a Scan of the ledger and a snapshot of the shard items. */
async function escrowReport(store: TestStore) {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.client.send(
      new ScanCommand({
        TableName: store.config.tables.ledger,
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  const shards = store.config.counterShards ?? 1;
  const reader = new ShardReader(
    store.client,
    store.config.tables,
    store.config.bounds,
    store.config.counterId,
    shards,
  );
  const stored = await reader.readSnapshot();
  return { report: verifyEscrow({ ...store.config, shards, events: items, stored }), items, stored };
}

async function storeWith(shards: number, min: number, max: number): Promise<TestStore> {
  return createTestStore({
    COUNTER_SHARDS: String(shards),
    COUNTER_MIN: String(min),
    COUNTER_MAX: String(max),
  });
}

describe("an escrow-sharded counter against DynamoDB Local", () => {
  it("applies exactly up to the upper bound from 8 environments at once: no crossing, no wrongful 409", async () => {
    const store = await storeWith(4, 3, 43);
    const committers = environments(store, 8);
    const keys = Array.from({ length: 60 }, (_, index) => `up-${index}`);
    const outcomes = await Promise.all(
      keys.map((key, index) => settle(committers[index % 8]!, commandOf(store, "increment", key))),
    );
    const kinds = outcomes.map((outcome) => outcome.kind);
    // Increments only: the value never falls, so any 409 proves the counter was full when it was decided;
    // exactly max − min of them apply and every other one is refused.
    expect(kinds.filter((kind) => kind === "applied")).toHaveLength(40);
    expect(kinds.filter((kind) => kind === "outOfBounds")).toHaveLength(20);
    for (const outcome of outcomes) {
      if (outcome.kind === "outOfBounds")
        expect(outcome).toEqual({ kind: "outOfBounds", value: 43, bound: 43 });
    }
    const { report, stored } = await escrowReport(store);
    expect(report.problems).toEqual([]);
    expect(report.commands).toBe(40);
    expect(report.ledgerValue).toBe(43);
    expect(stored.reduce((sum, shard) => sum + shard.value, 0)).toBe(43);
    // The load spread: more than one shard took commands, so transfers moved headroom to them.
    expect(report.transfers).toBeGreaterThan(0);
    expect(
      new Set(report.shards.filter((shard) => shard.version > 0).map((_, index) => index)).size,
    ).toBeGreaterThan(1);
  });

  it("goes down to the lower bound and up again with mixed commands, keeping every escrow rule", async () => {
    const store = await storeWith(3, 0, 10);
    const committers = environments(store, 4);
    const script: Action[] = [
      ...new Array<Action>(12).fill("increment"),
      ...new Array<Action>(15).fill("decrement"),
      ...new Array<Action>(6).fill("increment"),
    ];
    let expected = 0;
    let index = 0;
    for (const phase of [script.slice(0, 12), script.slice(12, 27), script.slice(27)]) {
      const outcomes = await Promise.all(
        phase.map((action) => settle(committers[index % 4]!, commandOf(store, action, `mixed-${index++}`))),
      );
      for (const [position, outcome] of outcomes.entries()) {
        const delta = phase[position] === "increment" ? 1 : -1;
        if (outcome.kind === "applied") expected += delta;
        else expect(outcome.kind).toBe("outOfBounds");
      }
      // Within a phase every command has the same direction: 409s happen only once the bound is reached.
      expect(expected).toBe(phase[0] === "increment" ? Math.min(10, expected) : Math.max(0, expected));
    }
    expect(expected).toBe(6);
    const { report } = await escrowReport(store);
    expect(report.problems).toEqual([]);
    expect(report.ledgerValue).toBe(6);
  });

  it("applies a key once: the same key again, at once or later, from any environment, is its replay", async () => {
    const store = await storeWith(4, 0, 100);
    const [first, second] = environments(store, 2) as [ShardedCommitter, ShardedCommitter];
    const command = commandOf(store, "increment", "twice");
    const [a, b] = await Promise.all([settle(first, command), settle(second, command)]);
    const later = await settle(second, { ...command, requestId: randomUUID() });
    const kinds = [a.kind, b.kind].sort();
    expect(kinds).toEqual(["applied", "replayed"]);
    expect(later.kind).toBe("replayed");
    const event = a.kind === "applied" ? a.event : b.kind === "applied" ? b.event : undefined;
    expect(later.kind === "replayed" && later.event).toEqual(event);
    expect(await settle(first, commandOf(store, "decrement", "twice"))).toEqual({ kind: "keyReused" });
    // The same key from another actor is another command.
    expect((await settle(first, commandOf(store, "increment", "twice", BOB))).kind).toBe("applied");
    const { report } = await escrowReport(store);
    expect(report.problems).toEqual([]);
    expect(report.commands).toBe(2);
  });

  it("serves GET /number as one snapshot: the sum of the values, the number of events, a tag any write moves", async () => {
    const store = await storeWith(4, 0, 100);
    const handle = createCommandHandler({
      committer: environments(store, 1)[0]!,
      config: store.config,
      log: () => undefined,
    });
    const query = createQueryHandler({ client: store.client, config: store.config, log: () => undefined });
    const read = async (headers: Record<string, string> = {}) =>
      query(httpEvent({ method: "GET", path: "/number", headers }));
    const tags = [(await read()).headers?.ETag];
    for (let index = 0; index < 12; index++) {
      const answer = await handle(withClaims(commandEvent("increment", `read-${index}`), ALICE));
      expect(answer.statusCode).toBe(200);
      tags.push((await read()).headers?.ETag);
    }
    expect(new Set(tags).size).toBe(13);
    const answer = await read();
    const body = JSON.parse(answer.body ?? "{}") as { value: number; version: number };
    const { report, stored } = await escrowReport(store);
    expect(body.value).toBe(12);
    expect(body.version).toBe(stored.reduce((sum, shard) => sum + shard.version, 0));
    expect(body.version).toBe(12 + 2 * report.transfers);
    expect((await read({ "if-none-match": String(answer.headers?.ETag) })).statusCode).toBe(304);
  });

  it("grows a counter written unsharded: its history stays shard 0's, new shards start empty", async () => {
    const single = await storeWith(1, 0, 20);
    const unsharded = new Committer({ client: single.client, config: single.config });
    for (let index = 0; index < 5; index++)
      expect((await unsharded.commit(commandOf(single, "increment", `old-${index}`))).kind).toBe("applied");
    const store: TestStore = { ...single, config: { ...single.config, counterShards: 4 } };
    const committers = environments(store, 3);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        settle(committers[index % 3]!, commandOf(store, "increment", `new-${index}`)),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.kind === "applied")).toHaveLength(15);
    // A key applied before the counter was sharded is still found: its retry is a replay.
    expect((await settle(committers[0]!, commandOf(store, "increment", "old-0"))).kind).toBe("replayed");
    const { report } = await escrowReport(store);
    expect(report.problems).toEqual([]);
    expect(report.ledgerValue).toBe(20);
    expect(shardIdOf(store.config.counterId, 0)).toBe(store.config.counterId);
  });

  it("proves a 409 only from a snapshot; one that a transaction cancels, as AWS does, is a conflict", async () => {
    const store = await storeWith(2, 0, 2);
    const client = createDocumentClient(store.config);
    let cancelled = 0;
    let cancelTimes = 2;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "TransactGetItemsCommand" && cancelled < cancelTimes) {
          cancelled++;
          throw new TransactionCanceledException({
            message: "Transaction cancelled",
            $metadata: { httpStatusCode: 400 },
            CancellationReasons: [{ Code: "TransactionConflict" }, { Code: "None" }],
          });
        }
        return next(args);
      },
      { step: "initialize" },
    );
    const committer = new ShardedCommitter({ client, config: store.config, shards: 2, sleep: noSleep });
    for (const key of ["a", "b"])
      expect((await committer.commit(commandOf(store, "increment", key))).kind).toBe("applied");
    // Full: the third increment reads each shard, sees no headroom, and needs a snapshot to refuse.
    expect(committer.statistics.snapshots).toBe(0);
    const refused = await committer.commit(commandOf(store, "increment", "c"));
    expect(refused).toEqual({ kind: "outOfBounds", value: 2, bound: 2 });
    expect(cancelled).toBe(2);
    expect(committer.statistics.snapshots).toBe(3);
    // Snapshots cancelled every time: no 409 without one, the command ends in contention (503), nothing written.
    cancelTimes = Number.POSITIVE_INFINITY;
    expect((await committer.commit(commandOf(store, "increment", "d"))).kind).toBe("contention");
    const { report } = await escrowReport(store);
    expect(report.problems).toEqual([]);
    expect(report.commands).toBe(2);
  });

  it("GET /number tries a cancelled snapshot again, then answers 503", async () => {
    const store = await storeWith(3, 0, 10);
    const client = createDocumentClient(store.config);
    let cancelled = 0;
    let cancelTimes = 4;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "TransactGetItemsCommand" && cancelled < cancelTimes) {
          cancelled++;
          throw new TransactionCanceledException({
            message: "Transaction cancelled",
            $metadata: { httpStatusCode: 400 },
            CancellationReasons: [{ Code: "TransactionConflict" }, { Code: "None" }, { Code: "None" }],
          });
        }
        return next(args);
      },
      { step: "initialize" },
    );
    const query = createQueryHandler({ client, config: store.config, log: () => undefined });
    const read = () => query(httpEvent({ method: "GET", path: "/number" }));
    expect((await read()).statusCode).toBe(200);
    expect(cancelled).toBe(4);
    cancelTimes = Number.POSITIVE_INFINITY;
    const refused = await read();
    expect(refused.statusCode).toBe(503);
    expect(refused.body).not.toMatch(/Transact|counters|Exception/);
  });
});
