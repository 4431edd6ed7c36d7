// The digest Lambda's archive and job (services/digest/archive.ts, handler.ts), on the PutObject command they
// build: one object per head, created only if absent (If-None-Match: *, with a checksum as Object Lock requires);
// S3's 412 for a head already archived is "exists", not a failure, and the job writes a head once.

import { generateKeyPairSync } from "node:crypto";
import { PutObjectCommand, type PutObjectCommandInput } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createS3DigestArchive, type S3ClientLike } from "../../../services/digest/archive";
import { createDigestSource, type Head } from "../../../services/digest/digests";
import { createDigestJob } from "../../../services/digest/handler";
import { createKeySigner } from "../../../services/digest/keys";
import { MerkleIncompleteError } from "../../../services/ledger/storage/merkle";

function fakeS3(): S3ClientLike & { puts: PutObjectCommandInput[] } {
  const keys = new Set<string>();
  const puts: PutObjectCommandInput[] = [];
  const send = (command: unknown): Promise<unknown> => {
    if (!(command instanceof PutObjectCommand)) return Promise.reject(new Error("unexpected command"));
    puts.push(command.input);
    const key = command.input.Key ?? "";
    if (command.input.IfNoneMatch === "*" && keys.has(key)) {
      return Promise.reject(
        Object.assign(new Error("PreconditionFailed"), { $metadata: { httpStatusCode: 412 } }),
      );
    }
    keys.add(key);
    return Promise.resolve({});
  };
  return { send: send as S3ClientLike["send"], puts };
}

describe("the digest job and its S3 archive", () => {
  it("writes each head once, as a new object created only if absent", async () => {
    let head: Head = { counterId: "default", version: 3, hash: "a".repeat(64) };
    const source = createDigestSource({
      readHead: () => Promise.resolve(head),
      root: () => Promise.resolve("c".repeat(64)),
      signer: createKeySigner(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey),
    });
    const s3 = fakeS3();
    const archive = createS3DigestArchive(s3, "counter-ledger-digests-123456789012");
    const job = createDigestJob(source, archive, () => undefined);

    expect(await job()).toMatchObject({ outcome: "written", version: 3 });
    expect(await job()).toEqual({ outcome: "unchanged", version: 3 });
    expect(s3.puts).toHaveLength(1);
    expect(s3.puts[0]).toMatchObject({
      Bucket: "counter-ledger-digests-123456789012",
      Key: `digests/default/0000000000000003-${"a".repeat(64)}.json`,
      ContentType: "application/json",
      ChecksumAlgorithm: "SHA256",
      IfNoneMatch: "*",
    });
    expect(JSON.parse(s3.puts[0]?.Body as string)).toMatchObject({ head: { version: 3 } });

    // Another execution environment (a new job) finds the head archived: S3's 412 is not a failure.
    const again = createDigestJob(source, archive, () => undefined);
    expect(await again()).toEqual({ outcome: "unchanged", version: 3 });

    head = { ...head, version: 4, hash: "b".repeat(64) };
    expect(await job()).toMatchObject({ outcome: "written", version: 4 });
    expect(s3.puts.map((put) => put.Key)).toHaveLength(3);
  });

  it("postpones a run whose Merkle root is not computed within its budget, and writes nothing", async () => {
    let filled = false;
    const source = createDigestSource({
      readHead: () => Promise.resolve({ counterId: "default", version: 5, hash: "d".repeat(64) }),
      root: () => {
        if (!filled) return Promise.reject(new MerkleIncompleteError("not yet"));
        return Promise.resolve("e".repeat(64));
      },
      signer: createKeySigner(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey),
    });
    const s3 = fakeS3();
    const job = createDigestJob(source, createS3DigestArchive(s3, "bucket"), () => undefined);
    expect(await job()).toEqual({ outcome: "incomplete" });
    expect(s3.puts).toHaveLength(0);
    // The next run goes on; the failed root was not kept.
    filled = true;
    expect(await job()).toMatchObject({ outcome: "written", version: 5 });
    expect(JSON.parse(s3.puts[0]?.Body as string)).toMatchObject({ head: { root: "e".repeat(64) } });
  });
});
