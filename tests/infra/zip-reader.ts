// Reads the zips that scripts/build.ts writes, the way Lambda's unzip would: through the central directory,
// inflating each entry and checking its CRC-32 and size. A test helper only; it handles exactly what a
// Lambda zip needs (stored or deflated entries, no zip64, no encryption) and throws on anything else.

import { crc32, inflateRawSync } from "node:zlib";

const END_OF_CENTRAL_DIRECTORY_SIGNATURE = 0x06054b50;
const CENTRAL_DIRECTORY_SIGNATURE = 0x02014b50;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const END_RECORD_BYTES = 22;

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
  /** Unix file mode from the external attributes (0 when the zip was not made on Unix). */
  readonly mode: number;
}

export function readZip(zip: Buffer): ZipEntry[] {
  // scripts/build.ts writes no archive comment, so the end record is the last 22 bytes.
  const endOffset = zip.length - END_RECORD_BYTES;
  if (endOffset < 0 || zip.readUInt32LE(endOffset) !== END_OF_CENTRAL_DIRECTORY_SIGNATURE) {
    throw new Error("no end-of-central-directory record where it should be");
  }
  const entryCount = zip.readUInt16LE(endOffset + 10);
  let offset = zip.readUInt32LE(endOffset + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < entryCount; index += 1) {
    if (zip.readUInt32LE(offset) !== CENTRAL_DIRECTORY_SIGNATURE)
      throw new Error(`bad central entry ${index}`);
    const method = zip.readUInt16LE(offset + 10);
    const checksum = zip.readUInt32LE(offset + 16);
    const compressedBytes = zip.readUInt32LE(offset + 20);
    const uncompressedBytes = zip.readUInt32LE(offset + 24);
    const nameBytes = zip.readUInt16LE(offset + 28);
    const extraBytes = zip.readUInt16LE(offset + 30);
    const commentBytes = zip.readUInt16LE(offset + 32);
    const externalAttributes = zip.readUInt32LE(offset + 38);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.toString("utf8", offset + 46, offset + 46 + nameBytes);
    offset += 46 + nameBytes + extraBytes + commentBytes;

    if (zip.readUInt32LE(localOffset) !== LOCAL_HEADER_SIGNATURE)
      throw new Error(`bad local header of ${name}`);
    const dataOffset =
      localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const stored = zip.subarray(dataOffset, dataOffset + compressedBytes);
    if (method !== 0 && method !== 8)
      throw new Error(`${name}: compression method ${method} is not supported`);
    const data = method === 8 ? inflateRawSync(stored) : Buffer.from(stored);
    if (data.length !== uncompressedBytes)
      throw new Error(`${name}: size ${data.length} ≠ ${uncompressedBytes}`);
    if (crc32(data) !== checksum) throw new Error(`${name}: CRC-32 mismatch`);
    entries.push({ name, data, mode: externalAttributes >>> 16 });
  }
  return entries;
}
