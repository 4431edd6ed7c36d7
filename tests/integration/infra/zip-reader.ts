// Reads the zips that scripts/build.ts writes the way Lambda's unzip would, with yauzl — a reader independent
// of the writer (fflate) — through the central directory: it checks each name, inflates each entry, and
// checks the size (yauzl) and the CRC-32 (here, since yauzl leaves that to its caller) of what it inflated.

import { buffer } from "node:stream/consumers";
import { crc32 } from "node:zlib";
import { fromBufferPromise } from "yauzl";

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
  /** Unix file mode from the external attributes (0 when the zip was not made on Unix). */
  readonly mode: number;
  /** The MS-DOS modification time, read as a local time as unzip does. */
  readonly modified: Date;
}

export async function readZip(zip: Buffer): Promise<ZipEntry[]> {
  const archive = await fromBufferPromise(zip, { strictFileNames: true, validateEntrySizes: true });
  const entries: ZipEntry[] = [];
  for await (const entry of archive.eachEntry()) {
    const data = await buffer(await archive.openReadStreamPromise(entry));
    if (crc32(data) !== entry.crc32) throw new Error(`${entry.fileName}: CRC-32 mismatch`);
    const madeOnUnix = entry.versionMadeBy >>> 8 === 3;
    entries.push({
      name: entry.fileName,
      data,
      mode: madeOnUnix ? entry.externalFileAttributes >>> 16 : 0,
      modified: entry.getLastModDate(),
    });
  }
  return entries;
}
