// Partitions and their capacity in the AWS model (docs/dynamodb-model.md): which partition a key lands on, and a
// token bucket per partition and direction. Deterministic: the mapping depends only on the seed and the key,
// the buckets only on the clock they are given. It never touches DynamoDB.

import { createHash } from "node:crypto";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** A partition serves at most 1 000 write units a second (developer guide, "Partitions and data distribution"). */
export const PARTITION_WRITE_UNITS_PER_SECOND = 1000;
/** …and at most 3 000 read units a second. */
export const PARTITION_READ_UNITS_PER_SECOND = 3000;
/**
 * A new on-demand table starts with warm throughput for 4 000 write and 12 000 read units a second, which is
 * four partitions at the limits above ("Warm throughput" in the developer guide); indexes likewise.
 */
export const ON_DEMAND_INITIAL_PARTITIONS = 4;
/**
 * How much unused capacity a partition bucket keeps: one second. The 300 s of burst capacity that AWS documents
 * is table-level, for provisioned tables, and "cannot alleviate partition-level throttling"; a partition is held
 * to its per-second limit, which a one-second bucket models.
 */
export const PARTITION_BURST_SECONDS = 1;

/** The key string of a partition key value, the same for equal values of any type. */
function keyText(value: AttributeValue | undefined): string {
  if (value === undefined) return "";
  if (value.S !== undefined) return `S:${value.S}`;
  if (value.N !== undefined) return `N:${value.N}`;
  if (value.B !== undefined) return `B:${Buffer.from(value.B).toString("base64")}`;
  return JSON.stringify(value);
}

/**
 * The partition of a partition key value among `partitions`: MD5 (DynamoDB's own partitioning hash is internal;
 * any uniform hash gives the same distribution) of the seed, the resource and the key, modulo the count.
 * Every item of one partition key value — an item collection — lands on one partition.
 */
export function partitionOf(
  seed: string,
  resource: string,
  key: AttributeValue | undefined,
  partitions: number,
): number {
  const digest = createHash("md5")
    .update(`${seed}\u0000${resource}\u0000${keyText(key)}`)
    .digest();
  return digest.readUInt32BE(0) % partitions;
}

/** A token bucket refilled continuously at `ratePerSecond`, holding at most `burstSeconds` of it. */
export class CapacityBucket {
  private tokens: number;
  private updatedAtMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burstSeconds: number,
    nowMs: number,
  ) {
    this.tokens = ratePerSecond * burstSeconds;
    this.updatedAtMs = nowMs;
  }

  /** The most the bucket holds. */
  get capacity(): number {
    return this.ratePerSecond * this.burstSeconds;
  }

  /**
   * Whether a request costing `units` may go at `nowMs`: when the bucket holds them — or, for a request costing
   * more than the bucket can ever hold (possible only at a small DYNAMODB_MODEL_SCALE), when the bucket is full;
   * it then leaves the bucket in debt, so the average rate stays the limit.
   */
  admits(units: number, nowMs: number): boolean {
    const available = this.available(nowMs);
    return units === 0 ? available > 0 : available >= Math.min(units, this.capacity);
  }

  /** The units available at `nowMs`; negative while a read charged after the fact is paid back. */
  available(nowMs: number): number {
    const elapsedSeconds = Math.max(0, nowMs - this.updatedAtMs) / 1000;
    this.tokens = Math.min(
      this.ratePerSecond * this.burstSeconds,
      this.tokens + elapsedSeconds * this.ratePerSecond,
    );
    this.updatedAtMs = Math.max(this.updatedAtMs, nowMs);
    return this.tokens;
  }

  /** Takes `units` at `nowMs`, even into debt (reads are charged once their size is known). */
  take(units: number, nowMs: number): void {
    this.available(nowMs);
    this.tokens -= units;
  }
}
