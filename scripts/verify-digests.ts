// The digests of `npm run verify -- --digest FILE` (docs/runbook.md#verifying-against-the-archived-digests):
// the file read as one or many signed digests, the public keys they are checked with, and the heads of those
// that verify — never a `head` member taken on trust, only what a signature covers (verifyDigest in
// services/ledger/domain/digest.ts). Any digest refused, or no key to check with, is a NotVerifiedError: one
// line, exit 2 (the ledger could not be verified against it).

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { digestKeySetSchema, type DigestHead, type DigestPublicKey } from "../contract/schemas";
import { localEnvironment } from "../local/config";
import { readDigestPublicKey } from "../local/digests";
import { DIGEST_REFUSAL_WORDS, verifyDigest } from "../services/ledger/domain/digest";

/** The ledger could not be verified against the digests: the message is one line, said as it is. */
export class NotVerifiedError extends Error {
  override readonly name = "NotVerifiedError";
}

/** One digest of the file, with the line it was on (1 for a file that is one digest). */
export interface DigestLine {
  readonly line: number;
  readonly digest: string;
}

/** A saved GET /number/digest answer or an archive line: only `digest` is read (the rest is not signed). */
const savedDigest = z.looseObject({ digest: z.string() });

function digestOf(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return trimmed === "" ? undefined : trimmed;
  try {
    const parsed = savedDigest.safeParse(JSON.parse(trimmed));
    return parsed.success ? parsed.data.digest : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The digests of FILE: a saved GET /number/digest answer (`{"digest","head"}`, on one line or pretty-printed),
 * a bare compact JWS, or a digests.jsonl (one of either a line). A line that holds none is refused here; what a
 * digest is worth is for verifyDigest to say.
 */
export async function readDigestFile(path: string): Promise<DigestLine[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new NotVerifiedError(`could not read the digest file ${path} (${code})`);
  }
  // A saved answer parses whole, pretty-printed or not; a digests.jsonl of several lines does not.
  const whole = text.trim().startsWith("{") ? digestOf(text) : undefined;
  if (whole !== undefined) return [{ line: 1, digest: whole }];
  const digests: DigestLine[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const digest = digestOf(line);
    if (digest === undefined) {
      throw new NotVerifiedError(`${path}:${index + 1} holds no digest (a JSON {"digest": …} or a JWS)`);
    }
    digests.push({ line: index + 1, digest });
  }
  if (digests.length === 0) throw new NotVerifiedError(`${path} holds no digest`);
  return digests;
}

function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

async function keysFromUrl(url: string): Promise<DigestPublicKey[]> {
  const response = await fetch(url);
  if (response.status !== 200) throw new NotVerifiedError(`the keys at ${url} answered ${response.status}`);
  const parsed = digestKeySetSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    throw new NotVerifiedError(
      `${url} did not answer a JWKS of digest keys (<base>/number/digest/keys does)`,
    );
  }
  return [...parsed.data.keys];
}

async function keysFromFile(path: string): Promise<DigestPublicKey[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new NotVerifiedError(`could not read the key file ${path} (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = digestKeySetSchema.safeParse(json);
  if (!parsed.success) {
    throw new NotVerifiedError(`${path} is not a JWKS of digest keys (as GET /number/digest/keys answers)`);
  }
  return [...parsed.data.keys];
}

/**
 * The public keys to check digests with: `--keys`, a JWKS file or the URL of one (`<base>/number/digest/keys`);
 * without it, the local runtime's key under DATA_DIR (`.data` by default), read and never made.
 */
export async function loadDigestKeys(
  keys: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ keys: DigestPublicKey[]; from: string }> {
  if (keys !== undefined) {
    return { keys: isUrl(keys) ? await keysFromUrl(keys) : await keysFromFile(keys), from: keys };
  }
  const dataDirectory = localEnvironment.pick({ DATA_DIR: true }).parse(env).DATA_DIR;
  const local = await readDigestPublicKey(dataDirectory).catch((error: unknown) => {
    throw new NotVerifiedError(error instanceof Error ? error.message : String(error));
  });
  if (local === undefined) {
    throw new NotVerifiedError(
      `no key to check the digest with: give --keys (a JWKS file, or <base>/number/digest/keys), ` +
        `or run where DATA_DIR (${dataDirectory}) holds the local digest key`,
    );
  }
  return { keys: [local], from: `the local key under ${dataDirectory}` };
}

/**
 * The heads the digests signed, each verified against `keys` and the counter; the first refusal ends it
 * (an archive with one forged line is not one to prove anything with).
 */
export async function verifiedHeads(
  digests: readonly DigestLine[],
  keys: readonly DigestPublicKey[],
  counterId: string,
  file: string,
): Promise<DigestHead[]> {
  const heads: DigestHead[] = [];
  const seen = new Set<string>();
  for (const { line, digest } of digests) {
    if (seen.has(digest)) continue;
    seen.add(digest);
    const verified = await verifyDigest(digest, keys, { counterId });
    if (!verified.ok) {
      const where = digests.length === 1 ? file : `${file}:${line}`;
      throw new NotVerifiedError(
        `digest refused (${DIGEST_REFUSAL_WORDS[verified.reason]}): ${where}: ${verified.detail}`,
      );
    }
    heads.push(verified.head);
  }
  return heads;
}
