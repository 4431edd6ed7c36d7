// The local issuer's keys, kept under <DATA_DIR>/identity/ (files of mode 0600 in a directory of mode 0700), so
// that a restart signs with the same key and keeps everyone signed in (docs/runbook.md#the-local-issuer).
//
// Signing keys (RS256) rotate: at start-up, a current key older than SIGNING_KEY_ROTATE_AFTER_MS is retired and
// a new one made (or at once with `npm start -- --rotate-signing-key`). A retired key signs nothing more but
// stays in the JWKS for SIGNING_KEY_RETAIN_MS after its retirement — longer than any token it signed can live,
// plus a margin for verifiers' clock skew — and is then dropped. The bookkeeping (planSigningKeys) is pure and
// takes the time as an argument; the file handling around it is not.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { calculateJwkThumbprint, type JWK } from "jose";
import { z } from "zod";

/** The longest life of a token the issuer signs (access and ID tokens alike), in seconds. */
export const TOKEN_TTL_SECONDS = 15 * 60;
/** A current signing key older than this is retired at the next start. */
export const SIGNING_KEY_ROTATE_AFTER_MS = 30 * 24 * 60 * 60 * 1000;
/** Margin for the clocks of the verifiers of a token (the gateway's authorizer tolerates less). */
const VERIFIER_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** How long a retired key stays in the JWKS: every token it signed has expired by then. */
export const SIGNING_KEY_RETAIN_MS = TOKEN_TTL_SECONDS * 1000 + VERIFIER_CLOCK_SKEW_MS;

const SIGNING_KEYS_FILE = "signing-keys.json";
const COOKIE_KEYS_FILE = "cookie-keys.json";
const RSA_MODULUS_BITS = 2048;
const COOKIE_KEY_BYTES = 32;

const privateRsaJwk = z.looseObject({
  kty: z.literal("RSA"),
  kid: z.string().min(1),
  alg: z.literal("RS256"),
  use: z.literal("sig"),
  n: z.string().min(1),
  e: z.string().min(1),
  d: z.string().min(1),
});

const storedSigningKey = z.object({
  kid: z.string().min(1),
  createdAtMs: z.number().int().nonnegative(),
  retiredAtMs: z.number().int().nonnegative().optional(),
  privateJwk: privateRsaJwk,
});

export type StoredSigningKey = z.infer<typeof storedSigningKey>;

const signingKeyFile = z.object({ keys: z.array(storedSigningKey) });
const cookieKeyFile = z.object({ keys: z.array(z.string().min(43)).min(1) });

export interface SigningKeyPolicy {
  readonly rotateAfterMs: number;
  readonly retainMs: number;
}

export const SIGNING_KEY_POLICY: SigningKeyPolicy = {
  rotateAfterMs: SIGNING_KEY_ROTATE_AFTER_MS,
  retainMs: SIGNING_KEY_RETAIN_MS,
};

export interface SigningKeyPlan {
  /** The current key first (the one that signs), then the retired keys still published, newest first. */
  readonly keys: readonly StoredSigningKey[];
  /** The kid of the key made by this plan, if one was. */
  readonly created: string | undefined;
  /** The kids dropped from the JWKS by this plan. */
  readonly dropped: readonly string[];
}

/** The key that signs now: the one never retired. */
export function currentKey(keys: readonly StoredSigningKey[]): StoredSigningKey | undefined {
  return keys.find((key) => key.retiredAtMs === undefined);
}

/** Whether a new key must be made at `nowMs`: there is none, the current one is too old, or `rotateNow`. */
export function rotationDue(
  keys: readonly StoredSigningKey[],
  nowMs: number,
  policy: SigningKeyPolicy,
  rotateNow: boolean,
): boolean {
  const current = currentKey(keys);
  return current === undefined || rotateNow || nowMs - current.createdAtMs >= policy.rotateAfterMs;
}

/**
 * What the key set becomes at `nowMs`: retired keys past their retention dropped; when `fresh` is given (see
 * rotationDue), the current key retired at `nowMs` and `fresh` made the current key.
 */
export function planSigningKeys(
  keys: readonly StoredSigningKey[],
  nowMs: number,
  policy: SigningKeyPolicy,
  fresh: StoredSigningKey | undefined,
): SigningKeyPlan {
  const dropped: string[] = [];
  const kept: StoredSigningKey[] = [];
  for (const key of keys) {
    if (key.retiredAtMs !== undefined && nowMs >= key.retiredAtMs + policy.retainMs) dropped.push(key.kid);
    else kept.push(key);
  }
  if (fresh === undefined) return { keys: ordered(kept), created: undefined, dropped };
  const retired = kept.map((key) => (key.retiredAtMs === undefined ? { ...key, retiredAtMs: nowMs } : key));
  return { keys: ordered([fresh, ...retired]), created: fresh.kid, dropped };
}

/** The current key (never retired) first, then retired keys by retirement, newest first. */
function ordered(keys: readonly StoredSigningKey[]): StoredSigningKey[] {
  return [...keys].sort(
    (a, b) => (b.retiredAtMs ?? Number.MAX_SAFE_INTEGER) - (a.retiredAtMs ?? Number.MAX_SAFE_INTEGER),
  );
}

/** A new RS256 key pair; its kid is the RFC 7638 thumbprint of the public key. */
export async function newSigningKey(createdAtMs: number): Promise<StoredSigningKey> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: RSA_MODULUS_BITS });
  const jwk = privateKey.export({ format: "jwk" }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, n: jwk.n, e: jwk.e });
  const privateJwk = privateRsaJwk.parse({ ...jwk, kid, alg: "RS256", use: "sig" });
  return { kid, createdAtMs, privateJwk };
}

export class IdentityKeysError extends Error {
  override readonly name = "IdentityKeysError";
}

/** The JSON in `path`, checked by `schema`; undefined when there is no file. A bad file is a clear error. */
function readJson<T>(path: string, schema: z.ZodType<T>): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new IdentityKeysError(
      `${path} is not a key file of the local issuer: move it away to make new keys ` +
        "(tokens signed by the old keys then stop working)",
    );
  }
  return result.data;
}

/** Writes the file whole or not at all, readable by its owner only. */
function writeSecret(path: string, value: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

function ensureDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
}

/** Loads the signing keys under `directory`, applies the plan at `nowMs`, and saves the result if it changed. */
export async function loadSigningKeys(
  directory: string,
  nowMs: number,
  options: { readonly rotateNow?: boolean; readonly policy?: SigningKeyPolicy } = {},
): Promise<SigningKeyPlan> {
  ensureDirectory(directory);
  const path = join(directory, SIGNING_KEYS_FILE);
  const stored = readJson(path, signingKeyFile)?.keys ?? [];
  const policy = options.policy ?? SIGNING_KEY_POLICY;
  const fresh = rotationDue(stored, nowMs, policy, options.rotateNow ?? false)
    ? await newSigningKey(nowMs)
    : undefined;
  const plan = planSigningKeys(stored, nowMs, policy, fresh);
  if (plan.created !== undefined || plan.dropped.length > 0) writeSecret(path, { keys: plan.keys });
  return plan;
}

/** The keys that sign the issuer's cookies, made once and kept. */
export function loadCookieKeys(directory: string): string[] {
  ensureDirectory(directory);
  const path = join(directory, COOKIE_KEYS_FILE);
  const stored = readJson(path, cookieKeyFile);
  if (stored !== undefined) return stored.keys;
  const keys = [randomBytes(COOKIE_KEY_BYTES).toString("base64url")];
  writeSecret(path, { keys });
  return keys;
}
