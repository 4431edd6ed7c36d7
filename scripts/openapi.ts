// `npm run openapi`: writes openapi.json from the API's zod schemas (contract/) with zod-openapi, so the
// document, the handlers and the web UI cannot drift apart. tests/unit/contract/generated.test.ts fails when the
// committed openapi.json differs from what this generates; tests/integration/contract/openapi.test.ts checks the real
// answers against it. What is not a body (routes, headers, parameters, which status each route answers)
// is written here, from the contract's limits.

import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { format } from "prettier";
import { z } from "zod";
import { createDocument, type ZodOpenApiResponseObject, type ZodOpenApiResponsesObject } from "zod-openapi";
import { ROUTE_ACCESS, SCOPES } from "../contract/auth";
import {
  IDEMPOTENCY_KEY_LENGTH_MAX,
  PROBLEM_ECHO_CHARACTERS_MAX,
  VALUE_MAX,
  VERIFY_DIGEST_VERSION_MAX,
} from "../contract/limits";
import {
  actorSubSchema,
  commandAppliedSchema,
  commandBodySchema,
  digestBeyondLimitProblemSchema,
  digestKeySetSchema,
  digestRefusedProblemSchema,
  entityTagListSchema,
  eventProofSchema,
  eventViewSchema,
  healthSchema,
  historyPageSchema,
  historyQuerySchema,
  idempotencyKeyReusedProblemSchema,
  idempotencyKeySchema,
  numberViewSchema,
  outOfBoundsProblemSchema,
  quotaExceededProblemSchema,
  problemSchema,
  requestIdSchema,
  signedDigestSchema,
  verifyQuerySchema,
  verifyReportSchema,
} from "../contract/schemas";

/** Where the document is written, at the repository's root. */
export const OPENAPI_PATH = fileURLToPath(new URL("../openapi.json", import.meta.url));

const KEY_CHARACTERS = "[A-Za-z0-9_.:-]";

const DESCRIPTION = `The HTTP contract, version 1, which the web UI, the tests and every outside client rely on. Generated from the zod schemas of \`contract/\` by \`npm run openapi\`; tests/integration/contract checks the handlers' real answers against it.

Conventions: JSON in UTF-8; numbers are integers; times are ISO 8601 UTC with milliseconds. Every error is an RFC 9457 \`application/problem+json\` body (\`type\`, \`title\`, \`status\`, \`detail\`, \`requestId\`) that never carries a stack trace, an SDK error name, a table name, an ARN, or an echo of unvalidated input longer than ${PROBLEM_ECHO_CHARACTERS_MAX} characters. Every response carries \`X-Request-Id\`. The counter's value stays within its configured bounds, which \`GET /number\` tells (at most 0 ≤ value ≤ ${VALUE_MAX.toLocaleString("en-US").replaceAll(",", " ")}); a new counter starts at its lower bound, version 0.

Every route that answers GET answers HEAD too: the same status and headers, no body — but GET /number/verify, GET /number/events/{key}/proof and GET /number/digest, which run on a function of their own and answer HEAD with 405 (\`Allow: GET\`). A request that matches no route is answered by \`x-unrouted-responses\`: an unknown path is a 404 problem, a known path with the wrong method a 405 problem with \`Allow\`. The edge throttles every request (429 with \`Retry-After\`) and refuses a request whose headers are too large (431) or that arrives too slowly (408). CORS preflight is answered for the configured origins only.

Access (docs/api.md#access): each operation's \`security\` comes from \`contract/auth.ts\`. A route that needs a token answers \`401\` with \`WWW-Authenticate: Bearer realm="counter-ledger"…\` when the access token is missing or invalid, and a scoped route \`403\` (\`error="insufficient_scope"\`) when the token has none of its scopes; neither changes anything. \`GET /number\` needs a token only where \`PUBLIC_READ=false\`. On AWS, API Gateway's JWT authorizer may answer \`401\` and \`403\` before any handler runs, with a body that is not problem+json; go by the status code.`;

/** A response header: its schema, and whether a response that lists it must carry it. */
function header(schema: z.ZodType, description?: string): z.ZodType {
  return schema.meta({ header: description === undefined ? {} : { description } });
}

const headers = {
  "X-Request-Id": header(
    requestIdSchema,
    "The API Gateway request id (or one the gateway made). Every response carries it.",
  ),
  ETag: header(
    z
      .string()
      .max(18)
      .regex(/^"[0-9]+"$/),
    'The counter\'s version as a strong entity tag, e.g. `"17"`.',
  ),
  "Cache-Control-No-Store": header(z.literal("no-store")),
  "Idempotency-Key-Echoed": header(
    idempotencyKeySchema,
    "The request's key, or the one the server made when the request had none.",
  ),
  "Idempotency-Key-Of-Request": header(
    idempotencyKeySchema.optional(),
    "The request's key (or the one the server made), when the request got that far.",
  ),
  Location: header(
    z
      .string()
      .max("/number/events/".length + IDEMPOTENCY_KEY_LENGTH_MAX)
      .regex(new RegExp(`^/number/events/${KEY_CHARACTERS}{1,${IDEMPOTENCY_KEY_LENGTH_MAX}}$`)),
    "Where the event is: `/number/events/{key}`.",
  ),
  "Idempotent-Replayed": header(z.literal("true").optional(), "Present, and `true`, only on a replay."),
  "Retry-After": header(
    z
      .string()
      .max(10)
      .regex(/^[0-9]+$/),
    "Seconds to wait before retrying.",
  ),
  Allow: header(
    z
      .string()
      .max(64)
      .regex(/^[A-Z]+(, [A-Z]+)*$/),
    "The methods the path allows.",
  ),
  "Cache-Control-Max-Age": header(
    z
      .string()
      .max(32)
      .regex(/^max-age=[0-9]+$/),
    "The document changes only with a deployment.",
  ),
  "Cache-Control-Keys": header(
    z
      .string()
      .max(32)
      .regex(/^max-age=[0-9]+$/),
    "Keys change only when the signing key does.",
  ),
  "WWW-Authenticate": header(
    z
      .string()
      .max(512)
      .regex(/^Bearer realm="counter-ledger"(, [a-z_]+="[^"]*")*$/),
    'An RFC 6750 challenge: `Bearer realm="counter-ledger"`, with `error` (`invalid_token`, `insufficient_scope`) and `scope` where they apply.',
  ),
};

type HeaderName = keyof typeof headers;

function headerRefs(...names: HeaderName[]): Record<string, { $ref: string }> {
  const refs: Record<string, { $ref: string }> = {};
  for (const name of names) {
    // A component's name may carry a suffix (`Cache-Control-No-Store`); the header it describes does not.
    const header = name.startsWith("Cache-Control")
      ? "Cache-Control"
      : name.startsWith("Idempotency-Key")
        ? "Idempotency-Key"
        : name;
    refs[header] = { $ref: `#/components/headers/${name}` };
  }
  return refs;
}

function problemResponse(
  description: string,
  schema: z.ZodType = problemSchema,
  ...extraHeaders: HeaderName[]
): ZodOpenApiResponseObject {
  return {
    description,
    headers: headerRefs("X-Request-Id", ...extraHeaders),
    content: { "application/problem+json": { schema } },
  };
}

const responses = {
  BadRequest: problemResponse(
    "Malformed JSON, an unknown or missing field, a bad action, a bad key; or a bad `limit`, `order` or cursor.",
  ),
  NotFound: problemResponse("Nothing is there."),
  DigestRefused: problemResponse(
    "The digest of `?digest=` is refused: malformed, signed by a key the service does not publish, with a signature that does not verify, or of another counter (`reason` says which). Nothing was checked.",
    digestRefusedProblemSchema,
  ),
  DigestBeyondLimit: problemResponse(
    `A genuine digest of a version above ${VERIFY_DIGEST_VERSION_MAX}: one call replays at most that far. Verify against it with \`npm run verify -- --digest\`, which reads the tables. Nothing was checked.`,
    digestBeyondLimitProblemSchema,
  ),
  NoDigests: problemResponse("This deployment signs no digests."),
  MethodNotAllowed: problemResponse("A known path with a method it does not allow.", problemSchema, "Allow"),
  RequestTimeout: problemResponse("The request did not arrive in time; nothing was done."),
  OutOfBounds: problemResponse(
    "The change would leave the bounds. Nothing is written; a later retry with the same key is decided afresh.",
    outOfBoundsProblemSchema,
    "Idempotency-Key-Of-Request",
  ),
  PayloadTooLarge: problemResponse("The body is over 1 KiB."),
  UnsupportedMediaType: problemResponse("The body is not sent as `application/json`."),
  IdempotencyKeyReused: problemResponse(
    "The key was already used for a different request.",
    idempotencyKeyReusedProblemSchema,
    "Idempotency-Key-Of-Request",
  ),
  TooManyCommands: problemResponse(
    "Throttled (`…/throttled`), or the caller's quota of commands for this clock minute is spent (`…/quota-exceeded`, with `limit`, the key echoed in `Idempotency-Key`, and `Retry-After` counting the seconds to the minute's end): nothing was done. Safe to retry after `Retry-After` with the same Idempotency-Key; a retry of a command that was applied gets its event back, never a 429.",
    z.union([quotaExceededProblemSchema, problemSchema]),
    "Retry-After",
  ),
  TooManyReads: problemResponse("Throttled: retry after `Retry-After`.", problemSchema, "Retry-After"),
  HeadersTooLarge: problemResponse("The request's headers are too large; nothing was done."),
  CommandUnavailable: problemResponse(
    "Too much contention, or the store is unavailable. Safe to retry with the same key.",
    problemSchema,
    "Retry-After",
    "Idempotency-Key-Of-Request",
  ),
  ReadUnavailable: problemResponse(
    "The store is unavailable. Safe to retry after `Retry-After`.",
    problemSchema,
    "Retry-After",
  ),
  VerifyUnavailable: problemResponse(
    "The store is unavailable, or (with `digest`) another verification of the counter is running. Retry after `Retry-After`.",
    problemSchema,
    "Retry-After",
  ),
  InternalError: problemResponse(
    "An unexpected failure (a bug). The body is a safe problem, never a stack trace.",
  ),
  Unauthorized: problemResponse(
    "No access token, or one that is malformed, expired, not yet valid, from another issuer or client, or not signed by the issuer's keys. Nothing was done.",
    problemSchema,
    "WWW-Authenticate",
  ),
  Forbidden: problemResponse(
    "A valid access token without any of the operation's scopes. Nothing was done.",
    problemSchema,
    "WWW-Authenticate",
  ),
} satisfies Record<string, ZodOpenApiResponseObject>;

type ResponseName = keyof typeof responses;

function refs(statuses: Record<string, ResponseName>): ZodOpenApiResponsesObject {
  const result: Record<string, { $ref: string }> = {};
  for (const [status, name] of Object.entries(statuses))
    result[status] = { $ref: `#/components/responses/${name}` };
  return result;
}

/** The one security scheme; its flow's URLs are placeholders, since each deployment has its own issuer. */
const SECURITY_SCHEME = "oauth2";
const PLACEHOLDER_ISSUER = "https://issuer.example.invalid";

const securitySchemes = {
  [SECURITY_SCHEME]: {
    type: "oauth2",
    description: `OAuth 2.0 authorization code flow with PKCE; the access token (a JWT) goes in \`Authorization: Bearer\`. Tokens are checked as RFC8725 (JSON Web Token Best Current Practices) asks: the algorithm from an allow-list (RS256; never \`none\`, never HMAC), the signature against the issuer's JWKS, \`iss\`, the audience (\`aud\` or \`client_id\`), \`exp\` and \`nbf\`. The URLs here are placeholders: each deployment has its own issuer, whose discovery document (\`<issuer>/.well-known/openid-configuration\`) names the real ones. Locally (\`npm start\`) the issuer is \`<base URL>/oidc\` and \`npm run token\` prints a token; on AWS it is the Cognito user pool (Terraform outputs \`issuer\` and \`login_url\`), where a client asks for \`counter/write\` and \`counter/audit\` and the access token carries the scopes below (docs/decisions.md#cognito-and-the-auditors-group-mapped-to-counteraudit).`,
    flows: {
      authorizationCode: {
        authorizationUrl: `${PLACEHOLDER_ISSUER}/authorize`,
        tokenUrl: `${PLACEHOLDER_ISSUER}/token`,
        refreshUrl: `${PLACEHOLDER_ISSUER}/token`,
        scopes: {
          [SCOPES.write]: "Change the number, and read one's own events by key.",
          [SCOPES.audit]: "Read every event, the history with its keys, and the ledger's verification.",
        },
      },
    },
  },
};

/**
 * An operation's security requirements from contract/auth.ts ROUTE_ACCESS: none for a public route; anonymous
 * or any valid token for `publicRead` (a token is required only with PUBLIC_READ=false); one requirement per
 * scope for a scoped route, since any one of its scopes will do.
 */
function securityOf(routeKey: string): Record<string, string[]>[] {
  const access = ROUTE_ACCESS[routeKey];
  if (access === undefined) throw new Error(`${routeKey} has no access rule in contract/auth.ts`);
  if (access.kind === "public") return [];
  if (access.kind === "publicRead") return [{}, { [SECURITY_SCHEME]: [] }];
  return access.scopes.map((scope) => ({ [SECURITY_SCHEME]: [scope] }));
}

/** The refusals of a route that may need a token: 401 wherever one can be asked for, 403 where scopes are. */
function accessRefusalsOf(routeKey: string): Record<string, ResponseName> {
  const access = ROUTE_ACCESS[routeKey];
  if (access === undefined || access.kind === "public") return {};
  if (access.kind === "publicRead") return { "401": "Unauthorized" };
  return { "401": "Unauthorized", "403": "Forbidden" };
}

/** An operation with its security and its access refusals, its responses in status order. */
function guarded<Operation extends { responses: Record<string, unknown> }>(
  routeKey: string,
  operation: Operation,
) {
  const responses = { ...operation.responses, ...refs(accessRefusalsOf(routeKey)) };
  const ordered = Object.fromEntries(
    Object.entries(responses).sort(([left], [right]) => left.localeCompare(right)),
  );
  return { ...operation, security: securityOf(routeKey), responses: ordered };
}

/** What the edge may answer to any request, and a read's failures. */
const READ_FAILURES = {
  "408": "RequestTimeout",
  "429": "TooManyReads",
  "431": "HeadersTooLarge",
  "500": "InternalError",
  "503": "ReadUnavailable",
} as const satisfies Record<string, ResponseName>;

function ok(description: string, schema: z.ZodType, ...headerNames: HeaderName[]): ZodOpenApiResponseObject {
  return {
    description,
    headers: headerRefs("X-Request-Id", ...headerNames),
    content: { "application/json": { schema } },
  };
}

/** A request parameter: its schema, where it goes, and its name; a parameter without a default is required. */
function parameter(
  schema: z.ZodType,
  location: "header" | "path" | "query",
  name: string,
  description: string,
) {
  return schema.meta({ param: { in: location, name, description } });
}

const { limit, order, cursor } = historyQuerySchema.shape;

const parameters = {
  IfNoneMatch: parameter(
    entityTagListSchema.optional(),
    "header",
    "If-None-Match",
    "An entity tag from a previous `ETag`; when it is the current one the answer is 304.",
  ),
  IdempotencyKey: parameter(
    z
      .string()
      .max(IDEMPOTENCY_KEY_LENGTH_MAX + 2)
      .regex(
        new RegExp(
          `^(?:${KEY_CHARACTERS}{1,${IDEMPOTENCY_KEY_LENGTH_MAX}}|"${KEY_CHARACTERS}{1,${IDEMPOTENCY_KEY_LENGTH_MAX}}")$`,
        ),
      )
      .optional(),
    "header",
    "Idempotency-Key",
    'Optional. 1–128 characters of `A-Z a-z 0-9 - _ . :`; a UUID is the recommended form. The quoted form of an RFC 8941 structured-field string (`"…"`) is accepted too.',
  ),
  EventKey: parameter(
    idempotencyKeySchema,
    "path",
    "key",
    "The idempotency key the event was recorded under.",
  ),
  EventActor: parameter(
    actorSubSchema.optional(),
    "query",
    "actor",
    "Auditors only (`counter:audit`): whose event to read, by the actor's `sub`; without it, the caller's own. A caller without `counter:audit` that names an actor gets 403.",
  ),
  ProofTreeSize: parameter(
    z
      .string()
      .max(16)
      .regex(/^[1-9][0-9]{0,15}$/)
      .optional(),
    "query",
    "version",
    "The tree size to prove against: from the event's version to the ledger's; default the current head's. Give the version of a digest you archived, then check the proof against that digest.",
  ),
  HistoryLimit: parameter(limit, "query", "limit", limit.description ?? ""),
  HistoryOrder: parameter(order, "query", "order", order.description ?? ""),
  HistoryCursor: parameter(cursor.optional(), "query", "cursor", cursor.description ?? ""),
  VerifyDigest: parameter(
    verifyQuerySchema.shape.digest.optional(),
    "query",
    "digest",
    verifyQuerySchema.shape.digest.description ?? "",
  ),
};

function parameterRefs(...names: (keyof typeof parameters)[]): { $ref: string }[] {
  return names.map((name) => ({ $ref: `#/components/parameters/${name}` }));
}

const paths = {
  "/number": {
    get: guarded("GET /number", {
      operationId: "readNumber",
      tags: ["counter"],
      summary: "Read the counter (strongly consistent read of the aggregate) and its bounds.",
      description:
        "A client polls this with the last `ETag` in `If-None-Match`: a 304 means nothing changed. The bounds are those the counter is configured with; a change that would cross one is refused with 409.",
      parameters: parameterRefs("IfNoneMatch"),
      responses: {
        "200": ok(
          "The counter's current value, version and bounds.",
          numberViewSchema,
          "ETag",
          "Cache-Control-No-Store",
        ),
        "304": {
          description: "`If-None-Match` named the current entity tag: nothing changed since. No body.",
          headers: headerRefs("X-Request-Id", "ETag"),
        },
        ...refs(READ_FAILURES),
      },
    }),
    post: guarded("POST /number", {
      operationId: "changeNumber",
      tags: ["counter"],
      summary: "Increment or decrement the counter, exactly once per Idempotency-Key.",
      description:
        "Without `Idempotency-Key` the server makes one, returns it in `Idempotency-Key`, and the request is not deduplicated against anything. A 409 writes nothing, and a later retry with the same key is decided afresh. 429 and 503 are safe to retry with the same key.",
      parameters: parameterRefs("IdempotencyKey"),
      requestBody: {
        required: true,
        description: "At most 1 KiB, sent as `Content-Type: application/json`.",
        content: { "application/json": { schema: commandBodySchema } },
      },
      responses: {
        "200": {
          ...ok(
            "Applied; or, with `Idempotent-Replayed: true`, a replay of the same key and request already applied: the original body, unchanged, and no state change.",
            commandAppliedSchema,
            "Idempotency-Key-Echoed",
            "Location",
            "Idempotent-Replayed",
          ),
        },
        ...refs({
          "400": "BadRequest",
          "408": "RequestTimeout",
          "409": "OutOfBounds",
          "413": "PayloadTooLarge",
          "415": "UnsupportedMediaType",
          "422": "IdempotencyKeyReused",
          "429": "TooManyCommands",
          "431": "HeadersTooLarge",
          "500": "InternalError",
          "503": "CommandUnavailable",
        }),
      },
    }),
  },
  "/number/events/{key}": {
    get: guarded("GET /number/events/{key}", {
      operationId: "readEvent",
      tags: ["counter"],
      summary: "The ledger event recorded under an idempotency key, read consistently.",
      description: "How a client settles an outcome it never saw.",
      parameters: parameterRefs("EventKey", "EventActor"),
      responses: {
        "200": ok("The event recorded under that key.", eventViewSchema),
        ...refs({ "400": "BadRequest", "404": "NotFound", ...READ_FAILURES }),
      },
    }),
  },
  "/number/events/{key}/proof": {
    get: guarded("GET /number/events/{key}/proof", {
      operationId: "proveEvent",
      tags: ["audit"],
      summary: "A proof that the event under a key is in the ledger a signed digest covers.",
      description:
        "The event exactly as stored, its audit path in the Merkle tree of the ledger's versions (RFC 9162) and the signed digest whose `root` the path leads to; check it offline (docs/api.md#checking-a-proof). Who may read it is as for the event. 404 where the deployment signs no digests; 503 (Retry-After) while the Merkle tree is still being filled.",
      parameters: parameterRefs("EventKey", "EventActor", "ProofTreeSize"),
      responses: {
        "200": ok("The event's proof.", eventProofSchema),
        ...refs({ "400": "BadRequest", "404": "NotFound", ...READ_FAILURES }),
      },
    }),
  },
  "/number/history": {
    get: guarded("GET /number/history", {
      operationId: "readHistory",
      tags: ["audit"],
      summary: "The audit trail, a page at a time, from the read model (eventually consistent).",
      description:
        "`projectedVersion` says how far the projector has come; pages follow `nextCursor` until it is null.",
      parameters: parameterRefs("HistoryLimit", "HistoryOrder", "HistoryCursor"),
      responses: {
        "200": ok("One page of the history.", historyPageSchema),
        ...refs({ "400": "BadRequest", ...READ_FAILURES }),
      },
    }),
  },
  "/number/verify": {
    get: guarded("GET /number/verify", {
      operationId: "verifyLedger",
      tags: ["audit"],
      summary: "Check the ledger against invariants I1–I3, I5 and I7 (docs/architecture.md).",
      description: `Without \`digest\`: checks what came after the API's verify checkpoint, at most a bounded number of events per call, and moves the checkpoint when that is sound. With \`digest\`: replays from the genesis to the digest's version (at most ${VERIFY_DIGEST_VERSION_MAX}) and holds the chain to the digest's hash there; the checkpoint stays where it was. One verification per counter at a time: with \`digest\`, a 503 with Retry-After while another runs. A report with violations is still a 200: the report is the answer.`,
      parameters: parameterRefs("VerifyDigest"),
      responses: {
        "200": ok(
          "The report: `ok` is false with every violation listed; a projector that is merely behind is reported as lag, not as a violation.",
          verifyReportSchema,
        ),
        ...refs({
          "400": "DigestRefused",
          "404": "NoDigests",
          "422": "DigestBeyondLimit",
          ...READ_FAILURES,
          "503": "VerifyUnavailable",
        }),
      },
    }),
  },
  "/number/digest": {
    get: guarded("GET /number/digest", {
      operationId: "readDigest",
      tags: ["audit"],
      summary: "The head of the ledger's hash chain (counter, version, hash, time), signed by the service.",
      description:
        "`digest` is a compact JWS (ES256, header `kid` and `typ: counter-ledger-digest+jws`) whose payload is `head`; verify it offline against `GET /number/digest/keys` with any JOSE library (docs/api.md#digests). The service signs each head once and answers the same digest until the head moves. 404 where the deployment signs no digests; 503 while the head has no hash yet.",
      responses: {
        "200": ok("The signed digest of the current head.", signedDigestSchema, "Cache-Control-No-Store"),
        ...refs({ "404": "NotFound", ...READ_FAILURES }),
      },
    }),
  },
  "/number/digest/keys": {
    get: guarded("GET /number/digest/keys", {
      operationId: "readDigestKeys",
      tags: ["audit"],
      summary: "The public keys that verify digests, as a JWKS (RFC 7517).",
      description:
        "Each key's `kid` is its RFC 7638 thumbprint and matches the `kid` of the digests it signed. 404 where the deployment signs no digests.",
      responses: {
        "200": ok("The digest keys.", digestKeySetSchema, "Cache-Control-Keys"),
        ...refs({ "404": "NotFound", ...READ_FAILURES }),
      },
    }),
  },
  "/health": {
    get: guarded("GET /health", {
      operationId: "checkHealth",
      tags: ["service"],
      summary: "Whether the store answers.",
      description: "A read of the counter's aggregate; 503 while the store cannot be reached.",
      responses: { "200": ok("The store answers.", healthSchema), ...refs(READ_FAILURES) },
    }),
  },
  "/openapi.json": {
    get: guarded("GET /openapi.json", {
      operationId: "readOpenApiDocument",
      tags: ["service"],
      summary: "This document.",
      description: "The same document as `openapi.json` in the repository, generated from `contract/`.",
      responses: {
        "200": ok(
          "The OpenAPI 3.1 document of the API.",
          z
            .looseObject({ openapi: z.literal("3.1.0"), info: z.looseObject({}), paths: z.looseObject({}) })
            .meta({ id: "OpenApiDocument" }),
          "Cache-Control-Max-Age",
        ),
        ...refs({
          "408": "RequestTimeout",
          "429": "TooManyReads",
          "431": "HeadersTooLarge",
          "500": "InternalError",
        }),
      },
    }),
  },
};

/** The OpenAPI 3.1 document of the API, as a plain JSON value. */
export function openApiDocument(): Record<string, unknown> {
  const document = createDocument(
    {
      openapi: "3.1.0",
      info: {
        title: "counter-ledger",
        version: "1",
        summary: "An event-sourced, bounded counter: exactly-once, auditable writes.",
        description: DESCRIPTION,
      },
      jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
      tags: [
        { name: "audit", description: "The audit trail and the ledger's verification." },
        { name: "counter", description: "The number and the commands that change it." },
        { name: "service", description: "Health and this document." },
      ],
      servers: [
        {
          url: "http://localhost:3000",
          description: "The local runtime (`npm start`; the port is env `PORT`).",
          "x-internal": true,
        },
        {
          url: "https://{apiId}.execute-api.{region}.amazonaws.com",
          description: "The API Gateway `$default` stage URL that Terraform outputs.",
          "x-internal": false,
          variables: {
            apiId: { default: "api-id", description: "The HTTP API's id." },
            region: { default: "us-east-1", description: "The AWS region of the deployment." },
          },
        },
      ],
      paths,
      components: { headers, parameters, responses, securitySchemes },
      "x-unrouted-responses": refs({
        "404": "NotFound",
        "405": "MethodNotAllowed",
        "408": "RequestTimeout",
        "429": "TooManyReads",
        "431": "HeadersTooLarge",
        "500": "InternalError",
      }),
    } as Parameters<typeof createDocument>[0],
    { override: withIntegerFormat },
  );
  return withoutToolMetadata(JSON.parse(JSON.stringify(document))) as Record<string, unknown>;
}

/** Names each integer's format for client generators: int32 when its bounds fit, else int64. */
function withIntegerFormat({ jsonSchema }: { jsonSchema: Record<string, unknown> }): void {
  if (jsonSchema.type !== "integer" || jsonSchema.format !== undefined) return;
  const { minimum, maximum } = jsonSchema;
  const fits32 =
    typeof minimum === "number" && typeof maximum === "number" && minimum >= -(2 ** 31) && maximum < 2 ** 31;
  jsonSchema.format = fits32 ? "int32" : "int64";
}

/**
 * Drops zod-openapi's own `header` and `param` metadata where zod copied it beside a `$ref` (a header or
 * parameter whose schema is a component): it describes the header or parameter, which already says it.
 */
function withoutToolMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutToolMetadata);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).filter(
    ([name]) => !("$ref" in value && (name === "header" || name === "param")),
  );
  return Object.fromEntries(entries.map(([name, member]) => [name, withoutToolMetadata(member)]));
}

/** The document as openapi.json holds it: formatted by the repository's Prettier settings. */
export async function openApiText(): Promise<string> {
  return format(JSON.stringify(openApiDocument()), { parser: "json", printWidth: 110 });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(OPENAPI_PATH, await openApiText());
  console.log(`wrote ${OPENAPI_PATH}`);
}
