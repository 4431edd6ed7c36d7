// Per-user quotas (docs/architecture.md#per-user-quotas): which one-minute window a command falls in, the key
// of the user's quota item for it, how long a refused client waits, and how many of each user's commands one
// transaction may carry, given what this process knows the user has spent. The count itself is the store's:
// the quota Update rides in the command's own transaction (services/command/transaction.ts), so nothing here
// can let a user past the quota; it only saves transactions that the store would cancel. Pure: time comes in.

import type { Actor } from "../../contract/schemas";
import { ANONYMOUS_SUB, actorKeyOf } from "../ledger/domain/event";
import {
  QUOTA_ITEM_RETENTION_SECONDS,
  QUOTA_KNOWN_USERS_MAX,
  QUOTA_WINDOW_SECONDS,
} from "../ledger/domain/limits";

/** A fixed window of QUOTA_WINDOW_SECONDS, aligned to the epoch: [start, end) in epoch seconds. */
export interface QuotaWindow {
  readonly startSeconds: number;
  readonly endSeconds: number;
}

export function quotaWindowOf(at: Date): QuotaWindow {
  const startSeconds = Math.floor(at.getTime() / 1000 / QUOTA_WINDOW_SECONDS) * QUOTA_WINDOW_SECONDS;
  return { startSeconds, endSeconds: startSeconds + QUOTA_WINDOW_SECONDS };
}

/**
 * The quota item of a user in a window: `<base64url(SHA-256(sub))>#<start>`. The hash, as in the ledger's keys,
 * keeps the subject out of the table and the key short; it holds no `#`, so the window's part is unambiguous.
 */
export function quotaIdOf(sub: string, window: QuotaWindow): string {
  return `${actorKeyOf(sub)}#${window.startSeconds}`;
}

/** When DynamoDB's TTL may remove a window's item (epoch seconds). */
export function quotaExpiresAtOf(window: QuotaWindow): number {
  return window.endSeconds + QUOTA_ITEM_RETENTION_SECONDS;
}

/** Retry-After of a refusal: the whole seconds until the window ends, at least 1. */
export function retryAfterSecondsOf(window: QuotaWindow, now: Date): number {
  return Math.max(1, Math.ceil((window.endSeconds * 1000 - now.getTime()) / 1000));
}

/** Whether a quota counts this actor's commands: the anonymous actor of AUTH=off is no user, and has none. */
export function quotaApplies(actor: Pick<Actor, "sub">, limit: number | undefined): limit is number {
  return limit !== undefined && actor.sub !== ANONYMOUS_SUB;
}

/** The commands of one pass, split by what the users' remaining quotas allow. Each keeps arrival order. */
export interface QuotaPlan<Item> {
  /** Within their users' remaining quota (or under none): they go into the transaction. */
  readonly admitted: Item[];
  /** Beyond the room left after the admitted ones: decided again once the admitted ones are settled. */
  readonly held: Item[];
  /** Their users had no room at all when the pass began: refused, unless the ledger holds their key. */
  readonly spent: Item[];
}

/**
 * Splits items in arrival order: the first `roomOf(user)` of each user are admitted, the rest held; a user
 * whose room is 0 to begin with has all of them spent. `userOf` is undefined for an item under no quota.
 */
export function planQuota<Item>(
  items: readonly Item[],
  userOf: (item: Item) => string | undefined,
  roomOf: (user: string) => number,
): QuotaPlan<Item> {
  const plan: QuotaPlan<Item> = { admitted: [], held: [], spent: [] };
  const room = new Map<string, number>();
  for (const item of items) {
    const user = userOf(item);
    if (user === undefined) {
      plan.admitted.push(item);
      continue;
    }
    const initial = roomOf(user);
    const left = room.get(user) ?? initial;
    if (initial <= 0) plan.spent.push(item);
    else if (left <= 0) plan.held.push(item);
    else {
      plan.admitted.push(item);
      room.set(user, left - 1);
    }
  }
  return plan;
}

/**
 * What this process knows each user has spent in the current window: lower bounds (the store's count only
 * grows within a window), raised by commits and by the counts a cancelled transaction returns. Forgetting is
 * always safe; only a count the store showed, or a commit it acknowledged, is ever recorded.
 */
export class SpentCommands {
  private windowStartSeconds = Number.NaN;
  private readonly spent = new Map<string, number>();

  of(window: QuotaWindow, user: string): number {
    return window.startSeconds === this.windowStartSeconds ? (this.spent.get(user) ?? 0) : 0;
  }

  /** The store holds at least `count` for the user in the window. */
  atLeast(window: QuotaWindow, user: string, count: number): void {
    if (window.startSeconds !== this.windowStartSeconds) {
      this.spent.clear();
      this.windowStartSeconds = window.startSeconds;
    }
    if (!this.spent.has(user) && this.spent.size >= QUOTA_KNOWN_USERS_MAX) this.spent.clear();
    this.spent.set(user, Math.max(count, this.spent.get(user) ?? 0));
  }
}
