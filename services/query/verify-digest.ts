// GET /number/verify?digest=<compact JWS> (docs/api.md#get-numberverify): proves that the ledger still holds,
// unchanged, the history a signed digest committed to. The digest is verified first against the service's own
// published keys (services/ledger/domain/digest.ts; a refusal is a 400 naming its reason), then the ledger is
// replayed from the genesis to the digest's version and held to its hash there (I7: digestMismatch at the
// digest's version, rolledBack when the ledger ends below it), beside I1–I3 and I5 on the way.
//
// Its cost is bounded: a digest above VERIFY_DIGEST_VERSION_MAX is a 422 that points to the CLI, and a replay
// that has not reached the digest's version by its deadline (VERIFY_DEADLINE_MS) stops and answers 503. It runs under
// the counter's verify lease (services/ledger/storage/checkpoint.ts), so never beside another verification of
// the counter — while one holds it, a 503 with Retry-After rather than a wait — and it neither moves the verify
// checkpoint nor records its report as the last result: it is a check of its own, not the incremental one.

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { VERIFY_DIGEST_VERSION_MAX } from "../../contract/limits";
import type { DigestHead, VerifyReport } from "../../contract/schemas";
import type { DigestSource } from "../digest/digests";
import type { LedgerConfig } from "../ledger/config";
import { DIGEST_REFUSAL_WORDS, verifyDigest } from "../ledger/domain/digest";
import { problemResponse } from "../ledger/http/problem";
import { jsonResponse } from "../ledger/http/response";
import { acquireLease, releaseLease } from "../ledger/storage/checkpoint";
import { verifyAfterCheckpoint } from "../ledger/storage/replay";
import { VERIFY_DEADLINE_MS, VERIFY_LEASE_MS } from "./verify";

export interface DigestVerifyDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly config: Pick<LedgerConfig, "tables" | "counterId" | "bounds">;
  /** The service's signer and published keys; without it the check answers 404, as the digest routes do. */
  readonly digests?: DigestSource | undefined;
  readonly clock?: () => Date;
  /** Called once the lease is held, before the replay (tests hold a verification there). */
  readonly onLeaseHeld?: () => Promise<void>;
  /** Milliseconds from a request's start to its replay's deadline (VERIFY_DEADLINE_MS); smaller in tests. */
  readonly deadlineMs?: number;
}

type Result = APIGatewayProxyStructuredResultV2;

/** Whole seconds until the lease runs out: what a caller that found it held should wait. */
function retryAfterSeconds(expiresAtMs: number | undefined, nowMs: number): string {
  const leaseSeconds = Math.ceil(VERIFY_LEASE_MS / 1000);
  if (expiresAtMs === undefined) return String(leaseSeconds);
  return String(Math.min(leaseSeconds, Math.max(1, Math.ceil((expiresAtMs - nowMs) / 1000))));
}

/** The replay to the digest's version under the counter's lease; the lease given back, its last result kept. */
async function verifyUnderLease(
  dependencies: DigestVerifyDependencies,
  head: DigestHead,
  request: { readonly requestId: string; readonly deadlineAtMs: number },
): Promise<Result> {
  const { requestId } = request;
  const { client, config } = dependencies;
  const clock = dependencies.clock ?? (() => new Date());
  const holder = randomUUID();
  const lease = { holder, nowMs: clock().getTime(), durationMs: VERIFY_LEASE_MS };
  const attempt = await acquireLease(client, config.tables, config.counterId, lease);
  if (!attempt.acquired) {
    return problemResponse("unavailable", {
      requestId,
      detail: "Another verification of the counter is running: retry after Retry-After.",
      headers: { "Retry-After": retryAfterSeconds(attempt.expiresAtMs, clock().getTime()) },
    });
  }
  try {
    await dependencies.onLeaseHeld?.();
    const { report } = await verifyAfterCheckpoint(
      {
        client,
        tables: config.tables,
        counterId: config.counterId,
        bounds: config.bounds,
        clock,
        trustedHeads: [{ version: head.version, hash: head.hash, root: head.root }],
      },
      { start: undefined, eventsMax: head.version, deadlineAtMs: request.deadlineAtMs },
    );
    if (report.more && report.checkedTo < head.version) {
      // Stopped at its deadline below the digest's version: no answer about the digest, and no half of one.
      return problemResponse("unavailable", {
        requestId,
        detail:
          `The check did not reach version ${head.version} within its time limit: retry, or verify against ` +
          "the digest with npm run verify -- --digest.",
        headers: { "Retry-After": String(Math.ceil(VERIFY_LEASE_MS / 1000)) },
      });
    }
    const body: VerifyReport = {
      ...report,
      verifiedAt: clock().toISOString(),
      fromLastResult: false,
      digestVersion: head.version,
    };
    return jsonResponse(200, body);
  } finally {
    // No lastResult: the incremental verify's last result stays its own.
    await releaseLease(client, config.tables, config.counterId, { holder, lastResult: undefined });
  }
}

export function createDigestVerifyQuery(
  dependencies: DigestVerifyDependencies,
): (request: { readonly requestId: string; readonly digest: string }) => Promise<Result> {
  return async ({ requestId, digest }) => {
    const deadlineAtMs = Date.now() + (dependencies.deadlineMs ?? VERIFY_DEADLINE_MS);
    const source = dependencies.digests;
    if (source === undefined) {
      return problemResponse("notFound", { requestId, detail: "This deployment signs no digests." });
    }
    const { keys } = await source.keys();
    const verified = await verifyDigest(digest, keys, { counterId: dependencies.config.counterId });
    if (!verified.ok) {
      return problemResponse("badRequest", {
        requestId,
        detail: `The digest is refused (${DIGEST_REFUSAL_WORDS[verified.reason]}): ${verified.detail}`,
        extensions: { reason: verified.reason },
      });
    }
    if (verified.head.version > VERIFY_DIGEST_VERSION_MAX) {
      return problemResponse("digestBeyondLimit", {
        requestId,
        detail:
          `The digest signs version ${verified.head.version}; the API replays to at most version ` +
          `${VERIFY_DIGEST_VERSION_MAX}: verify against it with npm run verify -- --digest.`,
        extensions: { versionMax: VERIFY_DIGEST_VERSION_MAX },
      });
    }
    return verifyUnderLease(dependencies, verified.head, { requestId, deadlineAtMs });
  };
}
