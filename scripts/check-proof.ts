// `npm run check-proof -- PROOF_FILE [--digest FILE] [--keys JWKS_FILE]`: checks offline that the event of a proof
// (the body of GET /number/events/{key}/proof) is in the ledger a signed digest covers
// (services/ledger/domain/proof.ts; the algorithm in docs/api.md#checking-a-proof). The digest is the proof's own,
// or one archived earlier (`--digest`: a SignedDigest JSON, a bare compact JWS, or digests.jsonl, of which the line
// of the proof's tree size is taken); the keys are a JWKS (`--keys`, what GET /number/digest/keys answers), or
// the local runtime's key under DATA_DIR (default .data). Exit 0 proven, 1 refused (the reason on stderr),
// 2 usage or I/O error.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  digestKeySetSchema,
  signedDigestSchema,
  type DigestPublicKey,
  type SignedDigest,
} from "../contract/schemas";
import { readDigestPublicKey } from "../local/digests";
import { verifyEventProof } from "../services/ledger/domain/proof";

const EXIT_PROVEN = 0;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;

const USAGE = `usage: npm run check-proof -- PROOF_FILE [--digest FILE] [--keys JWKS_FILE]
  Checks that the proof's event is in the ledger the digest covers.
  PROOF_FILE        the body of GET /number/events/{key}/proof
  --digest FILE     a digest you kept (SignedDigest JSON, compact JWS, or digests.jsonl); default: the proof's own
  --keys JWKS_FILE  the service's public keys (GET /number/digest/keys); default: the local key under DATA_DIR
  Exit status: 0 proven, 1 refused, 2 usage or I/O error.`;

class UsageError extends Error {}

interface Arguments {
  readonly proofFile: string;
  readonly digestFile: string | undefined;
  readonly keysFile: string | undefined;
}

function readArguments(argv: readonly string[]): Arguments | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        digest: { type: "string" },
        keys: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? (error.message.split("\n")[0] ?? "") : "bad arguments");
  }
  if (parsed.values.help === true) return "help";
  if (parsed.positionals.length !== 1) throw new UsageError("give exactly one PROOF_FILE");
  return {
    proofFile: parsed.positionals[0]!,
    digestFile: parsed.values.digest,
    keysFile: parsed.values.keys,
  };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new UsageError(`cannot read the ${what} file ${path}`);
  }
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readText(path, what)) as unknown;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`the ${what} file ${path} is not JSON`);
  }
}

/** A kept digest: one SignedDigest, a compact JWS, or lines of SignedDigest (the one of `treeSize`, else the last). */
function readDigest(path: string, treeSize: unknown): string | SignedDigest {
  const text = readText(path, "digest").trim();
  if (!text.startsWith("{")) return text;
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const digests = lines.map((line) => {
    const parsed = signedDigestSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new UsageError(`the digest file ${path} holds something that is not a digest`);
    return parsed.data;
  });
  return digests.find((digest) => digest.head.version === treeSize) ?? digests[digests.length - 1]!;
}

async function readKeys(path: string | undefined): Promise<readonly DigestPublicKey[]> {
  if (path !== undefined) {
    const parsed = digestKeySetSchema.safeParse(readJson(path, "keys"));
    if (!parsed.success) throw new UsageError(`the keys file ${path} is not the service's JWKS`);
    return parsed.data.keys;
  }
  const dataDirectory = process.env.DATA_DIR ?? ".data";
  const key = await readDigestPublicKey(dataDirectory);
  if (key === undefined) throw new UsageError(`no --keys, and no local digest key under ${dataDirectory}`);
  return [key];
}

async function main(argv: readonly string[]): Promise<number> {
  let proof: unknown;
  let digest: string | SignedDigest | undefined;
  let keys: readonly DigestPublicKey[];
  try {
    const parsed = readArguments(argv);
    if (parsed === "help") {
      process.stdout.write(`${USAGE}\n`);
      return EXIT_PROVEN;
    }
    proof = readJson(parsed.proofFile, "proof");
    const treeSize = (proof as { treeSize?: unknown } | null)?.treeSize;
    digest = parsed.digestFile === undefined ? undefined : readDigest(parsed.digestFile, treeSize);
    keys = await readKeys(parsed.keysFile);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`check-proof: ${error.message}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const result = await verifyEventProof(proof, digest, keys);
  if (!result.ok) {
    process.stderr.write(`refused (${result.reason}): ${result.detail}\n`);
    return EXIT_REFUSED;
  }
  const { event } = proof as { event: { version: number } };
  process.stdout.write(
    `proven: event ${event.version} (hash ${result.eventHash}) is in the ledger of ${result.head.counterId} ` +
      `at version ${result.head.version}, root ${result.head.root}, signed at ${result.head.at}\n`,
  );
  return EXIT_PROVEN;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`check-proof: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT_USAGE);
  },
);
