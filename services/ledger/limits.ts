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

/** A DynamoDB transaction holds at most 100 actions: 99 ledger Puts plus the aggregate Update. */
export const TRANSACTION_ITEMS_MAX = 100;
