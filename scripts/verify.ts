// `npm run verify [-- --json] [-- --segments N] [-- --digest FILE [--keys FILE|URL]] [-- --url <api base URL> [--token <access token>]] [-- --export DIR]`: replays the whole ledger of any deployment — DynamoDB Local
// (DYNAMODB_ENDPOINT) or AWS (the usual credential chain and AWS_REGION), tables and counter from LEDGER_TABLE,
// COUNTERS_TABLE, READ_MODEL_TABLE and COUNTER_ID — and prints the report of I1–I3 and I5; with --url it asks
// a running API's GET /number/verify instead. Exit 0 only when the ledger is sound, 1 when it is not, 2 when it
// could not be verified. It only reads, and streams the ledger page by page — N version segments in parallel,
// folded in order. It never uses the API's verify checkpoint: the auditor's replay starts from the genesis.
// With --digest it also holds the ledger to every signed digest in FILE (scripts/verify-digests.ts reads and
// verifies them; each verified head is a trusted head of the replay, docs/runbook.md#verifying-against-the-archived-digests).
// With --export it replays from DynamoDB table exports instead of the tables (services/ledger/storage/export-replay.ts,
// docs/runbook.md#verifying-from-a-table-export).

import { parseArgs } from "node:util";
import "../local/quiet-sdk-notice";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { ConfigurationError, loadLedgerConfig } from "../services/ledger/config";
import { describeError } from "../services/ledger/log";
import { verifyLedger, type ReplayProgress } from "../services/ledger/storage/replay";
import { verifyExport } from "../services/ledger/storage/export-replay";
import {
  ESCROW_PROBLEM_KIND,
  ESCROW_PROBLEM_MEANING,
  verifyShards,
} from "../services/ledger/storage/escrow-replay";
import { ExportFormatError } from "../services/ledger/storage/table-export";
import { VERIFY_DIGEST_VERSION_MAX, VERIFY_PROBLEMS_LISTED_MAX } from "../contract/limits";
import { PROBLEM_KINDS, type VerificationReport } from "../services/ledger/domain/verification";
import type { DigestHead, VerifyReport } from "../contract/schemas";
import { problemSchema } from "../contract/schemas";
import { loadDigestKeys, NotVerifiedError, readDigestFile, verifiedHeads } from "./verify-digests";

/**
 * A report from the tables or the API: the API's carries its checkpoint fields too (or, with a digest, the
 * digest's version); the tables' with --digest the versions of every digest it was held to.
 */
type VerifiedReport = Omit<VerificationReport, "problems"> &
  Partial<Omit<VerifyReport, keyof VerificationReport>> & {
    /** The unsharded replay's kinds (PROBLEM_KINDS), or the escrow check's (ESCROW_PROBLEM_KIND). */
    readonly problems: readonly {
      readonly kind: string;
      readonly version?: number;
      readonly detail: string;
    }[];
    readonly digestVersions?: readonly number[];
    /** From table exports (--export): their time, and whether the read model was among them. */
    readonly exportTime?: string;
    readonly auditTrailChecked?: boolean;
  };

/** What is not built for escrow shards yet (docs/architecture.md#escrow-shards). */
const SHARDED_DIGESTS = "digests of an escrow-sharded counter (COUNTER_SHARDS > 1) are not built yet";
const SHARDED_EXPORTS =
  "--export does not read an escrow-sharded counter (COUNTER_SHARDS > 1) yet: verify against the tables";

const EXIT_SOUND = 0;
const EXIT_VIOLATIONS = 1;
const EXIT_NOT_VERIFIED = 2;

/** Redraws of the progress line at most this often: fast enough to look alive, rare enough to cost nothing. */
const PROGRESS_REDRAW_INTERVAL_MS = 100;
const PROGRESS_BAR_CHARACTERS = 30;
const SPINNER_FRAMES = ["|", "/", "-", "\\"] as const;
/** Version segments read in parallel by default: measured in bench/ (the replay section). */
const SEGMENTS_DEFAULT = 4;
const SEGMENTS_MAX = 32;
/** Digest versions named one by one in the report; more are named by their range. */
const DIGEST_VERSIONS_LISTED_MAX = 8;

const USAGE = `usage: npm run verify [-- --json] [-- --segments N] [-- --digest FILE [--keys FILE|URL]]
                  [-- --url <api base URL> [--token <access token>]] [-- --export DIR]
  Replays the counter's whole ledger and checks I1–I3, I5 and I7 (docs/architecture.md).
  --json        print the report exactly as GET /number/verify answers it (with --digest on the tables,
                plus digestVersions: the versions of the digests it was held to)
  --segments N  read the ledger as N version ranges in parallel, folded in order (1–${SEGMENTS_MAX}, default
                ${SEGMENTS_DEFAULT}; 1 reads it as one sequence)
  --digest FILE also prove that the ledger still holds, unchanged, the history signed digests committed to.
                FILE: a saved GET /number/digest answer, a bare digest (compact JWS), or a digests.jsonl
                (every line a digest: the ledger is held to all of them). Each digest's signature is checked
                first; one refused (malformed, unknown key, bad signature, another counter's) is exit 2
  --keys F|URL  with --digest: the public keys to check signatures with, a JWKS file or its URL
                (<base>/number/digest/keys). Default: the local key under DATA_DIR (.data), as npm start
                keeps it; on AWS give --keys (a copy of the JWKS kept apart from the deployment is best)
  --url <base>  ask a running API instead of reading the tables: its base URL with the scheme,
                and any path prefix (http://localhost:3000 of npm start, https://…/prod on AWS);
                --url=<base> works too. The API checks what came after its checkpoint, at
                most a bounded number of events per call (the report says if more remain). With
                --digest (one digest), it replays to the digest's version against its own keys, up to
                version ${VERIFY_DIGEST_VERSION_MAX}; beyond that, verify against the tables
  --export DIR  replay from DynamoDB table exports (ExportTableToPointInTime, DYNAMODB_JSON, copied from S3,
                or written by npm run export) instead of the tables: the ledger's and the counters' exports
                (and the read model's, for I5) of one export time, anywhere below DIR. Same checks, same
                --digest, at the export's time
  --token <t>   with --url: an access token with scope counter:audit, which GET /number/verify needs
                (locally: npm run token -- --url <base> --user audrey --scope counter:audit)
  Environment: DYNAMODB_ENDPOINT (else AWS with AWS_REGION and the default credentials),
               LEDGER_TABLE, COUNTERS_TABLE, READ_MODEL_TABLE, COUNTER_ID, COUNTER_MIN, COUNTER_MAX.
               A counter starts at COUNTER_MIN: verify it with the bounds it was created with.
               DATA_DIR: where the local digest key is looked for (with --digest, without --keys).
  Exit status: 0 sound (and, with --digest, proven against every digest), 1 violations found (a departure
  from a digest included), 2 could not verify (a digest refused, no key, a usage error).`;

/** A line of its own on stderr, drawn only when stderr is a terminal, cleared before the report is printed. */
interface ProgressLine {
  readonly draw: (text: string) => void;
  readonly clear: () => void;
}

function progressLine(stream: NodeJS.WriteStream): ProgressLine {
  if (stream.isTTY !== true) return { draw: () => undefined, clear: () => undefined };
  let drawn = false;
  return {
    draw: (text) => {
      drawn = true;
      stream.write(`\r\u001b[2K  ${text}`);
    },
    clear: () => {
      if (drawn) stream.write("\r\u001b[2K");
      drawn = false;
    },
  };
}

/** The replay's progress as a bar: events read of the events the aggregate counted when it began. */
function progressBar(line: ProgressLine): (progress: ReplayProgress) => void {
  let drawnAtMs = 0;
  return ({ eventsRead, eventsExpected }) => {
    const nowMs = Date.now();
    if (nowMs - drawnAtMs < PROGRESS_REDRAW_INTERVAL_MS) return;
    drawnAtMs = nowMs;
    const fraction = eventsExpected === 0 ? 1 : Math.min(1, eventsRead / eventsExpected);
    const filled = Math.round(fraction * PROGRESS_BAR_CHARACTERS);
    const bar = "#".repeat(filled) + "-".repeat(PROGRESS_BAR_CHARACTERS - filled);
    line.draw(`replaying [${bar}] ${eventsRead} / ${eventsExpected} events`);
  };
}

/** While a server replays, nothing tells how far it is: a spinner and the time waited. Answers its stop. */
function progressSpinner(line: ProgressLine): () => void {
  const startedAtMs = Date.now();
  let frame = 0;
  const draw = (): void => {
    const seconds = Math.floor((Date.now() - startedAtMs) / 1000);
    line.draw(
      `waiting for the server's replay ${SPINNER_FRAMES[frame++ % SPINNER_FRAMES.length]} ${seconds} s`,
    );
  };
  draw();
  const timer = setInterval(draw, PROGRESS_REDRAW_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function violations(count: number): string {
  return `${count} ${count === 1 ? "violation" : "violations"}`;
}

/** How far the check went, when the report says it (the API's checks go on from its checkpoint). */
function checkedLines(report: VerifiedReport): string[] {
  const lines: string[] = [];
  if (report.checkedFrom !== undefined && report.checkedTo !== undefined) {
    const range =
      report.checkedTo < report.checkedFrom
        ? "nothing new"
        : `versions ${report.checkedFrom}–${report.checkedTo}`;
    const more = report.more === true ? " (more remain: run again to go on)" : "";
    lines.push(`  checked     ${range}${more}`);
  }
  if (report.checkpointVersion !== undefined) {
    lines.push(`  checkpoint  version ${report.checkpointVersion} verified`);
  }
  if (report.exportTime !== undefined) {
    const audit = report.auditTrailChecked === true ? "" : " (no read model export: I5 not checked)";
    lines.push(`  export      taken at ${report.exportTime}${audit}`);
  }
  if (report.fromLastResult === true) {
    lines.push(`  last result of ${report.verifiedAt ?? "?"}: another verification was running`);
  }
  const digests = digestVersionsOf(report);
  if (digests.length > 0) {
    const count = digests.length === 1 ? "1 signed digest" : `${digests.length} signed digests`;
    lines.push(`  digests     ${count}, ${versionList(digests)}`);
  }
  return lines;
}

/** The versions of the digests the report was held to: the tables' list, or the API's one. */
function digestVersionsOf(report: VerifiedReport): readonly number[] {
  if (report.digestVersions !== undefined) return report.digestVersions;
  return report.digestVersion === undefined ? [] : [report.digestVersion];
}

/** Digest versions in words: each of a few, or the range of many. */
function versionList(versions: readonly number[]): string {
  const sorted = [...new Set(versions)].sort((left, right) => left - right);
  if (sorted.length === 1) return `version ${sorted[0]}`;
  if (sorted.length <= DIGEST_VERSIONS_LISTED_MAX) return `versions ${sorted.join(", ")}`;
  return `versions ${sorted[0]} to ${sorted.at(-1)}`;
}

/** The last lines: the verdict, with where the ledger first goes wrong, and what the digests proved. */
function verdictLines(report: VerifiedReport): string[] {
  const digests = digestVersionsOf(report);
  if (report.ok) {
    const lines = ["OK: the ledger proves the number (I1–I3), and the read model matches it (I5)."];
    if (digests.length > 0) {
      lines.push(`Proven: the ledger holds, unchanged, the history signed at ${versionList(digests)} (I7).`);
    }
    return lines;
  }
  const versions = report.problems.flatMap((problem) =>
    problem.version === undefined ? [] : [problem.version],
  );
  const first = versions.length === 0 ? [] : [`  first bad   version ${Math.min(...versions)}`];
  return [...first, `NOT OK: ${violations(report.problems.length + report.problemsOmitted)}.`];
}

function describeReport(report: VerifiedReport, counterId: string): string {
  const lines = [
    `counter "${counterId}"`,
    `  events      ${report.events}`,
    `  ledger sum  ${report.ledgerSum}`,
    `  aggregate   value ${report.aggregate.value}, version ${report.aggregate.version}`,
    `  read model  value ${report.readModel.value}, version ${report.readModel.version}`,
    `  lag         ${report.lag.versions} versions, ${report.lag.auditEntries} audit entries not yet projected`,
    `  duration    ${report.durationMs} ms`,
    ...checkedLines(report),
  ];
  for (const problem of report.problems) {
    const where = problem.version === undefined ? "" : ` at version ${problem.version}`;
    const kinds: Record<string, string | undefined> = {
      ...PROBLEM_KINDS,
      [ESCROW_PROBLEM_KIND]: ESCROW_PROBLEM_MEANING,
    };
    const invariant = kinds[problem.kind] ?? "unknown kind";
    lines.push(`  ✗ ${problem.kind}${where}: ${problem.detail}  (${invariant})`);
  }
  if (report.problemsOmitted > 0) {
    lines.push(`  … and ${violations(report.problemsOmitted)} more, not listed`);
  }
  lines.push(...verdictLines(report));
  return lines.join("\n");
}

type Arguments =
  | { readonly kind: "help" }
  | { readonly kind: "usageError"; readonly message: string }
  | {
      readonly kind: "verify";
      readonly json: boolean;
      readonly url: URL | undefined;
      readonly token: string | undefined;
      readonly segments: number;
      readonly digest: string | undefined;
      readonly keys: string | undefined;
      readonly exportDirectory: string | undefined;
    };

const MISSING_URL = "--url needs the API's base URL, e.g. --url http://localhost:3000";

/** The API's base URL, with its scheme; a path in it is kept (so it ends in "/" for relative resolution). */
function baseUrlOf(raw: string): URL | string {
  if (raw === "") return MISSING_URL;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return `--url must be an http:// or https:// URL, scheme included (got "${raw}")`;
  }
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  return url;
}

interface RawArguments {
  json?: boolean;
  url?: string;
  token?: string;
  segments?: string;
  digest?: string;
  keys?: string;
  export?: string;
  help?: boolean;
}

function readArguments(argv: readonly string[]): Arguments {
  let values: RawArguments;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        json: { type: "boolean" },
        url: { type: "string" },
        token: { type: "string" },
        segments: { type: "string" },
        digest: { type: "string" },
        keys: { type: "string" },
        export: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    // parseArgs names a --url without its value as "argument missing" or "ambiguous".
    return { kind: "usageError", message: /'--url\b/.test(message) ? MISSING_URL : message };
  }
  if (values.help === true) return { kind: "help" };
  const url = values.url === undefined ? undefined : baseUrlOf(values.url);
  if (typeof url === "string") return { kind: "usageError", message: url };
  const segments = values.segments === undefined ? SEGMENTS_DEFAULT : Number(values.segments);
  if (!Number.isInteger(segments) || segments < 1 || segments > SEGMENTS_MAX) {
    return { kind: "usageError", message: `--segments must be an integer from 1 to ${SEGMENTS_MAX}` };
  }
  const misuse = misusedArguments(values, url !== undefined);
  if (misuse !== undefined) return { kind: "usageError", message: misuse };
  return {
    kind: "verify",
    json: values.json === true,
    url,
    token: values.token,
    segments,
    digest: values.digest,
    keys: values.keys,
    exportDirectory: values.export,
  };
}

/** What goes only with what: a sentence for the first misuse, undefined when there is none. */
function misusedArguments(values: RawArguments, withUrl: boolean): string | undefined {
  if (values.token !== undefined && !withUrl) return "--token goes with --url: the tables need no token";
  if (values.segments !== undefined && withUrl) return "--segments goes with the tables, not with --url";
  if (values.export !== undefined && (withUrl || values.segments !== undefined)) {
    return "--export goes alone: not with --url or --segments";
  }
  if (values.export === "") return "--export needs the folder of the table exports";
  if (values.digest === "") return "--digest needs a file: a saved digest, or digests.jsonl";
  if (values.keys !== undefined && values.digest === undefined) return "--keys goes with --digest";
  if (values.keys !== undefined && withUrl) {
    return "--keys goes with the tables: with --url the API checks the digest against its own keys";
  }
  return undefined;
}

/** The report of a running API's GET /number/verify, below the base URL's path; the replay happens there. */
async function reportFromApi(
  base: URL,
  token: string | undefined,
  digest: string | undefined,
): Promise<VerifiedReport> {
  const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  const url = new URL("number/verify", base);
  if (digest !== undefined) url.searchParams.set("digest", digest);
  const response = await fetch(url, { headers });
  if (response.status === 401 || response.status === 403) {
    throw new Error(
      `GET /number/verify answered ${response.status}: it needs --token with an access token of scope counter:audit`,
    );
  }
  if (response.status !== 200) {
    // The API's refusal of a digest (400, 404, 422, 503) says why in one safe sentence.
    const problem = problemSchema.safeParse(await response.json().catch(() => undefined));
    const why = problem.success ? `: ${problem.data.detail}` : "";
    throw new NotVerifiedError(`GET /number/verify answered ${response.status}${why}`);
  }
  const report = (await response.json()) as VerifiedReport;
  if (typeof report.ok !== "boolean" || !Array.isArray(report.problems)) {
    throw new Error("GET /number/verify did not answer a verification report");
  }
  return report;
}

/** What the replay holds the chain to: each verified digest's head (its version, hash and Merkle root). */
function trustedHeadsOf(digests: readonly DigestHead[]) {
  return digests.map(({ version, hash, root }) => ({ version, hash, root }));
}

/** A report held to digests names their versions. */
function withDigestVersions(report: VerifiedReport, digests: readonly DigestHead[]): VerifiedReport {
  if (digests.length === 0) return report;
  return { ...report, digestVersions: digests.map((head) => head.version) };
}

async function reportFromTables(
  counterId: string,
  segments: number,
  onProgress: (progress: ReplayProgress) => void,
  digests: readonly DigestHead[],
): Promise<VerifiedReport> {
  const config = loadLedgerConfig(process.env);
  const client = createDocumentClient(config);
  const shards = config.counterShards ?? 1;
  try {
    if (shards > 1) {
      // Escrow shards: every shard replayed at once; no segments, no digests for them yet.
      if (digests.length > 0) throw new NotVerifiedError(SHARDED_DIGESTS);
      const { tables, bounds } = config;
      const problemsMax = VERIFY_PROBLEMS_LISTED_MAX;
      return await verifyShards({ client, tables, counterId, bounds, shards, problemsMax });
    }
    const report = await verifyLedger({
      client,
      tables: config.tables,
      counterId,
      bounds: config.bounds,
      segments,
      onProgress,
      trustedHeads: trustedHeadsOf(digests),
    });
    return withDigestVersions(report, digests);
  } finally {
    client.destroy();
  }
}

async function reportFromExport(
  directory: string,
  counterId: string,
  onProgress: (progress: ReplayProgress) => void,
  digests: readonly DigestHead[],
): Promise<VerifiedReport> {
  const config = loadLedgerConfig(process.env);
  if ((config.counterShards ?? 1) > 1) throw new NotVerifiedError(SHARDED_EXPORTS);
  const report = await verifyExport({
    directory,
    tables: config.tables,
    counterId,
    bounds: config.bounds,
    onProgress,
    trustedHeads: trustedHeadsOf(digests),
  });
  return withDigestVersions(report, digests);
}

type VerifyOptions = Extract<Arguments, { kind: "verify" }>;

/**
 * The digests of --digest, before anything is replayed: for the tables, every one verified against the keys
 * (their heads); for the API, the one digest it is to check against its own keys.
 */
async function digestsOf(
  options: VerifyOptions,
  counterId: string,
): Promise<{ heads: DigestHead[]; forApi: string | undefined }> {
  if (options.digest === undefined) return { heads: [], forApi: undefined };
  const digests = await readDigestFile(options.digest);
  if (options.url !== undefined) {
    const [only] = digests;
    if (only === undefined || digests.length > 1) {
      throw new NotVerifiedError(
        `${options.digest} holds ${digests.length} digests; with --url give one (the API checks one per call), or verify against the tables`,
      );
    }
    return { heads: [], forApi: only.digest };
  }
  const { keys } = await loadDigestKeys(options.keys, process.env);
  return { heads: await verifiedHeads(digests, keys, counterId, options.digest), forApi: undefined };
}

async function verify(options: VerifyOptions, counterId: string): Promise<number> {
  const { heads, forApi } = await digestsOf(options, counterId);
  const line = progressLine(process.stderr);
  let stopSpinner = (): void => undefined;
  try {
    let report: VerifiedReport;
    if (options.exportDirectory !== undefined) {
      report = await reportFromExport(options.exportDirectory, counterId, progressBar(line), heads);
    } else if (options.url === undefined) {
      report = await reportFromTables(counterId, options.segments, progressBar(line), heads);
    } else {
      stopSpinner = progressSpinner(line);
      report = await reportFromApi(options.url, options.token, forApi);
    }
    stopSpinner();
    line.clear();
    console.log(options.json ? JSON.stringify(report, null, 2) : describeReport(report, counterId));
    return report.ok ? EXIT_SOUND : EXIT_VIOLATIONS;
  } finally {
    stopSpinner();
    line.clear();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const options = readArguments(argv);
  if (options.kind === "help") {
    console.log(USAGE);
    return EXIT_SOUND;
  }
  if (options.kind === "usageError") {
    console.error(`usage error: ${options.message} (npm run verify -- --help)`);
    return EXIT_NOT_VERIFIED;
  }
  return verify(options, loadLedgerConfig(process.env).counterId);
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    if (error instanceof ConfigurationError) console.error(error.message);
    else if (error instanceof NotVerifiedError || error instanceof ExportFormatError)
      console.error(`could not verify: ${error.message}`);
    else {
      const { errorName, errorMessage } = describeError(error);
      console.error(`could not verify: ${errorName}: ${errorMessage}`);
    }
    process.exit(EXIT_NOT_VERIFIED);
  },
);
