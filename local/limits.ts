// Limits of the local runtime only (gateway, stage throttling, stream poller, fault injection), named with their
// unit. The service's own limits, shared with the Lambdas, are in services/ledger/domain/limits.ts.

/**
 * The local gateway stops reading a body at this size and answers 413 itself; the handler applies the
 * contract's 1 KiB limit. API Gateway's own payload limit is 10 MB; we need far less.
 */
export const GATEWAY_BODY_BYTES_MAX = 64 * 1024;

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
 * Requests the audit Lambda serves at once locally: infra/variables.tf `audit_reserved_concurrency`'s default
 * (a test holds the two equal). Beyond it the gateway answers as API Gateway does for a throttled Lambda.
 */
export const AUDIT_CONCURRENCY_DEFAULT = 2;
/** The Retry-After of that answer locally (API Gateway's own 500 carries none): about one verification. */
export const LAMBDA_THROTTLED_RETRY_AFTER_SECONDS = 1;

/**
 * LAMBDA_CONCURRENCY's ceiling: each environment is a worker thread with its own SDK clients (tens of MB); the
 * issue's measurements need 64, and anything far above that is a typo on a laptop.
 */
export const LAMBDA_CONCURRENCY_MAX = 256;

/**
 * How often the local gateway checks its connections against the header and request timeouts. Node's default
 * is 30 s, which would let a slow client hold a connection for up to 30 s past the header timeout.
 */
export const GATEWAY_CONNECTION_CHECK_INTERVAL_MS = 1_000;

/** Fault injection (testkit/faults.ts): a slow answer waits at most this long, so a test stays bounded in time. */
export const FAULT_SLOW_ANSWER_MS_MAX = 10_000;
/** The HTTP fault proxy gives up on the gateway after this long and answers 504, as a load balancer would. */
export const FAULT_PROXY_UPSTREAM_TIMEOUT_MS = 30_000;
/** Bodies the HTTP fault proxy relays: the gateway's own cap plus headroom, so the proxy never buffers more. */
export const FAULT_PROXY_BODY_BYTES_MAX = 2 * GATEWAY_BODY_BYTES_MAX;
