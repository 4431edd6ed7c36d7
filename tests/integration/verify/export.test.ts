// The auditor's replay from table exports (`npm run verify -- --export DIR`) on DynamoDB Local: sound ledgers,
// written and projected by the real domain and projector, exported in DynamoDB's export layout
// (writeTableExport, as `npm run export` does), verify ok; an export whose lines come in another order is still
// the same ledger (an export has no order), while an export with one event changed, removed or two events'
// versions swapped is refused naming the version, exactly as the table replay names it; signed digests hold an
// export to its history (a rolled-back tail with its aggregate set back is found only against the digest).

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import type { DigestHead } from "../../../contract/schemas";
import { loadDigestSigner } from "../../../local/digests";
import { signDigest, type DigestSigner } from "../../../services/ledger/domain/digest";
import type { LedgerEvent } from "../../../services/ledger/domain/event";
import { leafOfChainHash, toHex, treeHash } from "../../../services/ledger/domain/merkle";
import { dynamoDbClientConfig } from "../../../services/ledger/storage/clients";
import { verifyExport } from "../../../services/ledger/storage/export-replay";
import { verifyLedger } from "../../../services/ledger/storage/replay";
import { writeTableExport, type ExportedItem } from "../../../services/ledger/storage/table-export";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { createTestStore, type TestStore } from "../../support/store";
import { CORRUPTIONS, LENGTH, soundCounter, versionsOf } from "./corruption";

const run = promisify(execFile);
const tsx = resolve("node_modules/.bin/tsx");

let store: TestStore;
let dataDirectory: string;
let signer: DigestSigner;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
  dataDirectory = mkdtempSync(join(tmpdir(), "export-verify-"));
  signer = loadDigestSigner(dataDirectory);
});

/** The three tables exported as DynamoDB does, under a new folder. */
async function exportTables(): Promise<string> {
  const directory = mkdtempSync(join(tmpdir(), "table-export-"));
  const client = new DynamoDBClient(dynamoDbClientConfig(store.config));
  const exportTime = new Date().toISOString();
  const { ledger, counters, readModel } = store.config.tables;
  for (const table of [ledger, counters, readModel]) {
    await writeTableExport(client, {
      table,
      directory: join(directory, table),
      region: "us-east-1",
      exportTime,
    });
  }
  client.destroy();
  return directory;
}

/** Rewrites every data file of one table's export through `change` (the lines' items, in file order). */
function rewriteExport(
  directory: string,
  table: string,
  change: (items: ExportedItem[]) => ExportedItem[],
): void {
  const data = join(directory, table, "data");
  for (const name of readdirSync(data)) {
    const lines = gunzipSync(readFileSync(join(data, name)))
      .toString("utf8")
      .split("\n")
      .filter(Boolean);
    const items = change(lines.map((line) => (JSON.parse(line) as { Item: ExportedItem }).Item));
    writeFileSync(join(data, name), gzipSync(items.map((Item) => `${JSON.stringify({ Item })}\n`).join("")));
  }
}

function versionOf(item: ExportedItem): number {
  return Number(item.version?.N);
}

function ofCounter(item: ExportedItem, counterId: string): boolean {
  return item.counterId?.S === counterId;
}

function verifyFrom(directory: string, counterId: string, trustedHeads: DigestHead[] = []) {
  return verifyExport({
    directory,
    tables: store.config.tables,
    counterId,
    bounds: store.config.bounds,
    trustedHeads,
  });
}

function headAt(counterId: string, events: readonly LedgerEvent[], version: number): DigestHead {
  const hashes = events.slice(0, version).map((event) => ("hash" in event ? event.hash : ""));
  const root = toHex(treeHash(hashes.map((hash) => leafOfChainHash(hash))));
  return { counterId, version, hash: hashes.at(-1)!, root, at: "2026-06-01T00:00:00.000Z" };
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(script: string, counterId: string, args: readonly string[]): Promise<Outcome> {
  const env = { ...process.env, ...store.environment, COUNTER_ID: counterId, DATA_DIR: dataDirectory };
  try {
    const { stdout, stderr } = await run(tsx, [script, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as Outcome;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("verify from a table export", () => {
  it("reports a sound, projected ledger's export exactly as the tables' replay reports it", async () => {
    const { counterId } = await soundCounter(store, { length: LENGTH, prefix: "export" });
    const fromExport = await verifyFrom(await exportTables(), counterId);
    const fromTables = await verifyLedger({
      ...store,
      tables: store.config.tables,
      counterId,
      bounds: store.config.bounds,
    });
    expect(fromExport).toMatchObject({ ok: true, events: LENGTH, problems: [], auditTrailChecked: true });
    const comparable = ({ durationMs: _, ...rest }: { durationMs: number }) => rest;
    const { checkedFrom: _f, checkedTo: _t, more: _m, ...tablesReport } = fromTables;
    const { exportTime: _e, auditTrailChecked: _a, ...exportReport } = fromExport;
    expect(comparable(exportReport)).toEqual(comparable(tablesReport));
  });

  it("reads an export's lines in any order: the same ledger is sound", async () => {
    const { counterId } = await soundCounter(store, { prefix: "export" });
    const directory = await exportTables();
    rewriteExport(directory, store.config.tables.ledger, (items) =>
      [...items].sort((left, right) => versionOf(right) - versionOf(left)),
    );
    expect(await verifyFrom(directory, counterId)).toMatchObject({ ok: true, events: LENGTH });
  });

  it.each([
    [
      "an event changed",
      5,
      (items: ExportedItem[]) =>
        items.map((item) => (versionOf(item) === 5 ? { ...item, delta: { N: "-1" } } : item)),
      "deltaInvalid",
    ],
    [
      "an event removed",
      4,
      (items: ExportedItem[]) => items.filter((item) => versionOf(item) !== 4),
      "versionGap",
    ],
    [
      "two events swapped",
      3,
      (items: ExportedItem[]) =>
        items.map((item) => {
          const version = versionOf(item);
          return version === 3 || version === 4 ? { ...item, version: { N: String(7 - version) } } : item;
        }),
      "hashMismatch",
    ],
  ] as const)("refuses an export with %s, naming version %i", async (_, version, change, kind) => {
    const { counterId } = await soundCounter(store, { prefix: "export" });
    const directory = await exportTables();
    rewriteExport(directory, store.config.tables.ledger, (items) => [
      ...items.filter((item) => !ofCounter(item, counterId)),
      ...change(items.filter((item) => ofCounter(item, counterId))),
    ]);
    const report = await verifyFrom(directory, counterId);
    expect(report.ok).toBe(false);
    expect(versionsOf(report, kind)).toContain(version);
  });

  it("names the same versions as the tables' replay for the tables' own corruptions", async () => {
    for (const [name, corrupt] of Object.entries(CORRUPTIONS)) {
      const { counterId, events } = await soundCounter(store, { prefix: "export" });
      await corrupt(store, counterId, events);
      const fromTables = await verifyLedger({
        ...store,
        tables: store.config.tables,
        counterId,
        bounds: store.config.bounds,
      });
      const fromExport = await verifyFrom(await exportTables(), counterId);
      expect(fromTables.problems.length, name).toBeGreaterThan(0);
      expect(fromExport.problems, name).toEqual(fromTables.problems);
    }
  });
});

describe("npm run export, then npm run verify -- --export", () => {
  it("proves an export against a signed digest, and finds a rolled-back tail only against the digest", async () => {
    // Projected up to the rolled-back version: the forger need not touch the audit trail.
    const { counterId, events } = await soundCounter(store, { prefix: "export", projectedUpTo: LENGTH - 2 });
    const head = headAt(counterId, events, LENGTH);
    const digest = join(mkdtempSync(join(tmpdir(), "export-digest-")), "digest.json");
    writeFileSync(digest, `${JSON.stringify({ digest: await signDigest(head, signer), head })}\n`);
    const out = join(mkdtempSync(join(tmpdir(), "export-cli-")), "export");
    expect((await cli("scripts/export.ts", counterId, ["--out", out])).code).toBe(0);

    const sound = await cli("scripts/verify.ts", counterId, ["--export", out, "--digest", digest]);
    expect(sound.stdout).toMatch(new RegExp(`Proven: .* version ${LENGTH}`));
    expect(sound.code).toBe(0);

    // The rollback: the last two events gone from the ledger's export, the aggregate set back to match.
    const kept = events[LENGTH - 3]!;
    rewriteExport(out, store.config.tables.ledger, (items) =>
      items.filter((item) => !ofCounter(item, counterId) || versionOf(item) <= LENGTH - 2),
    );
    rewriteExport(out, store.config.tables.counters, (items) =>
      items.map((item) =>
        ofCounter(item, counterId)
          ? {
              ...item,
              value: { N: String(kept.valueAfter) },
              version: { N: String(LENGTH - 2) },
              lastEventId: { S: kept.eventId },
              headVersion: { N: String(LENGTH - 2) },
              headHash: { S: "hash" in kept ? kept.hash : "" },
            }
          : item,
      ),
    );
    // Alone, the rolled-back export is a sound ledger (read in-process: three child processes are enough here).
    expect(await verifyFrom(out, counterId)).toMatchObject({ ok: true, events: LENGTH - 2 });
    const against = await cli("scripts/verify.ts", counterId, [
      "--export",
      out,
      "--digest",
      digest,
      "--json",
    ]);
    expect(against.code).toBe(1);
    const report = JSON.parse(against.stdout) as { problems: { kind: string; version?: number }[] };
    expect(versionsOf(report, "rolledBack")).toEqual([LENGTH - 1]);
  });

  it("refuses a folder without the ledger's export, saying which table is missing (exit 2)", async () => {
    const outcome = await cli("scripts/verify.ts", "any", [
      "--export",
      mkdtempSync(join(tmpdir(), "empty-")),
    ]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(new RegExp(`holds no export of table ${store.config.tables.ledger}`));
  });
});
