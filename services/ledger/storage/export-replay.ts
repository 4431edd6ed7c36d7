// The auditor's replay from table exports instead of the tables (docs/runbook.md#verifying-from-a-table-export):
// the ledger's export (required), the counters' (required: the aggregate) and the read model's (optional: the
// audit trail and the projected state, I5), taken at one export time. It feeds the very fold the table replay
// feeds (services/ledger/domain/verification.ts) in the same order — the ledger's items of the counter in
// version order, as the byVersion index serves them, each after the audit entries it joins, then the
// aggregate, then the audit entries left — so a report from an export is the report the tables would give at
// the export's time: the chain, the Merkle root and every digest included. An export's lines come in no order,
// so the ledger's items are held and sorted by version (about half a kilobyte each) before the fold. The data
// files are gunzipped, parsed and unmarshalled in worker threads, a file to a worker (export-scan.ts); the fold,
// which needs version order, runs here.

import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { Bounds } from "../domain/decider";
import { PROJECTION_LAG_GRACE_MS } from "../domain/limits";
import { LedgerCheck, type TrustedHead, type VerificationReport } from "../domain/verification";
import { itemOfScanned, scanExportFiles, type ScannedFile } from "./export-scan";
import {
  dataFilesOf,
  ExportFormatError,
  exportItems,
  findExports,
  readExportSummary,
  tableNameOfArn,
  type ExportedItem,
  type ExportSummary,
} from "./table-export";
import { COUNTERS, LEDGER, READ_MODEL, type TableNames } from "./tables";

type Item = Record<string, unknown>;

export interface ExportReplayOptions {
  /** A folder holding the exports (each a folder with manifest-summary.json), at any depth up to four. */
  readonly directory: string;
  readonly tables: TableNames;
  readonly counterId: string;
  readonly bounds: Bounds;
  readonly trustedHeads?: readonly TrustedHead[];
  readonly onProgress?: (progress: { eventsRead: number; eventsExpected: number }) => void;
  /** Called once the data files are scanned (in worker threads), before the fold: for the bench's split of times. */
  readonly onScanned?: () => void;
}

export interface ExportReport extends VerificationReport {
  /** The export time the exports share. */
  readonly exportTime: string;
  /** The read model was exported too: I5 was checked. */
  readonly auditTrailChecked: boolean;
}

/** The exports under the folder, by which of the three tables each is (its ARN's table name). */
async function exportsByTable(directory: string, tables: TableNames) {
  const found = new Map<string, { directory: string; summary: ExportSummary }>();
  for (const exportDirectory of findExports(directory)) {
    const summary = await readExportSummary(exportDirectory);
    found.set(tableNameOfArn(summary.tableArn), { directory: exportDirectory, summary });
  }
  const ledger = found.get(tables.ledger);
  const counters = found.get(tables.counters);
  if (ledger === undefined || counters === undefined) {
    const missing = ledger === undefined ? tables.ledger : tables.counters;
    throw new ExportFormatError(
      `${directory} holds no export of table ${missing} (found: ${[...found.keys()].join(", ") || "none"})`,
    );
  }
  const readModel = found.get(tables.readModel);
  const times = new Set([ledger, counters, readModel].flatMap((entry) => entry?.summary.exportTime ?? []));
  if (times.size > 1) {
    throw new ExportFormatError(
      `the exports were taken at different times (${[...times].join(", ")}): export every table at one --export-time`,
    );
  }
  return { ledger, counters, readModel, exportTime: ledger.summary.exportTime };
}

function isCounters(item: ExportedItem, key: string, counterId: string): boolean {
  return item[key]?.S === counterId;
}

/**
 * An item kept as text (plain JSON, or its line of the export: export-scan.ts), parsed when the fold takes it:
 * held strings cost the collector far less than held objects.
 */
interface HeldItem {
  readonly order: number;
  readonly text: string;
  readonly plain: boolean;
}

function byOrder(left: HeldItem, right: HeldItem): number {
  return left.order - right.order;
}

function parsed(held: HeldItem): Item {
  return itemOfScanned(held.text, held.plain);
}

/**
 * The counter's ledger items as the byVersion index holds them (a numeric version and this counterId: the
 * index is sparse), in version order, from the scanned data files (in the manifest's order).
 */
function ledgerInVersionOrder(files: readonly ScannedFile[]): HeldItem[] {
  const held: HeldItem[] = [];
  for (const { keys, texts, plain } of files) {
    for (const [index, version] of keys.entries()) {
      if (version !== undefined)
        held.push({ order: Number(version), text: texts[index]!, plain: plain[index]! });
    }
  }
  return held.sort(byOrder);
}

/** The counter's projected state and audit entries (entries ≥ 1, in version order) of a scanned read model. */
function readModelOf(files: readonly ScannedFile[]) {
  const entries: HeldItem[] = [];
  let projected: Item | undefined;
  for (const { keys, texts, plain } of files) {
    for (const [index, key] of keys.entries()) {
      const entry = Number(key);
      const held = { order: entry, text: texts[index]!, plain: plain[index]! };
      if (entry === READ_MODEL.stateEntry) projected = parsed(held);
      else if (entry > READ_MODEL.stateEntry) entries.push(held);
    }
  }
  return { projected, entries: entries.sort(byOrder) };
}

/**
 * The data files of the read model's export (if any) and the ledger's, scanned in worker threads
 * (export-scan.ts) for the counter's lines: the read model's first, as their results are taken in that order.
 */
async function scanned(readModel: string | undefined, ledger: string, counterId: string) {
  const readModelFiles = readModel === undefined ? [] : await dataFilesOf(readModel);
  const ledgerFiles = await dataFilesOf(ledger);
  const { partitionKey, sortKey } = LEDGER.byVersionIndex;
  const readModelSelection = {
    partitionKey: READ_MODEL.partitionKey,
    sortKey: READ_MODEL.sortKey,
    counterId,
  };
  const files = await scanExportFiles([
    ...readModelFiles.map((file) => ({ file, selection: readModelSelection })),
    ...ledgerFiles.map((file) => ({ file, selection: { partitionKey, sortKey, counterId } })),
  ]);
  return {
    readModel: readModelOf(files.slice(0, readModelFiles.length)),
    ledger: ledgerInVersionOrder(files.slice(readModelFiles.length)),
  };
}

async function aggregateOf(directory: string, counterId: string): Promise<Item | undefined> {
  for await (const item of exportItems(directory)) {
    if (isCounters(item, COUNTERS.partitionKey, counterId)) return unmarshall(item);
  }
  return undefined;
}

/** Feeds the fold as replay.ts's feedLedger does: each ledger item after the audit entries up to its version. */
function feed(
  check: LedgerCheck,
  ledger: readonly HeldItem[],
  audit: readonly HeldItem[],
  options: ExportReplayOptions,
) {
  let next = 0;
  for (const [index, held] of ledger.entries()) {
    const item = parsed(held);
    const joinVersion = Number.isSafeInteger(item.version) ? (item.version as number) : undefined;
    while (joinVersion !== undefined && next < audit.length && audit[next]!.order <= joinVersion) {
      check.auditEntry(audit[next]!.order, parsed(audit[next]!));
      next++;
    }
    check.event(item);
    if (index % 10_000 === 9_999)
      options.onProgress?.({ eventsRead: index + 1, eventsExpected: ledger.length });
  }
  return next;
}

/** Replays the counter's ledger from its exports and checks what the table replay checks, at the export's time. */
export async function verifyExport(options: ExportReplayOptions): Promise<ExportReport> {
  const startedAtMs = Date.now();
  const { counterId, bounds } = options;
  const exports = await exportsByTable(options.directory, options.tables);
  const { readModel, ledger } = await scanned(
    exports.readModel?.directory,
    exports.ledger.directory,
    counterId,
  );
  const check = new LedgerCheck(
    {
      counterId,
      bounds,
      // An audit entry missing at the export's time, committed long enough before it, is a violation.
      nowMs: Date.parse(exports.exportTime),
      lagGraceMs: PROJECTION_LAG_GRACE_MS,
      trustedHeads: options.trustedHeads,
    },
    readModel.projected,
  );
  options.onScanned?.();
  const next = feed(check, ledger, readModel.entries, options);
  check.aggregate(await aggregateOf(exports.counters.directory, counterId));
  check.endLedger();
  for (const entry of readModel.entries.slice(next)) check.auditEntry(entry.order, parsed(entry));
  const report = check.report(Date.now() - startedAtMs);
  return { ...report, exportTime: exports.exportTime, auditTrailChecked: exports.readModel !== undefined };
}
