// The digest Lambda (infra/digest.tf): run by an EventBridge Scheduler schedule every few minutes, it signs the
// counter's current head with the KMS key and writes the digest as a new object to the Object Lock bucket —
// only when the head moved since the last digest it wrote (in this execution environment; S3's If-None-Match
// refuses a head already archived by another). Nothing it writes can be rewritten before its retention ends.

import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { ConfigurationError, loadLedgerConfig } from "../ledger/config";
import { createLogger, describeError, type Logger } from "../ledger/log";
import { createDocumentClient } from "../ledger/storage/clients";
import { createS3DigestArchive, digestObjectKey, type DigestArchive } from "./archive";
import { loadDigestConfig } from "./config";
import { createLedgerDigestSource, type DigestSource } from "./digests";
import { MERKLE_SCHEDULE_BUDGET_MS } from "../ledger/domain/limits";
import { MerkleIncompleteError } from "../ledger/storage/merkle";
import { createKmsSigner } from "./kms-signer";

export interface DigestRun {
  /** `incomplete`: the Merkle tree was not filled within the run's budget; the next run goes on from there. */
  readonly outcome: "written" | "unchanged" | "incomplete";
  /** The digest's version; none when the run signed nothing (`incomplete`). */
  readonly version?: number;
  readonly key?: string;
}

export interface DigestJob {
  (): Promise<DigestRun>;
}

/** One run: the current digest, archived unless it is the one this job archived last. */
export function createDigestJob(source: DigestSource, archive: DigestArchive, log: Logger): DigestJob {
  let lastWritten: string | undefined;
  return async () => {
    let digest;
    try {
      // Each run computes the root: it keeps the Merkle tree's kept subtrees filled for the API's requests.
      digest = await source.current({ rootBudgetMs: MERKLE_SCHEDULE_BUDGET_MS });
    } catch (error) {
      if (!(error instanceof MerkleIncompleteError)) throw error;
      log({ level: "info", message: "digest postponed: the Merkle tree is still being filled" });
      return { outcome: "incomplete" };
    }
    const key = digestObjectKey(digest);
    if (key === lastWritten) return { outcome: "unchanged", version: digest.head.version };
    let outcome: "written" | "exists";
    try {
      outcome = await archive.append(digest);
    } catch (error) {
      log({
        level: "error",
        message: "digest not archived",
        version: digest.head.version,
        ...describeError(error),
      });
      throw error;
    }
    lastWritten = key;
    if (outcome === "exists") return { outcome: "unchanged", version: digest.head.version };
    log({ level: "info", message: "digest archived", version: digest.head.version, key });
    return { outcome: "written", version: digest.head.version, key };
  };
}

let defaultJob: DigestJob | undefined;

/** The Lambda entry point: the schedule's event carries nothing the job needs. */
export const handler = async (): Promise<DigestRun> => {
  if (defaultJob === undefined) {
    const config = loadLedgerConfig();
    const digest = loadDigestConfig();
    if (digest.kmsKeyId === undefined || digest.bucket === undefined) {
      throw new ConfigurationError("the digest Lambda needs DIGEST_KMS_KEY_ID and DIGEST_BUCKET");
    }
    const client = createDocumentClient(config);
    const source = createLedgerDigestSource({
      client,
      tables: config.tables,
      counterId: config.counterId,
      signer: createKmsSigner(new KMSClient({ region: config.region }), digest.kmsKeyId),
    });
    const archive = createS3DigestArchive(new S3Client({ region: config.region }), digest.bucket);
    defaultJob = createDigestJob(source, archive, createLogger("digest"));
  }
  return defaultJob();
};
