// `npm run soak -- --minutes N`: sustained mixed read/write load on the local runtime with faults switched on —
// at the SDK (failed, ambiguous, throttled and slow DynamoDB calls) and at the HTTP edge (dropped answers and
// random 5xx in a proxy) — by clients that retry with the same key and settle what they never saw. It prints a
// running line (operations, errors by kind, faults, RSS) and ends with a verdict: I6 (the value is the sum of
// what the clients saw applied), the ledger holds exactly those events, the projection converges (verify ok,
// I5), and memory stayed bounded. Exit 0 only when every check holds. It starts its own in-memory DynamoDB
// Local (or uses DYNAMODB_ENDPOINT, loopback only), makes fresh tables, and never keeps per-command state
// beyond the commands whose outcome is still unknown.

import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import "../local/quiet-sdk-notice";
import { ensureTables } from "../local/bootstrap";
import { startDynamoDbLocal, type DynamoDbLocal } from "../local/dynamodb-local";
import {
  injectSdkFaults,
  randomHttpFaultPlan,
  randomSdkFaultPlan,
  seededRandom,
  startHttpFaultProxy,
  type HttpFaultProxy,
  type SdkFaultInjector,
} from "../testkit/faults";
import { startLocalSystem, type LocalSystem } from "../local/system";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { loadLedgerConfig } from "../services/ledger/config";
import type { Action } from "../services/ledger/domain/decider";
import type { VerificationReport } from "../services/ledger/domain/verification";
import { tableNamesWithPrefix } from "../services/ledger/storage/tables";
import { DEFAULT_CLIENT_LIMITS, sendCommand, type ClientLimits } from "../testkit/client";
import { waitForConvergence } from "../testkit/convergence";
import { LEDGER_ONLY_ENVIRONMENT } from "../testkit/claims";

export interface SoakOptions {
  readonly minutes: number;
  readonly clients: number;
  readonly seed: number;
  readonly faults: boolean;
  /** A DynamoDB on a loopback address; the soak makes its own tables there. */
  readonly dynamoDbEndpoint: string;
  /** Where the running line and the verdict go. */
  readonly print: (line: string) => void;
  readonly reportIntervalMs?: number;
}

export interface SoakVerdict {
  readonly passed: boolean;
  readonly checks: readonly { readonly name: string; readonly passed: boolean; readonly detail: string }[];
}

/** Limits of the soak itself (TIGER_STYLE: everything bounded). */
const MINUTES_MAX = 24 * 60;
const CLIENTS_MAX = 256;
const REPORT_INTERVAL_MS_DEFAULT = 5_000;
/** Commands whose outcome is unknown that the soak keeps before it settles them on the spot. */
const UNSETTLED_COMMANDS_MAX = 1_000;
/** GET /number/verify replays the whole ledger: at most one every this long, by one client. */
const VERIFY_INTERVAL_MS = 30_000;
const CONVERGENCE_TIMEOUT_MS = 120_000;
/** Memory is bounded when the peak RSS of the second half is at most this factor of the first half's, plus the slack. */
const RSS_GROWTH_FACTOR_MAX = 1.5;
const RSS_GROWTH_SLACK_BYTES = 64 * 1024 * 1024;
const SOAK_CLIENT: ClientLimits = { ...DEFAULT_CLIENT_LIMITS, retryAfterMsMax: 200 };
const MEBIBYTE = 1024 * 1024;

class UsageError extends Error {
  override readonly name = "UsageError";
}

interface Tally {
  operations: number;
  applied: number;
  appliedSum: number;
  refused: number;
  reads: number;
  readFailures: number;
  /** Failures clients met and retried through, by kind: a status code or "network". */
  readonly errors: Record<string, number>;
  readonly unsettled: Map<string, Action>;
}

function countError(tally: Tally, kind: string, count = 1): void {
  tally.errors[kind] = (tally.errors[kind] ?? 0) + count;
}

/** One GET; a failure is counted, never thrown. */
async function read(tally: Tally, url: string): Promise<void> {
  tally.operations++;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(SOAK_CLIENT.requestTimeoutMs) });
    await response.arrayBuffer();
    tally.reads++;
    if (response.status >= 500 || response.status === 429) {
      tally.readFailures++;
      countError(tally, String(response.status));
    }
  } catch {
    tally.readFailures++;
    countError(tally, "network");
  }
}

/**
 * Settles one unknown outcome for good, as a careful client does: the same command again with the same key. It
 * replays the event if the first attempt was applied, or decides it now; a GET could say 404 while the first
 * attempt still waits in the server's queue. True when the outcome is known now.
 */
async function settle(tally: Tally, baseUrl: string, key: string, action: Action): Promise<boolean> {
  const record = await sendCommand(baseUrl, action, key, SOAK_CLIENT);
  tally.operations += record.attempts;
  for (const [kind, count] of Object.entries(record.failures)) countError(tally, kind, count);
  if (record.outcome.kind === "unknown") return false;
  tally.unsettled.delete(key);
  if (record.outcome.kind === "applied") {
    tally.applied++;
    tally.appliedSum += record.outcome.event.delta;
  } else {
    tally.refused++;
  }
  return true;
}

async function clientLoop(
  tally: Tally,
  baseUrl: string,
  random: () => number,
  deadlineMs: number,
  isVerifier: boolean,
): Promise<void> {
  let verifiedAtMs = Date.now();
  while (Date.now() < deadlineMs) {
    const draw = random();
    if (isVerifier && Date.now() - verifiedAtMs > VERIFY_INTERVAL_MS) {
      verifiedAtMs = Date.now();
      await read(tally, `${baseUrl}/number/verify`);
    } else if (draw < 0.6) {
      const key = `soak-${randomUUID()}`;
      const action: Action = random() < 0.6 ? "increment" : "decrement";
      const record = await sendCommand(baseUrl, action, key, SOAK_CLIENT);
      tally.operations += record.attempts;
      for (const [kind, count] of Object.entries(record.failures)) countError(tally, kind, count);
      if (record.outcome.kind === "applied") {
        tally.applied++;
        tally.appliedSum += record.outcome.event.delta;
      } else if (record.outcome.kind === "unknown") {
        tally.unsettled.set(key, action);
        if (tally.unsettled.size > UNSETTLED_COMMANDS_MAX) await settle(tally, baseUrl, key, action);
      } else {
        tally.refused++;
      }
    } else if (draw < 0.85) {
      await read(tally, `${baseUrl}/number`);
    } else if (draw < 0.97) {
      await read(tally, `${baseUrl}/number/history?limit=20&order=${random() < 0.5 ? "asc" : "desc"}`);
    } else {
      await read(tally, `${baseUrl}/number/events/${encodeURIComponent(`soak-${randomUUID()}`)}`);
    }
  }
}

function faultLine(injectors: readonly SdkFaultInjector[], proxy: HttpFaultProxy | undefined): string {
  const sdk: Record<string, number> = {};
  for (const injector of injectors) {
    for (const [kind, count] of Object.entries(injector.statistics.injected))
      sdk[kind] = (sdk[kind] ?? 0) + count;
  }
  const http: Record<string, number> = proxy === undefined ? {} : proxy.statistics.injected;
  const pairs = Object.entries({ ...sdk, ...http }).filter(([, count]) => count > 0);
  return pairs.length === 0 ? "none" : pairs.map(([kind, count]) => `${kind}=${count}`).join(" ");
}

function isLoopback(endpoint: string): boolean {
  return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(endpoint).hostname);
}

/** What the soak starts and must stop, filled in as it starts. */
interface SoakHarness {
  readonly injectors: SdkFaultInjector[];
  system?: LocalSystem;
  proxy?: HttpFaultProxy;
}

/** What the load ends with, read once the faults are off and the projection has drained. */
interface SoakOutcome {
  readonly tally: Tally;
  readonly rssSamples: readonly RssSample[];
  readonly durationMs: number;
  readonly aggregate: { readonly value: number; readonly version: number };
  readonly ledgerEvents: number;
  readonly report: VerificationReport | undefined;
  /** "converged", or why the projection did not. */
  readonly convergence: string;
}

interface RssSample {
  readonly atMs: number;
  readonly bytes: number;
}

/** Runs the soak on the given DynamoDB and returns the verdict; stops everything it started. */
export async function runSoak(options: SoakOptions): Promise<SoakVerdict> {
  if (!isLoopback(options.dynamoDbEndpoint))
    throw new UsageError("the soak only runs on a loopback DynamoDB");
  const random = seededRandom(options.seed);
  const dataDirectory = mkdtempSync(join(tmpdir(), "counter-ledger-soak-"));
  const environment = soakEnvironment(options.dynamoDbEndpoint, dataDirectory);
  const config = loadLedgerConfig(environment);
  const client = createDocumentClient(config);
  await ensureTables(client, config.tables, config.counterId, config.bounds);
  const harness: SoakHarness = { injectors: [] };
  try {
    const { system, baseUrl } = await startHarness(harness, options, environment, random);
    const durationMs = options.minutes * 60_000;
    const tally = newTally();
    const rssSamples = await runLoad(options, harness, tally, baseUrl, durationMs);
    // Settle what the clients never saw, faults still on; then let the projection drain.
    for (const [key, action] of [...tally.unsettled]) await settle(tally, baseUrl, key, action);
    for (const injector of harness.injectors) injector.enabled = false;
    if (harness.proxy !== undefined) harness.proxy.enabled = false;
    let report: VerificationReport | undefined;
    let convergence = "converged";
    try {
      report = await waitForConvergence(system.url, CONVERGENCE_TIMEOUT_MS);
    } catch (error) {
      convergence = error instanceof Error ? error.message.slice(0, 300) : String(error);
    }
    const aggregate = (await (await fetch(`${system.url}/number`)).json()) as SoakOutcome["aggregate"];
    const ledgerEvents = await countLedger(client, config.tables.ledger);
    const outcome = { tally, rssSamples, durationMs, aggregate, ledgerEvents, report, convergence };
    return printVerdict(options.print, tally, soakChecks(outcome));
  } finally {
    await harness.proxy?.stop();
    await harness.system?.stop();
    client.destroy();
    rmSync(dataDirectory, { recursive: true, force: true });
  }
}

/** The local runtime's environment for a soak: fresh tables, its own data directory, no throttling. */
function soakEnvironment(dynamoDbEndpoint: string, dataDirectory: string): Record<string, string> {
  const tables = tableNamesWithPrefix(`soak-${randomUUID().slice(0, 8)}`);
  return {
    ...LEDGER_ONLY_ENVIRONMENT,
    DYNAMODB_ENDPOINT: dynamoDbEndpoint,
    AWS_REGION: "us-east-1",
    LEDGER_TABLE: tables.ledger,
    COUNTERS_TABLE: tables.counters,
    READ_MODEL_TABLE: tables.readModel,
    QUOTAS_TABLE: tables.quotas,
    COUNTER_MAX: "1000000000",
    DATA_DIR: dataDirectory,
    LOG_LEVEL: "silent",
    // Transient faults hit the projector too: it retries (as Lambda's mapping does) rather than give up.
    STREAM_MAX_RETRY_ATTEMPTS: "100",
    THROTTLE_RATE_PER_SECOND: "off",
  };
}

/** Starts the local system (with SDK faults) and the HTTP fault proxy in front of it, if faults are on. */
async function startHarness(
  harness: SoakHarness,
  options: SoakOptions,
  environment: Record<string, string>,
  random: () => number,
): Promise<{ system: LocalSystem; baseUrl: string }> {
  const system = await startLocalSystem({
    environment,
    port: 0,
    configureClient: (systemClient) => {
      if (!options.faults) return;
      harness.injectors.push(
        injectSdkFaults(
          systemClient,
          randomSdkFaultPlan({
            rates: { failBeforeSend: 0.01, failAfterCommit: 0.02, throttle: 0.01, slowAnswer: 0.05 },
            random,
            slowAnswerMsMax: 100,
          }),
          "eachAttempt",
        ),
        injectSdkFaults(
          systemClient,
          randomSdkFaultPlan({
            rates: { failBeforeSend: 0.01, failAfterCommit: 0.02, throttle: 0.01 },
            random,
          }),
          "eachCall",
        ),
      );
    },
  });
  harness.system = system;
  if (options.faults) {
    harness.proxy = await startHttpFaultProxy({
      targetUrl: system.url,
      plan: randomHttpFaultPlan(
        { failBeforeForward: 0.02, dropResponse: 0.02, replaceWith5xx: 0.02 },
        random,
      ),
      random,
    });
  }
  const { proxy } = harness;
  options.print(
    `soak: ${options.minutes} min, ${options.clients} clients, seed ${options.seed}, faults ${options.faults ? "on" : "off"}, API ${system.url}${proxy === undefined ? "" : ` behind fault proxy ${proxy.url}`}`,
  );
  return { system, baseUrl: proxy?.url ?? system.url };
}

function newTally(): Tally {
  return {
    operations: 0,
    applied: 0,
    appliedSum: 0,
    refused: 0,
    reads: 0,
    readFailures: 0,
    errors: {},
    unsettled: new Map(),
  };
}

/** Every client's loop until the deadline, with a running line (and an RSS sample) every report interval. */
async function runLoad(
  options: SoakOptions,
  harness: SoakHarness,
  tally: Tally,
  baseUrl: string,
  durationMs: number,
): Promise<RssSample[]> {
  const startedAtMs = Date.now();
  const intervalMs = options.reportIntervalMs ?? REPORT_INTERVAL_MS_DEFAULT;
  const rssSamples: RssSample[] = [];
  let lastOperations = 0;
  const reporter = setInterval(() => {
    const rss = process.memoryUsage().rss;
    rssSamples.push({ atMs: Date.now() - startedAtMs, bytes: rss });
    const seconds = Math.round((Date.now() - startedAtMs) / 1_000);
    const perSecond = Math.round((tally.operations - lastOperations) / (intervalMs / 1_000));
    lastOperations = tally.operations;
    options.print(runningLine(tally, seconds, perSecond, faultLine(harness.injectors, harness.proxy), rss));
  }, intervalMs);
  try {
    await Promise.all(
      Array.from({ length: options.clients }, (_, index) =>
        clientLoop(
          tally,
          baseUrl,
          seededRandom(options.seed + index + 1),
          startedAtMs + durationMs,
          index === 0,
        ),
      ),
    );
  } finally {
    clearInterval(reporter);
  }
  return rssSamples;
}

function runningLine(tally: Tally, seconds: number, perSecond: number, faults: string, rss: number): string {
  const errors = Object.entries(tally.errors)
    .map(([kind, count]) => `${kind}=${count}`)
    .join(" ");
  return (
    `t=${seconds}s ops=${tally.operations} (${perSecond}/s) applied=${tally.applied} refused=${tally.refused} ` +
    `unknown=${tally.unsettled.size} reads=${tally.reads} | errors: ${errors || "none"} | ` +
    `faults: ${faults} | rss=${Math.round(rss / MEBIBYTE)}MB ` +
    `heap=${Math.round(process.memoryUsage().heapUsed / MEBIBYTE)}MB`
  );
}

/** The soak's verdict, check by check. */
function soakChecks(outcome: SoakOutcome): SoakVerdict["checks"] {
  const { tally, aggregate, ledgerEvents, report, rssSamples } = outcome;
  const half = outcome.durationMs / 2;
  const peak = (samples: readonly RssSample[]): number =>
    Math.max(0, ...samples.map((sample) => sample.bytes));
  const firstHalfPeak = peak(rssSamples.filter((sample) => sample.atMs <= half));
  const secondHalfPeak = peak(rssSamples.filter((sample) => sample.atMs > half));
  const rssBoundBytes = firstHalfPeak * RSS_GROWTH_FACTOR_MAX + RSS_GROWTH_SLACK_BYTES;
  return [
    {
      name: "every unknown outcome settled",
      passed: tally.unsettled.size === 0,
      detail: `${tally.unsettled.size} still unknown`,
    },
    {
      name: "I6: value = Σ of the commands clients saw applied",
      passed: aggregate.value === tally.appliedSum,
      detail: `value ${aggregate.value}, clients' sum ${tally.appliedSum}`,
    },
    {
      name: "the ledger holds exactly the applied commands (nothing lost, nothing doubled)",
      passed: ledgerEvents === tally.applied && aggregate.version === tally.applied,
      detail: `${ledgerEvents} events, version ${aggregate.version}, clients saw ${tally.applied} applied`,
    },
    {
      name: "the projection converges and verify is ok (I1–I3, I5)",
      passed: report !== undefined && report.ok,
      detail:
        report === undefined
          ? outcome.convergence
          : `${report.events} events verified in ${report.durationMs} ms`,
    },
    {
      name: "memory stays bounded",
      passed: rssSamples.length < 2 || secondHalfPeak <= rssBoundBytes,
      detail:
        `peak RSS ${Math.round(firstHalfPeak / MEBIBYTE)} MB in the first half, ` +
        `${Math.round(secondHalfPeak / MEBIBYTE)} MB in the second (bound ${Math.round(rssBoundBytes / MEBIBYTE)} MB)`,
    },
  ];
}

function printVerdict(
  print: (line: string) => void,
  tally: Tally,
  checks: SoakVerdict["checks"],
): SoakVerdict {
  const passed = checks.every((check) => check.passed);
  print(`\nsoak ${passed ? "PASSED" : "FAILED"} after ${tally.operations} operations:`);
  for (const check of checks) print(`  ${check.passed ? "ok  " : "FAIL"} ${check.name}: ${check.detail}`);
  return { passed, checks };
}

/** Ledger items, counted with a consistent scan (the soak's tables hold one counter). */
async function countLedger(
  client: ReturnType<typeof createDocumentClient>,
  tableName: string,
): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        Select: "COUNT",
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return count;
}

const USAGE = `usage: npm run soak -- --minutes N [--clients C] [--seed S] [--faults on|off]
  Sustained mixed load with faults on; prints a running line and a final verdict. Exit 0 only if it holds.
  --minutes N   how long the load runs (fractions allowed, e.g. 0.5); default 1
  --clients C   concurrent clients (1-${CLIENTS_MAX}); default 16
  --seed S      seed of the fault and load randomness; default: from the clock (printed)
  --faults      on (default) or off
  Environment: DYNAMODB_ENDPOINT (a loopback DynamoDB to use instead of starting DynamoDB Local in memory).`;

export function parseArguments(argv: readonly string[]): Omit<SoakOptions, "dynamoDbEndpoint" | "print"> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        minutes: { type: "string", default: "1" },
        clients: { type: "string", default: "16" },
        seed: { type: "string", default: String(Date.now() % 1_000_000) },
        faults: { type: "string", default: "on" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  const minutes = Number(values.minutes);
  const clients = Number(values.clients);
  const seed = Number(values.seed);
  if (!(minutes > 0 && minutes <= MINUTES_MAX))
    throw new UsageError(`--minutes must be in (0, ${MINUTES_MAX}]`);
  if (!/^\d+$/.test(values.clients) || clients < 1 || clients > CLIENTS_MAX) {
    throw new UsageError(`--clients must be an integer from 1 to ${CLIENTS_MAX}`);
  }
  if (!/^-?\d+$/.test(values.seed) || !Number.isSafeInteger(seed)) {
    throw new UsageError("--seed must be an integer");
  }
  if (values.faults !== "on" && values.faults !== "off") throw new UsageError("--faults must be on or off");
  return { minutes, clients, seed, faults: values.faults === "on" };
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  let dynamoDb: DynamoDbLocal | undefined;
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (endpoint === undefined || endpoint === "") dynamoDb = await startDynamoDbLocal();
  const stopOnSignal = (): void => {
    void dynamoDb?.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  try {
    const verdict = await runSoak({
      ...options,
      dynamoDbEndpoint: dynamoDb?.endpoint ?? (endpoint as string),
      print: (line) => console.log(line),
    });
    process.exitCode = verdict.passed ? 0 : 1;
  } finally {
    await dynamoDb?.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof UsageError ? error.message : error);
    process.exitCode = 2;
  });
}
