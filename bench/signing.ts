// The time to sign a digest with the local signer (a P-256 key held in the process, services/digest/keys.ts):
// signDigest as GET /number/digest and the digest schedule call it. On AWS the signer is KMS: each Sign is a
// network round trip to KMS (typically milliseconds), which this does not measure.

import { generateKeyPairSync } from "node:crypto";
import { createKeySigner } from "../services/digest/keys";
import { GENESIS_HASH } from "../services/ledger/domain/chain";
import { signDigest } from "../services/ledger/domain/digest";
import { percentile } from "./load";

/** Signatures timed: enough for a stable p99. */
const SIGNATURES = 2_000;
/** Signatures before timing starts, so that the JIT and the key's first use are not counted. */
const WARM_UP_SIGNATURES = 100;

export async function measureSigning(signatures = SIGNATURES) {
  const signer = createKeySigner(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
  const head = (version: number) => ({
    counterId: "default",
    version,
    hash: GENESIS_HASH.replace(/0$/, String(version % 10)),
    root: GENESIS_HASH.replace(/^0/, String(version % 10)),
    at: new Date().toISOString(),
  });
  for (let index = 0; index < WARM_UP_SIGNATURES; index++) await signDigest(head(index + 1), signer);
  const durationsMs: number[] = [];
  for (let index = 0; index < signatures; index++) {
    const startedAt = performance.now();
    await signDigest(head(index + 1), signer);
    durationsMs.push(performance.now() - startedAt);
  }
  durationsMs.sort((left, right) => left - right);
  return {
    signer: "local (P-256 key in the process)",
    signatures,
    p50Ms: percentile(durationsMs, 0.5),
    p99Ms: percentile(durationsMs, 0.99),
  };
}
