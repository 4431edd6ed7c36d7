// The HTTP API's bodies as zod schemas: the one definition of the contract. The handlers build their answers
// with these types, the web UI parses answers with these schemas, and openapi.json is generated from them
// (`npm run openapi`, scripts/openapi.ts); a test fails when the committed document differs. Each schema's
// `id` names its component in openapi.json. Pure: zod only, no I/O.

import { z } from "zod";
import {
  ACTOR_NAME_CHARACTERS_MAX,
  ACTOR_SUB_CHARACTERS_MAX,
  HISTORY_CURSOR_CHARACTERS_MAX,
  HISTORY_PAGE_ENTRIES_DEFAULT,
  HISTORY_PAGE_ENTRIES_MAX,
  IDEMPOTENCY_KEY_LENGTH_MAX,
  IDEMPOTENCY_KEY_PATTERN,
  PROBLEM_DETAIL_CHARACTERS_MAX,
  PROBLEM_TEXT_CHARACTERS_MAX,
  QUOTA_COMMANDS_PER_MINUTE_MAX,
  REQUEST_ID_CHARACTERS_MAX,
  VALUE_MAX,
  VALUE_MIN,
  VERIFY_DIGEST_VERSION_MAX,
  VERIFY_EVENTS_PER_REQUEST_MAX,
  VERIFY_PROBLEM_DETAIL_CHARACTERS_MAX,
  VERIFY_PROBLEM_KIND_CHARACTERS_MAX,
  VERIFY_PROBLEMS_LISTED_MAX,
} from "./limits";
import { problemTypeOf } from "./problems";

/** A body as the code passes it around: built once, never changed after. */
export type Immutable<T> = T extends readonly (infer U)[]
  ? readonly Immutable<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Immutable<T[K]> }
    : T;

const safeCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** One line of text meant for people: no control characters, so nothing can forge a log line or a header. */
// eslint-disable-next-line no-control-regex -- naming the control characters is the point
const PRINTABLE_TEXT = /^[^\u0000-\u001f\u007f-\u009f]+$/;
/** Visible ASCII: request ids, entity tags. */
const VISIBLE_ASCII = /^[\u0021-\u007e]+$/;

export const valueSchema = z
  .number()
  .int()
  .min(VALUE_MIN)
  .max(VALUE_MAX)
  .meta({ id: "Value", description: "A value of the counter: 0 ≤ value ≤ 1 000 000 000." });

export const versionSchema = safeCount.meta({
  id: "Version",
  description: "How many events made the counter: 0 for a new counter, then one more per applied change.",
});

export const eventVersionSchema = z
  .number()
  .int()
  .min(1)
  .max(Number.MAX_SAFE_INTEGER)
  .meta({ id: "EventVersion", description: "The version an event made: the first event is version 1." });

export const ACTIONS = ["increment", "decrement"] as const;
export const actionSchema = z.enum(ACTIONS).meta({ id: "Action" });
export type Action = Immutable<z.infer<typeof actionSchema>>;

export const deltaSchema = z
  .literal([1, -1])
  .meta({ id: "Delta", description: "+1 for an increment, −1 for a decrement." });

export const timestampSchema = z.iso
  .datetime({ precision: 3 })
  .max("2025-01-02T03:04:05.678Z".length)
  .meta({ id: "Timestamp", description: "ISO 8601 UTC with milliseconds." });

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(IDEMPOTENCY_KEY_LENGTH_MAX)
  .regex(IDEMPOTENCY_KEY_PATTERN)
  .meta({
    id: "IdempotencyKey",
    description: `1–${IDEMPOTENCY_KEY_LENGTH_MAX} characters of \`A-Z a-z 0-9 - _ . :\`; a UUID is the recommended form.`,
  });

export const boundsSchema = z
  .strictObject({
    min: valueSchema.describe("The smallest value the counter may take."),
    max: valueSchema.describe("The largest value the counter may take."),
  })
  .meta({ id: "Bounds", description: "The bounds this counter is configured with: min < max." });
export type Bounds = Immutable<z.infer<typeof boundsSchema>>;

/** `GET /number`: the aggregate, read consistently, and the bounds it moves within. */
export const numberViewSchema = z
  .strictObject({
    value: valueSchema,
    version: versionSchema,
    updatedAt: timestampSchema
      .nullable()
      .describe("When the last event was applied; null for a new counter."),
    bounds: boundsSchema,
  })
  .meta({ id: "Counter" });
export type NumberView = Immutable<z.infer<typeof numberViewSchema>>;

/** The body of `POST /number`. */
export const commandBodySchema = z.strictObject({ action: actionSchema }).meta({ id: "CommandRequest" });
export type CommandBody = Immutable<z.infer<typeof commandBodySchema>>;

/** An actor's subject: the `sub` claim of the verified token that made the event. */
export const actorSubSchema = z.string().min(1).max(ACTOR_SUB_CHARACTERS_MAX).regex(PRINTABLE_TEXT);

/** Who made an event: taken from the verified token's claims, never from the request (docs/api.md#access). */
export const actorSchema = z
  .strictObject({
    sub: actorSubSchema.describe("The token's subject (`sub`): stable, unique per user."),
    name: z
      .string()
      .min(1)
      .max(ACTOR_NAME_CHARACTERS_MAX)
      .regex(PRINTABLE_TEXT)
      .describe("A name for people, from the configured claim (`username` by default), else the subject."),
  })
  .meta({
    id: "Actor",
    description:
      'Who made an event. With AUTH=off (local demos only) every event is by `{"sub": "anonymous"}`.',
  });
export type Actor = Immutable<z.infer<typeof actorSchema>>;

const eventActorSchema = actorSchema
  .nullable()
  .describe("Who made the event; null for an event recorded before the ledger kept its actor.");

/** The public view of a ledger event: `event` of `POST /number`, and `GET /number/events/{key}`. */
export const eventViewSchema = z
  .strictObject({
    id: idempotencyKeySchema.describe("The idempotency key the event is recorded under."),
    version: eventVersionSchema,
    action: actionSchema,
    delta: deltaSchema,
    valueBefore: valueSchema,
    valueAfter: valueSchema,
    at: timestampSchema,
    actor: eventActorSchema,
  })
  .meta({
    id: "Event",
    description:
      "A ledger event: one immutable record per applied command. Idempotency keys are per actor: the key names an event of the caller's own.",
  });
export type EventView = Immutable<z.infer<typeof eventViewSchema>>;

/** `POST /number` applied (or replayed): the aggregate after the event, and the event. */
export const commandAppliedSchema = z
  .strictObject({
    value: valueSchema.describe("The value after the event."),
    version: eventVersionSchema,
    event: eventViewSchema,
  })
  .meta({ id: "CommandApplied" });
export type CommandApplied = Immutable<z.infer<typeof commandAppliedSchema>>;

/** One entry of the audit trail: the event's public view, its key named `eventId`. */
export const historyItemSchema = z
  .strictObject({
    version: eventVersionSchema,
    action: actionSchema,
    delta: deltaSchema,
    valueBefore: valueSchema,
    valueAfter: valueSchema,
    at: timestampSchema,
    actor: eventActorSchema,
    eventId: idempotencyKeySchema
      .optional()
      .describe(
        "The idempotency key the event was recorded under: present only for a caller with scope `counter:audit`.",
      ),
  })
  .meta({ id: "HistoryItem" });
export type HistoryItem = Immutable<z.infer<typeof historyItemSchema>>;

/** A cursor is base64url: what the history issues, and the only thing it takes back. */
export const historyCursorSchema = z
  .string()
  .min(1)
  .max(HISTORY_CURSOR_CHARACTERS_MAX)
  .regex(/^[A-Za-z0-9_-]+$/);

/** `GET /number/history`: one page of the audit trail. */
export const historyPageSchema = z
  .strictObject({
    items: z.array(historyItemSchema).max(HISTORY_PAGE_ENTRIES_MAX),
    nextCursor: historyCursorSchema
      .nullable()
      .describe("Opaque; pass it as `cursor` for the next page. Null on the last page."),
    projectedVersion: versionSchema.describe(
      "How far the projector has come: the last version in the read model.",
    ),
  })
  .meta({ id: "HistoryPage" });
export type HistoryPage = Immutable<z.infer<typeof historyPageSchema>>;

/** The query of `GET /number/history` (services/query/history.ts reads it, with a sentence per mistake). */
export const historyQuerySchema = z.object({
  limit: z
    .number()
    .int()
    .min(1)
    .max(HISTORY_PAGE_ENTRIES_MAX)
    .default(HISTORY_PAGE_ENTRIES_DEFAULT)
    .describe("How many items a page holds at most."),
  order: z.enum(["asc", "desc"]).default("desc").describe("`desc` is newest first."),
  cursor: historyCursorSchema.describe(
    "Opaque: the `nextCursor` of the last page. A forged or truncated cursor is a 400.",
  ),
});

const reportedInteger = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).meta({
  id: "ReportedInteger",
  description:
    "An integer as found while verifying: not held to the counter's bounds, since a violation must be reportable.",
});

export const reportedStateSchema = z
  .strictObject({ value: reportedInteger, version: reportedInteger })
  .meta({ id: "ReportedState" });

export const verifyProblemSchema = z
  .strictObject({
    kind: z
      .string()
      .min(1)
      .max(VERIFY_PROBLEM_KIND_CHARACTERS_MAX)
      .regex(/^[A-Za-z]+$/),
    version: reportedInteger.optional().describe("The version the violation was found at, when it has one."),
    detail: z.string().min(1).max(VERIFY_PROBLEM_DETAIL_CHARACTERS_MAX).regex(PRINTABLE_TEXT),
  })
  .meta({ id: "VerifyProblem", description: "One violation of an invariant." });

/**
 * `GET /number/verify`: the ledger checked against invariants I1–I3 and I5 — by the API, what came after its
 * verify checkpoint (docs/architecture.md#checkpointed-verification); by `npm run verify`, all of it.
 */
export const verifyReportSchema = z
  .strictObject({
    ok: z.boolean(),
    events: safeCount.describe(
      "How many ledger events were replayed: by the API, those after its checkpoint (checkedFrom to checkedTo).",
    ),
    ledgerSum: reportedInteger.describe(
      "The sum of every event's delta up to checkedTo (the checkpoint's sum plus the deltas checked).",
    ),
    aggregate: reportedStateSchema,
    readModel: reportedStateSchema,
    lag: z
      .strictObject({
        versions: safeCount.describe("How many versions the projected state trails the aggregate by."),
        auditEntries: safeCount.describe("Audit entries not written yet."),
      })
      .optional()
      .describe(
        "How far a projector that is merely behind trails: not a violation, so it leaves `ok` alone.",
      ),
    problems: z.array(verifyProblemSchema).max(VERIFY_PROBLEMS_LISTED_MAX),
    problemsOmitted: safeCount.optional().describe("Violations found beyond the ones listed in `problems`."),
    durationMs: safeCount,
    checkedFrom: safeCount
      .optional()
      .describe("The first version this check read: 1, or the checkpoint's version + 1 (the API's)."),
    checkedTo: safeCount
      .optional()
      .describe("The last version this check read; checkedFrom − 1 when nothing followed the checkpoint."),
    more: z
      .boolean()
      .optional()
      .describe(
        `Events remain after checkedTo: one call checks at most ${VERIFY_EVENTS_PER_REQUEST_MAX} events, and the next goes on from here. The aggregate is checked by the call that reaches it.`,
      ),
    checkpointVersion: safeCount
      .optional()
      .describe(
        "The API's verify checkpoint after this check: every version up to it was verified sound, now or by an earlier call (0: none yet). It never moves back, nor past an audit entry still to be written.",
      ),
    verifiedAt: timestampSchema.optional().describe("When this result was produced."),
    fromLastResult: z
      .boolean()
      .optional()
      .describe(
        "True when another verification of the counter was running: this is the last result (of verifiedAt), not a new check.",
      ),
    digestVersion: safeCount
      .optional()
      .describe(
        "With `?digest=`: the version the signed digest committed to. The check replayed from the genesis to it and held the chain to the digest's hash there; it moved no checkpoint.",
      ),
  })
  .meta({
    id: "VerifyReport",
    description:
      "This version always sends `lag` and `problemsOmitted`, and the API also `checkedFrom`, `checkedTo`, `more`, `verifiedAt` and `fromLastResult`, with `checkpointVersion` (without `?digest=`) or `digestVersion` (with it); a client should not require them.",
  });
export type VerifyReport = Immutable<z.infer<typeof verifyReportSchema>>;

/** `GET /health`. */
export const healthSchema = z.strictObject({ status: z.literal("ok") }).meta({ id: "Health" });
export type Health = Immutable<z.infer<typeof healthSchema>>;

/** The request id every answer carries as X-Request-Id (API Gateway's, or one the local gateway made). */
export const requestIdSchema = z.string().min(1).max(REQUEST_ID_CHARACTERS_MAX).regex(VISIBLE_ASCII);

/** An entity tag a client sends back in If-None-Match: visible ASCII, spaces and commas between tags. */
export const entityTagListSchema = z
  .string()
  .max(1024)
  .regex(/^[\u0020-\u007e]*$/);

/** RFC 9457 problem details: the body of every refusal and failure. */
export const problemSchema = z
  .looseObject({
    type: z
      .url()
      .max(PROBLEM_TEXT_CHARACTERS_MAX)
      .describe("A URI naming the problem; its last segment names it (e.g. `…/out-of-bounds`)."),
    title: z
      .string()
      .min(1)
      .max(PROBLEM_TEXT_CHARACTERS_MAX)
      .regex(/^[A-Za-z][A-Za-z ]*$/),
    status: z.number().int().min(400).max(599).describe("The HTTP status of the response."),
    detail: z
      .string()
      .min(1)
      .max(PROBLEM_DETAIL_CHARACTERS_MAX)
      .regex(PRINTABLE_TEXT)
      .describe("One safe sentence."),
    requestId: requestIdSchema.describe("The same id as the response's `X-Request-Id`."),
  })
  .meta({
    id: "Problem",
    description:
      "RFC 9457 problem details. Extension members may follow (e.g. `value` and `bound` of out-of-bounds).",
  });
export type Problem = Immutable<z.infer<typeof problemSchema>>;

/** 409: the change would leave the bounds; `value` stays as it was. */
export const outOfBoundsProblemSchema = problemSchema
  .extend({
    type: z.literal(problemTypeOf("outOfBounds")),
    value: valueSchema.describe("The counter's value, which stays as it was."),
    bound: valueSchema.describe("The bound the change would have crossed."),
  })
  .meta({ id: "OutOfBoundsProblem" });

/** 422: the key was already used for a different request. */
export const idempotencyKeyReusedProblemSchema = problemSchema
  .extend({ type: z.literal(problemTypeOf("idempotencyKeyReused")) })
  .meta({ id: "IdempotencyKeyReusedProblem" });

/** 429 from POST /number: the caller's quota for the clock minute is spent; nothing was written. */
export const quotaExceededProblemSchema = problemSchema
  .extend({
    type: z.literal(problemTypeOf("quotaExceeded")),
    limit: z
      .number()
      .int()
      .min(1)
      .max(QUOTA_COMMANDS_PER_MINUTE_MAX)
      .describe("The caller's quota: commands applied per clock minute."),
  })
  .meta({ id: "QuotaExceededProblem" });

// ---- The web UI's runtime configuration (issue 11) ----
// `/config.json`, read by the web UI at start: where to sign in, or `auth: null` when the API runs with
// AUTH=off (then the UI shows no sign-in and every control is enabled). The local gateway serves it; on AWS,
// Terraform writes it next to the built UI. Not part of the HTTP API, so not in openapi.json.

/** The OpenID Connect settings the UI signs in with (authorization code + PKCE, a public client). */
export const uiAuthConfigSchema = z.strictObject({
  /** The issuer: discovery is at `<authority>/.well-known/openid-configuration`. */
  authority: z.url().max(2048),
  clientId: z.string().min(1).max(256).regex(VISIBLE_ASCII),
  /** The scopes asked for, space-separated, e.g. `openid counter:write counter:audit`. */
  scope: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[\u0021-\u007e]+( [\u0021-\u007e]+)*$/),
});
export type UiAuthConfig = Immutable<z.infer<typeof uiAuthConfigSchema>>;

export const uiConfigSchema = z.strictObject({ auth: uiAuthConfigSchema.nullable() });
export type UiConfig = Immutable<z.infer<typeof uiConfigSchema>>;

// ---- Signed digests (issue 12) ----
// `GET /number/digest` and `GET /number/digest/keys` (docs/api.md#digests): the head of the ledger's hash chain
// (counter, version, hash, time) signed by the service as a compact JWS (ES256), and the public keys that
// verify it, as a JWKS. A digest is also what the scheduled job writes: one SignedDigest per line locally
// (`<DATA_DIR>/digests.jsonl`), one per object on AWS (the Object Lock bucket).

/** A compact JWS is three base64url parts; a digest's is a few hundred characters. */
export const DIGEST_CHARACTERS_MAX = 2048;
/** How many public keys a digest key set may publish (the current one and a few retired ones). */
export const DIGEST_KEYS_MAX = 16;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const chainHashSchema = z
  .string()
  .length(64)
  .regex(/^[0-9a-f]{64}$/)
  .meta({
    id: "ChainHash",
    description:
      "A SHA-256 of the ledger's hash chain, 64 lowercase hex digits (all zeros before the first event).",
  });

/** What a digest commits to: the payload of its JWS, member for member. */
export const digestHeadSchema = z
  .strictObject({
    counterId: z
      .string()
      .max(255)
      .regex(/^[A-Za-z0-9_.-]{1,255}$/)
      .describe("The counter whose ledger this is."),
    version: versionSchema,
    hash: chainHashSchema.describe("The hash of the event at `version` (the chain's head)."),
    root: chainHashSchema.describe(
      "The Merkle tree hash (RFC 9162 §2.1) of versions 1 to `version`, each leaf the 32 bytes of that event's hash; for version 0 the SHA-256 of the empty string. What event proofs are checked against.",
    ),
    at: timestampSchema.describe("When the service signed it: the head was this at that instant."),
  })
  .meta({ id: "DigestHead" });
export type DigestHead = Immutable<z.infer<typeof digestHeadSchema>>;

export const compactJwsSchema = z
  .string()
  .max(DIGEST_CHARACTERS_MAX)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "must be a compact JWS: three base64url parts");

export const signedDigestSchema = z
  .strictObject({
    digest: compactJwsSchema.describe(
      "The compact JWS (RFC 7515): protected header `{alg: ES256, kid, typ}`, payload the head as JSON. Verify it, never `head`.",
    ),
    head: digestHeadSchema.describe(
      "The JWS's payload, decoded for convenience: trust it only once `digest` verifies.",
    ),
  })
  .meta({ id: "SignedDigest" });
export type SignedDigest = Immutable<z.infer<typeof signedDigestSchema>>;

/** A public P-256 key as a JWK (RFC 7517/7518); `kid` is its RFC 7638 thumbprint. */
export const digestPublicKeySchema = z
  .strictObject({
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    x: z.string().length(43).regex(BASE64URL),
    y: z.string().length(43).regex(BASE64URL),
    kid: z.string().min(1).max(128).regex(BASE64URL),
    alg: z.literal("ES256"),
    use: z.literal("sig"),
  })
  .meta({ id: "DigestPublicKey" });
export type DigestPublicKey = Immutable<z.infer<typeof digestPublicKeySchema>>;

export const digestKeySetSchema = z
  .strictObject({ keys: z.array(digestPublicKeySchema).min(1).max(DIGEST_KEYS_MAX) })
  .meta({ id: "DigestKeySet", description: "A JWKS (RFC 7517 §5) of the keys that sign digests." });
export type DigestKeySet = Immutable<z.infer<typeof digestKeySetSchema>>;

/** The query of `GET /number/verify` (services/query/verify-digest.ts reads `digest`). */
export const verifyQuerySchema = z.object({
  digest: compactJwsSchema.describe(
    `A signed digest (the \`digest\` of GET /number/digest, or a line of the archive): the check replays from the genesis to its version and holds the ledger to its hash, one call at most ${VERIFY_DIGEST_VERSION_MAX} versions. It is verified against the service's published keys first; a refused digest is a 400.`,
  ),
});

/** Why a digest was refused (services/ledger/domain/digest.ts DigestRefusal). */
export const digestRefusalSchema = z
  .enum(["malformed", "unknownKey", "badSignature", "otherCounter"])
  .meta({ id: "DigestRefusal" });

/** 400: the digest of `GET /number/verify?digest=` is not one the service signed for this counter. */
export const digestRefusedProblemSchema = problemSchema
  .extend({
    type: z.literal(problemTypeOf("badRequest")),
    reason: digestRefusalSchema.describe(
      "`malformed`: not a compact JWS of a digest; `unknownKey`: signed by a key the service does not publish; `badSignature`: forged, or changed after signing; `otherCounter`: another counter's digest.",
    ),
  })
  .meta({ id: "DigestRefusedProblem" });

/** 422: a genuine digest whose version is beyond what one call replays. */
export const digestBeyondLimitProblemSchema = problemSchema
  .extend({
    type: z.literal(problemTypeOf("digestBeyondLimit")),
    versionMax: safeCount.describe("The highest digest version GET /number/verify replays to."),
  })
  .meta({ id: "DigestBeyondLimitProblem" });

// ---- Event proofs (issue 12) ----
// `GET /number/events/{key}/proof` (docs/api.md#get-numbereventskeyproof): the event as stored, its audit path in
// the Merkle tree of the ledger's versions, and the signed digest whose root the path leads to, so that a
// client proves offline that its event is in the ledger the digest covers.

/** An audit path of a tree of at most 2^53 leaves has at most 53 hashes. */
export const PROOF_PATH_HASHES_MAX = 53;
/** The chain's encoding the event is hashed with (services/ledger/domain/chain.ts, HASH_ENCODING). */
export const PROOF_HASH_ENCODING = "counter-ledger/event/1";

export const storedEventSchema = z
  .looseObject({
    counterId: z
      .string()
      .max(255)
      .regex(/^[A-Za-z0-9_.-]{1,255}$/)
      .describe("The counter whose ledger holds the event."),
    version: eventVersionSchema,
    previousHash: chainHashSchema.describe(
      "The hash of the event before it; added, as the chain links it, for an event written before the chain.",
    ),
  })
  .meta({
    id: "StoredEvent",
    description:
      "The ledger item exactly as stored, every attribute but `hash`: what the event's hash covers, so the client computes it itself.",
  });

export const eventProofSchema = z
  .strictObject({
    counterId: z
      .string()
      .max(255)
      .regex(/^[A-Za-z0-9_.-]{1,255}$/)
      .describe("The counter whose ledger this is."),
    version: eventVersionSchema.describe("The event's version: leaf `version − 1` of the tree."),
    treeSize: eventVersionSchema.describe(
      "The tree the path is of: versions 1 to `treeSize`, the version of the digest it is checked against.",
    ),
    encoding: z.literal(PROOF_HASH_ENCODING).describe("How the event is hashed (docs/api.md)."),
    event: storedEventSchema,
    path: z
      .array(chainHashSchema)
      .max(PROOF_PATH_HASHES_MAX)
      .describe("The audit path (RFC 9162 §2.1.3), leaf to root, as hex."),
    digest: signedDigestSchema
      .nullable()
      .describe(
        "The signed digest of version `treeSize`: the current head's; null when `treeSize` is older (check against the digest you archived).",
      ),
  })
  .meta({ id: "EventProof" });
export type EventProof = Immutable<z.infer<typeof eventProofSchema>>;
