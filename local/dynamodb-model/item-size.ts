// Item sizes and capacity units as DynamoDB bills them (developer guide, "DynamoDB item sizes and formats" and
// "Read/write capacity"): the cost accounting of the AWS model (docs/dynamodb-model.md). Pure; never throws on
// a well-formed AttributeValue.

import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** One write unit covers an item of up to 1 KB; bigger items take one unit per started KB. */
export const WRITE_UNIT_BYTES = 1024;
/** One read unit covers a strongly consistent read of up to 4 KB. */
export const READ_UNIT_BYTES = 4096;
/** Lists and maps carry 3 bytes of overhead whatever they hold, and 1 byte per element. */
const CONTAINER_OVERHEAD_BYTES = 3;
const ELEMENT_OVERHEAD_BYTES = 1;

export type Item = Record<string, AttributeValue>;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, "utf8");

/**
 * A number's size: 1 byte per two significant digits, plus 1. Leading and trailing zeroes are trimmed (and the
 * sign, decimal point and exponent are not digits).
 */
export function numberBytes(text: string): number {
  const mantissa = text.trim().replace(/^[+-]/, "").split(/[eE]/)[0] ?? "";
  const digits = mantissa.replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
  return Math.ceil(digits.length / 2) + 1;
}

/** The size of a value, without its attribute name. */
export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, element) => sum + utf8Bytes(element), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, element) => sum + numberBytes(element), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, element) => sum + element.byteLength, 0);
  if (value.L !== undefined) {
    return value.L.reduce(
      (sum, element) => sum + valueBytes(element) + ELEMENT_OVERHEAD_BYTES,
      CONTAINER_OVERHEAD_BYTES,
    );
  }
  if (value.M !== undefined)
    return itemBytes(value.M) + Object.keys(value.M).length + CONTAINER_OVERHEAD_BYTES;
  return 0;
}

/** An item's size: the UTF-8 length of each attribute name plus the size of its value. */
export function itemBytes(item: Item): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += utf8Bytes(name) + valueBytes(value);
  return total;
}

/** Write units of one item write: one per started KB, at least one; a transactional write costs twice. */
export function writeUnits(bytes: number, transactional: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
  return transactional ? 2 * units : units;
}

export type ReadKind = "eventual" | "strong" | "transactional";

/** Read units of reading `bytes` (one item, or a whole Query/Scan page): per started 4 KB, at least one. */
export function readUnits(bytes: number, kind: ReadKind): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  if (kind === "eventual") return units / 2;
  return kind === "transactional" ? 2 * units : units;
}
