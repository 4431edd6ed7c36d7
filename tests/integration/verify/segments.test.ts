// The auditor's full replay reading version segments in parallel (services/ledger/storage/replay.ts) against
// the sequential one, on DynamoDB Local: on each corrupted ledger of verify.test.ts, the same report — the same
// violations at the same versions — whether the ledger is read as one Query or as many ranges at once; and
// `npm run verify -- --segments N` prints it.

import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import type { VerificationReport } from "../../../services/ledger/domain/verification";
import { verifyLedger } from "../../../services/ledger/storage/replay";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { createTestStore, type TestStore } from "../../support/store";
import { CORRUPTIONS, soundCounter, versionsOf } from "./corruption";

const run = promisify(execFile);

let store: TestStore;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
});

/** The report without its duration, the one field that differs between two replays of the same ledger. */
function withoutDuration(report: VerificationReport): Omit<VerificationReport, "durationMs"> {
  const { durationMs: _, ...rest } = report;
  return rest;
}

function replay(counterId: string, segments: number, segmentEvents?: number) {
  return verifyLedger({
    client: store.client,
    tables: store.config.tables,
    counterId,
    bounds: store.config.bounds,
    sleep: () => Promise.resolve(),
    segments,
    segmentEvents,
  });
}

describe("the parallel replay finds what the sequential one finds, at the same versions", () => {
  for (const [name, corrupt] of Object.entries(CORRUPTIONS)) {
    it(name, async () => {
      const { counterId, events } = await soundCounter(store, { prefix: "segments" });
      await corrupt(store, counterId, events);
      const sequential = await replay(counterId, 1);
      expect(sequential.ok).toBe(false);
      // Segments of 1, 3 and 5 versions: boundaries on, before and after each corruption.
      for (const segmentEvents of [1, 3, 5]) {
        expect(withoutDuration(await replay(counterId, 4, segmentEvents))).toEqual(
          withoutDuration(sequential),
        );
      }
    });
  }

  it("a sound ledger, and events beyond the aggregate, read in parallel", async () => {
    const { counterId } = await soundCounter(store, { prefix: "segments", length: 40 });
    const sequential = await replay(counterId, 1);
    expect(sequential).toMatchObject({ ok: true, events: 40, checkedFrom: 1, checkedTo: 40, more: false });
    expect(withoutDuration(await replay(counterId, 3, 7))).toEqual(withoutDuration(sequential));
  });

  it("npm run verify -- --segments N prints the same violations", async () => {
    const { counterId, events } = await soundCounter(store, { prefix: "segments" });
    await CORRUPTIONS["a broken chain"]!(store, counterId, events);
    const tsx = resolve("node_modules/.bin/tsx");
    const environment = { ...process.env, ...store.environment, COUNTER_ID: counterId };
    const outcome = await run(tsx, ["scripts/verify.ts", "--json", "--segments", "8"], {
      env: environment,
    }).catch((error: { code: number; stdout: string }) => error);
    expect("code" in outcome ? outcome.code : 0).toBe(1);
    const report = JSON.parse(outcome.stdout) as VerificationReport;
    expect(versionsOf(report, "chainBroken")).toEqual([6, 7]);
    expect(withoutDuration(report)).toEqual(withoutDuration(await replay(counterId, 1)));
  });
});
