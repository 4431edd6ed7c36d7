// The event proof's bench (docs/decisions.md#event-proofs-are-merkle-audit-paths): on a ledger of N events
// (100 000 by default; real chain hashes, written fast with BatchWriteItem, as the replay bench fills its read
// model), prints the size of a proof from GET /number/events/{key}/proof and its path length, the time of the
// Merkle root with a cold cache (every leaf read) and with a warm one after 1 000 new events, and the time of the
// offline check (the median of many). Figures, not assertions. `runProofBench` is for bench/run.ts; run alone:
// `npx tsx bench/proof.ts [--events N]`.

import { mkdtempSync } from "node:fs";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startDynamoDbLocal } from "../local/dynamodb-local";
import { loadDigestSigner } from "../local/digests";
import { createLedgerDigestSource } from "../services/digest/digests";
import { leafHash, leafOfChainHash, verifyInclusion } from "../services/ledger/domain/merkle";
import { verifyEventProof } from "../services/ledger/domain/proof";
import { loadLedgerConfig } from "../services/ledger/config";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { MerkleStore } from "../services/ledger/storage/merkle";
import { ensureTables } from "../local/bootstrap";
import { createReadHandler } from "../services/query/handler";
import { eventProofSchema } from "../contract/schemas";
import { seedKeyOf, seedLedger } from "../testkit/seed-ledger";
import { benchEnvironment } from "./environment";

export interface ProofBenchFigures {
  readonly events: number;
  readonly provenVersion: number;
  readonly proofBytes: number;
  readonly pathHashes: number;
  readonly eventBytes: number;
  /** What a plain chain's proof would carry: every later event, whole. */
  readonly linearProofBytes: number;
  readonly coldRootMs: number;
  readonly warmRootAfterNewEventsMs: number;
  readonly newEvents: number;
  readonly checkMedianMs: number;
  readonly inclusionOnlyMedianMs: number;
}

const NEW_EVENTS = 1_000;
const CHECKS = 200;
const INCLUSION_CHECKS = 10_000;

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const startedAt = performance.now();
  const result = await work();
  return { result, ms: performance.now() - startedAt };
}

/** GET /number/events/{key}/proof as API Gateway passes it (AUTH off: the anonymous actor's key). */
function proofRequest(key: string): APIGatewayProxyEventV2 {
  const path = `/number/events/${key}/proof`;
  const routeKey = "GET /number/events/{key}/proof";
  const now = new Date();
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: "",
    headers: { host: "localhost" },
    pathParameters: { key },
    isBase64Encoded: false,
    requestContext: {
      accountId: "000000000000",
      apiId: "bench",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: "bench-proof",
      routeKey,
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

/** Fresh tables on `endpoint`, the ledger filled with `events` events. */
async function filled(endpoint: string, events: number, log: (line: string) => void) {
  const config = loadLedgerConfig(benchEnvironment(endpoint, `bench-proof-${Date.now()}`));
  const client = createDocumentClient(config);
  await ensureTables(client, config.tables, config.counterId, config.bounds);
  log(`proof: writing ${events} events…`);
  const head = await seedLedger(client, config, events);
  return { config, client, head };
}

/** The offline check, timed: the whole check (digest signature included), and the path alone. */
async function timeChecks(proof: unknown, keys: Parameters<typeof verifyEventProof>[2]) {
  const parsed = eventProofSchema.parse(proof);
  const checks: number[] = [];
  for (let run = 0; run < CHECKS; run += 1) {
    const { result, ms } = await timed(() => verifyEventProof(proof, undefined, keys));
    if (!result.ok) throw new Error(`the bench's proof did not check: ${result.detail}`);
    checks.push(ms);
  }
  const leaf = leafHash(leafOfChainHash(parsed.path[0]!));
  const path = parsed.path.map(leafOfChainHash);
  const root = leafOfChainHash(parsed.digest!.head.root);
  const inclusion: number[] = [];
  for (let run = 0; run < INCLUSION_CHECKS; run += 1) {
    const startedAt = performance.now();
    verifyInclusion(parsed.version - 1, parsed.treeSize, leaf, path, root);
    inclusion.push(performance.now() - startedAt);
  }
  return { checkMedianMs: median(checks), inclusionOnlyMedianMs: median(inclusion) };
}

/** The proof bench on DynamoDB Local at `endpoint` (or its own, started and stopped here). */
export async function runProofBench(
  options: { endpoint?: string; events?: number; log?: (line: string) => void } = {},
): Promise<ProofBenchFigures> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const events = options.events ?? 100_000;
  const own = options.endpoint === undefined ? await startDynamoDbLocal() : undefined;
  try {
    const endpoint = options.endpoint ?? own!.endpoint;
    const { config, client, head } = await filled(endpoint, events, log);
    const tree = new MerkleStore({ client, tables: config.tables, counterId: config.counterId });
    log("proof: the root with a cold cache…");
    const cold = await timed(() => tree.root(events, Number.POSITIVE_INFINITY));
    const signer = loadDigestSigner(mkdtempSync(join(tmpdir(), "bench-proof-key-")));
    const digests = createLedgerDigestSource({
      client,
      tables: config.tables,
      counterId: config.counterId,
      signer,
    });
    const query = createReadHandler({ client, config, log: () => undefined, digests }, ["query", "audit"]);
    const provenVersion = Math.floor(events / 3);
    const key = seedKeyOf(provenVersion);
    const answer = await query(proofRequest(key));
    if (answer.statusCode !== 200) throw new Error(`the proof route answered ${answer.statusCode}`);
    const body = answer.body ?? "";
    const proof = eventProofSchema.parse(JSON.parse(body));
    const eventBytes = Buffer.byteLength(JSON.stringify(proof.event));
    log(`proof: ${NEW_EVENTS} new events, then the root with a warm cache…`);
    await seedLedger(client, config, NEW_EVENTS, { from: head });
    const warm = await timed(() => tree.root(events + NEW_EVENTS, Number.POSITIVE_INFINITY));
    const checks = await timeChecks(proof, [await signer.publicKey()]);
    client.destroy();
    return {
      events,
      provenVersion,
      proofBytes: Buffer.byteLength(body),
      pathHashes: proof.path.length,
      eventBytes,
      linearProofBytes: (events - provenVersion) * eventBytes,
      coldRootMs: cold.ms,
      warmRootAfterNewEventsMs: warm.ms,
      newEvents: NEW_EVENTS,
      ...checks,
    };
  } finally {
    await own?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { events: { type: "string" } } });
  runProofBench({ events: values.events === undefined ? undefined : Number(values.events) }).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
