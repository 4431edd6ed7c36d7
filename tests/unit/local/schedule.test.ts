// The local runtime's timed runs when a run fails (local/schedule.ts, verify-schedule.ts, digests.ts): the failure
// is logged at error level under the message the runbook's alarms look for, the timer keeps going, and the next
// run succeeds; a failed digest run appends nothing.

import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { verifyReportSchema, type VerifyReport } from "../../../contract/schemas";
import { createDigestSource, type Head } from "../../../services/digest/digests";
import { GENESIS_HASH } from "../../../services/ledger/domain/chain";
import type { LogLine } from "../../../services/ledger/log";
import { DIGESTS_FILE, loadDigestSigner, startDigestSchedule } from "../../../local/digests";
import { startVerifySchedule } from "../../../local/verify-schedule";

const MINUTE = 60_000;

function recorder(): { readonly lines: LogLine[]; readonly log: (line: LogLine) => void } {
  const lines: LogLine[] = [];
  return { lines, log: (line) => lines.push(line) };
}

const okReport: VerifyReport = verifyReportSchema.parse({
  ok: true,
  events: 0,
  ledgerSum: 0,
  aggregate: { value: 0, version: 0 },
  readModel: { value: 0, version: 0 },
  problems: [],
  durationMs: 1,
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("the scheduled verify", () => {
  it("logs a failed timed run as 'scheduled verify failed', and the next run goes ahead", async () => {
    const { lines, log } = recorder();
    const verify = vi
      .fn<() => Promise<VerifyReport>>()
      .mockRejectedValueOnce(new Error("store unavailable"))
      .mockResolvedValue(okReport);
    const schedule = startVerifySchedule({ verify, intervalMs: MINUTE, log });
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(lines).toEqual([
      {
        level: "error",
        message: "scheduled verify failed",
        errorName: "Error",
        errorMessage: "store unavailable",
      },
    ]);
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(lines.slice(1)).toEqual([
      {
        level: "info",
        message: "scheduled verify",
        ok: true,
        checkpointVersion: undefined,
        fromLastResult: false,
      },
    ]);
    expect(verify).toHaveBeenCalledTimes(2);
    await schedule.stop();
  });
});

describe("the scheduled digest", () => {
  it("logs a failed timed run as 'digest not written', appends nothing, and the next run writes", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "schedule-"));
    const file = join(dataDirectory, DIGESTS_FILE);
    const head: Head = { counterId: "default", version: 0, hash: GENESIS_HASH };
    const readHead = vi
      .fn<() => Promise<Head>>()
      .mockRejectedValueOnce(new Error("store unavailable"))
      .mockResolvedValue(head);
    const source = createDigestSource({
      readHead,
      root: () => Promise.resolve(GENESIS_HASH),
      signer: loadDigestSigner(dataDirectory),
    });
    const { lines, log } = recorder();
    const schedule = startDigestSchedule({ source, file, intervalMs: MINUTE, log });
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(lines).toEqual([
      {
        level: "error",
        message: "digest not written",
        errorName: "Error",
        errorMessage: "store unavailable",
      },
    ]);
    expect(existsSync(file)).toBe(false);
    await vi.advanceTimersByTimeAsync(MINUTE);
    await schedule.stop();
    expect(lines.slice(1)).toEqual([{ level: "info", message: "digest written", version: 0 }]);
    const written = readFileSync(file, "utf8").trim().split("\n");
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0] ?? "")).toMatchObject({ head: { counterId: "default", version: 0 } });
  });
});
