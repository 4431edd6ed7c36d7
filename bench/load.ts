// A closed-loop HTTP load generator: N clients, each sending its next request as soon as the last one was
// answered, for a fixed time. Records every latency; retries 429/503 with the same key, as a client must.
// Bounded in time and in requests; it only ever talks to loopback addresses.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface LoadResult {
  readonly clients: number;
  readonly durationMs: number;
  /** Commands acknowledged as applied (200 without Idempotent-Replayed). */
  readonly applied: number;
  /** Retries the clients had to make (429, 503, network). */
  readonly clientRetries: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly latenciesMs: readonly number[];
}

export interface LoadOptions {
  readonly url: string;
  readonly clients: number;
  readonly durationMs: number;
  /** Safety bound: no client sends more than this many requests. */
  readonly requestsPerClientMax?: number;
  /**
   * Whether a 500 is resent too, with the same key (docs/api.md: it may hide an applied command): in Lambda mode
   * it is the answer to a throttled function (local/lambda/pool.ts). Off, a 500 ends the command.
   */
  readonly retryInternal?: boolean;
}

const RETRY_PAUSE_MS = 5;
const ATTEMPTS_PER_COMMAND_MAX = 50;

/** Runs the clients in a process of their own (bench/load-process.ts) and returns what they measured. */
export async function runClosedLoopApart(options: LoadOptions): Promise<LoadResult> {
  const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
  const script = fileURLToPath(new URL("./load-process.ts", import.meta.url));
  const child = spawn(process.execPath, [tsxCli, script, JSON.stringify(options)], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolveExit) => child.once("exit", resolveExit));
  if (code !== 0) throw new Error(`the load process exited with code ${String(code)}`);
  return JSON.parse(output) as LoadResult;
}

export function percentile(sortedMs: readonly number[], fraction: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil(fraction * sortedMs.length) - 1));
  return sortedMs[index] as number;
}

export async function runClosedLoop(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname))
    throw new Error("the load only targets loopback");
  const requestsMax = options.requestsPerClientMax ?? 1_000_000;
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let applied = 0;
  let clientRetries = 0;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;

  async function client(clientIndex: number): Promise<void> {
    for (let sequence = 0; sequence < requestsMax && performance.now() < deadline; sequence++) {
      const idempotencyKey = `bench-${clientIndex}-${sequence}-${startedAt.toFixed(0)}`;
      for (let attempt = 1; attempt <= ATTEMPTS_PER_COMMAND_MAX; attempt++) {
        const sentAt = performance.now();
        let status = "network";
        let replayed = false;
        try {
          const response = await fetch(url, {
            method: "POST",
            headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
            body: '{"action":"increment"}',
          });
          await response.arrayBuffer();
          status = String(response.status);
          replayed = response.headers.get("idempotent-replayed") === "true";
        } catch {
          status = "network";
        }
        latenciesMs.push(performance.now() - sentAt);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === "200") {
          if (!replayed) applied += 1;
          break;
        }
        const retried = ["429", "503", "network", ...(options.retryInternal === true ? ["500"] : [])];
        if (!retried.includes(status)) break;
        clientRetries += 1;
        await new Promise((wake) => setTimeout(wake, RETRY_PAUSE_MS));
      }
    }
  }

  await Promise.all(Array.from({ length: options.clients }, (_, index) => client(index)));
  return {
    clients: options.clients,
    durationMs: performance.now() - startedAt,
    applied,
    clientRetries,
    statuses,
    latenciesMs,
  };
}
