// A profiling tool for the chain's cost (not part of `npm run bench`; docs/decisions.md, "The chain's cost is
// measured without the stream and after a warm-up"): the committer driven directly with a fixed batch size
// (no HTTP, no batch-size feedback) on one DynamoDB Local, printing per arm and per window the CPU per event of
// the JVM's request threads, its JIT and GC threads (read from /proc/<pid>/task), and this process. CPU per
// event moves far less than wall time when other work shares the cores. Arms: chain, plain (the committer
// without the chain), and the variants of bench/chain-variants.ts; any other name starting with "chain" is
// another chained arm (an A/A pair). Linux only.
//   tsx bench/chain-store.ts --arms chain,plain,plainpad,chainA --batch 16 --events 3200 --windows 4 [--no-stream]

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import { CreateTableCommand, DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { tableDefinitions } from "../services/ledger/storage/tables";
import { Committer } from "../services/command/committer";
import { loadLedgerConfig } from "../services/ledger/config";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { requestFingerprint } from "../services/ledger/domain/fingerprint";
import { ensureTables } from "../local/bootstrap";
import { startDynamoDbLocal } from "../local/dynamodb-local";
import { benchEnvironment } from "./environment";
import { variantOf } from "./chain-variants";

const { values } = parseArgs({
  options: {
    arms: { type: "string", default: "chain,plain" },
    batch: { type: "string", default: "16" },
    events: { type: "string", default: "1600" },
    windows: { type: "string", default: "1" },
    "no-stream": { type: "boolean", default: false },
    endpoint: { type: "string" },
  },
});
const arms = values.arms.split(",");
const batch = Number(values.batch);
const events = Number(values.events) / Number(values.windows);
const windows = Number(values.windows);

const TICKS = 100;
function cpuMsOf(pid: number, path = `/proc/${pid}/stat`): number {
  const fields = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}
/** CPU ms of the JVM's threads by kind: the request work, the JIT compilers, the garbage collector. */
function javaCpu(pid: number): { work: number; jit: number; gc: number } {
  const totals = { work: 0, jit: 0, gc: 0 };
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8");
      const ms = cpuMsOf(Number(task), `/proc/${pid}/task/${task}/stat`);
      if (name.startsWith("C1") || name.startsWith("C2")) totals.jit += ms;
      else if (name.startsWith("G1") || name.startsWith("GC")) totals.gc += ms;
      else totals.work += ms;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return totals;
}
function javaPid(): number {
  const out = execFileSync("ps", ["--ppid", String(process.pid), "-o", "pid=,comm="], { encoding: "utf8" });
  const line = out.split("\n").find((row) => row.includes("java"));
  if (line === undefined) throw new Error("no java child");
  return Number(line.trim().split(/\s+/)[0]);
}

const dynamo = await startDynamoDbLocal();
const pid = javaPid();
let index = 0;
try {
  for (const arm of arms) {
    index++;
    const config = loadLedgerConfig(benchEnvironment(dynamo.endpoint, `st-${index}`));
    const client = createDocumentClient(config);
    if (values["no-stream"]) {
      const ledger = tableDefinitions(config.tables).find((d) => d.TableName === config.tables.ledger);
      await client.send(new CreateTableCommand({ ...ledger!, StreamSpecification: undefined }));
    }
    await ensureTables(client, config.tables, config.counterId, config.bounds);
    const committer = new Committer({
      client,
      config,
      chain: !arm.startsWith("plain"),
      batchEventsMax: batch,
    });
    variantOf(client, arm);
    const command = (sequence: number) => ({
      action: "increment" as const,
      counterId: config.counterId,
      idempotencyKey: `k-${sequence}-${randomUUID()}`,
      actor: { sub: "anonymous", name: "anonymous" },
      requestFingerprint: requestFingerprint("increment"),
      requestId: randomUUID(),
    });
    // The first batch holds one command (taken synchronously); settle it before measuring.
    await committer.commit(command(0));
    let sequenceBase = 0;
    for (let window = 1; window <= windows; window++) {
      const txBefore = committer.statistics.transactions;
      const javaBefore = cpuMsOf(pid);
      const threadsBefore = javaCpu(pid);
      const nodeBefore = process.cpuUsage();
      const started = performance.now();
      const pending: Promise<unknown>[] = [];
      for (let sequence = 1; sequence <= events; sequence++)
        pending.push(committer.commit(command(sequenceBase + sequence)));
      sequenceBase += events;
      const outcomes = (await Promise.all(pending)) as { kind: string }[];
      const wallMs = performance.now() - started;
      const node = process.cpuUsage(nodeBefore);
      const javaMs = cpuMsOf(pid) - javaBefore;
      const threads = javaCpu(pid);
      const per = (key: "work" | "jit" | "gc") =>
        Number(((threads[key] - threadsBefore[key]) / events).toFixed(3));
      const tx = committer.statistics.transactions - txBefore;
      const row = {
        arm,
        batch,
        window,
        applied: outcomes.filter((outcome) => outcome.kind === "applied").length,
        tx,
        javaMsPerTx: Number((javaMs / tx).toFixed(2)),
        javaMsPerEvent: Number((javaMs / events).toFixed(3)),
        workMsPerEvent: per("work"),
        jitMsPerEvent: per("jit"),
        gcMsPerEvent: per("gc"),
        nodeMsPerEvent: Number(((node.user + node.system) / 1000 / events).toFixed(3)),
        wallMsPerTx: Number((wallMs / tx).toFixed(2)),
      };
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
    for (const table of Object.values(config.tables) as string[])
      await client.send(new DeleteTableCommand({ TableName: table }));
    client.destroy();
  }
} finally {
  await dynamo.stop();
}
