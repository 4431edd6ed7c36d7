// The ledger events of an escrow-sharded counter (docs/architecture.md#escrow-shards). A command on shard s is
// an ordinary event (schema version 3) on that shard's chain: its `counterId` is the shard's id, its version,
// value and hash are the shard's, and its key stays the counter's (`<counterId>#…`), so a key is unique
// across all shards. A transfer of headroom is one event on each of the two shards' chains, both naming the
// transfer and the other shard, with net change zero across the pair.

import { z } from "zod";
import { chainedHashOf, HASH_PATTERN } from "./chain";
import type { Change, Command } from "./decider";
import {
  actorOf,
  ANONYMOUS_SUB,
  createUnchainedEvent,
  eventIdOf,
  type CurrentLedgerEvent,
  type LedgerEvent,
} from "./event";
import type { ShardState } from "./escrow";
import { VALUE_MAX, VALUE_MIN } from "./limits";

/** A transfer's events use this schema version; readers of command events refuse them (action `transfer`). */
export const TRANSFER_SCHEMA_VERSION = 3 as const;

const count = z.number().int().min(VALUE_MIN).max(VALUE_MAX);
const hash = z.string().regex(HASH_PATTERN);

/** One side of a transfer, as stored on that shard's chain. */
export const transferEventSchema = z.object({
  eventId: z.string().min(1),
  /** The shard's id (services/ledger/domain/escrow.ts, shardIdOf). */
  counterId: z.string().min(1),
  version: z.number().int().min(1),
  action: z.literal("transfer"),
  transferId: z.string().min(1),
  /** The shard on the other side of the transfer. */
  peer: z.string().min(1),
  valueBefore: count,
  valueAfter: count,
  floor: count,
  ceilingBefore: count,
  ceilingAfter: count,
  at: z.iso.datetime(),
  requestId: z.string().min(1),
  previousHash: hash,
  hash,
  schemaVersion: z.literal(TRANSFER_SCHEMA_VERSION),
});

export type TransferEvent = z.infer<typeof transferEventSchema>;

/**
 * The ledger key of one side of a transfer: `<counterId>#!transfer!<transferId>!<shard>`. `!` is in neither
 * an idempotency key's alphabet nor base64url, so it can never meet a command's key (`<counterId>#<key>` or
 * `<counterId>#<h>#<key>`).
 */
export function transferEventIdOf(counterId: string, transferId: string, shard: number): string {
  return `${counterId}#!transfer!${transferId}!${shard}`;
}

/** A shard's state and the head of its chain: what a shard's next event is decided and linked from. */
export interface ChainedShard extends ShardState {
  readonly shardId: string;
  readonly headHash: string;
}

/** The event of a command decided on a shard: the shard's chain and version, the counter's key. */
export function createShardEvent(
  command: Command,
  shardId: string,
  change: Change,
  at: Date,
  previousHash: string,
): CurrentLedgerEvent {
  const fields = {
    ...createUnchainedEvent({ ...command, counterId: shardId }, change, at),
    eventId: eventIdOf(command.counterId, command.idempotencyKey, command.actor),
    previousHash,
    schemaVersion: 3 as const,
  };
  return { ...fields, hash: chainedHashOf(fields, previousHash) };
}

/** One side of a transfer: `before` is the shard as the transfer found it, `after` as it leaves it. */
export function createTransferEvent(side: {
  readonly counterId: string;
  readonly transferId: string;
  readonly shard: number;
  readonly before: ChainedShard;
  readonly after: ShardState;
  readonly peer: string;
  readonly at: Date;
  readonly requestId: string;
}): TransferEvent {
  const { before, after } = side;
  const fields = {
    eventId: transferEventIdOf(side.counterId, side.transferId, side.shard),
    counterId: before.shardId,
    version: after.version,
    action: "transfer" as const,
    transferId: side.transferId,
    peer: side.peer,
    valueBefore: before.value,
    valueAfter: after.value,
    floor: before.floor,
    ceilingBefore: before.ceiling,
    ceilingAfter: after.ceiling,
    at: side.at.toISOString(),
    requestId: side.requestId,
    previousHash: before.headHash,
    schemaVersion: TRANSFER_SCHEMA_VERSION,
  };
  return { ...fields, hash: chainedHashOf(fields, before.headHash) };
}

/**
 * The ledger key a command event of shard s ≥ 1 must be stored under: its counter's (`<counterId>#…`, the
 * shard's id less `#<s>`), not its shard's; undefined for an event of an unsharded counter (or of shard 0).
 */
export function expectedShardEventIdOf(event: LedgerEvent): string | undefined {
  const match = /^(.+)#([1-9][0-9]?)$/.exec(event.counterId);
  if (match === null) return undefined;
  return eventIdOf(match[1]!, event.idempotencyKey, actorOf(event) ?? { sub: ANONYMOUS_SUB });
}
