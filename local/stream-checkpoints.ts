// The stream poller's checkpoints (local/poller.ts): per shard, the last record handed over for good and
// whether the shard is finished, kept in `poller-checkpoints.json` so that a restart neither loses nor
// needlessly replays records. Written whole to a temporary file, synced, then renamed over the old one.

import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../services/ledger/log";

export const CHECKPOINTS_FILE = "poller-checkpoints.json";

export interface ShardCheckpoint {
  /** The last record handed over for good (projected, or given up on). */
  sequenceNumber?: string;
  /** The shard is closed and every record of it is handed over. */
  finished?: boolean;
}

/** The checkpoints of one stream, persisted by writing a temporary file and renaming it over the old one. */
export class CheckpointFile {
  private readonly path: string;
  private readonly streamArn: string;
  private readonly shards: Record<string, ShardCheckpoint>;
  private writing: Promise<void> = Promise.resolve();

  private constructor(path: string, streamArn: string, shards: Record<string, ShardCheckpoint>) {
    this.path = path;
    this.streamArn = streamArn;
    this.shards = shards;
  }

  static async open(directory: string, streamArn: string, log: Logger): Promise<CheckpointFile> {
    await mkdir(directory, { recursive: true });
    const path = join(directory, CHECKPOINTS_FILE);
    const streams = await readStreams(path, log);
    return new CheckpointFile(path, streamArn, { ...streams[streamArn] });
  }

  of(shardId: string): ShardCheckpoint {
    return this.shards[shardId] ?? {};
  }

  async save(shardId: string, checkpoint: ShardCheckpoint): Promise<void> {
    this.shards[shardId] = checkpoint;
    // One write at a time; each writes the latest checkpoints of every shard.
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  async flushed(): Promise<void> {
    await this.writing;
  }

  private async write(): Promise<void> {
    // Other streams' checkpoints (another table in the same data directory) are kept as they are.
    const streams = await readStreams(this.path, () => undefined);
    streams[this.streamArn] = { ...this.shards };
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const file = await open(temporary, "w");
    try {
      await file.writeFile(JSON.stringify({ streams }, null, 1));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.path);
  }
}

async function readStreams(
  path: string,
  log: Logger,
): Promise<Record<string, Record<string, ShardCheckpoint>>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as { streams?: Record<string, Record<string, ShardCheckpoint>> };
    if (typeof parsed.streams === "object" && parsed.streams !== null) return parsed.streams;
  } catch {
    // Falls through: an unreadable file means replaying from the start, which the projector makes harmless.
  }
  log({ level: "warn", message: "poller checkpoints unreadable; reading every shard from its start", path });
  return {};
}
