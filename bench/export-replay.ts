// The auditor's full replay from table exports (`npm run verify -- --export DIR`), timed: a ledger of `events`
// real, chained events with its audit trail (testkit/seed-ledger.ts), written as DynamoDB table exports
// (services/ledger/storage/table-export.ts, the layout ExportTableToPointInTime writes to S3), then replayed
// by the CLI's code (verifyExport) against a head with its Merkle root, as a signed digest commits to — so the
// figure covers the gunzip, the parsing, the sort by version, the fold with a SHA-256 per event and the Merkle
// tree. Writing the export is timed apart: on AWS, DynamoDB does it, off the table's capacity.
// `npx tsx bench/export-replay.ts --replay-events N` runs it alone on its own DynamoDB Local; with `--synthetic`
// the same items (testkit/seed-ledger.ts's events, audit entries and heads, marshalled as a Scan returns them)
// are written as the exports directly, without DynamoDB Local: minutes less of setup, for profiling the replay.
// `--record` appends the figures, with the machine and its load, to bench/results/export-replay.jsonl.

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import "../local/quiet-sdk-notice";
import { ensureTables } from "../local/bootstrap";
import { startDynamoDbLocal } from "../local/dynamodb-local";
import { loadLedgerConfig, type LedgerConfig } from "../services/ledger/config";
import { leafOfChainHash, toHex, treeHash } from "../services/ledger/domain/merkle";
import { createDocumentClient, dynamoDbClientConfig } from "../services/ledger/storage/clients";
import { verifyExport } from "../services/ledger/storage/export-replay";
import { auditEntryOf } from "../services/ledger/domain/audit";
import { GENESIS_HEAD } from "../services/ledger/domain/chain";
import type { CurrentLedgerEvent } from "../services/ledger/domain/event";
import {
  exportItems,
  writeItemsAsExport,
  writeTableExport,
  type ExportedItem,
} from "../services/ledger/storage/table-export";
import { headItemsOf, nextEvents, seedLedger } from "../testkit/seed-ledger";
import { benchEnvironment } from "./environment";

/** Where `--record` appends a run's figures, one JSON object a line. */
const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), "results", "export-replay.jsonl");

export interface ExportReplayFigures {
  readonly events: number;
  readonly exportMs: number;
  readonly exportBytes: number;
  readonly durationMs: number;
  readonly eventsPerSecond: number;
  /** The replaying process's CPU time (user + system, all its threads): the rate a quiet machine would allow. */
  readonly cpuMs: number;
  readonly eventsPerCpuSecond: number;
  /**
   * The two phases: the data files scanned (gunzip, parse, unmarshall) in worker threads, then the ordered fold in
   * the main thread alone; the fold's CPU time is the main thread's, the rest of cpuMs the scan's (all workers).
   */
  readonly scanMs: number;
  readonly foldMs: number;
  readonly foldCpuMs: number;
  readonly ok: boolean;
}

/** Writes the three tables as exports under a new folder; answers the folder and its size on disk. */
async function exportTables(config: LedgerConfig): Promise<{ directory: string; bytes: number }> {
  const directory = mkdtempSync(join(tmpdir(), "bench-export-"));
  const client = new DynamoDBClient(dynamoDbClientConfig(config));
  const exportTime = new Date().toISOString();
  const { ledger, counters, readModel } = config.tables;
  for (const table of [ledger, counters, readModel]) {
    await writeTableExport(client, {
      table,
      directory: join(directory, table),
      region: config.region,
      exportTime,
    });
  }
  client.destroy();
  const { execFileSync } = await import("node:child_process");
  const bytes = Number(execFileSync("du", ["-sb", directory], { encoding: "utf8" }).split("\t")[0]);
  return { directory, bytes };
}

const asExported = (item: Record<string, unknown>): ExportedItem => marshall(item);

/**
 * The exports seedLedger's tables would give, written without a table: the ledger's events and their audit
 * entries, chained as the committer chains them, then the aggregate and the projected state at the last.
 */
export async function syntheticExport(config: LedgerConfig, events: number) {
  const directory = mkdtempSync(join(tmpdir(), "bench-export-"));
  const exportTime = new Date().toISOString();
  const { ledger, counters, readModel } = config.tables;
  const chained: CurrentLedgerEvent[] = [];
  let state = { value: config.bounds.min, version: 0, head: GENESIS_HEAD };
  while (chained.length < events) {
    const round = nextEvents(config, state, Math.min(10_000, events - chained.length));
    chained.push(...round.events);
    state = round.next;
  }
  // In Scan-sized pages, so that the files are cut as writeTableExport cuts them (ITEMS_PER_FILE items each).
  const pages = (items: readonly ExportedItem[]) =>
    Array.from({ length: Math.ceil(items.length / 1_000) }, (_, page) =>
      items.slice(page * 1_000, (page + 1) * 1_000),
    );
  const write = (table: string, items: readonly ExportedItem[]) =>
    writeItemsAsExport(pages(items), {
      table,
      directory: join(directory, table),
      region: config.region,
      exportTime,
    });
  await write(ledger, chained.map(asExported));
  const heads = chained.length === 0 ? undefined : headItemsOf(config, chained.at(-1)!);
  await write(counters, heads === undefined ? [] : [asExported(heads.aggregate)]);
  const audit = chained.map((event) => asExported(auditEntryOf(event)));
  await write(readModel, heads === undefined ? audit : [asExported(heads.projected), ...audit]);
  return directory;
}

/** The head a digest of the whole ledger would sign: computed apart, from the export, untimed. */
async function headOf(directory: string, config: LedgerConfig) {
  const hashes: string[] = [];
  for await (const item of exportItems(join(directory, config.tables.ledger))) {
    hashes[Number(item.version?.N) - 1] = item.hash?.S ?? "";
  }
  const root = toHex(treeHash(hashes.map((hash) => leafOfChainHash(hash))));
  return { version: hashes.length, hash: hashes.at(-1) ?? "", root };
}

/**
 * Exports the tables of `config` (a filled ledger), then times the CLI's replay of the export against a head
 * with its Merkle root; wall time and the process's CPU time (the machine may be busy with other work).
 */
export async function timeExportReplay(
  config: LedgerConfig,
  log: (line: string) => void,
): Promise<ExportReplayFigures> {
  log("export replay: exporting the tables…");
  const exportStartedAt = performance.now();
  const { directory, bytes } = await exportTables(config);
  return timeReplayOf(directory, config, { exportMs: performance.now() - exportStartedAt, bytes }, log);
}

/** Times the CLI's replay of the exports under `directory` (then removed) against the head of its ledger. */
async function timeReplayOf(
  directory: string,
  config: LedgerConfig,
  written: { readonly exportMs: number; readonly bytes: number },
  log: (line: string) => void,
): Promise<ExportReplayFigures> {
  const head = await headOf(directory, config);
  log("export replay: replaying from the export…");
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  let scanned = { atMs: startedAt, cpu: cpuBefore };
  const onScanned = () => {
    scanned = { atMs: performance.now(), cpu: process.cpuUsage() };
  };
  const report = await verifyExport({ directory, ...config, trustedHeads: [head], onScanned });
  const cpu = process.cpuUsage(cpuBefore);
  const foldCpu = process.cpuUsage(scanned.cpu);
  const endedAt = performance.now();
  const durationMs = endedAt - startedAt;
  rmSync(directory, { recursive: true, force: true });
  if (!report.ok) throw new Error(`the export replay found violations: ${JSON.stringify(report.problems)}`);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    events: report.events,
    exportMs: written.exportMs,
    exportBytes: written.bytes,
    durationMs,
    eventsPerSecond: (report.events * 1000) / durationMs,
    cpuMs,
    eventsPerCpuSecond: (report.events * 1000) / cpuMs,
    scanMs: scanned.atMs - startedAt,
    foldMs: endedAt - scanned.atMs,
    foldCpuMs: (foldCpu.user + foldCpu.system) / 1000,
    ok: report.ok,
  };
}

/** The export replay bench on exports written directly (syntheticExport), with no DynamoDB Local. */
export async function runSyntheticExportReplayBench(options: {
  readonly events: number;
  readonly log?: (line: string) => void;
}): Promise<ExportReplayFigures> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const config = loadLedgerConfig(benchEnvironment("http://127.0.0.1:1", "bench-export"));
  log(`export replay: writing ${options.events} events and their audit trail as exports…`);
  const startedAt = performance.now();
  const directory = await syntheticExport(config, options.events);
  const exportMs = performance.now() - startedAt;
  const { execFileSync } = await import("node:child_process");
  const bytes = Number(execFileSync("du", ["-sb", directory], { encoding: "utf8" }).split("\t")[0]);
  return timeReplayOf(directory, config, { exportMs, bytes }, log);
}

/** The export replay bench on DynamoDB Local at `endpoint` (or its own, started and stopped here). */
export async function runExportReplayBench(options: {
  readonly endpoint?: string;
  readonly events: number;
  readonly log?: (line: string) => void;
}): Promise<ExportReplayFigures> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const own = options.endpoint === undefined ? await startDynamoDbLocal() : undefined;
  try {
    const config = loadLedgerConfig(benchEnvironment(options.endpoint ?? own!.endpoint, "bench-export"));
    const client = createDocumentClient(config);
    await ensureTables(client, config.tables, config.counterId, config.bounds);
    log(`export replay: writing ${options.events} events and their audit trail…`);
    await seedLedger(client, config, options.events);
    client.destroy();
    return await timeExportReplay(config, log);
  } finally {
    await own?.stop();
  }
}

/** One line of bench/results/export-replay.jsonl: the figures, with what they were measured on. */
function recordLine(figures: ExportReplayFigures, synthetic: boolean): string {
  const [load1] = loadavg();
  return `${JSON.stringify({
    date: new Date().toISOString(),
    machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model.trim(), node: process.version },
    // Other processes on the machine: the wall-clock figure is only as good as this was low.
    loadAverage1m: load1,
    source: synthetic
      ? "synthetic export (seeded items written as exports)"
      : "DynamoDB Local tables exported",
    ...figures,
  })}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      "replay-events": { type: "string", default: "100000" },
      synthetic: { type: "boolean", default: false },
      record: { type: "boolean", default: false },
    },
  });
  const events = Number(values["replay-events"]);
  const run = values.synthetic ? runSyntheticExportReplayBench({ events }) : runExportReplayBench({ events });
  run.then(
    (figures) => {
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
      if (values.record) appendFileSync(RESULTS_FILE, recordLine(figures, values.synthetic));
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
