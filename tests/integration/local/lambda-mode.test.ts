// LAMBDA_CONCURRENCY (local/lambda/): the command and query functions as isolated execution environments, worker
// threads that each serve one request at a time with their own client and committer, through the real gateway
// on DynamoDB Local. Proved here: every command committed exactly once and each transaction carrying one event
// (group commit batches nothing, as on Lambda), at most N environments created with their cold starts counted,
// a request beyond N answered as API Gateway answers a throttled Lambda with nothing written, the workers'
// metrics in the runtime's one registry, the one AWS model seeing conflicts between environments, and no
// worker left behind by stop().

import { afterEach, describe, expect, it } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { expectLedgerInvariants, readLedger } from "../../support/invariants";
import { createTestStore, type TestStore } from "../../support/store";

/** Attempts of one command before a test gives up on it (throttles and contention are retried). */
const ATTEMPTS_MAX = 200;

const running: { system: LocalSystem; store: TestStore }[] = [];

afterEach(async () => {
  for (const { system, store } of running.splice(0)) {
    await system.stop();
    store.client.destroy();
  }
});

async function start(overrides: Record<string, string>): Promise<{ system: LocalSystem; store: TestStore }> {
  const store = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, ...overrides });
  const system = await startLocalSystem({ environment: store.environment, port: 0, streamPoller: false });
  running.push({ system, store });
  return { system, store };
}

function increment(system: LocalSystem, key: string): Promise<Response> {
  return fetch(`${system.url}/number`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": key },
    body: JSON.stringify({ action: "increment" }),
  });
}

/** Sends the command until it is applied, as a client does on 500/503 (docs/api.md): the same key each time. */
async function incrementUntilApplied(system: LocalSystem, key: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
    const response = await increment(system, key);
    await response.arrayBuffer();
    statuses.push(response.status);
    if (response.status === 200) return statuses;
    expect([500, 503]).toContain(response.status);
    await new Promise((wake) => setTimeout(wake, 20));
  }
  throw new Error(`${key} not applied in ${ATTEMPTS_MAX} attempts: ${statuses.join(",")}`);
}

async function scrape(system: LocalSystem): Promise<string> {
  return (await fetch(`${system.url}/metrics`)).text();
}

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("LAMBDA_CONCURRENCY=2", () => {
  it("commits 8 concurrent commands exactly once, one event per transaction, in at most 2 environments", async () => {
    const { system, store } = await start({ LAMBDA_CONCURRENCY: "2" });
    const keys = Array.from({ length: 8 }, (_, index) => `lambda-${index}`);
    const statuses = await Promise.all(keys.map((key) => incrementUntilApplied(system, key)));
    const { events } = await expectLedgerInvariants(store, store.config.bounds);
    expect(events.map((event) => event.idempotencyKey).sort()).toEqual([...keys].sort());
    const command = system.lambda!.command;
    expect(command.coldStarts).toBeGreaterThanOrEqual(1);
    expect(command.coldStarts).toBeLessThanOrEqual(2);
    expect(command.environmentsMax).toBeLessThanOrEqual(2);
    expect(command.initMsTotal).toBeGreaterThan(0);
    expect(command.coldStartMsTotal).toBeGreaterThan(command.initMsTotal);
    // Every attempt reached an environment or was throttled; the throttled ones are the 500s.
    const attempts = statuses.flat();
    expect(command.invocations + command.throttles).toBe(attempts.length);
    expect(command.throttles).toBe(attempts.filter((status) => status === 500).length);
    // No group commit across environments, and none within one: each transaction carried one event.
    expect(command.committers.eventsCommitted).toBe(8);
    expect(command.committers.transactions).toBeGreaterThanOrEqual(8);
    const text = await scrape(system);
    expect(sample(text, "counter_ledger_batch_size_events_count")).toBe(8);
    expect(sample(text, "counter_ledger_batch_size_events_sum")).toBe(8);
    // The workers' points reach the runtime's one registry: commands by outcome, throttles by reason.
    expect(sample(text, 'counter_ledger_commands_total{outcome="applied"}')).toBe(8);
    expect(sample(text, 'counter_ledger_throttles_total{reason="concurrency"}') ?? 0).toBe(command.throttles);
    // The main thread's committer served nothing.
    expect(system.committer.statistics.transactions).toBe(0);
  });

  it("answers a request beyond N as API Gateway answers a throttled Lambda, and writes nothing for it", async () => {
    const { system, store } = await start({ LAMBDA_CONCURRENCY: "1" });
    // The first request's environment is busy with its cold start while the second arrives.
    const [first, second] = await Promise.all([increment(system, "busy-1"), increment(system, "busy-2")]);
    const answers = [
      {
        key: "busy-1",
        status: first.status,
        body: await first.text(),
        retryAfter: first.headers.get("retry-after"),
      },
      {
        key: "busy-2",
        status: second.status,
        body: await second.text(),
        retryAfter: second.headers.get("retry-after"),
      },
    ];
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 500]);
    const refused = answers.find((answer) => answer.status === 500)!;
    expect(refused.retryAfter).toBe("1");
    const problem = JSON.parse(refused.body) as { status: number; detail: string };
    expect(problem.status).toBe(500);
    expect(problem.detail).toContain("concurrency limit");
    expect(refused.body).not.toMatch(/TooManyRequests|Throttl|arn:aws|Error:/);
    const events = await readLedger(store);
    expect(events.map((event) => event.idempotencyKey)).toEqual([answers.find((a) => a.status === 200)!.key]);
    expect(system.lambda!.command.throttles).toBe(1);
    expect(system.lambda!.command.coldStarts).toBe(1);
  });

  it("reuses a warm environment, the most recently used first: one cold start per environment needed", async () => {
    const { system } = await start({ LAMBDA_CONCURRENCY: "2" });
    // Two at once: the second finds the first environment busy with its cold start, and makes another.
    const pair = await Promise.all([increment(system, "warm-a"), increment(system, "warm-b")]);
    expect(pair.map((response) => response.status)).toEqual([200, 200]);
    const afterPair = [...system.lambda!.command.invocationsPerEnvironment];
    expect(afterPair).toEqual([1, 1]);
    // One at a time: the environment that answered last is the one reused, every time.
    for (let index = 0; index < 4; index++)
      expect((await increment(system, `warm-${index}`)).status).toBe(200);
    const served = system.lambda!.command.invocationsPerEnvironment;
    expect([...served].sort()).toEqual([1, 5]);
    for (let index = 0; index < 3; index++) expect((await fetch(`${system.url}/number`)).status).toBe(200);
    expect(system.lambda!.command).toMatchObject({ coldStarts: 2, invocations: 6, throttles: 0 });
    expect(system.lambda!.query).toMatchObject({ coldStarts: 1, invocations: 3, throttles: 0 });
  });
});

/** Worker threads of this process, as Node's diagnostic report lists them. */
function workerThreads(): number {
  return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

describe("LAMBDA_CONCURRENCY's environments", () => {
  it("are all terminated by stop(): no thread is left behind", async () => {
    const before = workerThreads();
    const { system, store } = await start({ LAMBDA_CONCURRENCY: "2" });
    const answers = await Promise.all([increment(system, "stop-1"), fetch(`${system.url}/number`)]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(workerThreads()).toBe(before + 2);
    running.splice(0);
    await system.stop();
    store.client.destroy();
    expect(workerThreads()).toBe(before);
  });
});

describe("LAMBDA_CONCURRENCY with DYNAMODB_MODEL=aws", () => {
  it("has one model for every environment: their transactions on the aggregate conflict, and are retried", async () => {
    // A tenth of AWS's capacity: conflicts, not throttles, are what two writers meet first.
    const { system, store } = await start({
      LAMBDA_CONCURRENCY: "2",
      DYNAMODB_MODEL: "aws",
      DYNAMODB_MODEL_SCALE: "0.1",
    });
    const applied: string[] = [];
    // Pairs of commands at once, one per environment, until two transactions were in flight together.
    for (let round = 0; round < 50 && (system.lambda!.model?.conflicts ?? 0) === 0; round++) {
      const keys = [`model-${round}-a`, `model-${round}-b`];
      await Promise.all(keys.map((key) => incrementUntilApplied(system, key)));
      applied.push(...keys);
    }
    const model = system.lambda!.model!;
    expect(model.conflicts).toBeGreaterThan(0);
    // Each cancellation reached the environment's committer as a conflict, which it retried (or answered 503).
    expect(system.lambda!.command.committers.conflicts).toBeGreaterThanOrEqual(model.conflicts);
    const { events } = await expectLedgerInvariants(store, store.config.bounds);
    expect(events.map((event) => event.idempotencyKey).sort()).toEqual(applied.sort());
    expect(system.lambda!.command.environmentsMax).toBe(2);
  });

  it("answers a throttle of the shared model in an environment as the in-process runtime does: 503, nothing written", async () => {
    // At 0.1 % of AWS the counter's partition takes one write unit a second; a command's transaction costs two.
    const { system, store } = await start({
      LAMBDA_CONCURRENCY: "1",
      DYNAMODB_MODEL: "aws",
      DYNAMODB_MODEL_SCALE: "0.001",
    });
    expect((await increment(system, "spent-1")).status).toBe(200);
    const refused = await increment(system, "spent-2");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await refused.text()).not.toMatch(/Throttl|TransactionCanceled|arn:aws/);
    expect((await readLedger(store)).map((event) => event.idempotencyKey)).toEqual(["spent-1"]);
    expect(system.lambda!.model!.throttles).toBeGreaterThan(0);
    expect(system.lambda!.command.coldStarts).toBe(1);
  });
});
