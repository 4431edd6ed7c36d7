// `npm run verify [-- --json]`: replays the ledger of any deployment — DynamoDB Local (DYNAMODB_ENDPOINT) or
// AWS (the usual credential chain and AWS_REGION), tables and counter from LEDGER_TABLE, COUNTERS_TABLE,
// READ_MODEL_TABLE and COUNTER_ID — and prints the report of I1–I3 and I5. Exit 0 only when the ledger is
// sound, 1 when it is not, 2 when it could not be verified. It only reads, and streams the ledger page by page.

import { createDocumentClient } from "../services/ledger/clients";
import { ConfigurationError, loadLedgerConfig } from "../services/ledger/config";
import { describeError } from "../services/ledger/log";
import {
  PROBLEM_KINDS,
  verifyLedger,
  type ReplayProgress,
  type VerificationReport,
} from "../services/ledger/replay";

const EXIT_SOUND = 0;
const EXIT_VIOLATIONS = 1;
const EXIT_NOT_VERIFIED = 2;

/** Redraws of the progress bar at most this often: fast enough to look alive, rare enough to cost nothing. */
const PROGRESS_REDRAW_INTERVAL_MS = 100;
const PROGRESS_BAR_CHARACTERS = 30;

const USAGE = `usage: npm run verify [-- --json]
  Replays the counter's ledger and checks I1–I3 and I5 (DESIGN.md).
  --json   print the report exactly as GET /number/verify answers it
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
    lines.push(`  ✗ ${problem.kind}${where}: ${problem.detail}  (${PROBLEM_KINDS[problem.kind]})`);
  }
  if (report.problemsOmitted > 0) lines.push(`  … and ${report.problemsOmitted} more violations not listed`);
  lines.push(
    report.ok
      ? "OK: the ledger proves the number (I1–I3), and the read model matches it (I5)."
      : `NOT OK: ${report.problems.length + report.problemsOmitted} violations.`,
  );
  return lines.join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return EXIT_SOUND;
  }
  const unknown = argv.filter((argument) => argument !== "--json");
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown[0]}\n${USAGE}`);
    return EXIT_NOT_VERIFIED;
  }
  const config = loadLedgerConfig(process.env);
  const client = createDocumentClient(config);
  const progress = progressBar(process.stderr);
  try {
    const report = await verifyLedger({
      client,
      tables: config.tables,
      counterId: config.counterId,
      bounds: config.bounds,
      onProgress: progress.update,
    });
    progress.clear();
    console.log(
      argv.includes("--json") ? JSON.stringify(report, null, 2) : describeReport(report, config.counterId),
    );
    return report.ok ? EXIT_SOUND : EXIT_VIOLATIONS;
  } finally {
    progress.clear();
    client.destroy();
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
