// A DynamoDB table export in S3's documented layout (ExportTableToPointInTime, output format DYNAMODB_JSON;
// docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html), read from a local copy:
// `manifest-summary.json` (the table's ARN, the export time, the item count), `manifest-files.json` (one JSON
// object a line, each naming a data file by its S3 key) and `data/*.json.gz`, gzipped lines of
// `{"Item": {...DynamoDB JSON...}}` in no particular order. The reader streams the files (gunzip, one line at
// a time); the writer makes the same layout from a Scan, for DynamoDB Local, which has no export.

import { createReadStream, createWriteStream, existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import { createHash, randomUUID } from "node:crypto";
import { ScanCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";

export type ExportedItem = Record<string, AttributeValue>;

/** The fields of manifest-summary.json this project reads or writes. */
export interface ExportSummary {
  readonly version: string;
  readonly exportArn: string;
  readonly tableArn: string;
  readonly exportTime: string;
  readonly itemCount: number;
  readonly outputFormat: string;
  readonly exportType?: string;
  readonly manifestFilesS3Key: string;
  readonly [field: string]: unknown;
}

/** One line of manifest-files.json. */
interface ExportFileEntry {
  readonly itemCount: number;
  readonly md5Checksum: string;
  readonly dataFileS3Key: string;
}

export const SUMMARY_FILE = "manifest-summary.json";
const FILES_MANIFEST = "manifest-files.json";
/** How deep below the given folder exports are looked for (an `aws s3 sync` copy keeps AWSDynamoDB/<id>/). */
const EXPORT_SEARCH_DEPTH = 4;

/** An export that cannot be read as one: exit 2 of the CLI, with this sentence. */
export class ExportFormatError extends Error {}

/** The table name in a table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>). */
export function tableNameOfArn(tableArn: string): string {
  const match = /:table\/([^/]+)$/.exec(tableArn);
  if (match?.[1] === undefined) throw new ExportFormatError(`"${tableArn}" is not a table ARN`);
  return match[1];
}

/** The folders at or below `directory` that hold an export's manifest-summary.json. */
export function findExports(directory: string, depth = EXPORT_SEARCH_DEPTH): string[] {
  if (existsSync(join(directory, SUMMARY_FILE))) return [directory];
  if (depth === 0 || !statSync(directory).isDirectory()) return [];
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== "data")
    .flatMap((entry) => findExports(join(directory, entry.name), depth - 1));
}

export async function readExportSummary(directory: string): Promise<ExportSummary> {
  const summary = JSON.parse(await readFile(join(directory, SUMMARY_FILE), "utf8")) as ExportSummary;
  if (typeof summary.tableArn !== "string" || typeof summary.exportTime !== "string") {
    throw new ExportFormatError(`${join(directory, SUMMARY_FILE)} names no tableArn or exportTime`);
  }
  if (summary.outputFormat !== "DYNAMODB_JSON") {
    throw new ExportFormatError(`the export in ${directory} is ${summary.outputFormat}, not DYNAMODB_JSON`);
  }
  if (summary.exportType !== undefined && summary.exportType !== "FULL_EXPORT") {
    throw new ExportFormatError(`the export in ${directory} is ${summary.exportType}, not a full export`);
  }
  return summary;
}

/** The data files of an export, from manifest-files.json: each found by its name under `<export>/data/`. */
export async function dataFilesOf(directory: string): Promise<string[]> {
  const lines = (await readFile(join(directory, FILES_MANIFEST), "utf8")).split("\n");
  return lines
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const entry = JSON.parse(line) as Partial<ExportFileEntry>;
      if (typeof entry.dataFileS3Key !== "string") {
        throw new ExportFormatError(`${join(directory, FILES_MANIFEST)} has a line without dataFileS3Key`);
      }
      return join(directory, "data", basename(entry.dataFileS3Key));
    });
}

/** The lines of a gzipped file, streamed: split by hand, which is several times faster than readline. */
async function* gzipLines(file: string): AsyncGenerator<string> {
  let rest = "";
  const text = createReadStream(file).pipe(createGunzip({ chunkSize: 1 << 20 }));
  // A decoding stream: a character split between two chunks is joined, not mangled.
  text.setEncoding("utf8");
  for await (const chunk of text) {
    const lines = (rest + (chunk as string)).split("\n");
    rest = lines.pop() ?? "";
    yield* lines;
  }
  if (rest !== "") yield rest;
}

/** Every item of an export with its line, in the files' order (no order to rely on), streamed. */
export async function* exportLines(directory: string): AsyncGenerator<{ item: ExportedItem; line: string }> {
  for (const file of await dataFilesOf(directory)) {
    for await (const line of gzipLines(file)) {
      if (line === "") continue;
      yield { item: itemOfLine(line, file), line };
    }
  }
}

/** The item of one line of a data file. */
export function itemOfLine(line: string, file = "the export"): ExportedItem {
  const { Item } = JSON.parse(line) as { Item?: ExportedItem };
  if (Item === undefined) throw new ExportFormatError(`${file} has a line that is not {"Item": …}`);
  return Item;
}

/** Every item of an export, in the files' order. */
export async function* exportItems(directory: string): AsyncGenerator<ExportedItem> {
  for await (const { item } of exportLines(directory)) yield item;
}

/** Items per data file of a written export. */
const ITEMS_PER_FILE = 50_000;

async function writeDataFile(
  dataDirectory: string,
  items: readonly ExportedItem[],
): Promise<ExportFileEntry> {
  const name = `${randomUUID().replaceAll("-", "")}.json.gz`;
  const path = join(dataDirectory, name);
  const text = items.map((item) => `${JSON.stringify({ Item: item })}\n`).join("");
  await pipeline(Readable.from([text]), createGzip(), createWriteStream(path));
  const md5Checksum = createHash("md5")
    .update(await readFile(path))
    .digest("base64");
  return { itemCount: items.length, md5Checksum, dataFileS3Key: `AWSDynamoDB/local/data/${name}` };
}

/**
 * Writes a table's items as a DynamoDB export under `directory` (manifest-summary.json, manifest-files.json,
 * data/*.json.gz), in the order a Scan returns them: what ExportTableToPointInTime gives on AWS, for
 * DynamoDB Local. Not a point-in-time copy: it reads the table as it is during the scan.
 */
export async function writeTableExport(
  client: Pick<DynamoDBClient, "send">,
  options: ExportWriteOptions,
): Promise<ExportSummary> {
  async function* scanned(): AsyncGenerator<readonly ExportedItem[]> {
    let startKey: ExportedItem | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: options.table, ExclusiveStartKey: startKey, ConsistentRead: true }),
      );
      yield page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }
  return writeItemsAsExport(scanned(), options);
}

export interface ExportWriteOptions {
  readonly table: string;
  readonly directory: string;
  readonly region: string;
  /** The export time the summary names: one for every table of one export run. */
  readonly exportTime: string;
}

/**
 * Writes items, given a batch at a time, as a DynamoDB export of `options.table` under `options.directory`
 * (the layout writeTableExport writes from a Scan): data files of ITEMS_PER_FILE items, then the manifests.
 */
export async function writeItemsAsExport(
  batches: AsyncIterable<readonly ExportedItem[]> | Iterable<readonly ExportedItem[]>,
  options: ExportWriteOptions,
): Promise<ExportSummary> {
  const startTime = new Date().toISOString();
  const dataDirectory = join(options.directory, "data");
  await mkdir(dataDirectory, { recursive: true });
  const files: ExportFileEntry[] = [];
  let pending: ExportedItem[] = [];
  let itemCount = 0;
  for await (const batch of batches) {
    pending.push(...batch);
    itemCount += batch.length;
    if (pending.length >= ITEMS_PER_FILE) {
      files.push(await writeDataFile(dataDirectory, pending));
      pending = [];
    }
  }
  if (pending.length > 0) files.push(await writeDataFile(dataDirectory, pending));
  const tableArn = `arn:aws:dynamodb:${options.region}:000000000000:table/${options.table}`;
  const summary: ExportSummary = {
    version: "2020-06-30",
    exportArn: `${tableArn}/export/${Date.now()}-local`,
    startTime,
    endTime: new Date().toISOString(),
    tableArn,
    exportTime: options.exportTime,
    itemCount,
    outputFormat: "DYNAMODB_JSON",
    exportType: "FULL_EXPORT",
    manifestFilesS3Key: `AWSDynamoDB/local/${FILES_MANIFEST}`,
  };
  await writeFile(
    join(options.directory, FILES_MANIFEST),
    files.map((file) => `${JSON.stringify(file)}\n`).join(""),
  );
  await writeFile(join(options.directory, SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
