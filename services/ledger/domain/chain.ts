// The ledger's hash chain (docs/architecture.md#the-hash-chain): every event commits to the one before it, so
// that a signed head (a digest) commits to the whole history below it. Pure: node:crypto's SHA-256 only.
//
// The encoding (version 1), documented so that anyone can recompute a hash without this code:
//   SHA-256( "counter-ledger/event/1" LF canonical-JSON(event without `hash`, with `previousHash`) )
// where canonical JSON is JSON with object keys sorted by UTF-16 code units at every depth and no whitespace
// (the event holds only strings, integers and one nested object, so this is RFC 8785's canonical form). An
// event written before the chain existed (schema versions 1 and 2) has no `previousHash` of its own: it is
// hashed on read with the hash before it as its `previousHash`, so the chain covers the whole ledger.

import { hash as digestOf } from "node:crypto";

/** The `previousHash` of version 1: no event came before it. */
export const GENESIS_HASH = "0".repeat(64);

/** Names the encoding; a new one gets a new name, and readers keep knowing the old. */
export const HASH_ENCODING = "counter-ledger/event/1";

/** A hash as stored and shown: lowercase hex SHA-256. */
export const HASH_PATTERN = /^[0-9a-f]{64}$/;

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** JSON with sorted keys and no whitespace (RFC 8785 for strings, safe integers, booleans and null). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new Error("the chain's encoding takes integers only");
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Readonly<Record<string, Json | undefined>>;
  // The default sort compares UTF-16 code units, the order RFC 8785 asks for. A loop rather than entries,
  // filter and map: the replay hashes every event, and this is most of its hashing time.
  let members = "";
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    members += `${members === "" ? "" : ","}${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `{${members}}`;
}

/**
 * The hash of an event linked after `previousHash`: over every field but `hash`, with `previousHash` set to the
 * given one (a chained event's own `previousHash` must equal it; an older event is linked by this).
 */
export function chainedHashOf(event: Readonly<Record<string, unknown>>, previousHash: string): string {
  // The event's own keys but `hash`, with `previousHash` (its own, if it has one, replaced): no copy of the
  // event is made, since verification hashes every event of the ledger (docs/architecture.md#the-hash-chain).
  const keys = Object.keys(event).filter((key) => key !== "hash");
  if (!Object.hasOwn(event, "previousHash")) keys.push("previousHash");
  let members = "";
  for (const key of keys.sort()) {
    const member = key === "previousHash" ? previousHash : event[key];
    if (member === undefined) continue;
    members += `${members === "" ? "" : ","}${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  // One-shot SHA-256 (node:crypto's hash), the UTF-8 of the text, as createHash().update(text, "utf8") hashes it.
  return digestOf("sha256", `${HASH_ENCODING}\n{${members}}`, "hex");
}

/** The head of a chain: the version of its last event and that event's hash (GENESIS_HASH at version 0). */
export interface ChainHead {
  readonly version: number;
  readonly hash: string;
}

export const GENESIS_HEAD: ChainHead = { version: 0, hash: GENESIS_HASH };

/** How a stored event breaks the chain: its `previousHash` is not its predecessor's hash, or its `hash` lies. */
export type ChainBreach = "previousHash" | "hash";

/**
 * Walks the chain over ledger items in version order, as verification reads them: links each item onto the
 * head so far and says how it breaks the chain. A chained item (one with a `hash`) moves the head to its stored
 * hash, so that one altered event is reported once, at its own version; an older item is hashed onto the head.
 * After an unreadable item the head is unknown until the next chained item.
 */
export class ChainWalk {
  private hash: string | undefined;
  private version: number;

  /** From a head; a `hash` left undefined (a start whose hash is not known) checks no link until the next. */
  constructor(start: { readonly version: number; readonly hash: string | undefined } = GENESIS_HEAD) {
    this.hash = start.hash;
    this.version = start.version;
  }

  /** The head so far; undefined when an unreadable item left it unknown. */
  get head(): ChainHead | undefined {
    return this.hash === undefined ? undefined : { version: this.version, hash: this.hash };
  }

  link(item: Readonly<Record<string, unknown>>, version: number): ChainBreach[] {
    const breaches: ChainBreach[] = [];
    const stored = typeof item.hash === "string" ? item.hash : undefined;
    const previous = item.previousHash;
    if (stored === undefined && previous === undefined) {
      this.hash = this.hash === undefined ? undefined : chainedHashOf(item, this.hash);
    } else {
      if (this.hash !== undefined && previous !== this.hash) breaches.push("previousHash");
      const linkedAfter = typeof previous === "string" ? previous : (this.hash ?? GENESIS_HASH);
      if (stored !== chainedHashOf(item, linkedAfter)) breaches.push("hash");
      this.hash = stored;
    }
    this.version = version;
    return breaches;
  }

  /** An item that cannot be read: the head is unknown from here. */
  lose(version: number): void {
    this.hash = undefined;
    this.version = version;
  }
}
