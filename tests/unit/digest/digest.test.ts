// Signed digests (services/ledger/domain/digest.ts): a digest signed by the key signer verifies with jose and
// with verifyDigest, and every refusal has its own reason: forged signature, another key, another counter, a
// tampered payload, malformed input. The KMS signer is checked against a fake KMS client that really signs with
// a local P-256 key and answers DER, as KMS does: jose verifying the result proves the DER → r‖s conversion.

import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { GetPublicKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import { compactVerify, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import type { DigestHead } from "../../../contract/schemas";
import { createKeySigner } from "../../../services/digest/keys";
import { createKmsSigner, derToJoseSignature, type KmsClientLike } from "../../../services/digest/kms-signer";
import { DIGEST_TYPE, signDigest, verifyDigest } from "../../../services/ledger/domain/digest";

const HEAD: DigestHead = {
  counterId: "default",
  version: 42,
  hash: createHash("sha256").update("event 42").digest("hex"),
  root: createHash("sha256").update("root of 42").digest("hex"),
  at: "2026-01-02T03:04:05.678Z",
};

function newKey(): KeyObject {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

const key = newKey();
const signer = createKeySigner(key);

function parts(digest: string): [string, string, string] {
  const [header, payload, signature] = digest.split(".");
  return [header ?? "", payload ?? "", signature ?? ""];
}

describe("a digest signed by the service's key", () => {
  it("round-trips: verifyDigest gives back the head, and plain jose verifies it as ES256 with the typ", async () => {
    const digest = await signDigest(HEAD, signer);
    const publicKey = await signer.publicKey();
    expect(await verifyDigest(digest, [publicKey], { counterId: "default" })).toEqual({
      ok: true,
      head: HEAD,
      kid: publicKey.kid,
    });
    const { payload, protectedHeader } = await compactVerify(digest, await importJWK(publicKey, "ES256"));
    expect(protectedHeader).toEqual({ alg: "ES256", kid: publicKey.kid, typ: DIGEST_TYPE });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(HEAD);
  });

  it("refuses a forged signature", async () => {
    const digest = await signDigest(HEAD, signer);
    const [header, payload, signature] = parts(digest);
    const bytes = Buffer.from(signature, "base64url");
    bytes[10] = (bytes[10] ?? 0) ^ 0xff;
    const forged = `${header}.${payload}.${bytes.toString("base64url")}`;
    const result = await verifyDigest(forged, [await signer.publicKey()], { counterId: "default" });
    expect(result).toMatchObject({ ok: false, reason: "badSignature" });
  });

  it("refuses a digest signed by another key under the service's kid", async () => {
    const impostor = createKeySigner(newKey());
    const published = await signer.publicKey();
    const lying = {
      publicKey: () => Promise.resolve(published),
      sign: (input: Uint8Array) => impostor.sign(input),
    };
    const digest = await signDigest(HEAD, lying);
    const result = await verifyDigest(digest, [published], { counterId: "default" });
    expect(result).toMatchObject({ ok: false, reason: "badSignature" });
  });

  it("refuses a digest whose key the service does not publish", async () => {
    const digest = await signDigest(HEAD, createKeySigner(newKey()));
    const result = await verifyDigest(digest, [await signer.publicKey()], { counterId: "default" });
    expect(result).toMatchObject({ ok: false, reason: "unknownKey" });
  });

  it("refuses a genuine digest of another counter", async () => {
    const digest = await signDigest({ ...HEAD, counterId: "other" }, signer);
    const keys = [await signer.publicKey()];
    expect(await verifyDigest(digest, keys, { counterId: "other" })).toMatchObject({ ok: true });
    expect(await verifyDigest(digest, keys, { counterId: "default" })).toMatchObject({
      ok: false,
      reason: "otherCounter",
    });
  });

  it("refuses a tampered payload (a lower version, another hash)", async () => {
    const [header, , signature] = parts(await signDigest(HEAD, signer));
    const keys = [await signer.publicKey()];
    for (const changed of [
      { ...HEAD, version: 41 },
      { ...HEAD, hash: "0".repeat(64) },
    ]) {
      const payload = Buffer.from(JSON.stringify(changed)).toString("base64url");
      const result = await verifyDigest(`${header}.${payload}.${signature}`, keys, { counterId: "default" });
      expect(result).toMatchObject({ ok: false, reason: "badSignature" });
    }
  });

  it("refuses malformed digests, never throwing", async () => {
    const keys = [await signer.publicKey()];
    const [header, payload, signature] = parts(await signDigest(HEAD, signer));
    const other = (members: object) => Buffer.from(JSON.stringify(members)).toString("base64url");
    const { kid } = keys[0]!;
    const inputs: unknown[] = [
      undefined,
      42,
      "",
      "a.b",
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.x`,
      `${header}.${payload}.${signature}!`,
      "x".repeat(3000),
      `${other({ alg: "none", kid, typ: DIGEST_TYPE })}.${payload}.`,
      `${other({ alg: "HS256", kid, typ: DIGEST_TYPE })}.${payload}.${signature}`,
      `${other({ alg: "ES256", kid, typ: "JWT" })}.${payload}.${signature}`,
      `${other({ alg: "ES256", typ: DIGEST_TYPE })}.${payload}.${signature}`,
      `${other({ alg: "ES256", kid, typ: DIGEST_TYPE, crit: ["b64"], b64: false })}.${payload}.${signature}`,
      `bm90IGpzb24.${payload}.${signature}`,
    ];
    for (const input of inputs) {
      const result = await verifyDigest(input, keys, { counterId: "default" });
      expect(result, String(input).slice(0, 80)).toMatchObject({ ok: false, reason: "malformed" });
    }
  });

  it("refuses a payload that is not a head even when the key signed it", async () => {
    const publicKey = await signer.publicKey();
    const header = Buffer.from(
      JSON.stringify({ alg: "ES256", kid: publicKey.kid, typ: DIGEST_TYPE }),
    ).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ counterId: "default", version: -1 })).toString("base64url");
    const signature = await signer.sign(new TextEncoder().encode(`${header}.${payload}`));
    const digest = `${header}.${payload}.${Buffer.from(signature).toString("base64url")}`;
    expect(await verifyDigest(digest, [publicKey], { counterId: "default" })).toMatchObject({
      ok: false,
      reason: "malformed",
    });
  });

  it("signs only a valid head", async () => {
    await expect(signDigest({ ...HEAD, hash: "not a hash" }, signer)).rejects.toThrow();
    await expect(signDigest({ ...HEAD, root: "A".repeat(64) }, signer)).rejects.toThrow();
  });

  it("commits to the Merkle root: a payload without `root`, even signed by the key, is not a head", async () => {
    const publicKey = await signer.publicKey();
    const header = Buffer.from(
      JSON.stringify({ alg: "ES256", kid: publicKey.kid, typ: DIGEST_TYPE }),
    ).toString("base64url");
    const { root: _root, ...withoutRoot } = HEAD;
    const payload = Buffer.from(JSON.stringify(withoutRoot)).toString("base64url");
    const signature = await signer.sign(new TextEncoder().encode(`${header}.${payload}`));
    const digest = `${header}.${payload}.${Buffer.from(signature).toString("base64url")}`;
    expect(await verifyDigest(digest, [publicKey], { counterId: "default" })).toMatchObject({
      ok: false,
      reason: "malformed",
    });
    const signed = await signDigest(HEAD, signer);
    const decoded = JSON.parse(Buffer.from(parts(signed)[1], "base64url").toString("utf8")) as unknown;
    expect(decoded).toEqual({ ...HEAD });
    expect(Object.keys(decoded as object)).toEqual(["counterId", "version", "hash", "root", "at"]);
  });
});

/**
 * A fake of the KMS client's `send` for the two commands the signer uses, over a real local P-256 key: Sign
 * answers a DER ECDSA-Sig-Value as KMS does, GetPublicKey the SPKI DER. It refuses what KMS would refuse.
 */
function fakeKms(privateKey: KeyObject, keyId: string): KmsClientLike & { calls: string[] } {
  const calls: string[] = [];
  const send = (command: unknown): Promise<unknown> => {
    if (command instanceof GetPublicKeyCommand) {
      calls.push("GetPublicKey");
      if (command.input.KeyId !== keyId) return Promise.reject(new Error("NotFoundException"));
      return Promise.resolve({
        KeyId: keyId,
        KeySpec: "ECC_NIST_P256",
        KeyUsage: "SIGN_VERIFY",
        SigningAlgorithms: ["ECDSA_SHA_256"],
        PublicKey: new Uint8Array(createPublicKey(privateKey).export({ format: "der", type: "spki" })),
      });
    }
    if (command instanceof SignCommand) {
      calls.push("Sign");
      const { KeyId, Message, MessageType, SigningAlgorithm } = command.input;
      if (KeyId !== keyId || SigningAlgorithm !== "ECDSA_SHA_256" || MessageType !== "RAW") {
        return Promise.reject(new Error("ValidationException"));
      }
      if (Message === undefined || Message.length > 4096)
        return Promise.reject(new Error("ValidationException"));
      // KMS's ECDSA signatures are DER (node's default encoding for EC keys).
      const der = sign("sha256", Message, { key: privateKey, dsaEncoding: "der" });
      return Promise.resolve({ KeyId: keyId, Signature: new Uint8Array(der), SigningAlgorithm });
    }
    return Promise.reject(new Error("unexpected command"));
  };
  return { send: send as KmsClientLike["send"], calls };
}

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("the KMS signer", () => {
  it("signs digests that jose and verifyDigest accept: DER from KMS becomes JOSE's r‖s", async () => {
    const kmsKey = newKey();
    const kms = fakeKms(kmsKey, KEY_ARN);
    const kmsSigner = createKmsSigner(kms, KEY_ARN);
    const publicKey = await kmsSigner.publicKey();
    // The same public key as the KMS key's: the SPKI DER → JWK conversion.
    expect(publicKey).toEqual(await createKeySigner(kmsKey).publicKey());
    // Many signatures, so that r or s with a leading zero byte (DER drops it, or adds a sign byte) show up.
    for (let version = 1; version <= 40; version += 1) {
      const digest = await signDigest({ ...HEAD, version }, kmsSigner);
      await compactVerify(digest, await importJWK(publicKey, "ES256"));
      expect(await verifyDigest(digest, [publicKey], { counterId: "default" })).toMatchObject({ ok: true });
    }
    // GetPublicKey once per signer (execution environment), Sign once per digest.
    expect(kms.calls.filter((call) => call === "GetPublicKey")).toHaveLength(1);
    expect(kms.calls.filter((call) => call === "Sign")).toHaveLength(40);
  });

  it("refuses a KMS key of another spec or usage", async () => {
    const kms = fakeKms(newKey(), KEY_ARN);
    const wrong: KmsClientLike = {
      send: (async (command: unknown) => {
        const output = (await kms.send(command as never)) as unknown as Record<string, unknown>;
        return { ...output, KeySpec: "RSA_2048" };
      }) as KmsClientLike["send"],
    };
    await expect(createKmsSigner(wrong, KEY_ARN).publicKey()).rejects.toThrow(/ECC_NIST_P256/);
  });
});

describe("derToJoseSignature", () => {
  it("pads short integers, drops the sign byte, and refuses what is not an ECDSA-Sig-Value", () => {
    const r = new Uint8Array(32).fill(1);
    const s = new Uint8Array([0x80, ...new Uint8Array(31).fill(2)]);
    // r with a leading zero dropped (31 bytes), s with a sign byte (33 bytes).
    const der = new Uint8Array([0x30, 2 + 31 + 2 + 33, 0x02, 31, ...r.subarray(1), 0x02, 33, 0x00, ...s]);
    const raw = derToJoseSignature(der);
    expect([...raw.subarray(0, 32)]).toEqual([0, ...r.subarray(1)]);
    expect([...raw.subarray(32)]).toEqual([...s]);
    expect(() => derToJoseSignature(new Uint8Array([0x31, 0]))).toThrow(/SEQUENCE/);
    expect(() => derToJoseSignature(new Uint8Array([0x30, 3, 0x02, 1, 1]))).toThrow();
    expect(() => derToJoseSignature(new Uint8Array([0x30, 6, 0x02, 1, 1, 0x02, 1, 1, 0]))).toThrow();
  });
});
