// The limits of the HTTP API that a client can see, named with their unit: the bounds a value may take, the
// sizes of keys, cursors, pages and lists. The schemas of contract/schemas.ts cap with these numbers, so
// openapi.json says them; the service's own limits re-export them (services/ledger/domain/limits.ts).

/** The smallest value a counter may be configured to hold (docs/api.md#conventions). */
export const VALUE_MIN = 0;
/** The largest value a counter may be configured to hold (docs/api.md#conventions). */
export const VALUE_MAX = 1_000_000_000;

/** Idempotency keys: 1–128 characters of `A-Z a-z 0-9 - _ . :`. 128 fits a key prefix plus a UUID. */
export const IDEMPOTENCY_KEY_LENGTH_MAX = 128;
export const IDEMPOTENCY_KEY_PATTERN = new RegExp(`^[A-Za-z0-9\\-_.:]{1,${IDEMPOTENCY_KEY_LENGTH_MAX}}$`);

/**
 * An actor's subject: OpenID Connect caps `sub` at 255 ASCII characters (Cognito's are 36-character UUIDs).
 * Also the cap of the `actor` query parameter of GET /number/events/{key}.
 */
export const ACTOR_SUB_CHARACTERS_MAX = 255;
/** An actor's display name, from the configured claim (Cognito usernames are at most 128): longer is cut. */
export const ACTOR_NAME_CHARACTERS_MAX = 128;

/**
 * The most a deployment's per-user quota may be (QUOTA_COMMANDS_PER_MINUTE): the cap of the `limit` member of a
 * quota-exceeded problem. A million a minute is beyond what one counter can commit, so no real quota is near it.
 */
export const QUOTA_COMMANDS_PER_MINUTE_MAX = 1_000_000;

/** Request bodies over 1 KiB are refused with 413; a command body is about 25 bytes. */
export const COMMAND_BODY_BYTES_MAX = 1024;

/** What a 429 or 503 asks the client to wait before retrying (Retry-After), unless it says otherwise. */
export const RETRY_AFTER_SECONDS = 1;

/** Echoes of unvalidated input in a problem detail are cut to this many characters. */
export const PROBLEM_ECHO_CHARACTERS_MAX = 64;
/** A problem detail is one sentence of fixed wording with at most one echo: far below this. */
export const PROBLEM_DETAIL_CHARACTERS_MAX = 512;
/** Problem titles and type URIs are fixed strings of contract/problems.ts, far below this. */
export const PROBLEM_TEXT_CHARACTERS_MAX = 128;
/** Request ids: API Gateway's are about 16 characters, the local gateway's 16. */
export const REQUEST_ID_CHARACTERS_MAX = 128;

/** History pages: 1–100 entries, 20 by default. */
export const HISTORY_PAGE_ENTRIES_DEFAULT = 20;
export const HISTORY_PAGE_ENTRIES_MAX = 100;
/**
 * A history cursor we issue is about 40 characters with one shard; with escrow shards it holds a position per
 * shard (64 of up to 16 digits: about 1 510), so anything longer than this is not ours.
 */
export const HISTORY_CURSOR_CHARACTERS_MAX = 1536;

/** Violations listed in one verification report; the rest are counted, so a ruined ledger stays readable. */
export const VERIFY_PROBLEMS_LISTED_MAX = 200;
/** A violation's kind is one of a few camel-case names; its detail one sentence naming versions and values. */
export const VERIFY_PROBLEM_KIND_CHARACTERS_MAX = 64;
export const VERIFY_PROBLEM_DETAIL_CHARACTERS_MAX = 1024;

/**
 * Ledger events one GET /number/verify checks after its checkpoint (docs/architecture.md#checkpointed-verification):
 * about a second of replay at the measured rate, far inside API Gateway's 30 s; the report's `more` says when
 * events remain, and the next call goes on from where this one stopped.
 */
export const VERIFY_EVENTS_PER_REQUEST_MAX = 20_000;

/**
 * The highest version a digest given to GET /number/verify?digest= may sign (docs/api.md#get-numberverify):
 * that check replays from the genesis to the digest's version in one call, so its cost is bounded here. At
 * the replay rate measured in bench/ (16 000–22 000 events/s) 100 000 events take 5–6 s, a fifth of API
 * Gateway's 30 s, which leaves room for a slower store; a digest above it is checked by
 * `npm run verify -- --digest` against the tables, which no time limit cuts short.
 */
export const VERIFY_DIGEST_VERSION_MAX = 100_000;
