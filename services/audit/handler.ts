// The audit Lambda's entry point (scripts/build.ts, infra/lambda.tf): GET /number/verify,
// /number/events/{key}/proof and /number/digest, on their own function with a small reserved concurrency and
// its own role (docs/architecture.md#the-audit-function). The handler is the read routes' module, restricted
// to these routes: any other route that reaches this function is refused as an unknown one.
// It also runs the scheduled verify (infra/verify.tf): the schedule invokes it directly with
// SCHEDULED_VERIFY_INPUT, never through API Gateway, and that run is the very incremental verification of
// GET /number/verify (the same single flight and lease, its line logged and counted as a request's is).

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { VerifyReport } from "../../contract/schemas";
import { createLogger, type Logger } from "../ledger/log";
import { instrumented } from "../ledger/telemetry";
import { createAuditHandler, lambdaDependencies } from "../query/handler";
import { createVerifier } from "../query/verify";

/** The input of the verify schedule's target (infra/verify.tf holds its `input` to this). */
export const SCHEDULED_VERIFY_INPUT = { task: "verify" } as const;

/** What a scheduled run answers (the Scheduler ignores it; an invocation by hand shows it). */
export interface ScheduledVerifyResult {
  readonly ok: boolean;
  readonly checkpointVersion: number | undefined;
  readonly fromLastResult: boolean;
}

type AuditEvent = APIGatewayProxyEventV2 | typeof SCHEDULED_VERIFY_INPUT;
type AuditResult = APIGatewayProxyStructuredResultV2 | ScheduledVerifyResult;

/** The schedule's input, and never an API Gateway event (which always has a requestContext). */
export function isScheduledVerify(event: unknown): event is typeof SCHEDULED_VERIFY_INPUT {
  if (typeof event !== "object" || event === null || "requestContext" in event) return false;
  return (event as { task?: unknown }).task === SCHEDULED_VERIFY_INPUT.task;
}

/** One scheduled run: the incremental verification, and one line saying it ran (its result is verify's line). */
export async function runScheduledVerify(
  verify: () => Promise<VerifyReport>,
  log: Logger,
): Promise<ScheduledVerifyResult> {
  const report = await verify();
  const result = {
    ok: report.ok,
    checkpointVersion: report.checkpointVersion,
    fromLastResult: report.fromLastResult ?? false,
  };
  log({ level: "info", message: "scheduled verify", ...result });
  return result;
}

export const handler = instrumented<AuditEvent, AuditResult>("audit", (metrics) => {
  const dependencies = lambdaDependencies(metrics);
  const log = createLogger("audit");
  const verify = createVerifier({ ...dependencies, log });
  const http = createAuditHandler({ ...dependencies, log, verify });
  return async (event) => (isScheduledVerify(event) ? runScheduledVerify(verify, log) : http(event));
});
