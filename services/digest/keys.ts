// Signers of digests (services/ledger/domain/digest.ts DigestSigner) and the public JWK of a P-256 key.
// A key signer holds an ES256 private key in memory: the local runtime's, loaded from DATA_DIR
// (local/digests.ts). On AWS the private key never leaves KMS (kms-signer.ts).

import { createPublicKey, sign, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";
import { digestPublicKeySchema, type DigestPublicKey } from "../../contract/schemas";
import type { DigestSigner } from "../ledger/domain/digest";

/** The public JWK of a P-256 key (public or private), with its RFC 7638 thumbprint as `kid`. */
export async function publicJwkOf(key: KeyObject): Promise<DigestPublicKey> {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: "jwk" }) as JWK;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") {
    throw new Error(`a digest key must be an EC P-256 key (got ${jwk.kty ?? "?"} ${jwk.crv ?? ""})`);
  }
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  return digestPublicKeySchema.parse({
    kty: "EC",
    crv: "P-256",
    x: jwk.x,
    y: jwk.y,
    kid,
    alg: "ES256",
    use: "sig",
  });
}

/** An ES256 signer over a P-256 private key held in this process. */
export function createKeySigner(privateKey: KeyObject): DigestSigner {
  if (privateKey.type !== "private") throw new Error("a key signer needs a private key");
  const publicKey = publicJwkOf(privateKey);
  return {
    publicKey: () => publicKey,
    // ieee-p1363: raw r‖s, as JWS wants it (RFC 7518 §3.4), not DER.
    sign: (signingInput) =>
      Promise.resolve(
        new Uint8Array(sign("sha256", signingInput, { key: privateKey, dsaEncoding: "ieee-p1363" })),
      ),
  };
}
