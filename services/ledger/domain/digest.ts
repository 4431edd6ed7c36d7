// Signed digests (docs/api.md#digests): the head of the ledger's hash chain — counter, version, hash, time —
// signed by the service as a compact JWS (RFC 7515) with ES256, so that anyone verifies it offline with any JOSE
// library and the service's published public key (docs/decisions.md#digests-are-es256-compact-jws). Pure: the private
// key is behind a DigestSigner (a key in DATA_DIR locally, a KMS key on AWS), and nothing here does I/O.
//
// Format: protected header `{"alg":"ES256","kid":<RFC 7638 thumbprint of the public key>,"typ":DIGEST_TYPE}`,
// payload the head as JSON `{"counterId","version","hash","root","at"}` (`root`: the Merkle tree hash of versions
// 1..version, services/ledger/domain/merkle.ts), signature raw r‖s (64 bytes), base64url.

import { compactVerify, decodeProtectedHeader, errors, importJWK } from "jose";
import {
  DIGEST_CHARACTERS_MAX,
  compactJwsSchema,
  digestHeadSchema,
  type DigestHead,
  type DigestPublicKey,
} from "../../../contract/schemas";

export const DIGEST_ALGORITHM = "ES256";
/** The JWS `typ` of a digest (RFC 8725 §3.11): nothing else this key signs can pass for a digest. */
export const DIGEST_TYPE = "counter-ledger-digest+jws";
/** An ES256 signature: r and s, 32 bytes each, big-endian (RFC 7518 §3.4). */
export const ES256_SIGNATURE_BYTES = 64;

/** What signs digests: the private key never leaves it. */
export interface DigestSigner {
  /** The public key as a JWK (kid = its RFC 7638 thumbprint). */
  publicKey(): Promise<DigestPublicKey>;
  /** The ES256 signature of `signingInput` (SHA-256, then ECDSA P-256): raw r‖s, 64 bytes. */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
}

function base64url(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString("base64url");
}

/** The head as the payload holds it: these members, in this order. */
function payloadOf(head: DigestHead): string {
  return JSON.stringify({
    counterId: head.counterId,
    version: head.version,
    hash: head.hash,
    root: head.root,
    at: head.at,
  });
}

/** Signs `head` with `signer`: the compact JWS of the digest. */
export async function signDigest(head: DigestHead, signer: DigestSigner): Promise<string> {
  const checked = digestHeadSchema.parse(head);
  const { kid } = await signer.publicKey();
  const header = JSON.stringify({ alg: DIGEST_ALGORITHM, kid, typ: DIGEST_TYPE });
  const signingInput = `${base64url(header)}.${base64url(payloadOf(checked))}`;
  const signature = await signer.sign(new TextEncoder().encode(signingInput));
  if (signature.length !== ES256_SIGNATURE_BYTES) {
    throw new Error(
      `an ES256 signature is ${ES256_SIGNATURE_BYTES} bytes (the signer gave ${signature.length})`,
    );
  }
  return `${signingInput}.${base64url(signature)}`;
}

/**
 * Why a digest was refused, each with a safe sentence:
 * - `malformed`: not a compact JWS of a digest (bad encoding, header, algorithm, type or payload);
 * - `unknownKey`: its `kid` names none of the given public keys;
 * - `badSignature`: the signature does not verify under that key (forged, or header or payload changed);
 * - `otherCounter`: a genuine digest, of another counter's ledger.
 */
export type DigestRefusal = "malformed" | "unknownKey" | "badSignature" | "otherCounter";

/** Each reason in words, as a refusal's message names it before its sentence. */
export const DIGEST_REFUSAL_WORDS: Readonly<Record<DigestRefusal, string>> = {
  malformed: "malformed",
  unknownKey: "unknown key",
  badSignature: "bad signature",
  otherCounter: "other counter",
};

export type DigestVerification =
  | { readonly ok: true; readonly head: DigestHead; readonly kid: string }
  | { readonly ok: false; readonly reason: DigestRefusal; readonly detail: string };

function refused(reason: DigestRefusal, detail: string): DigestVerification {
  return { ok: false, reason, detail };
}

/** The `kid` of a well-formed digest header, or why it is not one. */
function kidOf(digest: string): { kid: string } | { detail: string } {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(digest);
  } catch {
    return { detail: "The digest's header is not base64url-encoded JSON." };
  }
  if (header.alg !== DIGEST_ALGORITHM)
    return { detail: `The digest's algorithm is not ${DIGEST_ALGORITHM}.` };
  if (header.typ !== DIGEST_TYPE) return { detail: `The digest's type is not ${DIGEST_TYPE}.` };
  if (typeof header.kid !== "string" || header.kid === "")
    return { detail: "The digest names no key (kid)." };
  const known = new Set(["alg", "kid", "typ"]);
  if (Object.keys(header).some((name) => !known.has(name))) {
    return { detail: "The digest's header has members a digest never has." };
  }
  return { kid: header.kid };
}

/**
 * Verifies a digest against the service's public keys (its JWKS) and the counter it must be of. Refuses a
 * malformed digest, an unknown key, a signature that does not verify and a digest of another counter, each
 * for its own reason (DigestRefusal); never throws for any input.
 */
export async function verifyDigest(
  digest: unknown,
  publicKeys: readonly DigestPublicKey[],
  expected: { readonly counterId: string },
): Promise<DigestVerification> {
  if (typeof digest !== "string" || !compactJwsSchema.safeParse(digest).success) {
    return refused("malformed", `A digest is a compact JWS of at most ${DIGEST_CHARACTERS_MAX} characters.`);
  }
  const header = kidOf(digest);
  if ("detail" in header) return refused("malformed", header.detail);
  const jwk = publicKeys.find((key) => key.kid === header.kid);
  if (jwk === undefined)
    return refused("unknownKey", "The digest is signed by a key the service does not publish.");
  let payload: Uint8Array;
  try {
    const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, DIGEST_ALGORITHM);
    ({ payload } = await compactVerify(digest, key, { algorithms: [DIGEST_ALGORITHM] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return refused("badSignature", "The digest's signature does not verify: it is forged or was changed.");
    }
    return refused("malformed", "The digest is not a JWS that can be verified.");
  }
  let head: DigestHead;
  try {
    head = digestHeadSchema.parse(JSON.parse(new TextDecoder().decode(payload)));
  } catch {
    return refused("malformed", "The digest's payload is not a head (counterId, version, hash, root, at).");
  }
  if (head.counterId !== expected.counterId) {
    return refused("otherCounter", "The digest is of another counter's ledger.");
  }
  return { ok: true, head, kid: header.kid };
}
