// Escrow shards under the AWS model of DynamoDB (docs/dynamodb-model.md, docs/architecture.md#escrow-shards):
// E execution environments as Lambda runs them (each its own client and committer, one request at a time),
// closed loop, increments with unique keys, against one counter of S shards. S = 1 is today's committer with
// one event per transaction (what Lambda gets). Every client retries a 503 or a store failure with the same key
// until its command settles, so the ledger must equal the accepted commands (I6), checked after every run
// with verifyEscrow. `npx tsx bench/escrow.ts [seconds per run] [scale] [environments] [shard counts, e.g. 1,4,16] [warm-up seconds] [COUNTER_MAX, for a run near the upper bound, or -] [partitions per table]`; prints one JSON
// line per run. Partitions per table default to a new on-demand table's four (its warm throughput, 4 000 write units a
// second); more stand for a table pre-warmed or split by traffic (docs/architecture.md#escrow-shards).
// Node's CPU time is reported per accepted command (process.cpuUsage); DynamoDB Local's (Java) is not in it.

import { randomUUID } from "node:crypto";
import { ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ensureTables } from "../local/bootstrap";
import { startDynamoDbLocal } from "../local/dynamodb-local";
import { installDynamoDbModel } from "../local/dynamodb-model/middleware";
import { DynamoDbAwsModel } from "../local/dynamodb-model/model";
import { ON_DEMAND_INITIAL_PARTITIONS } from "../local/dynamodb-model/partitions";
import { tableShape } from "../local/dynamodb-model/requests";

/** The model's time scale and partitions per table or index. */
interface ModelSettings {
  readonly scale: number;
  readonly partitions: number;
}
import { Committer, type CommitOutcome } from "../services/command/committer";
import { ShardedCommitter } from "../services/command/sharded-committer";
import { loadLedgerConfig, type LedgerConfig } from "../services/ledger/config";
import type { Command } from "../services/ledger/domain/decider";
import { verifyEscrow } from "../services/ledger/domain/escrow-verification";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { ShardReader } from "../services/ledger/storage/shards";
import { tableDefinitions } from "../services/ledger/storage/tables";
import { benchEnvironment } from "./environment";
import { percentile } from "./load";

interface Tally {
  applied: number;
  outOfBounds: number;
  /** 409s whose value was not the bound: a refusal while headroom existed (must stay 0). */
  wrongful: number;
  contention: number;
  unavailable: number;
  readonly latenciesMs: number[];
}

/** One environment's closed loop: each command until it settles (same key), then the next. */
async function environmentLoop(
  committer: Pick<Committer, "commit">,
  config: LedgerConfig,
  untilMs: number,
  tally: Tally,
): Promise<void> {
  while (performance.now() < untilMs) {
    const command: Command = {
      action: "increment",
      counterId: config.counterId,
      idempotencyKey: randomUUID(),
      actor: { sub: "anonymous", name: "anonymous" },
      requestFingerprint: "bench-increment",
      requestId: randomUUID(),
    };
    const startedMs = performance.now();
    for (;;) {
      let outcome: CommitOutcome | undefined;
      try {
        outcome = await committer.commit(command);
      } catch {
        tally.unavailable++;
      }
      if (outcome?.kind === "contention") tally.contention++;
      if (outcome === undefined || outcome.kind === "contention") continue;
      if (outcome.kind === "applied" || outcome.kind === "replayed") tally.applied++;
      if (outcome.kind === "outOfBounds") tally.outOfBounds++;
      if (outcome.kind === "outOfBounds" && outcome.value !== config.bounds.max) tally.wrongful++;
      tally.latenciesMs.push(performance.now() - startedMs);
      break;
    }
  }
}

async function checkLedger(client: DynamoDBDocumentClient, config: LedgerConfig, shards: number) {
  const events: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: config.tables.ledger, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    events.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  const reader = new ShardReader(client, config.tables, config.bounds, config.counterId, shards);
  const stored = await reader.readSnapshot();
  return verifyEscrow({ ...config, shards, events, stored });
}

/** E committers, each with a client of its own, all meeting one model of DynamoDB's limits. */
function environmentsOf(config: LedgerConfig, shards: number, environments: number, settings: ModelSettings) {
  const model = new DynamoDbAwsModel({
    tables: tableDefinitions(config.tables).map(tableShape),
    seed: "bench",
    ...settings,
  });
  return Array.from({ length: environments }, () => {
    const client = createDocumentClient(config);
    installDynamoDbModel(client, model);
    return shards === 1
      ? new Committer({ client, config, batchEventsMax: 1 })
      : new ShardedCommitter({ client, config, shards });
  });
}

const emptyTally = (): Tally => ({
  applied: 0,
  outOfBounds: 0,
  wrongful: 0,
  contention: 0,
  unavailable: 0,
  latenciesMs: [],
});

async function run(
  endpoint: string,
  shards: number,
  environments: number,
  seconds: number,
  model: ModelSettings,
  warmUpSeconds: number,
  counterMax: number | undefined,
) {
  const environment = {
    ...benchEnvironment(endpoint, `escrow-${shards}-${randomUUID().slice(0, 6)}`),
    ...(counterMax === undefined ? {} : { COUNTER_MAX: String(counterMax) }),
  };
  const config: LedgerConfig = {
    ...loadLedgerConfig(environment),
    ...(shards > 1 ? { counterShards: shards } : {}),
  };
  const setup = createDocumentClient(config);
  await ensureTables(setup, config.tables, config.counterId, config.bounds);
  const committers = environmentsOf(config, shards, environments, model);
  // An unmeasured warm-up on the same counter: the first transfers (every shard but 0 starts empty) and the JIT.
  const warm = emptyTally();
  const warmUntilMs = performance.now() + warmUpSeconds * 1000;
  await Promise.all(committers.map((committer) => environmentLoop(committer, config, warmUntilMs, warm)));
  const before: Record<string, number>[] = committers.map((committer) => ({ ...committer.statistics }));
  const tally = emptyTally();
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  await Promise.all(
    committers.map((committer) => environmentLoop(committer, config, startedMs + seconds * 1000, tally)),
  );
  const elapsedS = (performance.now() - startedMs) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const report = await checkLedger(setup, config, shards);
  setup.destroy();
  const sorted = [...tally.latenciesMs].sort((left, right) => left - right);
  const statistics: Record<string, number>[] = committers.map((committer) => ({ ...committer.statistics }));
  const total = (entries: Record<string, number>[], field: string): number =>
    entries.reduce((sum, entry) => sum + (entry[field] ?? 0), 0);
  const sum = (field: string): number => total(statistics, field) - total(before, field);
  return {
    shards,
    environments,
    scale: model.scale,
    partitions: model.partitions,
    acceptedPerSecond: Math.round(tally.applied / elapsedS),
    p50Ms: Math.round(percentile(sorted, 0.5)),
    p99Ms: Math.round(percentile(sorted, 0.99)),
    applied: tally.applied,
    refused409: tally.outOfBounds,
    wrongful409: tally.wrongful + warm.wrongful,
    valueAtEnd: report.ledgerValue,
    contention503: tally.contention,
    storeFailures: tally.unavailable,
    transactions: sum("transactions"),
    conflicts: sum("conflicts"),
    transfers: sum("transfers"),
    snapshots: sum("snapshots"),
    nodeCpuMsPerCommand: Number(((cpu.user + cpu.system) / 1000 / Math.max(1, tally.applied)).toFixed(2)),
    i6:
      report.ok && report.commands === tally.applied + warm.applied
        ? "holds"
        : `BROKEN: ${report.problems.slice(0, 3).join("; ")}`,
  };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 15);
  const scale = Number(process.argv[3] ?? 0.1);
  const environments = Number(process.argv[4] ?? 16);
  const shardCounts = (process.argv[5] ?? "1,4,16").split(",").map(Number);
  const warmUpSeconds = Number(process.argv[6] ?? 5);
  const counterMax = [undefined, "-"].includes(process.argv[7]) ? undefined : Number(process.argv[7]);
  const partitions = Number(process.argv[8] ?? ON_DEMAND_INITIAL_PARTITIONS);
  const dynamoDb = await startDynamoDbLocal();
  try {
    for (const shards of shardCounts) {
      console.log(
        JSON.stringify(
          await run(
            dynamoDb.endpoint,
            shards,
            environments,
            seconds,
            { scale, partitions },
            warmUpSeconds,
            counterMax,
          ),
        ),
      );
    }
  } finally {
    await dynamoDb.stop();
  }
}

await main();
