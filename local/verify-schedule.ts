// The scheduled verify of the local runtime, as the EventBridge schedule runs it on AWS
// (infra/verify.tf): every VERIFY_INTERVAL_MINUTES the audit function's incremental verification runs
// (services/audit/handler.ts, runScheduledVerify), which logs "verify passed" or "verify found violations" and
// counts the run at GET /metrics. Runs never overlap; a failed run is logged and the next one tries again.

import type { VerifyReport } from "../contract/schemas";
import { runScheduledVerify, type ScheduledVerifyResult } from "../services/audit/handler";
import { describeError, type Logger } from "../services/ledger/log";
import { startSchedule, type Schedule } from "./schedule";

export type VerifySchedule = Schedule<ScheduledVerifyResult>;

export interface VerifyScheduleOptions {
  readonly verify: () => Promise<VerifyReport>;
  /** Undefined: no timer (VERIFY_INTERVAL_MINUTES=off); `tick` still works. */
  readonly intervalMs: number | undefined;
  readonly log: Logger;
}

export function startVerifySchedule(options: VerifyScheduleOptions): VerifySchedule {
  const { verify, log } = options;
  return startSchedule(
    () => runScheduledVerify(verify, log),
    options.intervalMs,
    (error) => log({ level: "error", message: "scheduled verify failed", ...describeError(error) }),
  );
}
