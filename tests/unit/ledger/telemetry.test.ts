// The Lambda side of the metrics (services/ledger/telemetry.ts): what Powertools' Metrics writes to stdout is
// CloudWatch's embedded metric format, read back here as CloudWatch would — the namespace, each metric's name,
// unit and values, and the dimensions a point carries. A command handler driven with a committer that answers
// each outcome (no DynamoDB: the outcomes, not the store, are under test) counts each by its own outcome, and a
// scheduled verify is told from an HTTP event. On Lambda the log lines are Powertools' Logger's.

import { Metrics } from "@aws-lambda-powertools/metrics";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CommitOutcome } from "../../../services/command/committer";
import { createCommandHandler } from "../../../services/command/handler";
import { isScheduledVerify, SCHEDULED_VERIFY_INPUT } from "../../../services/audit/handler";
import { loadLedgerConfig } from "../../../services/ledger/config";
import { createLogger } from "../../../services/ledger/log";
import { VERIFY_PASSED_MESSAGE } from "../../../services/query/verify";
import { createEmfRecorder, METRICS, type EmfRecorder } from "../../../services/ledger/telemetry";
import { commandEvent, httpEvent } from "../../support/fixtures";

interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

let written: string[];

beforeEach(() => {
  written = [];
  // Powertools writes EMF through a Console of its own on process.stdout: capture the stream itself.
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

function emfLines(): EmfLine[] {
  return written
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

function recorder(service: string): EmfRecorder {
  return createEmfRecorder(new Metrics({ namespace: "counter-ledger-test", serviceName: service }));
}

describe("the embedded metric format (createEmfRecorder)", () => {
  it("stores points without a dimension and writes them as one line at the flush, with their units", () => {
    const metrics = recorder("command");
    metrics.record("batchSize", 3);
    metrics.record("batchSize", 5);
    metrics.record("commitLatency", 12);
    expect(emfLines()).toEqual([]);
    metrics.flush();
    const lines = emfLines();
    expect(lines).toHaveLength(1);
    const [line] = lines;
    const directive = line!._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe("counter-ledger-test");
    expect(directive.Dimensions).toEqual([["service"]]);
    expect(directive.Metrics).toEqual(
      expect.arrayContaining([
        { Name: METRICS.batchSize.name, Unit: "Count" },
        { Name: METRICS.commitLatency.name, Unit: "Milliseconds" },
      ]),
    );
    expect(line).toMatchObject({ service: "command", BatchSize: [3, 5], CommitLatency: 12 });
    // A flush with nothing stored writes nothing.
    metrics.flush();
    expect(emfLines()).toHaveLength(1);
  });

  it("writes a point with a dimension at once, with its own value of that dimension", () => {
    const metrics = recorder("gateway");
    metrics.record("throttles", 1, "store");
    metrics.record("throttles", 1, "quota");
    const lines = emfLines();
    expect(lines.map((line) => [line.Reason, line.Throttles, line.service])).toEqual([
      ["store", 1, "gateway"],
      ["quota", 1, "gateway"],
    ]);
    for (const line of lines) {
      expect(line._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([["service", "Reason"]]);
    }
  });
});

describe("a command handler's metrics", () => {
  const outcomes: CommitOutcome[] = [
    { kind: "outOfBounds", value: 0, bound: 0 },
    { kind: "keyReused" },
    { kind: "contention", attempts: 5 },
  ];

  it("counts each command by its outcome, invalid ones too, and times each commit", async () => {
    const metrics = recorder("command");
    const pending = [...outcomes];
    const committer = { commit: () => Promise.resolve(pending.shift()!) };
    const config = loadLedgerConfig({ AUTH: "off" });
    const handle = createCommandHandler({ committer, config, metrics, log: () => undefined });
    for (let index = 0; index < outcomes.length; index++) {
      await handle(commandEvent("increment", `key-${index}`));
    }
    await handle(commandEvent("sideways", "key-bad"));
    metrics.flush();
    const counted = emfLines()
      .filter((line) => line.Commands !== undefined)
      .map((line) => line.Outcome);
    expect(counted).toEqual(["outOfBounds", "keyReused", "contention", "invalid"]);
    const latencies = emfLines().find((line) => line.CommitLatency !== undefined)?.CommitLatency;
    // One per command that reached the committer; the invalid one never did.
    expect(latencies).toHaveLength(outcomes.length);
  });
});

describe("the scheduled verify's input (services/audit/handler.ts)", () => {
  it("is the schedule's input, and never an HTTP event, whatever it carries", () => {
    expect(isScheduledVerify(SCHEDULED_VERIFY_INPUT)).toBe(true);
    expect(isScheduledVerify({ task: "verify", extra: 1 })).toBe(true);
    expect(isScheduledVerify({ task: "digest" })).toBe(false);
    expect(isScheduledVerify({})).toBe(false);
    expect(isScheduledVerify(null)).toBe(false);
    const http = { ...httpEvent({ method: "GET", path: "/number/verify" }), task: "verify" };
    expect(isScheduledVerify(http)).toBe(false);
  });
});

describe("the log lines on Lambda (services/ledger/log.ts)", () => {
  it("are Powertools' JSON lines with the service and the fields, below LOG_LEVEL dropped", () => {
    const log = createLogger("audit", {
      AWS_LAMBDA_FUNCTION_NAME: "counter-ledger-audit",
      LOG_LEVEL: "info",
    });
    log({ level: "debug", message: "routine" });
    log({ level: "info", message: VERIFY_PASSED_MESSAGE, checkedTo: 7 });
    const lines = written
      .flatMap((chunk) => chunk.split("\n"))
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "INFO",
        message: VERIFY_PASSED_MESSAGE,
        service: "audit",
        checkedTo: 7,
      }),
    ]);
    expect(lines[0]).toHaveProperty("timestamp");
  });
});
