// Verification of an escrow-sharded counter (COUNTER_SHARDS > 1) from its tables, for GET /number/verify, the
// scheduled verify and `npm run verify` (docs/architecture.md#escrow-shards): one consistent snapshot of the
// shard items first (TransactGetItems, which serialises with the transactions that write them, so both sides
// of a transfer are in it or neither), then each shard's ledger through the byVersion index up to the version
// the snapshot holds, then the pure check of services/ledger/domain/escrow-verification.ts. A full replay every
// time: no checkpoint for S > 1 yet. It never writes and never throws on bad data: bad data is what it reports.

import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Bounds } from "../domain/decider";
import { shardIdOf } from "../domain/escrow";
import { verifyEscrow } from "../domain/escrow-verification";
import { VERIFY_TAIL_PAUSE_MS, VERIFY_TAIL_READS_MAX } from "../domain/limits";
import type { ReportedState } from "../domain/verification";
import { projectedStateFromItem, stateEntryKey } from "./read-model";
import { ledgerPages } from "./replay";
import { ShardReader } from "./shards";
import { storeCall } from "./store";
import type { TableNames } from "./tables";

/** The kind of every violation the escrow check finds (its detail names the shard and version). */
export const ESCROW_PROBLEM_KIND = "escrowRule";
/** What the kind means, as PROBLEM_KINDS of verification.ts says it for the unsharded kinds. */
export const ESCROW_PROBLEM_MEANING =
  "I1–I3/I7 per shard, or the escrow rules: a shard's chain, a transfer's pair, Σ floors and ceilings, or a shard item";

export interface ShardedProblem {
  readonly kind: string;
  readonly version?: number;
  readonly detail: string;
}

/** The report of a sharded verification, in the fields of the contract's VerifyReport that a replay fills. */
export interface ShardedReplayReport {
  readonly ok: boolean;
  readonly events: number;
  readonly ledgerSum: number;
  /** Σ shard values and Σ shard versions (the number of events, transfers' sides included). */
  readonly aggregate: ReportedState;
  /** The projected states of the shards, summed alike. */
  readonly readModel: ReportedState;
  readonly lag: { readonly versions: number; readonly auditEntries: number };
  readonly problems: readonly ShardedProblem[];
  readonly problemsOmitted: number;
  readonly durationMs: number;
  readonly checkedFrom: number;
  readonly checkedTo: number;
  readonly more: boolean;
}

export interface ShardedVerificationDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly tables: TableNames;
  readonly counterId: string;
  readonly bounds: Bounds;
  readonly shards: number;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  /** Problems listed at most (VERIFY_PROBLEMS_LISTED_MAX); the rest are counted. */
  readonly problemsMax: number;
}

const sleepFor = (milliseconds: number): Promise<void> =>
  new Promise((wake) => setTimeout(wake, milliseconds));

/**
 * One shard's ledger items of versions 1..through; the index is read again (a few times, after a pause) while
 * it has fewer than `through` of them, since the byVersion index trails the table a moment.
 */
async function shardLedger(
  dependencies: ShardedVerificationDependencies,
  shardId: string,
  through: number,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const sleep = dependencies.sleep ?? sleepFor;
  for (let read = 0; read <= VERIFY_TAIL_READS_MAX; read++) {
    if (read > 0) await sleep(VERIFY_TAIL_PAUSE_MS);
    const after = items.reduce((highest, item) => Math.max(highest, Number(item.version) || 0), 0);
    for await (const page of ledgerPages(dependencies.client, dependencies.tables, shardId, after, through)) {
      items.push(...page);
    }
    if (items.length >= through) break;
  }
  return items;
}

/** A shard's projected state; a missing item is the shard's start (shard 0 at COUNTER_MIN, the others 0). */
async function projectedShard(
  dependencies: ShardedVerificationDependencies,
  shard: number,
): Promise<ReportedState | undefined> {
  const shardId = shardIdOf(dependencies.counterId, shard);
  const output = await storeCall(() =>
    dependencies.client.send(
      new GetCommand({ TableName: dependencies.tables.readModel, Key: stateEntryKey(shardId) }),
    ),
  );
  if (output.Item === undefined) return { value: shard === 0 ? dependencies.bounds.min : 0, version: 0 };
  try {
    const state = projectedStateFromItem(output.Item, dependencies.bounds);
    return { value: state.value, version: state.version };
  } catch {
    return undefined;
  }
}

/** "<shardId> v<version>: …" names the version on the shard's chain; other problems have none. */
function problemOf(detail: string): ShardedProblem {
  const version = /^\S+ v(\d+): /.exec(detail)?.[1];
  return version === undefined
    ? { kind: ESCROW_PROBLEM_KIND, detail }
    : { kind: ESCROW_PROBLEM_KIND, version: Number(version), detail };
}

/** The projected states summed, and the problems of the ones that are unreadable or ahead of their shard. */
function readModelOf(
  projected: readonly (ReportedState | undefined)[],
  stored: readonly ReportedState[],
  counterId: string,
): { readModel: ReportedState; problems: string[] } {
  const problems: string[] = [];
  const readModel = { value: 0, version: 0 };
  projected.forEach((state, shard) => {
    const shardId = shardIdOf(counterId, shard);
    if (state === undefined) problems.push(`${shardId}: the projected state item is not readable`);
    else if (state.version > (stored[shard]?.version ?? 0))
      problems.push(`${shardId}: the projected state (v${state.version}) is ahead of the shard`);
    readModel.value += state?.value ?? 0;
    readModel.version += state?.version ?? 0;
  });
  return { readModel, problems };
}

/**
 * Replays every shard of the counter from the genesis and checks each chain, the escrow rules and I1 across
 * shards (verifyEscrow), reporting as GET /number/verify does. I5 (audit entries against events) is not checked
 * per shard yet; the projected states are summed, held not to be ahead of their shard, and their lag reported.
 */
export async function verifyShards(
  dependencies: ShardedVerificationDependencies,
): Promise<ShardedReplayReport> {
  const startedAtMs = Date.now();
  const { client, tables, counterId, bounds, shards } = dependencies;
  const stored = await new ShardReader(client, tables, bounds, counterId, shards).readSnapshot();
  const ids = stored.map((_, shard) => shardIdOf(counterId, shard));
  const ledgers = await Promise.all(
    ids.map((id, shard) => shardLedger(dependencies, id, stored[shard]?.version ?? 0)),
  );
  const projected = await Promise.all(ids.map((_, shard) => projectedShard(dependencies, shard)));
  const events = ledgers.flat();
  const escrow = verifyEscrow({ counterId, shards, bounds, events, stored });
  const aggregate = {
    value: stored.reduce((sum, shard) => sum + shard.value, 0),
    version: stored.reduce((sum, shard) => sum + shard.version, 0),
  };
  const { readModel, problems: projectionProblems } = readModelOf(projected, stored, counterId);
  const all = [...escrow.problems, ...projectionProblems].map(problemOf);
  const problems = all.slice(0, dependencies.problemsMax);
  return {
    ok: all.length === 0,
    events: events.length,
    ledgerSum: escrow.ledgerValue - bounds.min,
    aggregate,
    readModel,
    lag: { versions: Math.max(0, aggregate.version - readModel.version), auditEntries: 0 },
    problems,
    problemsOmitted: all.length - problems.length,
    durationMs: Date.now() - startedAtMs,
    checkedFrom: 1,
    checkedTo: events.length,
    more: false,
  };
}
