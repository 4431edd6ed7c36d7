// The local runtime's metrics (local/metrics.ts, docs/runbook.md#metrics), read at GET /metrics in the Prometheus
// text format while commands go through the real gateway, committer, stream poller and projector on DynamoDB
// Local: commands counted by outcome (a replay and a 409 included), the group commit's batch sizes adding up to
// the events committed, projector lag, the scheduled verify run on its timer (its line logged and its run
// counted), and stage throttles by reason. /metrics is the local gateway's alone: no AWS route reaches it.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { createQueryHandler } from "../../../services/query/handler";
import { matchRoute } from "../../../services/ledger/http/routes";
import { VERIFY_PASSED_MESSAGE } from "../../../services/query/verify";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { httpEvent } from "../../support/fixtures";
import { createTestStore, type TestStore } from "../../support/store";

/** Milliseconds between the scheduled verifications of this test's runtime. */
const VERIFY_INTERVAL_MS = 200;
/** How long a test waits for something the poller or the timer does, before it fails. */
const WAIT_MS_MAX = 20_000;

let store: TestStore;
let system: LocalSystem;
const logged: string[] = [];

beforeAll(async () => {
  // The runtime's log lines, read back: the scheduled verify's among them.
  vi.spyOn(console, "log").mockImplementation((line: string) => void logged.push(String(line)));
  store = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, COUNTER_MAX: "2" });
  system = await startLocalSystem({
    environment: { ...store.environment, LOG_LEVEL: "info", VERIFY_INTERVAL_MINUTES: "off" },
    port: 0,
    verifyIntervalMs: VERIFY_INTERVAL_MS,
  });
});

afterAll(async () => {
  await system?.stop();
  store?.client.destroy();
  vi.restoreAllMocks();
});

function command(action: string, key: string): Promise<Response> {
  return fetch(`${system.url}/number`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": key },
    body: JSON.stringify({ action }),
  });
}

async function scrape(url = system.url): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of one series of the exposition (`name{labels}`), or undefined when it is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until `ready` holds of the exposition, or fails after WAIT_MS_MAX. */
async function scrapeUntil(ready: (text: string) => boolean): Promise<string> {
  const giveUpAtMs = Date.now() + WAIT_MS_MAX;
  for (;;) {
    const text = await scrape();
    if (ready(text)) return text;
    if (Date.now() > giveUpAtMs) throw new Error(`not seen in ${WAIT_MS_MAX} ms:\n${text}`);
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

describe("GET /metrics of the local runtime (local/metrics.ts)", () => {
  it("counts commands by outcome — applied, a replay, a 409, a key reused — with batch sizes and commit latency", async () => {
    expect((await command("increment", "m-1")).status).toBe(200);
    const replay = await command("increment", "m-1");
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await command("increment", "m-2")).status).toBe(200);
    expect((await command("increment", "m-3")).status).toBe(409);
    expect((await command("decrement", "m-1")).status).toBe(422);

    const text = await scrape();
    expect(sample(text, 'counter_ledger_commands_total{outcome="applied"}')).toBe(2);
    expect(sample(text, 'counter_ledger_commands_total{outcome="replayed"}')).toBe(1);
    expect(sample(text, 'counter_ledger_commands_total{outcome="outOfBounds"}')).toBe(1);
    expect(sample(text, 'counter_ledger_commands_total{outcome="keyReused"}')).toBe(1);
    // Every committed transaction's size, summed: the two events applied, whatever the batching.
    expect(sample(text, "counter_ledger_batch_size_events_sum")).toBe(2);
    expect(sample(text, "counter_ledger_batch_size_events_count")).toBeGreaterThanOrEqual(1);
    // One commit per command that reached the committer.
    expect(sample(text, "counter_ledger_commit_latency_milliseconds_count")).toBe(5);
    expect(sample(text, "counter_ledger_transaction_conflicts_total")).toBe(0);
  });

  it("shows the projector's lag from commit to read model once the stream is projected", async () => {
    const text = await scrapeUntil(
      (exposition) => (sample(exposition, "counter_ledger_projector_lag_milliseconds_count") ?? 0) >= 1,
    );
    expect(sample(text, "counter_ledger_projector_lag_milliseconds_sum")).toBeGreaterThanOrEqual(0);
    expect(text).toContain("# TYPE counter_ledger_projector_lag_milliseconds histogram");
  });

  it("runs the scheduled verify on its timer: its run counted with its duration, its line logged", async () => {
    const text = await scrapeUntil(
      (exposition) => (sample(exposition, 'counter_ledger_verify_runs_total{result="passed"}') ?? 0) >= 1,
    );
    expect(sample(text, 'counter_ledger_verify_runs_total{result="violations"}')).toBeUndefined();
    expect(sample(text, "counter_ledger_verify_duration_milliseconds_count")).toBeGreaterThanOrEqual(1);
    const lines = logged.map((line) => JSON.parse(line) as { message: string; service: string });
    expect(lines).toContainEqual(
      expect.objectContaining({ message: VERIFY_PASSED_MESSAGE, service: "audit" }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ message: "scheduled verify", ok: true }));
    // And `tick` runs one now, as the timer does.
    expect(await system.verifications.tick()).toMatchObject({ ok: true });
  });

  it("answers GET and HEAD only, and nothing below its path", async () => {
    const post = await fetch(`${system.url}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const head = await fetch(`${system.url}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await fetch(`${system.url}/metrics/extra`)).status).toBe(404);
  });

  it("counts stage throttles by reason", async () => {
    const throttled = await startLocalSystem({
      environment: { ...store.environment, THROTTLE_RATE_PER_SECOND: "1", THROTTLE_BURST: "1" },
      port: 0,
      streamPoller: false,
    });
    try {
      const answers = [await fetch(`${throttled.url}/number`), await fetch(`${throttled.url}/number`)];
      expect(answers.map((answer) => answer.status)).toEqual([200, 429]);
      // /metrics itself is not throttled: it is the gateway's own, not an API route.
      expect(sample(await scrape(throttled.url), 'counter_ledger_throttles_total{reason="stage"}')).toBe(1);
    } finally {
      await throttled.stop();
    }
  });
});

describe("/metrics is the local runtime's alone", () => {
  it("no API route matches it, and the query function's $default answers it 404 as on AWS", async () => {
    expect(matchRoute("GET", "/metrics").kind).toBe("notFound");
    const query = createQueryHandler({ client: store.client, config: store.config, log: () => undefined });
    const answer = await query(httpEvent({ method: "GET", path: "/metrics", routeKey: "$default" }));
    expect(answer.statusCode).toBe(404);
    expect(answer.body).not.toContain("counter_ledger");
  });
});
