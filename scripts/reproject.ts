// `npm run reproject -- --from-version N [--checkpoint FILE]`: rebuilds the audit trail and the projected state
// from the ledger, from version N on, through the projector's own projection
// (services/projector/reproject.ts) — for when the stream no longer holds the records (24 h retention) or the
// failure queue does (docs/runbook.md#rebuilding-the-projection). Same environment as `npm run verify`
// (DYNAMODB_ENDPOINT or AWS, LEDGER_TABLE, COUNTERS_TABLE, READ_MODEL_TABLE, COUNTER_ID). Idempotent, safe
// beside the running projector, resumable from its checkpoint. Exit 0 done, 2 could not (or a usage error).

import { join } from "node:path";
import "../local/quiet-sdk-notice";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { ConfigurationError, loadLedgerConfig } from "../services/ledger/config";
import { describeError } from "../services/ledger/log";
import { reproject, type ReprojectProgress } from "../services/projector/reproject";
import { readArguments } from "./reproject-arguments";
import { CHECKPOINT_FILE_NAME, CheckpointMismatchError, fileCheckpoint } from "./reproject-checkpoint";

const EXIT_DONE = 0;
const EXIT_NOT_DONE = 2;

const PROGRESS_REDRAW_INTERVAL_MS = 100;
const PROGRESS_BAR_CHARACTERS = 30;

const USAGE = `usage: npm run reproject -- --from-version <N> [--checkpoint <file>]
  Rebuilds the audit trail and the projected state from the ledger, from version N on, writing exactly
  what the projector writes (docs/runbook.md#rebuilding-the-projection). Never overwrites an audit entry,
  never moves the projected state back; safe to run twice, or while the projector runs.
  --from-version <N>  the first version to rebuild, 1 or more (1: all of it)
  --checkpoint <file> where the last version done is kept, so that an interrupted run resumes after it
                      (default: $DATA_DIR/${CHECKPOINT_FILE_NAME}, DATA_DIR defaulting to .data);
                      removed once the run is done
  Environment: as npm run verify — DYNAMODB_ENDPOINT (else AWS with AWS_REGION and the default
               credentials), LEDGER_TABLE, COUNTERS_TABLE, READ_MODEL_TABLE, COUNTER_ID.
  Exit status: 0 done, 2 could not (or a usage error). Check the result with npm run verify.`;

/** On a terminal only: a bar of the events done of those the aggregate counted when the run began. */
function progressBar(stream: NodeJS.WriteStream): {
  draw: (progress: ReprojectProgress) => void;
  clear: () => void;
} {
  if (stream.isTTY !== true) return { draw: () => undefined, clear: () => undefined };
  let drawnAtMs = 0;
  let drawn = false;
  return {
    draw: ({ eventsDone, eventsExpected }) => {
      const nowMs = Date.now();
      if (nowMs - drawnAtMs < PROGRESS_REDRAW_INTERVAL_MS) return;
      drawnAtMs = nowMs;
      const fraction = eventsExpected === 0 ? 1 : Math.min(1, eventsDone / eventsExpected);
      const filled = Math.round(fraction * PROGRESS_BAR_CHARACTERS);
      const bar = "#".repeat(filled) + "-".repeat(PROGRESS_BAR_CHARACTERS - filled);
      drawn = true;
      stream.write(`\r\u001b[2K  reprojecting [${bar}] ${eventsDone} / ${eventsExpected} events`);
    },
    clear: () => {
      if (drawn) stream.write("\r\u001b[2K");
      drawn = false;
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const options = readArguments(argv);
  if (options.kind === "help") {
    console.log(USAGE);
    return EXIT_DONE;
  }
  if (options.kind === "usageError") {
    console.error(`usage error: ${options.message} (npm run reproject -- --help)`);
    return EXIT_NOT_DONE;
  }
  const config = loadLedgerConfig(process.env);
  const { counterId, tables } = config;
  const checkpointPath = options.checkpoint ?? join(process.env.DATA_DIR ?? ".data", CHECKPOINT_FILE_NAME);
  const client = createDocumentClient(config);
  const bar = progressBar(process.stderr);
  try {
    const result = await reproject({
      client,
      tables,
      counterId,
      bounds: config.bounds,
      fromVersion: options.fromVersion,
      checkpoint: fileCheckpoint(checkpointPath, { counterId, tables, fromVersion: options.fromVersion }),
      onProgress: bar.draw,
    });
    bar.clear();
    if (result.kind === "failed") {
      const where = result.version === null ? "" : ` at version ${result.version}`;
      console.error(`could not reproject${where}: ${result.detail}`);
      console.error(
        `the versions before it are done; see npm run verify (docs/runbook.md#rebuilding-the-projection)`,
      );
      return EXIT_NOT_DONE;
    }
    const resumed =
      result.startedAfter >= options.fromVersion ? ` (resumed after version ${result.startedAfter})` : "";
    console.log(
      `counter "${counterId}": reprojected ${result.events} events, versions ${result.startedAfter + 1}` +
        ` to ${result.throughVersion}${resumed}. Check it with npm run verify.`,
    );
    return EXIT_DONE;
  } finally {
    bar.clear();
    client.destroy();
  }
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    if (error instanceof ConfigurationError || error instanceof CheckpointMismatchError) {
      console.error(error.message);
    } else {
      const { errorName, errorMessage } = describeError(error);
      console.error(`could not reproject: ${errorName}: ${errorMessage}`);
    }
    process.exit(EXIT_NOT_DONE);
  },
);
