// GET /number/verify (docs/api.md#get-numberverify): checks what the ledger gained since the counter's verify
// checkpoint — at most VERIFY_EVENTS_PER_REQUEST_MAX events, and no page after VERIFY_DEADLINE_MS, the report
// saying how far it got — and reports
// I1–I3 and I5 (services/ledger/storage/replay.ts); when that is sound, moves the checkpoint forward
// (docs/architecture.md#checkpointed-verification). One verification per counter at a time: within this
// execution environment a single flight, across Lambdas a lease (services/ledger/storage/checkpoint.ts); a
// request that comes while one runs answers the last result, with its time, instead of starting another.
// A report with violations is still a 200: the report is the answer. It writes only the checkpoint and the lease.

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { VERIFY_EVENTS_PER_REQUEST_MAX, VERIFY_PROBLEMS_LISTED_MAX } from "../../contract/limits";
import { verifyReportSchema, type VerifyReport } from "../../contract/schemas";
import type { LedgerConfig } from "../ledger/config";
import { jsonResponse } from "../ledger/http/response";
import { createLogger, type Logger } from "../ledger/log";
import {
  acquireLease,
  advanceCheckpoint,
  readCheckpoint,
  readLease,
  releaseLease,
} from "../ledger/storage/checkpoint";
import { StoreUnavailableError } from "../ledger/storage/errors";
import { verifyShards } from "../ledger/storage/escrow-replay";
import { verifyAfterCheckpoint } from "../ledger/storage/replay";
import { NO_METRICS, type MetricsRecorder } from "../ledger/telemetry";

/**
 * How long a verifier holds the counter's lease: longer than any verification that API Gateway's 30 s still
 * answers, so it never runs out under a live one; a verifier that died leaves it to expire.
 */
export const VERIFY_LEASE_MS = 30_000;
/** How often a request that found the lease held, and no last result yet, looks again. */
export const VERIFY_LEASE_POLL_MS = 100;
/** How long such a request waits for the first result before answering 503 (the Lambda's timeout is 29 s). */
export const VERIFY_LEASE_WAIT_MS = 20_000;
/**
 * How long after a request's start its replay may read another page (infra/lambda.tf: the audit Lambda's
 * timeout is 29 s). Past it the replay stops after its page and answers `more`, and the checkpoint moves to
 * where it got, so the next request goes on from there: a slow store shortens a verification, it never ends
 * one without an answer. What follows the last page — reading the aggregate, moving the checkpoint, giving
 * the lease back — takes a few round trips.
 */
export const VERIFY_DEADLINE_MS = 20_000;

export interface VerifyDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly config: Pick<LedgerConfig, "tables" | "counterId" | "bounds" | "counterShards">;
  readonly clock?: () => Date;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** Events checked per request (VERIFY_EVENTS_PER_REQUEST_MAX); smaller in tests. */
  readonly eventsMax?: number;
  /** Milliseconds from a request's start to its replay's deadline (VERIFY_DEADLINE_MS); smaller in tests. */
  readonly deadlineMs?: number;
  /** Called once the lease is held, before the replay (tests hold a verification there). */
  readonly onLeaseHeld?: () => Promise<void>;
  /** Where each completed verification's result is logged (the alarms of infra/alarms.tf read it). */
  readonly log?: Logger;
  /** Where each completed verification's result and duration go (services/ledger/telemetry.ts). */
  readonly metrics?: MetricsRecorder;
}

/**
 * The line every completed verification logs, by which infra/alarms.tf's metric filters count verifications
 * (none for a day: "verify not run") and failures ("verify not ok"). A phrase, not a JSON field, so that the
 * filters match under the Lambda's Text and JSON log formats alike.
 */
export const VERIFY_PASSED_MESSAGE = "verify passed";
export const VERIFY_VIOLATIONS_MESSAGE = "verify found violations";

function logResult(log: Logger, metrics: MetricsRecorder, report: VerifyReport): void {
  metrics.record("verifyRuns", 1, report.ok ? "passed" : "violations");
  metrics.record("verifyDuration", report.durationMs);
  const fields = {
    checkedFrom: report.checkedFrom,
    checkedTo: report.checkedTo,
    checkpointVersion: report.checkpointVersion,
    durationMs: report.durationMs,
  };
  if (report.ok) log({ level: "info", message: VERIFY_PASSED_MESSAGE, ...fields });
  else {
    const problems = report.problems.length + (report.problemsOmitted ?? 0);
    log({ level: "error", message: VERIFY_VIOLATIONS_MESSAGE, ...fields, problems });
  }
}

const sleepFor = (milliseconds: number): Promise<void> =>
  new Promise((wake) => setTimeout(wake, milliseconds));

/** A recorded result, read back; undefined if it is not a report (then nobody is answered with it). */
function lastResultOf(json: string | undefined): VerifyReport | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed = verifyReportSchema.safeParse(JSON.parse(json));
    return parsed.success ? { ...parsed.data, fromLastResult: true } : undefined;
  } catch {
    return undefined;
  }
}

/** Checks after the checkpoint (the lease held), moves the checkpoint if that was sound, answers the report. */
async function verifyAndAdvance(
  dependencies: VerifyDependencies,
  deadlineAtMs: number,
): Promise<VerifyReport> {
  const { client, config } = dependencies;
  const clock = dependencies.clock ?? (() => new Date());
  const shards = config.counterShards ?? 1;
  if (shards > 1) {
    // Escrow shards: a full replay of every shard each time, no checkpoint (docs/architecture.md#escrow-shards).
    const report = await verifyShards({
      client,
      tables: config.tables,
      counterId: config.counterId,
      bounds: config.bounds,
      shards,
      problemsMax: VERIFY_PROBLEMS_LISTED_MAX,
    });
    const verifiedAt = clock().toISOString();
    return { ...report, checkpointVersion: 0, verifiedAt, fromLastResult: false };
  }
  const start = await readCheckpoint(client, config.tables, config.counterId);
  const { report, reached } = await verifyAfterCheckpoint(
    { client, tables: config.tables, counterId: config.counterId, bounds: config.bounds, clock },
    { start, eventsMax: dependencies.eventsMax ?? VERIFY_EVENTS_PER_REQUEST_MAX, deadlineAtMs },
  );
  const verifiedAt = clock().toISOString();
  let checkpointVersion = start?.version ?? 0;
  if (reached !== undefined && reached.version > checkpointVersion) {
    const moved = await advanceCheckpoint(client, config.tables, config.counterId, {
      ...reached,
      verifiedAt,
    });
    if (moved) checkpointVersion = reached.version;
  }
  return { ...report, checkpointVersion, verifiedAt, fromLastResult: false };
}

/**
 * One verification under the counter's lease; if another holds it, its last result — or, before there is
 * any, the first one, waited for.
 */
async function verifyUnderLease(
  dependencies: VerifyDependencies,
  deadlineAtMs: number,
): Promise<VerifyReport> {
  const { client, config } = dependencies;
  const clock = dependencies.clock ?? (() => new Date());
  const sleep = dependencies.sleep ?? sleepFor;
  const holder = randomUUID();
  const giveUpAtMs = clock().getTime() + VERIFY_LEASE_WAIT_MS;
  for (let waited = false; ; waited = true) {
    // A request that waited for the first result takes it, rather than the lease it just freed.
    const seen = waited
      ? lastResultOf((await readLease(client, config.tables, config.counterId)).lastResult)
      : undefined;
    if (seen !== undefined) return seen;
    const lease = { holder, nowMs: clock().getTime(), durationMs: VERIFY_LEASE_MS };
    const attempt = await acquireLease(client, config.tables, config.counterId, lease);
    if (attempt.acquired) {
      // Freed between our look and our take: the result we waited for is in what the lease held.
      const arrived = waited ? lastResultOf(attempt.lastResult) : undefined;
      if (arrived === undefined) break;
      await releaseLease(client, config.tables, config.counterId, { holder, lastResult: undefined });
      return arrived;
    }
    const last = lastResultOf(attempt.lastResult);
    if (last !== undefined) return last;
    if (clock().getTime() >= giveUpAtMs) {
      throw new StoreUnavailableError("another verification holds the lease and has no result yet");
    }
    await sleep(VERIFY_LEASE_POLL_MS);
  }
  let report: VerifyReport | undefined;
  try {
    await dependencies.onLeaseHeld?.();
    report = await verifyAndAdvance(dependencies, deadlineAtMs);
    return report;
  } finally {
    const lastResult = report === undefined ? undefined : JSON.stringify(report);
    await releaseLease(client, config.tables, config.counterId, { holder, lastResult });
  }
}

/**
 * The incremental verification of this execution environment, for GET /number/verify and the schedule
 * (services/audit/handler.ts): one at a time here, under the lease across environments; each completed one
 * logged and counted, a last result answered as it is.
 */
export function createVerifier(dependencies: VerifyDependencies): () => Promise<VerifyReport> {
  let running: Promise<VerifyReport> | undefined;
  let last: VerifyReport | undefined;
  const log = dependencies.log ?? createLogger("audit");
  const metrics = dependencies.metrics ?? NO_METRICS;
  return async () => {
    if (running !== undefined) {
      // This environment is verifying already: its last result if it has one, else the running one's.
      return last === undefined ? await running : { ...last, fromLastResult: true };
    }
    const flight = verifyUnderLease(
      dependencies,
      Date.now() + (dependencies.deadlineMs ?? VERIFY_DEADLINE_MS),
    );
    running = flight;
    try {
      const report = await flight;
      last = report;
      if (!report.fromLastResult) logResult(log, metrics, report);
      return report;
    } finally {
      running = undefined;
    }
  };
}

export function createVerifyQuery(
  dependencies: VerifyDependencies,
  verify: () => Promise<VerifyReport> = createVerifier(dependencies),
): () => Promise<APIGatewayProxyStructuredResultV2> {
  return async () => jsonResponse(200, await verify());
}
