// Where the digest Lambda writes each digest on AWS: one new object per head in a bucket with Object Lock in
// compliance mode (infra/digest.tf), so that nobody, the service included, can rewrite or delete it before its
// retention ends. Each object is written with `If-None-Match: *`: a digest of a head already archived is
// refused by S3 (412) rather than added as another version, and the role's policy requires that header.

import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { SignedDigest } from "../../contract/schemas";

export type S3ClientLike = Pick<S3Client, "send">;

export interface DigestArchive {
  /** Writes the digest once: `exists` when a digest of the same head is already there. */
  append(digest: SignedDigest): Promise<"written" | "exists">;
}

/** `digests/<counterId>/<version, 16 digits>-<hash>.json`: listed in version order. */
export function digestObjectKey(digest: SignedDigest): string {
  const { counterId, version, hash } = digest.head;
  return `digests/${counterId}/${String(version).padStart(16, "0")}-${hash}.json`;
}

export function createS3DigestArchive(client: S3ClientLike, bucket: string): DigestArchive {
  return {
    append: async (digest) => {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: digestObjectKey(digest),
            Body: `${JSON.stringify(digest)}\n`,
            ContentType: "application/json",
            // Object Lock requires an integrity checksum on every PutObject.
            ChecksumAlgorithm: "SHA256",
            IfNoneMatch: "*",
          }),
        );
        return "written";
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 412) return "exists";
        throw error;
      }
    },
  };
}
