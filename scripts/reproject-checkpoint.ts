// The checkpoint of `npm run reproject`: one JSON file naming the counter, the tables, the --from-version it
// was started with and the last version done. A run with the same arguments resumes after that version; a
// run with other arguments refuses rather than skip versions it was never asked to skip. Written atomically
// (a temporary file renamed over it), so an interruption leaves the old checkpoint or the new one.

import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { ReprojectCheckpoint } from "../services/projector/reproject";
import type { TableNames } from "../services/ledger/storage/tables";

export const CHECKPOINT_FILE_NAME = "reproject-checkpoint.json";

interface CheckpointContent {
  readonly counterId: string;
  readonly ledgerTable: string;
  readonly readModelTable: string;
  readonly fromVersion: number;
  readonly doneThroughVersion: number;
}

export class CheckpointMismatchError extends Error {
  override readonly name = "CheckpointMismatchError";
}

function isContent(value: unknown): value is CheckpointContent {
  if (typeof value !== "object" || value === null) return false;
  const content = value as Record<string, unknown>;
  return (
    typeof content.counterId === "string" &&
    typeof content.ledgerTable === "string" &&
    typeof content.readModelTable === "string" &&
    Number.isInteger(content.fromVersion) &&
    Number.isInteger(content.doneThroughVersion)
  );
}

export function fileCheckpoint(
  path: string,
  run: { readonly counterId: string; readonly tables: TableNames; readonly fromVersion: number },
): ReprojectCheckpoint {
  const identity = {
    counterId: run.counterId,
    ledgerTable: run.tables.ledger,
    readModelTable: run.tables.readModel,
    fromVersion: run.fromVersion,
  };
  return {
    load: async () => {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      const content: unknown = JSON.parse(text);
      if (!isContent(content)) throw new CheckpointMismatchError(`${path} is not a reprojection checkpoint`);
      const { doneThroughVersion, ...started } = content;
      if (JSON.stringify(started) !== JSON.stringify(identity)) {
        throw new CheckpointMismatchError(
          `${path} is the checkpoint of another reprojection (counter "${content.counterId}", ` +
            `--from-version ${content.fromVersion}): finish it with the same arguments, or delete the file`,
        );
      }
      return doneThroughVersion;
    },
    save: async (doneThroughVersion) => {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.tmp`;
      await writeFile(temporary, `${JSON.stringify({ ...identity, doneThroughVersion })}\n`);
      await rename(temporary, path);
    },
    clear: () => rm(path, { force: true }),
  };
}
