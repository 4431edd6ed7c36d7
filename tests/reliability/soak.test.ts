// `npm run soak`, briefly, inside `npm test`: a few seconds of mixed load with SDK and HTTP faults switched on,
// on the shared DynamoDB Local. Proves the soak runs end to end, prints its running line (operations, errors by
// kind, faults, RSS) and reaches a passing verdict: outcomes settled, I6, the ledger exact, verify ok.

import { inject, describe, expect, it } from "vitest";
import { runSoak } from "../../scripts/soak";

describe("npm run soak, for a few seconds", () => {
  it("runs mixed load with faults on and passes every check of its verdict", async () => {
    const lines: string[] = [];
    const verdict = await runSoak({
      minutes: 0.1,
      clients: 6,
      seed: Number(process.env.RELIABILITY_SEED ?? 61),
      faults: true,
      dynamoDbEndpoint: inject("dynamoDbEndpoint"),
      print: (line) => lines.push(line),
      reportIntervalMs: 1_000,
    });
    expect(verdict.checks.filter((check) => !check.passed)).toEqual([]);
    expect(verdict.passed).toBe(true);
    const running = lines.filter((line) => line.startsWith("t="));
    expect(running.length).toBeGreaterThanOrEqual(3);
    expect(running.at(-1)).toMatch(/ops=\d+ .* applied=\d+ .*errors: .*faults: .*rss=\d+MB/);
    expect(lines.join("\n")).toMatch(/soak PASSED/);
  }, 90_000);
});
