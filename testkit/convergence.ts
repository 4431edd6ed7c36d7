// Waiting for the projection to converge, through the public API only: GET /number/verify until the report is
// ok, the read model has caught up with the aggregate and no audit entry is missing (I5 after the drain).
// Bounded in time; it only reads.

import type { ReplayReport as VerificationReport } from "../services/ledger/storage/replay";

const POLL_PAUSE_MS = 250;

/** Returns the first converged report, or throws with the last one after `timeoutMs`. */
export async function waitForConvergence(
  baseUrl: string,
  timeoutMs: number,
  /** An auditor's `Authorization` when the API runs with AUTH on (verify needs `counter:audit`). */
  headers: Readonly<Record<string, string>> = {},
): Promise<VerificationReport> {
  const deadlineMs = Date.now() + timeoutMs;
  let last: unknown = "no answer";
  while (Date.now() < deadlineMs) {
    try {
      const response = await fetch(`${baseUrl}/number/verify`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const report = (await response.json()) as VerificationReport;
      last = report;
      const converged =
        response.status === 200 &&
        report.ok &&
        report.readModel.version === report.aggregate.version &&
        report.readModel.value === report.aggregate.value &&
        report.lag.versions === 0 &&
        report.lag.auditEntries === 0;
      if (converged) return report;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((wake) => setTimeout(wake, POLL_PAUSE_MS));
  }
  throw new Error(`the projection did not converge within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}
