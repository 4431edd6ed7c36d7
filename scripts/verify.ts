// `npm run verify [-- --json] [-- --url <api>]`: replays the ledger of any deployment — DynamoDB Local
// (DYNAMODB_ENDPOINT) or AWS (the usual credential chain and AWS_REGION), tables and counter from LEDGER_TABLE,
// COUNTERS_TABLE, READ_MODEL_TABLE and COUNTER_ID — and prints the report of I1–I3 and I5; with --url it asks
// a running API's GET /number/verify instead. Exit 0 only when the ledger is sound, 1 when it is not, 2 when it
// could not be verified. It only reads, and streams the ledger page by page.

import "../local/quiet-sdk-notice";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { ConfigurationError, loadLedgerConfig } from "../services/ledger/config";
import { describeError } from "../services/ledger/log";
import {
  PROBLEM_KINDS,
  verifyLedger,
  type ReplayProgress,
  type VerificationReport,
} from "../services/ledger/storage/replay";

const EXIT_SOUND = 0;
const EXIT_VIOLATIONS = 1;
const EXIT_NOT_VERIFIED = 2;

/** Redraws of the progress bar at most this often: fast enough to look alive, rare enough to cost nothing. */
const PROGRESS_REDRAW_INTERVAL_MS = 100;
const PROGRESS_BAR_CHARACTERS = 30;

const USAGE = `usage: npm run verify [-- --json] [-- --url <api base URL>]
  Replays the counter's ledger and checks I1–I3 and I5 (DESIGN.md).
  --json        print the report exactly as GET /number/verify answers it
  --url <base>  ask a running API (e.g. http://localhost:3000 of npm start) to replay, instead of the tables
  Environment: DYNAMODB_ENDPOINT (else AWS with AWS_REGION and the default credentials),
               LEDGER_TABLE, COUNTERS_TABLE, READ_MODEL_TABLE, COUNTER_ID, COUNTER_MIN, COUNTER_MAX.
  Exit status: 0 sound, 1 violations found, 2 could not verify.`;

/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
function progressBar(stream: NodeJS.WriteStream): {
  update: (progress: ReplayProgress) => void;
  clear: () => void;
} {
  if (stream.isTTY !== true) return { update: () => undefined, clear: () => undefined };
  let drawnAtMs = 0;
  let drawn = false;
  return {
    update: ({ eventsRead, eventsExpected }) => {
      const nowMs = Date.now();
      if (nowMs - drawnAtMs < PROGRESS_REDRAW_INTERVAL_MS) return;
      drawnAtMs = nowMs;
      drawn = true;
      const fraction = eventsExpected === 0 ? 1 : Math.min(1, eventsRead / eventsExpected);
      const filled = Math.round(fraction * PROGRESS_BAR_CHARACTERS);
      const bar = "#".repeat(filled) + "-".repeat(PROGRESS_BAR_CHARACTERS - filled);
      stream.write(`\r  replaying [${bar}] ${eventsRead} / ${eventsExpected} events`);
    },
    clear: () => {
      if (drawn) stream.write("\r\u001b[2K");
      drawn = false;
    },
  };
}

function describeReport(report: VerificationReport, counterId: string): string {
  const lines = [
    `counter "${counterId}"`,
    `  events      ${report.events}`,
    `  ledger sum  ${report.ledgerSum}`,
    `  aggregate   value ${report.aggregate.value}, version ${report.aggregate.version}`,
    `  read model  value ${report.readModel.value}, version ${report.readModel.version}`,
    `  lag         ${report.lag.versions} versions, ${report.lag.auditEntries} audit entries not yet projected`,
    `  duration    ${report.durationMs} ms`,
  ];
  for (const problem of report.problems) {
    const where = problem.version === undefined ? "" : ` at version ${problem.version}`;
    const invariant = (PROBLEM_KINDS as Record<string, string | undefined>)[problem.kind] ?? "unknown kind";
    lines.push(`  ✗ ${problem.kind}${where}: ${problem.detail}  (${invariant})`);
  }
  if (report.problemsOmitted > 0) lines.push(`  … and ${report.problemsOmitted} more violations not listed`);
  lines.push(
    report.ok
      ? "OK: the ledger proves the number (I1–I3), and the read model matches it (I5)."
      : `NOT OK: ${report.problems.length + report.problemsOmitted} violations.`,
  );
  return lines.join("\n");
}

interface Arguments {
  readonly json: boolean;
  readonly url: string | undefined;
}

function readArguments(argv: readonly string[]): Arguments | string {
  let json = false;
  let url: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === "--json") json = true;
    else if (argument === "--url" && argv[index + 1] !== undefined) url = argv[++index];
    else return `unknown argument ${argument}`;
  }
  return { json, url };
}

/** The report of a running API's GET /number/verify; the replay happens on the server. */
async function reportFromApi(base: string): Promise<VerificationReport> {
  const response = await fetch(new URL("/number/verify", base));
  if (response.status !== 200) throw new Error(`GET /number/verify answered ${response.status}`);
  const report = (await response.json()) as VerificationReport;
  if (typeof report.ok !== "boolean" || !Array.isArray(report.problems)) {
    throw new Error("GET /number/verify did not answer a verification report");
  }
  return report;
}

async function reportFromTables(counterId: string, onProgress: (progress: ReplayProgress) => void) {
  const config = loadLedgerConfig(process.env);
  const client = createDocumentClient(config);
  try {
    return await verifyLedger({
      client,
      tables: config.tables,
      counterId,
      bounds: config.bounds,
      onProgress,
    });
  } finally {
    client.destroy();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return EXIT_SOUND;
  }
  const options = readArguments(argv);
  if (typeof options === "string") {
    console.error(`${options}\n${USAGE}`);
    return EXIT_NOT_VERIFIED;
  }
  const counterId = loadLedgerConfig(process.env).counterId;
  const progress = progressBar(process.stderr);
  try {
    const report =
      options.url === undefined
        ? await reportFromTables(counterId, progress.update)
        : await reportFromApi(options.url);
    progress.clear();
    console.log(options.json ? JSON.stringify(report, null, 2) : describeReport(report, counterId));
    return report.ok ? EXIT_SOUND : EXIT_VIOLATIONS;
  } finally {
    progress.clear();
  }
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    if (error instanceof ConfigurationError) console.error(error.message);
    else {
      const { errorName, errorMessage } = describeError(error);
      console.error(`could not verify: ${errorName}: ${errorMessage}`);
    }
    process.exit(EXIT_NOT_VERIFIED);
  },
);
