// The first pass of the replay from table exports (services/ledger/storage/export-replay.ts), in worker threads:
// each data file of an export is gunzipped, split into lines and parsed in a worker of its own (a few at a time),
// which hands back the items of one counter with their sort key, unmarshalled into plain JSON where that carries them
// unchanged (else as their lines) — the part of the replay that needs no order, and
// so the part that runs on every core (docs/runbook.md#verifying-from-a-table-export). The ordered fold stays in
// the calling thread. The worker is plain JavaScript evaluated from a string, so that it runs the same under
// tsx, vitest and a bundle, and reads nothing of the project: it knows only the export's line format
// (`{"Item": {...DynamoDB JSON...}}`, services/ledger/storage/table-export.ts).

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { ExportFormatError, itemOfLine } from "./table-export";

/** What to keep of an export's lines: those whose `partitionKey` is the string `counterId`. */
export interface LineSelection {
  readonly partitionKey: string;
  readonly counterId: string;
  /** The numeric attribute handed back with each line kept (its `N` text; undefined when it has none). */
  readonly sortKey: string;
}

/**
 * The items of one data file kept by a selection, in the file's order, each with its sort key's text: an item
 * as plain JSON of what unmarshall makes of it (`plain`), or, where that JSON could not carry it unchanged, as
 * its line of the export, to be unmarshalled by the caller (itemOfScanned).
 */
export interface ScannedFile {
  readonly keys: readonly (string | undefined)[];
  readonly texts: readonly string[];
  readonly plain: readonly boolean[];
}

/** A scanned item, as `unmarshall(itemOfLine(line))` reads its line. */
export function itemOfScanned(text: string, plain: boolean): Record<string, unknown> {
  return plain ? (JSON.parse(text) as Record<string, unknown>) : unmarshall(itemOfLine(text));
}

/** Data files scanned at once: one per core, at most this many. */
const SCAN_WORKERS_MAX = 4;

/** Items a worker hands on at once. */
const SCAN_BATCH_ITEMS = 10_000;

/**
 * The worker: for each task (a file and a selection), the kept lines and their keys, or the error that stopped
 * it, as `exportLines` and `itemOfLine` (table-export.ts) would throw it: a line that is not `{"Item": …}` is an
 * ExportFormatError naming the file, a line that is not JSON a SyntaxError.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const UNSURE = Symbol("unsure");
// An attribute value as unmarshall (@aws-sdk/util-dynamodb) reads it, for the types whose value survives
// JSON.stringify and JSON.parse unchanged; UNSURE for any other (sets, binary, -0, numbers beyond the safe
// integers, a map key __proto__), which the calling thread then unmarshalls itself from the line.
const plainOf = (value) => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return UNSURE;
  const types = Object.keys(value);
  if (types.length !== 1) return UNSURE;
  const inner = value[types[0]];
  switch (types[0]) {
    case "S":
      return typeof inner === "string" ? inner : UNSURE;
    case "N": {
      if (typeof inner !== "string") return UNSURE;
      const number = Number(inner);
      const safe = Number.isFinite(number) && !Object.is(number, -0);
      return safe && number <= Number.MAX_SAFE_INTEGER && number >= Number.MIN_SAFE_INTEGER ? number : UNSURE;
    }
    case "BOOL":
      return typeof inner === "boolean" ? inner : UNSURE;
    case "NULL":
      return inner === true ? null : UNSURE;
    case "L": {
      if (!Array.isArray(inner)) return UNSURE;
      const list = [];
      for (const member of inner) {
        const plain = plainOf(member);
        if (plain === UNSURE) return UNSURE;
        list.push(plain);
      }
      return list;
    }
    case "M":
      return mapOf(inner);
    default:
      return UNSURE;
  }
};
const mapOf = (map) => {
  if (typeof map !== "object" || map === null || Array.isArray(map)) return UNSURE;
  const plain = {};
  for (const key of Object.keys(map)) {
    if (key === "__proto__") return UNSURE;
    const member = plainOf(map[key]);
    if (member === UNSURE) return UNSURE;
    plain[key] = member;
  }
  return plain;
};
const { createReadStream } = require("node:fs");
const { createGunzip } = require("node:zlib");
parentPort.on("message", (task) => {
  let keys = [];
  let texts = [];
  let plain = [];
  // Handed on in batches: no string grows past V8's limit, however large the file.
  const flush = () => {
    parentPort.postMessage({ id: task.id, done: false, keys, texts: texts.join("\\n"), plain });
    keys = [];
    texts = [];
    plain = [];
  };
  let rest = "";
  let done = false;
  const finish = (message) => {
    if (done) return;
    done = true;
    parentPort.postMessage(message);
  };
  const take = (line) => {
    if (line === "") return;
    const { Item } = JSON.parse(line);
    if (Item === undefined) {
      const error = new Error(task.file + ' has a line that is not {"Item": …}');
      error.name = "ExportFormatError";
      throw error;
    }
    if (Item[task.partitionKey]?.S !== task.counterId) return;
    keys.push(Item[task.sortKey]?.N);
    const item = mapOf(Item);
    plain.push(item !== UNSURE);
    texts.push(item === UNSURE ? line : JSON.stringify(item));
    if (keys.length >= ${SCAN_BATCH_ITEMS}) flush();
  };
  const source = createReadStream(task.file);
  const text = source.pipe(createGunzip({ chunkSize: 1 << 20 }));
  text.setEncoding("utf8");
  const fail = (error) => {
    source.destroy();
    text.destroy();
    finish({ id: task.id, done: true, error: { name: error?.name, message: String(error?.message ?? error), code: error?.code } });
  };
  source.on("error", fail);
  text.on("error", fail);
  text.on("data", (chunk) => {
    if (done) return;
    try {
      const parts = (rest + chunk).split("\\n");
      rest = parts.pop();
      for (const line of parts) take(line);
    } catch (error) {
      fail(error);
    }
  });
  text.on("end", () => {
    if (done) return;
    try {
      if (rest !== "") take(rest);
    } catch (error) {
      fail(error);
      return;
    }
    // One string rather than thousands: a text never holds a newline (JSON.stringify escapes it; a line has none).
    finish({ id: task.id, done: true, keys, texts: texts.join("\\n"), plain });
  });
});
`;

interface ScanTask extends LineSelection {
  readonly id: number;
  readonly file: string;
}

interface ScanReply {
  readonly id: number;
  /** The file's last batch (or its error); earlier batches are `done: false`. */
  readonly done: boolean;
  readonly keys?: (string | undefined)[];
  readonly texts?: string;
  readonly plain?: boolean[];
  readonly error?: { readonly name?: string; readonly message: string; readonly code?: string };
}

/** The error a worker reported, as the thread that read the file itself would have thrown it. */
function errorOf(reported: NonNullable<ScanReply["error"]>): Error {
  if (reported.name === "ExportFormatError") return new ExportFormatError(reported.message);
  const error: Error & { code?: string } =
    reported.name === "SyntaxError" ? new SyntaxError(reported.message) : new Error(reported.message);
  if (reported.code !== undefined) error.code = reported.code;
  return error;
}

/**
 * Scans data files in worker threads, a few at once: answers, per file in the order given, the lines the
 * selection keeps. Every file is scanned whole; the first file (in that order) that could not be read rejects.
 */
export async function scanExportFiles(
  files: readonly { readonly file: string; readonly selection: LineSelection }[],
): Promise<ScannedFile[]> {
  if (files.length === 0) return [];
  const size = Math.max(1, Math.min(availableParallelism(), SCAN_WORKERS_MAX, files.length));
  const workers = Array.from({ length: size }, () => new Worker(WORKER_SOURCE, { eval: true }));
  const replies = new Map<number, ScanReply[]>();
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = (): void => {
              const id = next++;
              const entry = files[id];
              if (entry === undefined) return resolve();
              worker.postMessage({ id, file: entry.file, ...entry.selection } satisfies ScanTask);
            };
            worker.on("message", (reply: ScanReply) => {
              replies.set(reply.id, [...(replies.get(reply.id) ?? []), reply]);
              if (reply.done) send();
            });
            worker.on("error", reject);
            worker.on("exit", (code) => reject(new Error(`an export scan worker stopped (exit ${code})`)));
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return files.map((_, id) => scannedFileOf(replies.get(id) ?? []));
}

/** A file's batches joined, or the error that stopped its scan. */
function scannedFileOf(batches: readonly ScanReply[]): ScannedFile {
  const file = { keys: [] as (string | undefined)[], texts: [] as string[], plain: [] as boolean[] };
  for (const batch of batches) {
    if (batch.error !== undefined) throw errorOf(batch.error);
    const keys = batch.keys ?? [];
    if (keys.length === 0) continue;
    file.keys.push(...keys);
    file.texts.push(...(batch.texts ?? "").split("\n"));
    file.plain.push(...(batch.plain ?? []));
  }
  return file;
}
