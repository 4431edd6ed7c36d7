// The AWS signer of digests: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) whose private key never leaves
// KMS. Sign takes the JWS signing input as the message (MessageType RAW: KMS hashes it with SHA-256 and signs
// with ECDSA, which is ES256; a digest's signing input is a few hundred bytes, far below RAW's 4096) and returns
// a DER-encoded ECDSA-Sig-Value, which JWS does not use: it is converted to raw r‖s here. The public key comes
// from GetPublicKey (SPKI DER) once per execution environment.

import { createPublicKey } from "node:crypto";
import { GetPublicKeyCommand, SignCommand, type KMSClient } from "@aws-sdk/client-kms";
import type { DigestPublicKey } from "../../contract/schemas";
import type { DigestSigner } from "../ledger/domain/digest";
import { publicJwkOf } from "./keys";

/** KMS's limit on a RAW message. */
export const KMS_RAW_MESSAGE_BYTES_MAX = 4096;
const COORDINATE_BYTES = 32;

export type KmsClientLike = Pick<KMSClient, "send">;

/** Reads one DER INTEGER at `offset` (short-form length, as r and s of P-256 always have). */
function readInteger(der: Uint8Array, offset: number): { value: Uint8Array; next: number } {
  if (der[offset] !== 0x02) throw new Error("DER signature: INTEGER expected");
  const length = der[offset + 1] ?? 0;
  if (length === 0 || length > COORDINATE_BYTES + 1 || offset + 2 + length > der.length) {
    throw new Error("DER signature: bad INTEGER length");
  }
  return { value: der.subarray(offset + 2, offset + 2 + length), next: offset + 2 + length };
}

/** An unsigned big-endian integer left-padded to 32 bytes (DER may add a 0x00 sign byte or drop leading zeros). */
function coordinate(value: Uint8Array): Uint8Array {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  const trimmed = value.subarray(start);
  if (trimmed.length > COORDINATE_BYTES) throw new Error("DER signature: integer longer than 32 bytes");
  const padded = new Uint8Array(COORDINATE_BYTES);
  padded.set(trimmed, COORDINATE_BYTES - trimmed.length);
  return padded;
}

/** ECDSA-Sig-Value (RFC 3279: SEQUENCE { r INTEGER, s INTEGER }) → JOSE's raw r‖s (RFC 7518 §3.4). */
export function derToJoseSignature(der: Uint8Array): Uint8Array {
  if (der[0] !== 0x30 || der[1] !== der.length - 2) throw new Error("DER signature: SEQUENCE expected");
  const r = readInteger(der, 2);
  const s = readInteger(der, r.next);
  if (s.next !== der.length) throw new Error("DER signature: trailing bytes");
  const raw = new Uint8Array(COORDINATE_BYTES * 2);
  raw.set(coordinate(r.value), 0);
  raw.set(coordinate(s.value), COORDINATE_BYTES);
  return raw;
}

/** A signer over the KMS key `keyId` (id, ARN or alias). */
export function createKmsSigner(client: KmsClientLike, keyId: string): DigestSigner {
  let publicKey: Promise<DigestPublicKey> | undefined;
  const loadPublicKey = async (): Promise<DigestPublicKey> => {
    const output = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    if (
      output.KeySpec !== "ECC_NIST_P256" ||
      output.KeyUsage !== "SIGN_VERIFY" ||
      output.PublicKey === undefined
    ) {
      throw new Error("the digest key must be a KMS key with spec ECC_NIST_P256 and usage SIGN_VERIFY");
    }
    return publicJwkOf(createPublicKey({ key: Buffer.from(output.PublicKey), format: "der", type: "spki" }));
  };
  return {
    publicKey: () => {
      // A failed GetPublicKey is not kept: the next call asks again.
      publicKey ??= loadPublicKey().catch((error: unknown) => {
        publicKey = undefined;
        throw error;
      });
      return publicKey;
    },
    sign: async (signingInput) => {
      if (signingInput.length > KMS_RAW_MESSAGE_BYTES_MAX) {
        throw new Error(`KMS signs RAW messages of at most ${KMS_RAW_MESSAGE_BYTES_MAX} bytes`);
      }
      const output = await client.send(
        new SignCommand({
          KeyId: keyId,
          Message: signingInput,
          MessageType: "RAW",
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      );
      if (output.Signature === undefined) throw new Error("KMS returned no signature");
      return derToJoseSignature(output.Signature);
    },
  };
}
