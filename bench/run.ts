// `npm run bench`: measures this design against the seed's in one run on this machine, and prints figures —
// never asserts them. Each measurement gets a fresh in-memory DynamoDB Local: measured here, DynamoDB Local
// slows down with every stream record it holds (a fresh table after 30 000 streamed writes takes a twentieth of
// the writes it took before), so sharing one instance would make each run pay for the runs before it.
// Closed-loop HTTP clients (1, 16, 64) against (a) the local runtime with group commit and (b) the seed's
// per-request design served by the same gateway; (c) the store's ceiling (one writer, 99 events per
// transaction); projector lag under the 64-client load; the chain's cost on the write path; the signing of a
// digest; and verification on one ledger of --replay-events events (testkit/seed-ledger.ts fills it with real,
// chained events): the CLI's full replay, sequential and in parallel segments, beside a raw read of the same
// items with no processing (the store's share) and the replay from a table export (bench/export-replay.ts), then
// the API's incremental verify of 1 000 new events after
// its checkpoint at the ledger's end; and event proofs (bench/proof.ts) on a ledger of the same size. Checks I6
// after every run and writes bench/results/latest.{json,md} and the README table.
//
// The chain's cost: the same write path (gateway, command handler, committer with group commit) built here
// twice, with the chain and without it — `new Committer({ chain: false })`, which writes events as schema
// version 2 did (no previousHash, no hash, no hashing) and the aggregate without its head. Only this file
// sets that switch; no environment variable or configuration reaches it. The two run alternately, each on a
// fresh store, --chain-rounds times at the lowest and highest client levels, and their ratios are reported.
//
// Options: --seconds N (per run, default 10), --clients 1,16,64, --replay-events N (default 100 000; the
// issue's figure is 1 000 000, which takes about a quarter of an hour to fill here), --chain-rounds N
// (default 2), --no-readme; --only-verification (the verification section alone, printed); --only-chain (the chain's cost alone, printed).
// Lambda mode (docs/architecture.md#lambda-mode): --lambda-concurrency N runs this project's command function as
// N execution environments (LAMBDA_CONCURRENCY), --dynamodb-model-scale S puts the AWS model at scale S in front
// of DynamoDB Local (DYNAMODB_MODEL=aws); the clients then also resend a 500 (a throttled Lambda) with the same
// key. --warm-up-seconds N puts N seconds of unmeasured load before each of this project's runs (on the same
// store; I6 counts it), in which Lambda mode's environments cold-start. --only-load runs this project's write
// path alone at each client level and prints it, nothing written.

import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { format, resolveConfig } from "prettier";
import "../local/quiet-sdk-notice";
import { ensureTables } from "../local/bootstrap";
import { startDynamoDbLocal } from "../local/dynamodb-local";
import { startLocalSystem } from "../local/system";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { loadLedgerConfig, type LedgerConfig } from "../services/ledger/config";
import { projectedStateFromItem, stateEntryKey } from "../services/ledger/storage/read-model";
import { verifyLedger } from "../services/ledger/storage/replay";
import { COUNTERS, tableDefinitions, tableNamesWithPrefix } from "../services/ledger/storage/tables";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { createAuditHandler, createQueryHandler } from "../services/query/handler";
import { createVerifyQuery } from "../services/query/verify";
import { advanceCheckpoint } from "../services/ledger/storage/checkpoint";
import { verifyReportSchema } from "../contract/schemas";
import { writeAtCeiling } from "./ceiling";
import { runChainCost, chainCostOf, type ChainRun } from "./chain-cost";
import { measureSigning } from "./signing";
import { timeRawRead } from "./raw-read";
import { timeExportReplay } from "./export-replay";
import { seedLedger } from "../testkit/seed-ledger";
import { runProofBench } from "./proof";
import { percentile, runClosedLoopApart, type LoadResult } from "./load";
import { createSeedCommandHandler } from "./seed-design";
import { benchEnvironment, loadThroughGateway } from "./environment";

const USAGE =
  "usage: npm run bench -- [--seconds N] [--clients 1,16,64] [--replay-events N] [--chain-rounds N] [--only-verification] [--only-chain] [--no-readme] [--lambda-concurrency N] [--dynamodb-model-scale S] [--warm-up-seconds N] [--only-load]";

/** The bench's options, or a usage line and exit code 2 for anything it does not know or cannot use. */
function parseBenchArguments(argv: readonly string[]) {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        seconds: { type: "string", default: "10" },
        clients: { type: "string", default: "1,16,64" },
        "replay-events": { type: "string", default: "100000" },
        "chain-rounds": { type: "string", default: "2" },
        "only-verification": { type: "boolean", default: false },
        "only-chain": { type: "boolean", default: false },
        "no-readme": { type: "boolean", default: false },
        "lambda-concurrency": { type: "string" },
        "dynamodb-model-scale": { type: "string" },
        "only-load": { type: "boolean", default: false },
        "warm-up-seconds": { type: "string", default: "0" },
      },
    });
    const parsed = {
      durationMs: Number(values.seconds) * 1000,
      clientLevels: values.clients.split(",").map(Number),
      replayEvents: Number(values["replay-events"]),
      chainRounds: Number(values["chain-rounds"]),
      onlyVerification: values["only-verification"],
      onlyChain: values["only-chain"],
      writeReadme: !values["no-readme"],
      onlyLoad: values["only-load"],
      warmUpMs: Number(values["warm-up-seconds"]) * 1000,
      // Checked by the runtime's own configuration (local/config.ts) when the system starts.
      lambdaEnvironment: {
        ...(values["lambda-concurrency"] === undefined
          ? {}
          : { LAMBDA_CONCURRENCY: values["lambda-concurrency"] }),
        ...(values["dynamodb-model-scale"] === undefined
          ? {}
          : { DYNAMODB_MODEL: "aws", DYNAMODB_MODEL_SCALE: values["dynamodb-model-scale"] }),
      } as Record<string, string>,
    };
    const valid =
      parsed.durationMs > 0 &&
      parsed.clientLevels.every((level) => Number.isInteger(level) && level >= 1 && level <= 256) &&
      Number.isInteger(parsed.replayEvents) &&
      parsed.replayEvents >= 1 &&
      Number.isInteger(parsed.chainRounds) &&
      parsed.chainRounds >= 1 &&
      parsed.warmUpMs >= 0;
    if (!valid)
      throw new Error(
        "--seconds > 0, --clients integers from 1 to 256, --replay-events ≥ 1, --chain-rounds ≥ 1, --warm-up-seconds ≥ 0",
      );
    return parsed;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const {
  durationMs,
  clientLevels,
  replayEvents,
  chainRounds,
  onlyVerification,
  onlyChain,
  writeReadme,
  onlyLoad,
  warmUpMs,
  lambdaEnvironment,
} = parseBenchArguments(process.argv.slice(2));

const DRAIN_WAIT_MS_MAX = 60_000;
/** The unmeasured load before each run of the chain's cost, on its fresh store (bench/chain-cost.ts). */
const CHAIN_WARM_UP_MS = 5_000;
const LAG_SAMPLE_INTERVAL_MS = 20;

/** "ours": the write path (gateway + committer); "oursFull": the whole local runtime, projector included. */
type Design = "ours" | "oursFull" | "seed";

const DESIGN_NAMES: Readonly<Record<Design, string>> = {
  ours: "this project, write path (group commit)",
  oursFull: "this project, whole local runtime (+ stream poller and projector)",
  seed: "seed design (per request)",
};

interface RunFigures {
  readonly design: Design;
  readonly clients: number;
  readonly throughputPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly applied: number;
  readonly clientRetries: number;
  readonly conflicts: number;
  readonly transactions: number;
  readonly i6Holds: boolean;
  readonly statuses: Readonly<Record<string, number>>;
}

function figuresOf(
  design: Design,
  load: LoadResult,
  extra: Pick<RunFigures, "conflicts" | "transactions" | "i6Holds">,
): RunFigures {
  const sorted = [...load.latenciesMs].sort((left, right) => left - right);
  return {
    design,
    clients: load.clients,
    throughputPerSecond: (load.applied * 1000) / load.durationMs,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    applied: load.applied,
    clientRetries: load.clientRetries,
    statuses: load.statuses,
    ...extra,
  };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Runs one measurement on its own fresh, in-memory DynamoDB Local, and stops it afterwards. */
async function onFreshStore<T>(measure: (endpoint: string) => Promise<T>): Promise<T> {
  const dynamoDb = await startDynamoDbLocal();
  try {
    return await measure(dynamoDb.endpoint);
  } finally {
    await dynamoDb.stop();
  }
}

async function freshTables(
  endpoint: string,
  prefix: string,
  withStream = true,
): Promise<{ environment: Record<string, string>; config: LedgerConfig }> {
  const environment = benchEnvironment(endpoint, prefix);
  const tables = tableNamesWithPrefix(prefix);
  const config = loadLedgerConfig(environment);
  const client = createDocumentClient(config);
  if (!withStream) {
    // The replay benchmark fills its read model itself: a stream would only slow DynamoDB Local down.
    const ledger = tableDefinitions(config.tables).find(
      (definition) => definition.TableName === tables.ledger,
    );
    await client.send(
      new CreateTableCommand({ ...ledger, TableName: tables.ledger, StreamSpecification: undefined }),
    );
  }
  await ensureTables(client, config.tables, config.counterId, config.bounds);
  client.destroy();
  return { environment, config };
}

async function readAggregateValue(config: LedgerConfig): Promise<{ value: number; version: number }> {
  const client = createDocumentClient(config);
  const output = await client.send(
    new GetCommand({
      TableName: config.tables.counters,
      Key: { [COUNTERS.partitionKey]: config.counterId },
      ConsistentRead: true,
    }),
  );
  client.destroy();
  return { value: Number(output.Item?.value ?? 0), version: Number(output.Item?.version ?? 0) };
}

/** Samples the projected state while a load runs: each time it moves, how long ago its event committed. */
function startLagSampler(config: LedgerConfig): { stop: () => Promise<number[]> } {
  const client = createDocumentClient(config);
  const lagsMs: number[] = [];
  let running = true;
  let lastVersion = 0;
  const loop = (async () => {
    while (running) {
      const output = await client.send(
        new GetCommand({
          TableName: config.tables.readModel,
          Key: stateEntryKey(config.counterId),
          ConsistentRead: true,
        }),
      );
      const state = projectedStateFromItem(output.Item);
      if (state.version > lastVersion && state.at !== null) {
        lagsMs.push(Date.now() - Date.parse(state.at));
        lastVersion = state.version;
      }
      await new Promise((wake) => setTimeout(wake, LAG_SAMPLE_INTERVAL_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      client.destroy();
      return lagsMs;
    },
  };
}

async function waitForProjection(config: LedgerConfig, version: number): Promise<boolean> {
  const client = createDocumentClient(config);
  const deadline = Date.now() + DRAIN_WAIT_MS_MAX;
  try {
    while (Date.now() < deadline) {
      const output = await client.send(
        new GetCommand({
          TableName: config.tables.readModel,
          Key: stateEntryKey(config.counterId),
          ConsistentRead: true,
        }),
      );
      if (projectedStateFromItem(output.Item).version >= version) return true;
      await new Promise((wake) => setTimeout(wake, 100));
    }
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * This project over HTTP. `withProjector` runs the stream poller and projector in the same process, as
 * `npm start` does; without it, the write path alone is measured, as on AWS, where the projector has its own
 * compute and its own table, and so takes nothing from the command path.
 */
async function runOurs(endpoint: string, clients: number, withProjector: boolean) {
  const { environment, config } = await freshTables(endpoint, `bench-ours-${clients}`);
  const system = await startLocalSystem({
    environment: { ...environment, ...lambdaEnvironment },
    port: 0,
    dataDirectory: environment.DATA_DIR,
    streamPoller: withProjector,
  });
  const sampler = withProjector ? startLagSampler(config) : undefined;
  const retryInternal = lambdaEnvironment.LAMBDA_CONCURRENCY !== undefined;
  // Unmeasured load first, when asked: Lambda mode's environments cold-start in it (each costs about a third of a
  // CPU-second here, and all N start at once), so that the measured window sees warm environments.
  const warmUp =
    warmUpMs > 0
      ? await runClosedLoopApart({
          url: `${system.url}/number`,
          clients,
          durationMs: warmUpMs,
          retryInternal,
        })
      : undefined;
  const warmedUp = warmUp?.applied ?? 0;
  const load = await runClosedLoopApart({ url: `${system.url}/number`, clients, durationMs, retryInternal });
  const lagsMs = (await sampler?.stop()) ?? [];
  const aggregate = await readAggregateValue(config);
  // Without a projector the read model stays empty: verify then reports lag, which is not a violation.
  const drained = !withProjector || (await waitForProjection(config, aggregate.version));
  const verifyClient = createDocumentClient(config);
  const report = await verifyLedger({
    client: verifyClient,
    tables: config.tables,
    counterId: config.counterId,
    bounds: config.bounds,
  });
  verifyClient.destroy();
  // In Lambda mode the environments' committers served every command (local/lambda/pool.ts).
  const { transactions, conflicts } = system.lambda?.command.committers ?? system.committer.statistics;
  if (system.lambda !== undefined) log(`  lambda mode: ${JSON.stringify(system.lambda)}`);
  await system.stop();
  const i6Holds =
    aggregate.value === warmedUp + load.applied &&
    aggregate.version === warmedUp + load.applied &&
    drained &&
    report.ok;
  return {
    figures: figuresOf(withProjector ? "oursFull" : "ours", load, { transactions, conflicts, i6Holds }),
    lagsMs,
    verifyOk: report.ok,
  };
}

async function runSeed(endpoint: string, clients: number) {
  const { config } = await freshTables(endpoint, `bench-seed-${clients}`);
  const client = createDocumentClient(config);
  const handlers = {
    command: createSeedCommandHandler(client, config),
    query: createQueryHandler({ client, config, log: () => undefined }),
    audit: createAuditHandler({ client, config, log: () => undefined }),
  };
  const load = await loadThroughGateway(handlers, clients, durationMs);
  client.destroy();
  const aggregate = await readAggregateValue(config);
  return figuresOf("seed", load, {
    transactions: load.applied,
    conflicts: 0,
    i6Holds: aggregate.value === load.applied,
  });
}

async function runCeiling(endpoint: string) {
  const { config } = await freshTables(endpoint, "bench-ceiling");
  const client = createDocumentClient(config);
  const result = await writeAtCeiling(client, config, { durationMs, eventsMax: Number.MAX_SAFE_INTEGER });
  client.destroy();
  return { eventsPerSecond: (result.events * 1000) / result.durationMs, ...result };
}

/** A ledger of `events` real, chained events with its audit trail, on fresh tables without a stream. */
async function filledLedger(endpoint: string, prefix: string, events: number) {
  const { config } = await freshTables(endpoint, prefix, false);
  const client = createDocumentClient(config);
  log(`${prefix}: filling a ledger of ${events} events and its audit trail…`);
  const startedAt = performance.now();
  let shownAt = startedAt;
  const state = await seedLedger(client, config, events, {
    onProgress: (written) => {
      if (performance.now() - shownAt < 30_000) return;
      shownAt = performance.now();
      log(`${prefix}: ${written} events, ${round((shownAt - startedAt) / 1000)} s`);
    },
  });
  const fillSeconds = (performance.now() - startedAt) / 1000;
  log(`${prefix}: filled in ${round(fillSeconds)} s`);
  return { config, client, state, fillSeconds };
}

/** Times one full replay of the counter's ledger, reading `segments` version ranges in parallel. */
async function timeFullReplay(
  client: ReturnType<typeof createDocumentClient>,
  config: LedgerConfig,
  segments: number,
) {
  const startedAt = performance.now();
  const report = await verifyLedger({
    client,
    tables: config.tables,
    counterId: config.counterId,
    bounds: config.bounds,
    segments,
  });
  const durationMs = performance.now() - startedAt;
  return {
    segments,
    events: report.events,
    ok: report.ok,
    durationMs,
    eventsPerSecond: (report.events * 1000) / durationMs,
  };
}

/** Version segments the parallel replay is measured with: the CLI's default. */
const REPLAY_SEGMENTS_MEASURED = 4;
/** New events the incremental verify checks after its checkpoint (the figure). */
const INCREMENTAL_NEW_EVENTS = 1_000;

/**
 * The API's verify after INCREMENTAL_NEW_EVENTS new events on a ledger whose checkpoint is at its end (the
 * state `at`): GET /number/verify's own code path (lease, checkpoint, bounded replay, checkpoint moved), timed.
 */
async function timeIncremental(
  client: ReturnType<typeof createDocumentClient>,
  config: LedgerConfig,
  at: Awaited<ReturnType<typeof filledLedger>>["state"],
) {
  await advanceCheckpoint(client, config.tables, config.counterId, {
    version: at.version,
    value: at.value,
    ledgerSum: at.value - config.bounds.min,
    eventId: `${config.counterId}#seed-${at.version}`,
    hash: at.head.hash,
    verifiedAt: new Date().toISOString(),
  });
  log(`incremental: ${INCREMENTAL_NEW_EVENTS} new events…`);
  await seedLedger(client, config, INCREMENTAL_NEW_EVENTS, { from: at });
  const verify = createVerifyQuery({ client, config, log: () => undefined });
  const startedAt = performance.now();
  const response = await verify();
  const durationMs = performance.now() - startedAt;
  const report = verifyReportSchema.parse(JSON.parse(response.body ?? ""));
  return {
    ledgerEvents: report.aggregate.version,
    newEvents: report.events,
    ok: report.ok,
    checkedFrom: report.checkedFrom,
    checkedTo: report.checkedTo,
    durationMs,
  };
}

/**
 * On one ledger of `events` events: the full replay (the CLI's), read as one sequence and then in
 * REPLAY_SEGMENTS_MEASURED parallel segments; a raw read of the same items in the same segments with no
 * processing (the store's share of the replay's time); then the API's incremental verify.
 */
async function runVerification(endpoint: string, events: number) {
  const { config, client, state, fillSeconds } = await filledLedger(endpoint, "bench-verify", events);
  log("replay: verifying, sequentially…");
  const sequential = await timeFullReplay(client, config, 1);
  log(`replay: verifying, ${REPLAY_SEGMENTS_MEASURED} segments in parallel…`);
  const parallel = await timeFullReplay(client, config, REPLAY_SEGMENTS_MEASURED);
  log(`replay: a raw read of the same items, ${REPLAY_SEGMENTS_MEASURED} segments in parallel…`);
  const rawRead = await timeRawRead(config, { events, segments: REPLAY_SEGMENTS_MEASURED });
  const fromExport = await timeExportReplay(config, log);
  const incremental = await timeIncremental(client, config, state);
  client.destroy();
  return { replay: { ...sequential, parallel, rawRead, fromExport, fillSeconds }, incremental };
}

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A spread of ratios as the README shows it: "0.81–0.97×". */
function spreadText(spread: { readonly min: number; readonly max: number }): string {
  return `${round(spread.min, 2)}–${round(spread.max, 2)}×`;
}

/** Every measurement, each on a fresh store: the three designs at each client level, the ceiling, the replay. */
async function measure() {
  const runs: RunFigures[] = [];
  let lagsMs: number[] = [];
  for (const clients of clientLevels) {
    log(`ours (write path), ${clients} client(s)…`);
    runs.push((await onFreshStore((endpoint) => runOurs(endpoint, clients, false))).figures);
    log(`ours (whole runtime), ${clients} client(s)…`);
    const full = await onFreshStore((endpoint) => runOurs(endpoint, clients, true));
    runs.push(full.figures);
    if (clients === Math.max(...clientLevels)) lagsMs = full.lagsMs;
    log(`seed, ${clients} client(s)…`);
    runs.push(await onFreshStore((endpoint) => runSeed(endpoint, clients)));
  }
  log("ceiling…");
  const ceiling = await onFreshStore((endpoint) => runCeiling(endpoint));
  const chain = await measureChainCost();
  log("digest signing…");
  const signing = await measureSigning();
  const { replay, incremental } = await measureVerification();
  log("event proofs…");
  const proof = await onFreshStore((endpoint) => runProofBench({ endpoint, events: replayEvents, log }));
  const sortedLags = [...lagsMs].sort((left, right) => left - right);
  const lag = {
    p50Ms: percentile(sortedLags, 0.5),
    p99Ms: percentile(sortedLags, 0.99),
    samples: sortedLags.length,
  };
  return { runs, ceiling, lag, chain, signing, replay, incremental, proof };
}

/**
 * The write path with the chain and without it, alternately, each on a fresh store: --chain-rounds times
 * at the lowest and the highest client levels; the ratios compare the means.
 */
async function measureChainCost() {
  const levels = [...new Set([Math.min(...clientLevels), Math.max(...clientLevels)])];
  const runs: ChainRun[] = [];
  for (let round = 1; round <= chainRounds; round++) {
    for (const clients of levels) {
      for (const chained of round % 2 === 1 ? [true, false] : [false, true]) {
        log(`chain cost, round ${round}, ${clients} client(s), ${chained ? "with" : "without"} the chain…`);
        runs.push(
          await onFreshStore(async (endpoint) => {
            // No stream: nothing reads it here, and DynamoDB Local's cost per write grows with the stream
            // records it keeps (bench/chain-cost.ts).
            const { config } = await freshTables(endpoint, `bench-chain-${clients}`, false);
            return runChainCost({ config, clients, chained, durationMs, warmUpMs: CHAIN_WARM_UP_MS });
          }),
        );
      }
    }
  }
  return { runs, byClients: levels.map((clients) => chainCostOf(runs, clients)) };
}

/** The verification section: the CLI's full replay (sequential and parallel) and the API's incremental verify. */
async function measureVerification() {
  return onFreshStore((endpoint) => runVerification(endpoint, replayEvents));
}

type Measurements = Awaited<ReturnType<typeof measure>>;

/** The ratios against the seed design and the store's ceiling, at the highest and lowest client levels. */
function ratiosOf({ runs, ceiling }: Measurements) {
  const find = (design: Design, clients: number) =>
    runs.find((run) => run.design === design && run.clients === clients);
  const top = Math.max(...clientLevels);
  const bottom = Math.min(...clientLevels);
  const oursTop = find("ours", top);
  const seedTop = find("seed", top);
  const oursBottom = find("ours", bottom);
  const seedBottom = find("seed", bottom);
  return {
    oursOverSeedAtTop: (oursTop?.throughputPerSecond ?? 0) / (seedTop?.throughputPerSecond ?? 1),
    oursOverCeilingAtTop: (oursTop?.throughputPerSecond ?? 0) / ceiling.eventsPerSecond,
    p50OursOverSeedAtBottom: (oursBottom?.p50Ms ?? 0) / (seedBottom?.p50Ms ?? 1),
  };
}

/** The design's targets, each with what was measured and whether it is met. */
function targetsOf(measurements: Measurements, ratios: ReturnType<typeof ratiosOf>) {
  const { runs, replay, lag, incremental, chain } = measurements;
  const top = Math.max(...clientLevels);
  const bottom = Math.min(...clientLevels);
  const violations =
    runs.filter((run) => !run.i6Holds).length +
    chain.runs.filter((run) => !run.verifyOk).length +
    [replay.ok, replay.parallel.ok, incremental.ok].filter((ok) => !ok).length;
  const fullRate = Math.max(
    replay.eventsPerSecond,
    replay.parallel.eventsPerSecond,
    replay.fromExport.eventsPerSecond,
  );
  return [
    {
      target: `ours ≥ 3× seed throughput at ${top} clients`,
      measured: `${round(ratios.oursOverSeedAtTop, 2)}×`,
      met: ratios.oursOverSeedAtTop >= 3,
    },
    {
      target: `ours ≥ 0.75 of the store ceiling at ${top} clients`,
      measured: `${round(ratios.oursOverCeilingAtTop, 2)}`,
      met: ratios.oursOverCeilingAtTop >= 0.75,
    },
    {
      target: `ours p50 ≤ 1.2× seed p50 at ${bottom} client`,
      measured: `${round(ratios.p50OursOverSeedAtBottom, 2)}×`,
      met: ratios.p50OursOverSeedAtBottom <= 1.2,
    },
    {
      target: "zero invariant violations (I6 after every run, verify ok)",
      measured: String(violations),
      met: violations === 0,
    },
    {
      target: `projector lag p99 ≤ 1 s under ${top} clients`,
      measured: `${round(lag.p99Ms)} ms`,
      met: lag.p99Ms <= 1000,
    },
    ...chain.byClients.map((cost) => ({
      target: `chain cost at ${cost.clients} client(s): throughput and p50 within 5 % of the write path without it`,
      measured: `throughput ${round(cost.throughputRatio, 3)}× (${spreadText(cost.throughputRatioSpread)}), p50 ${round(cost.p50Ratio, 3)}× (${spreadText(cost.p50RatioSpread)}), ${cost.rounds} rounds`,
      met: cost.throughputRatio >= 0.95 && cost.p50Ratio <= 1.05,
    })),
    {
      target: "full CLI replay ≥ 50 000 events/s",
      measured: `${round(fullRate)} events/s (${replay.events} events)`,
      met: fullRate >= 50_000,
    },
    {
      target: `incremental verify of ${INCREMENTAL_NEW_EVENTS} new events < 1 s`,
      measured: `${round(incremental.durationMs)} ms (${incremental.ledgerEvents}-event ledger)`,
      met: incremental.durationMs < 1000,
    },
  ];
}

interface BenchResult extends Measurements {
  readonly date: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string };
  readonly secondsPerRun: number;
  readonly ratios: ReturnType<typeof ratiosOf>;
  readonly targets: ReturnType<typeof targetsOf>;
}

/** The figures as the README shows them, laid out by Prettier. */
async function markdownOf(result: BenchResult): Promise<string> {
  const { runs, ceiling, lag, replay, incremental, targets, chain, signing, proof } = result;
  const top = Math.max(...clientLevels);
  const lines = [
    `Measured ${result.date.slice(0, 10)} on ${result.machine.cpus} cores (${result.machine.cpuModel}), Node ${result.machine.node}, a fresh in-memory DynamoDB Local per row, ${result.secondsPerRun} s per run, increments with unique keys.`,
    "",
    "| design | clients | commands/s | p50 ms | p99 ms | transactions | conflicts | client retries | I6 |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...runs.map(
      (run) =>
        `| ${DESIGN_NAMES[run.design]} | ${run.clients} | ${round(run.throughputPerSecond)} | ${round(run.p50Ms, 1)} | ${round(run.p99Ms, 1)} | ${run.transactions} | ${run.conflicts} | ${run.clientRetries} | ${run.i6Holds ? "holds" : "**broken**"} |`,
    ),
    `| store ceiling (99 events + 1 update per transaction, 1 writer) | — | ${round(ceiling.eventsPerSecond)} | — | — | ${ceiling.transactions} | — | — | — |`,
    "",
    `Projector lag under ${top} clients (commit → read model): p50 ${round(lag.p50Ms)} ms, p99 ${round(lag.p99Ms)} ms (${lag.samples} samples).`,
    "",
    ...chain.byClients.map(
      (cost) =>
        `The chain's cost on the write path at ${cost.clients} client(s), ${cost.rounds} alternating rounds (ledger without a stream, each run after a ${CHAIN_WARM_UP_MS / 1000} s warm-up): ${round(cost.throughput.chained)} commands/s and p50 ${round(cost.p50Ms.chained, 1)} ms with it, ${round(cost.throughput.unchained)} commands/s and p50 ${round(cost.p50Ms.unchained, 1)} ms without it; round by round the throughput ratio ranged ${spreadText(cost.throughputRatioSpread)}, the p50 ratio ${spreadText(cost.p50RatioSpread)}.`,
    ),
    "",
    `Signing a digest (${signing.signer}, ${signing.signatures} signatures): p50 ${round(signing.p50Ms, 3)} ms, p99 ${round(signing.p99Ms, 3)} ms.`,
    "",
    `Full replay (the CLI's) of ${replay.events} events (filled in ${round(replay.fillSeconds)} s): sequential ${round(replay.durationMs)} ms, ${round(replay.eventsPerSecond)} events/s; ${replay.parallel.segments} parallel segments ${round(replay.parallel.durationMs)} ms, ${round(replay.parallel.eventsPerSecond)} events/s; ok: ${replay.ok && replay.parallel.ok}. A raw read of the same ledger and audit items in ${replay.rawRead.segments} segments, with no processing: ${round(replay.rawRead.durationMs)} ms, ${round(replay.rawRead.eventsPerSecond)} events/s. From a table export (\`verify -- --export\`, a digest's Merkle root included): ${round(replay.fromExport.durationMs)} ms, ${round(replay.fromExport.eventsPerSecond)} events/s (${round(replay.fromExport.eventsPerCpuSecond)} per second of the process's CPU), ok: ${replay.fromExport.ok}; writing the export took ${round(replay.fromExport.exportMs / 1000)} s, ${round(replay.fromExport.exportBytes / 1_048_576, 1)} MiB. The API's incremental verify of ${incremental.newEvents} new events on a ${incremental.ledgerEvents}-event ledger: ${round(incremental.durationMs)} ms, ok: ${incremental.ok}.`,
    "",
    `Event proofs on a ${proof.events}-event ledger: the proof of version ${proof.provenVersion} is ${proof.proofBytes} bytes (an audit path of ${proof.pathHashes} hashes, the event itself ${proof.eventBytes} bytes) where a plain chain's would carry every later event, about ${round(proof.linearProofBytes / 1e6, 1)} MB; the root with a cold tree ${round(proof.coldRootMs)} ms, and after ${proof.newEvents} new events ${round(proof.warmRootAfterNewEventsMs)} ms; checking a proof offline (signature included) p50 ${round(proof.checkMedianMs, 3)} ms, the path alone ${round(proof.inclusionOnlyMedianMs, 3)} ms.`,
    "",
    "| target | measured | met |",
    "| --- | --- | --- |",
    ...targets.map(
      (target) => `| ${target.target} | ${target.measured} | ${target.met ? "yes" : "**no**"} |`,
    ),
  ];
  // Prettier's own table layout, so that `npm test`'s format check passes on what the bench writes.
  return (await format(lines.join("\n"), { parser: "markdown", proseWrap: "preserve" })).trimEnd();
}

/** Writes bench/results/latest.{json,md} and, unless asked not to, the README's table. */
async function writeResults(result: BenchResult, markdown: string, updateReadme: boolean): Promise<void> {
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/latest.json", `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync("bench/results/latest.md", `${markdown}\n`);
  if (!updateReadme) return;
  const readme = readFileSync("README.md", "utf8").replace(
    /<!-- bench:start -->[\s\S]*<!-- bench:end -->/,
    `<!-- bench:start -->\n\n${markdown}\n\n<!-- bench:end -->`,
  );
  const prettierOptions = (await resolveConfig("README.md")) ?? {};
  writeFileSync("README.md", await format(readme, { ...prettierOptions, parser: "markdown" }));
}

async function main(): Promise<void> {
  if (onlyLoad) {
    // This project's write path alone at each client level, printed, never written to the results.
    for (const clients of clientLevels) {
      const run = await onFreshStore((endpoint) => runOurs(endpoint, clients, false));
      console.log(JSON.stringify(run.figures));
    }
    return;
  }
  if (onlyChain) {
    // The chain's cost alone (--chain-rounds rounds at the lowest and highest --clients): printed, never written.
    const { runs, byClients } = await measureChainCost();
    console.log(JSON.stringify({ byClients, runs }, null, 2));
    return;
  }
  if (onlyVerification) {
    // The verification section alone, for checking it at small sizes: printed, never written to the results.
    console.log(JSON.stringify(await measureVerification(), null, 2));
    return;
  }
  const measurements = await measure();
  const ratios = ratiosOf(measurements);
  const result: BenchResult = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version },
    secondsPerRun: durationMs / 1000,
    ...measurements,
    ratios,
    targets: targetsOf(measurements, ratios),
  };
  const markdown = await markdownOf(result);
  await writeResults(result, markdown, writeReadme);
  console.log(markdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
