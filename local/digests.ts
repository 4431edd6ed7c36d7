// Digests in the local runtime (docs/runbook.md#digests): the ES256 key that signs them, made once and kept under
// <DATA_DIR>/digest/ (a file of mode 0600 in a directory of mode 0700, as the local issuer keeps its keys), and
// the scheduled digest — every DIGEST_INTERVAL_MINUTES, the signed head appended as one line to
// <DATA_DIR>/digests.jsonl when the head moved since the file's last line. The file is only ever opened to append:
// nothing written there is rewritten by the service.

import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { appendFile, open } from "node:fs/promises";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { signedDigestSchema, type DigestPublicKey } from "../contract/schemas";
import { createKeySigner, publicJwkOf } from "../services/digest/keys";
import { HeadNotChainedError, type DigestSource } from "../services/digest/digests";
import type { DigestSigner } from "../services/ledger/domain/digest";
import { MERKLE_SCHEDULE_BUDGET_MS } from "../services/ledger/domain/limits";
import { MerkleIncompleteError } from "../services/ledger/storage/merkle";
import { describeError, type Logger } from "../services/ledger/log";
import { startSchedule, type Schedule } from "./schedule";

export const DIGEST_KEY_DIRECTORY = "digest";
export const DIGEST_KEY_FILE = "signing-key.json";
export const DIGESTS_FILE = "digests.jsonl";
/** Enough of the file's end to hold its last line (a digest line is under 1 KiB). */
const TAIL_BYTES = 8192;

const storedKey = z.object({
  privateJwk: z.looseObject({
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    x: z.string().min(1),
    y: z.string().min(1),
    d: z.string().min(1),
  }),
});

export class DigestKeyError extends Error {
  override readonly name = "DigestKeyError";
}

function readKey(path: string): KeyObject | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const { privateJwk } = storedKey.parse(JSON.parse(text));
    return createPrivateKey({ key: privateJwk, format: "jwk" });
  } catch {
    throw new DigestKeyError(
      `${path} is not the local digest key: move it away to make a new one ` +
        "(digests signed by the old key then no longer verify against the published key)",
    );
  }
}

/** The local digest signer: the key under `<dataDirectory>/digest/`, made on first use and kept. */
export function loadDigestSigner(dataDirectory: string): DigestSigner {
  const directory = join(dataDirectory, DIGEST_KEY_DIRECTORY);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, DIGEST_KEY_FILE);
  let key = readKey(path);
  if (key === undefined) {
    key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    // Whole or not at all, readable by its owner only.
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ privateJwk: key.export({ format: "jwk" }) }, null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(temporary, path);
  }
  return createKeySigner(key);
}

/**
 * The public key of the local digest key under `<dataDirectory>/digest/`, read without making one (a verifier
 * must never sign): undefined when there is none.
 */
export async function readDigestPublicKey(dataDirectory: string): Promise<DigestPublicKey | undefined> {
  const key = readKey(join(dataDirectory, DIGEST_KEY_DIRECTORY, DIGEST_KEY_FILE));
  return key === undefined ? undefined : publicJwkOf(key);
}

/** The version and hash of the file's last digest line, if any: where the schedule left off. */
async function lastHeadIn(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer
      .toString("utf8")
      .split("\n")
      .filter((line) => line.trim() !== "");
    const last = lines[lines.length - 1];
    if (last === undefined) return undefined;
    const parsed = signedDigestSchema.safeParse(JSON.parse(last));
    return parsed.success ? headKey(parsed.data.head) : undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

function headKey(head: { counterId: string; version: number; hash: string }): string {
  return `${head.counterId} ${head.version} ${head.hash}`;
}

/** `incomplete`: the Merkle tree was not filled within the run's budget; the next run goes on from there. */
export type ScheduleOutcome = "written" | "unchanged" | "notChained" | "incomplete";

/** `tick` runs now: it appends the current digest unless the file's last line is of the same head. */
export type DigestSchedule = Schedule<ScheduleOutcome>;

export interface DigestScheduleOptions {
  readonly source: DigestSource;
  readonly file: string;
  /** Undefined: no timer (DIGEST_INTERVAL_MINUTES=off); `tick` still works. */
  readonly intervalMs: number | undefined;
  readonly log: Logger;
}

export function startDigestSchedule(options: DigestScheduleOptions): DigestSchedule {
  const { source, file, log } = options;
  let last: Promise<string | undefined> = lastHeadIn(file);
  // Runs one after the other: a slow run is never overtaken by the next.
  const run = async (): Promise<ScheduleOutcome> => {
    let digest;
    try {
      // Each run computes the root: it keeps the Merkle tree's kept subtrees filled for the API's requests.
      digest = await source.current({ rootBudgetMs: MERKLE_SCHEDULE_BUDGET_MS });
    } catch (error) {
      if (error instanceof HeadNotChainedError) return "notChained";
      if (error instanceof MerkleIncompleteError) return "incomplete";
      throw error;
    }
    const key = headKey(digest.head);
    if ((await last) === key) return "unchanged";
    // Append only (flag "a"): what is in the file stays as it was.
    await appendFile(file, `${JSON.stringify(digest)}\n`, { flag: "a", mode: 0o644 });
    last = Promise.resolve(key);
    log({ level: "info", message: "digest written", version: digest.head.version });
    return "written";
  };
  return startSchedule(run, options.intervalMs, (error) =>
    log({ level: "error", message: "digest not written", ...describeError(error) }),
  );
}
