// The replay's fold alone (services/ledger/domain/verification.ts), with no store and no parsing: `--events` real,
// chained events and their audit entries (testkit/seed-ledger.ts's), as plain items, checked against a head with
// its Merkle root as a signed digest commits to — the schema check, the arithmetic, the chain's SHA-256, the
// Merkle tree and the audit comparison of every event. Prints the CPU time per event of each of `--rounds` rounds
// (process CPU time: the figure holds on a busy machine better than wall time). The part of a replay's cost that
// both the table replay and the export replay pay in their ordered, single-threaded phase.
// `npx tsx bench/fold.ts [--events N] [--rounds N]`.

import { parseArgs } from "node:util";
import { loadLedgerConfig } from "../services/ledger/config";
import { auditEntryOf } from "../services/ledger/domain/audit";
import { GENESIS_HEAD } from "../services/ledger/domain/chain";
import type { CurrentLedgerEvent } from "../services/ledger/domain/event";
import { leafOfChainHash, toHex, treeHash } from "../services/ledger/domain/merkle";
import { LedgerCheck } from "../services/ledger/domain/verification";
import { nextEvents } from "../testkit/seed-ledger";
import { benchEnvironment } from "./environment";

type Item = Record<string, unknown>;

/** Plain copies, as a parser hands them to the fold. */
const asItem = (value: object): Item => JSON.parse(JSON.stringify(value)) as Item;

function ledgerOf(events: number) {
  const config = loadLedgerConfig(benchEnvironment("http://127.0.0.1:1", "bench-fold"));
  const chained: CurrentLedgerEvent[] = [];
  let state = { value: config.bounds.min, version: 0, head: GENESIS_HEAD };
  while (chained.length < events) {
    const round = nextEvents(config, state, Math.min(10_000, events - chained.length));
    chained.push(...round.events);
    state = round.next;
  }
  return { config, chained };
}

/** CPU microseconds per event of one fold over the ledger; throws if the fold finds the sound ledger unsound. */
function foldOnce(ledger: ReturnType<typeof ledgerOf>, items: readonly Item[], audit: readonly Item[]) {
  const { config, chained } = ledger;
  const last = chained.at(-1)!;
  const root = toHex(treeHash(chained.map((event) => leafOfChainHash(event.hash))));
  const head = { version: last.version, hash: last.hash, root };
  const started = process.cpuUsage();
  const check = new LedgerCheck(
    {
      counterId: config.counterId,
      bounds: config.bounds,
      nowMs: Date.now(),
      lagGraceMs: 30_000,
      trustedHeads: [head],
    },
    { value: last.valueAfter, version: last.version },
  );
  for (const [index, item] of items.entries()) {
    check.auditEntry(index + 1, audit[index]!);
    check.event(item);
  }
  check.aggregate({
    value: last.valueAfter,
    version: last.version,
    lastEventId: last.eventId,
    headVersion: last.version,
    headHash: last.hash,
  });
  const report = check.report(0);
  const cpu = process.cpuUsage(started);
  if (!report.ok) throw new Error(`the fold found violations: ${JSON.stringify(report.problems)}`);
  return (cpu.user + cpu.system) / items.length;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { events: { type: "string", default: "100000" }, rounds: { type: "string", default: "3" } },
  });
  const ledger = ledgerOf(Number(values.events));
  const items = ledger.chained.map(asItem);
  const audit = ledger.chained.map((event) => asItem(auditEntryOf(event)));
  const rounds = Array.from({ length: Number(values.rounds) }, () => foldOnce(ledger, items, audit));
  process.stdout.write(
    `${JSON.stringify({ events: items.length, cpuMicrosecondsPerEvent: rounds.map((round) => Number(round.toFixed(1))) })}\n`,
  );
}
