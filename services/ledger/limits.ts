// Every limit of the system, named with its unit, in one place. Each number says why it is that number.
// Nothing here may depend on the environment: configurable values are parsed in config.ts and default to these.

/** The smallest value the counter may hold (API.md, Conventions). */
export const VALUE_MIN = 0;
/** The largest value the counter may hold (API.md, Conventions). */
export const VALUE_MAX = 1_000_000_000;

/** Idempotency keys: 1–128 characters of `A-Z a-z 0-9 - _ . :` (API.md). 128 fits a key prefix plus a UUID. */
export const IDEMPOTENCY_KEY_LENGTH_MAX = 128;
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9\-_.:]{1,128}$/;

/** Request bodies over 1 KiB are refused with 413 (API.md); a command body is about 25 bytes. */
export const COMMAND_BODY_BYTES_MAX = 1024;

/**
 * The local gateway stops reading a body at this size and answers 413 itself; the handler applies the
 * contract's 1 KiB limit. API Gateway's own payload limit is 10 MB; we need far less.
 */
export const GATEWAY_BODY_BYTES_MAX = 64 * 1024;

/** Conflict retries of one command before 503: enough for dozens of contending writers, bounded in time. */
export const COMMIT_ATTEMPTS_MAX = 12;
/** Wall-clock budget for one command's conflict retries; past it the client gets 503 + Retry-After. */
export const COMMIT_RETRY_BUDGET_MS = 2_000;
/** Full-jitter backoff between conflict retries: base and cap of the exponential window. */
export const COMMIT_BACKOFF_BASE_MS = 4;
export const COMMIT_BACKOFF_CAP_MS = 100;

/** What a 503 asks the client to wait before retrying with the same key. */
export const RETRY_AFTER_SECONDS = 1;

/** Echoes of unvalidated input in a problem detail are cut to this many characters (API.md). */
export const PROBLEM_ECHO_CHARACTERS_MAX = 64;

/**
 * Commands that may wait for one counter in one process before new ones are refused with 503: about a
 * second of work at the measured group-commit throughput, so a client never waits long in a hidden queue.
 */
export const COMMIT_QUEUE_COMMANDS_MAX = 10_000;

/** A DynamoDB transaction holds at most 100 actions: 99 ledger Puts plus the aggregate Update. */
export const TRANSACTION_ITEMS_MAX = 100;

/** Audit entries the projector writes in one transaction: DynamoDB's limit of 100 items per transaction. */
export const PROJECTOR_TRANSACTION_ENTRIES_MAX = 100;

/** Ledger records one projector invocation writes at once: enough to hide latency, gentle on the table. */
export const PROJECTOR_RECORDS_IN_FLIGHT_MAX = 8;

/** Records per projector invocation, as the Lambda event source mapping's default batch size. */
export const STREAM_BATCH_RECORDS_DEFAULT = 100;
/** GetRecords returns at most 1 000 records, so a local batch can never be larger. */
export const STREAM_BATCH_RECORDS_MAX = 1_000;
/**
 * Retries of a failing record before the local poller gives up on it and writes it to the failure log, as the
 * event source mapping's MaximumRetryAttempts does on AWS: a poison record must never block a shard for good.
 */
export const STREAM_RETRY_ATTEMPTS_DEFAULT = 4;
export const STREAM_RETRY_ATTEMPTS_MAX = 100;
/** Exponential backoff between deliveries of a failed batch: 100 ms, 200 ms, 400 ms… at most 5 s. */
export const STREAM_RETRY_BACKOFF_BASE_MS = 100;
export const STREAM_RETRY_BACKOFF_CAP_MS = 5_000;
/** The pause after an empty GetRecords: the projection catches up within a fraction of a second, never spins. */
export const STREAM_IDLE_PAUSE_MS = 150;
/** How often the poller asks DescribeStream for new shards (children of shards that closed). */
export const STREAM_SHARD_DISCOVERY_INTERVAL_MS = 1_000;
/** Shards read at once; DynamoDB Local has one open shard, a busy AWS table a handful. */
export const STREAM_SHARDS_IN_FLIGHT_MAX = 16;
/** DescribeStream pages read per discovery (100 shards a page). */
export const STREAM_DESCRIBE_PAGES_MAX = 100;

/** History pages: API.md allows 1–100 entries, 20 by default. */
export const HISTORY_PAGE_ENTRIES_DEFAULT = 20;
export const HISTORY_PAGE_ENTRIES_MAX = 100;
/** A history cursor we issue is about 40 characters; anything much longer is not ours. */
export const HISTORY_CURSOR_CHARACTERS_MAX = 128;

/** Ledger events (and audit entries) read per page by the replay: one page of each is all it holds. */
export const REPLAY_PAGE_EVENTS_MAX = 1_000;
/** Violations listed in one verification report; the rest are counted, so a ruined ledger stays readable. */
export const VERIFY_PROBLEMS_LISTED_MAX = 200;
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
 * Stage throttling of the local gateway (local/throttle.ts), a token bucket like API Gateway's: a steady rate
 * and a burst. The defaults are API Gateway's account-level quota per region (10 000 requests/s, burst 5 000),
 * far above what one machine serves (`npm run bench` peaks in the hundreds to low thousands), so nothing is
 * throttled unless asked; the deployed stage's own, lower limits are in infra/variables.tf.
 */
export const THROTTLE_RATE_PER_SECOND_DEFAULT = 10_000;
export const THROTTLE_BURST_REQUESTS_DEFAULT = 5_000;
/** Anything above a million requests a second is a typo, not a setting. */
export const THROTTLE_RATE_PER_SECOND_MAX = 1_000_000;
export const THROTTLE_BURST_REQUESTS_MAX = 1_000_000;

/**
 * How often the local gateway checks its connections against the header and request timeouts. Node's default
 * is 30 s, which would let a slow client hold a connection for up to 30 s past the header timeout.
 */
export const GATEWAY_CONNECTION_CHECK_INTERVAL_MS = 1_000;

/** Fault injection (local/faults.ts): a slow answer waits at most this long, so a test stays bounded in time. */
export const FAULT_SLOW_ANSWER_MS_MAX = 10_000;
/** The HTTP fault proxy gives up on the gateway after this long and answers 504, as a load balancer would. */
export const FAULT_PROXY_UPSTREAM_TIMEOUT_MS = 30_000;
/** Bodies the HTTP fault proxy relays: the gateway's own cap plus headroom, so the proxy never buffers more. */
export const FAULT_PROXY_BODY_BYTES_MAX = 2 * GATEWAY_BODY_BYTES_MAX;
