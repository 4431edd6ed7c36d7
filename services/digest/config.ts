// The digest variables of the Lambdas (infra/digest.tf sets them): which KMS key signs digests (the query
// Lambda's GET /number/digest and the digest Lambda), and which Object Lock bucket the digest Lambda writes to.

import { z } from "zod";
import { optionalVariable, readEnvironment, type Environment } from "../ledger/config";

const keyId = z.string().regex(/^[A-Za-z0-9:/_.-]{1,2048}$/, { error: "must be a KMS key id, ARN or alias" });
const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name" });

export const digestEnvironment = z.object({
  DIGEST_KMS_KEY_ID: optionalVariable(keyId),
  DIGEST_BUCKET: optionalVariable(bucket),
});

export interface DigestConfig {
  /** Undefined: this deployment signs no digests (GET /number/digest answers 404). */
  readonly kmsKeyId: string | undefined;
  readonly bucket: string | undefined;
}

export function loadDigestConfig(env: Environment = process.env): DigestConfig {
  const variables = readEnvironment(digestEnvironment, env);
  return { kmsKeyId: variables.DIGEST_KMS_KEY_ID, bucket: variables.DIGEST_BUCKET };
}
