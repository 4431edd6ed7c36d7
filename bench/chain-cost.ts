// The hash chain's cost on the write path: the same gateway, command handler and committer (group commit),
// with the chain and without it (`new Committer({ chain: false })`: events as schema version 2 wrote them, no
// hashing, and the aggregate without its head). Only the bench builds a committer without the chain.
//
// Both arms run on a ledger table without a stream (nothing reads it here) and after an unmeasured warm-up on
// the same fresh store. Profiled (docs/decisions.md, "The chain's cost on the write path"): DynamoDB Local's
// cost per write grows with the stream records it keeps (about 1 ms of its CPU per event at first, over 15 ms
// after some 20 000 events), and its JIT compilers spend as much CPU as the requests do during the first
// thousands of events; both are the local store's, neither is the chain's, and both moved the ratio from run
// to run far more than the chain did.

import { Committer } from "../services/command/committer";
import { createCommandHandler } from "../services/command/handler";
import type { LedgerConfig } from "../services/ledger/config";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { verifyLedger } from "../services/ledger/storage/replay";
import { createAuditHandler, createQueryHandler } from "../services/query/handler";
import { percentile } from "./load";
import { loadThroughGateway } from "./environment";

export interface ChainRun {
  readonly chained: boolean;
  readonly clients: number;
  readonly throughputPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The ledger verified sound afterwards (an unchained ledger is verified as the old events it imitates). */
  readonly verifyOk: boolean;
}

/** One closed-loop run against the write path, with or without the chain, on fresh tables, after a warm-up. */
export async function runChainCost(options: {
  readonly config: LedgerConfig;
  readonly clients: number;
  readonly chained: boolean;
  readonly durationMs: number;
  /** An unmeasured load first, on the same store and write path: the JVM's JIT warm-up is not the chain's. */
  readonly warmUpMs: number;
}): Promise<ChainRun> {
  const { config, clients, chained, durationMs, warmUpMs } = options;
  const client = createDocumentClient(config);
  const committer = new Committer({ client, config, chain: chained });
  const handlers = {
    command: createCommandHandler({ committer, config, log: () => undefined }),
    query: createQueryHandler({ client, config, log: () => undefined }),
    audit: createAuditHandler({ client, config, log: () => undefined }),
  };
  const warmUp = warmUpMs > 0 ? await loadThroughGateway(handlers, clients, warmUpMs) : undefined;
  const load = await loadThroughGateway(handlers, clients, durationMs);
  const report = await verifyLedger({
    client,
    tables: config.tables,
    counterId: config.counterId,
    bounds: config.bounds,
  });
  client.destroy();
  const sorted = [...load.latenciesMs].sort((left, right) => left - right);
  return {
    chained,
    clients,
    throughputPerSecond: (load.applied * 1000) / load.durationMs,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    verifyOk: report.ok && report.aggregate.version === (warmUp?.applied ?? 0) + load.applied,
  };
}

const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

/** The smallest and the largest of some ratios: their spread. */
const spreadOf = (ratios: readonly number[]) => ({ min: Math.min(...ratios), max: Math.max(...ratios) });

/**
 * The means of the runs at `clients`, with and without the chain, and their ratios (chained / unchained); and
 * the spread of the ratios round by round (the n-th run with the chain against the n-th without it).
 */
export function chainCostOf(runs: readonly ChainRun[], clients: number) {
  const of = (chained: boolean) => runs.filter((run) => run.clients === clients && run.chained === chained);
  const withChain = of(true);
  const without = of(false);
  const throughput = {
    chained: mean(withChain.map((run) => run.throughputPerSecond)),
    unchained: mean(without.map((run) => run.throughputPerSecond)),
  };
  const p50Ms = {
    chained: mean(withChain.map((run) => run.p50Ms)),
    unchained: mean(without.map((run) => run.p50Ms)),
  };
  return {
    clients,
    rounds: withChain.length,
    throughput,
    p50Ms,
    throughputRatio: throughput.chained / throughput.unchained,
    p50Ratio: p50Ms.chained / p50Ms.unchained,
    throughputRatioSpread: spreadOf(
      withChain.map((run, round) => run.throughputPerSecond / without[round]!.throughputPerSecond),
    ),
    p50RatioSpread: spreadOf(withChain.map((run, round) => run.p50Ms / without[round]!.p50Ms)),
  };
}
