// The replay's first pass over table exports in worker threads (services/ledger/storage/export-scan.ts), on real
// gzipped data files written here: for arbitrary DynamoDB JSON items — every attribute type, numbers JSON cannot
// carry (-0, beyond the safe integers, not numbers at all), a map key __proto__ — of this counter and others, it
// keeps exactly this counter's items, in each file's order, with their sort key, and each reads back as what
// unmarshall (@aws-sdk/util-dynamodb) makes of its line (or is handed back as that line, which the caller
// unmarshalls as before, where plain JSON could not carry it unchanged); a line that is not
// {"Item": …}, one that is not JSON and a missing file are refused as the thread reading them would refuse them.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { gzipSync } from "node:zlib";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { itemOfScanned, scanExportFiles } from "../../../services/ledger/storage/export-scan";
import { ExportFormatError, type ExportedItem } from "../../../services/ledger/storage/table-export";

const SELECTION = { partitionKey: "counterId", sortKey: "version", counterId: "mine" };

const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom("-0", "0", "1e400", "-1e400", "9007199254740993", "1.5e300", "abc", "", " 7", "0x10"),
);

const attributeValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.record({ S: fc.string({ unit: "grapheme" }) }),
    fc.record({ N: numberText }),
    fc.record({ BOOL: fc.boolean() }),
    fc.record({ NULL: fc.constantFrom(true, false) }),
    fc.record({ B: fc.base64String() }),
    fc.record({ SS: fc.array(fc.string()) }),
    fc.record({ NS: fc.array(numberText) }),
    fc.record({ L: fc.array(tie("value"), { maxLength: 3 }) }),
    fc.record({
      M: fc.dictionary(fc.oneof(fc.string(), fc.constant("__proto__")), tie("value"), { maxKeys: 3 }),
    }),
  ),
})).value;

const item = fc.record({
  counterId: fc.oneof(fc.constant({ S: "mine" }), fc.constant({ S: "other" }), fc.constant({ N: "1" })),
  version: fc.option(fc.oneof(fc.record({ N: numberText }), fc.record({ N: fc.integer() })), {
    nil: undefined,
  }),
  rest: fc.dictionary(fc.string(), attributeValue, { maxKeys: 4 }),
});

type GeneratedItem = typeof item extends fc.Arbitrary<infer T> ? T : never;

function exportItemOf({ counterId, version, rest }: GeneratedItem): ExportedItem {
  const fields: Record<string, unknown> = { ...rest, counterId };
  if (version !== undefined) fields.version = version;
  return fields as ExportedItem;
}

function isMine({ counterId }: GeneratedItem): boolean {
  return "S" in counterId && counterId.S === "mine";
}

function dataFile(directory: string, name: string, lines: readonly string[]): string {
  const file = join(directory, name);
  writeFileSync(file, gzipSync(lines.map((line) => `${line}\n`).join("")));
  return file;
}

/** What the thread reading the line itself makes of it: the item, or the error it throws. */
function unmarshalled(line: string): { item?: unknown; error?: string } {
  try {
    return { item: unmarshall((JSON.parse(line) as { Item: ExportedItem }).Item) };
  } catch (error) {
    return { error: String(error) };
  }
}

function read(text: string, plain: boolean): { item?: unknown; error?: string } {
  try {
    return { item: itemOfScanned(text, plain) };
  } catch (error) {
    return { error: String(error) };
  }
}

describe("the export's first pass in worker threads", () => {
  it("keeps this counter's items in file order, each read back as unmarshall reads its line", async () => {
    const directory = mkdtempSync(join(tmpdir(), "export-scan-"));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(item, { maxLength: 30 }), { minLength: 1, maxLength: 3 }),
        async (files) => {
          const lines = files.map((items) =>
            items.map((each) => JSON.stringify({ Item: exportItemOf(each) })),
          );
          const paths = lines.map((fileLines, index) => dataFile(directory, `${index}.json.gz`, fileLines));
          const scanned = await scanExportFiles(paths.map((file) => ({ file, selection: SELECTION })));
          for (const [index, fileLines] of lines.entries()) {
            const kept = fileLines.filter((_, at) => isMine(files[index]![at]!));
            const { keys, texts, plain } = scanned[index]!;
            expect(texts).toHaveLength(kept.length);
            for (const [at, line] of kept.entries()) {
              const expected = (JSON.parse(line) as { Item: ExportedItem }).Item.version?.N;
              expect(keys[at]).toStrictEqual(expected);
              if (plain[at] === true) {
                const same = isDeepStrictEqual(read(texts[at]!, true), unmarshalled(line));
                expect(same, `${line} read as ${texts[at]}`).toBe(true);
              } else {
                // An item JSON cannot carry comes back as its very line, which the caller unmarshalls as before.
                expect(texts[at]).toBe(line);
              }
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("hands on a file of tens of thousands of items whole and in order, across its batches", async () => {
    const directory = mkdtempSync(join(tmpdir(), "export-scan-"));
    const lines = Array.from({ length: 25_001 }, (_, index) =>
      JSON.stringify({
        Item: { counterId: { S: index % 5 === 0 ? "other" : "mine" }, version: { N: String(index) } },
      }),
    );
    const file = dataFile(directory, "large.json.gz", lines);
    const [scanned] = await scanExportFiles([{ file, selection: SELECTION }]);
    const mine = Array.from({ length: 25_001 }, (_, index) => index).filter((index) => index % 5 !== 0);
    expect(scanned!.keys).toStrictEqual(mine.map(String));
    expect(scanned!.texts.map((text) => (JSON.parse(text) as { version: number }).version)).toStrictEqual(
      mine,
    );
    expect(scanned!.plain.every((plain) => plain)).toBe(true);
  });

  it("refuses a line that is not an item, one that is not JSON, and a file that is not there", async () => {
    const directory = mkdtempSync(join(tmpdir(), "export-scan-"));
    const good = JSON.stringify({ Item: { counterId: { S: "mine" }, version: { N: "1" } } });
    const notItem = dataFile(directory, "not-item.json.gz", [good, JSON.stringify({ Other: {} })]);
    const notJson = dataFile(directory, "not-json.json.gz", [good, "{"]);
    const scan = (file: string) => scanExportFiles([{ file, selection: SELECTION }]);
    await expect(scan(notItem)).rejects.toThrow(ExportFormatError);
    await expect(scan(notItem)).rejects.toThrow(`${notItem} has a line that is not {"Item": …}`);
    await expect(scan(notJson)).rejects.toThrow(SyntaxError);
    await expect(scan(join(directory, "missing.json.gz"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
