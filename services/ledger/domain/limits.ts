// Every limit of the system, named with its unit, in one place. Each number says why it is that number.
// Nothing here may depend on the environment: configurable values are parsed in config.ts and default to these.

// The limits a client sees (bounds, key, body, page, cursor and report sizes) belong to the API contract.
export {
  ACTOR_NAME_CHARACTERS_MAX,
  ACTOR_SUB_CHARACTERS_MAX,
  COMMAND_BODY_BYTES_MAX,
  HISTORY_CURSOR_CHARACTERS_MAX,
  HISTORY_PAGE_ENTRIES_DEFAULT,
  HISTORY_PAGE_ENTRIES_MAX,
  IDEMPOTENCY_KEY_LENGTH_MAX,
  IDEMPOTENCY_KEY_PATTERN,
  PROBLEM_ECHO_CHARACTERS_MAX,
  QUOTA_COMMANDS_PER_MINUTE_MAX,
  RETRY_AFTER_SECONDS,
  VALUE_MAX,
  VALUE_MIN,
  VERIFY_PROBLEMS_LISTED_MAX,
} from "../../../contract/limits";

/** Conflict retries of one command before 503: enough for dozens of contending writers, bounded in time. */
export const COMMIT_ATTEMPTS_MAX = 12;
/** Wall-clock budget for one command's conflict retries; past it the client gets 503 + Retry-After. */
export const COMMIT_RETRY_BUDGET_MS = 2_000;
/** Full-jitter backoff between conflict retries: base and cap of the exponential window. */
export const COMMIT_BACKOFF_BASE_MS = 4;
export const COMMIT_BACKOFF_CAP_MS = 100;

/**
 * Commands that may wait for one counter in one process before new ones are refused with 503: about a
 * second of work at the measured group-commit throughput, so a client never waits long in a hidden queue.
 */
export const COMMIT_QUEUE_COMMANDS_MAX = 10_000;

/**
 * A DynamoDB transaction holds at most 100 actions: the ledger Puts, the aggregate Update and, with quotas on,
 * one quota Update per user in the batch: 99 events with the quota off, 98 events of one user with it on.
 */
export const TRANSACTION_ITEMS_MAX = 100;

/**
 * Per-user quotas (services/command/quota.ts): fixed windows of one minute, aligned to the epoch minute. The
 * default quota is ten commands a second for a whole minute, far above any person at the UI (one command at a
 * time, each a round trip) and a small share of one counter's write ceiling on AWS (about 500 commits a
 * second, docs/architecture.md#where-aws-differs-from-dynamodb-local). Its maximum is the contract's.
 */
export const QUOTA_WINDOW_SECONDS = 60;
export const QUOTA_COMMANDS_PER_MINUTE_DEFAULT = 600;
/**
 * A window's quota item expires (DynamoDB TTL) this long after its window ends: never read after its minute,
 * but an execution environment whose clock runs behind may still charge it for a few seconds, so it must not
 * vanish at once (TTL may delete an item any time after expiry).
 */
export const QUOTA_ITEM_RETENTION_SECONDS = 3_600;
/**
 * Users whose spent commands in the current window one committer remembers (a lower bound it may refuse on
 * without a transaction); past it the memory is dropped, which costs a cancelled transaction, never exactness.
 */
export const QUOTA_KNOWN_USERS_MAX = 10_000;

/** Audit entries the projector writes in one transaction: DynamoDB's limit of 100 items per transaction. */
export const PROJECTOR_TRANSACTION_ENTRIES_MAX = 100;

/** Ledger records one projector invocation writes at once: enough to hide latency, gentle on the table. */
export const PROJECTOR_RECORDS_IN_FLIGHT_MAX = 8;

/** Ledger events (and audit entries) read per page by the replay: one page of each is all it holds. */
export const REPLAY_PAGE_EVENTS_MAX = 1_000;
/**
 * Re-reads of the ledger's tail when the aggregate is ahead of what the (eventually consistent) index showed:
 * an event committed during the replay, or one not yet in the index, appears within milliseconds.
 */
export const VERIFY_TAIL_READS_MAX = 5;
export const VERIFY_TAIL_PAUSE_MS = 200;
/**
 * An audit entry missing below the projected version is lag, not a violation, while its event is younger than
 * this: across stream shards on AWS the projector may write version n before version n−1.
 */
export const PROJECTION_LAG_GRACE_MS = 30_000;

/**
 * Leaves of the smallest subtree of the ledger's Merkle tree that is kept in the read model
 * (docs/architecture.md#the-merkle-tree): 256 leaves, so a kept subtree saves reading 256 events, and a ledger of
 * n events keeps about 2n/256 subtree hashes (about 100 bytes each, under 1 % of the ledger's size).
 */
export const MERKLE_CHUNK_LEAVES = 256;
/**
 * How long one request may spend filling the kept subtrees before it answers 503 (Retry-After) and leaves the
 * rest to the next: about 100 000 events at the measured replay rate, far inside API Gateway's 30 s. What it
 * filled stays, so the next request goes on from there.
 */
export const MERKLE_REQUEST_BUDGET_MS = 5_000;
/** The scheduled digest's budget: the digest Lambda's 30 s timeout less room to sign and archive. */
export const MERKLE_SCHEDULE_BUDGET_MS = 20_000;
/** Kept subtree hashes written at once: conditional Puts (the first write wins), gentle on the table. */
export const MERKLE_WRITES_IN_FLIGHT_MAX = 16;
