// The Lambda handlers of the read routes, two functions from one module (services/ledger/http/routes.ts says
// which route is whose). The query Lambda: GET /number, /number/events/{key}, /number/history,
// /number/digest/keys, /health, /openapi.json, and API Gateway's `$default` route, which answers 404 and 405
// for everything else; it writes nothing. The audit Lambda (services/audit/handler.ts): GET /number/verify (with
// or without ?digest=), /number/events/{key}/proof and /number/digest, the routes whose cost grows with the
// ledger; it writes nothing but derived data of the read model (verify's checkpoint and lease, the Merkle
// tree's kept subtrees). Each refuses the other's routes as it refuses an unknown one, so that a mis-wired
// route cannot put a replay on the read path (docs/architecture.md#the-audit-function).
// A thin adapter: route → caller checked (docs/api.md#access) → query → response; nothing is read for a
// caller the route refuses.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { EventView, Health, NumberView } from "../../contract/schemas";
import openapiDocument from "../../openapi.json";
import { createDocumentClient } from "../ledger/storage/clients";
import { loadLedgerConfig, type LedgerConfig } from "../ledger/config";
import { eventIdOf, viewOfEvent } from "../ledger/domain/event";
import { authorize, type Caller } from "../ledger/http/caller";
import { refusalOutcome } from "../ledger/http/identity";
import { problemResponse } from "../ledger/http/problem";
import { createHttpHandler, type HttpHandler } from "../ledger/http/handler";
import { headerOf, jsonResponse } from "../ledger/http/response";
import {
  DEFAULT_ROUTE_LAMBDA,
  matchDefaultRoute,
  ROUTES,
  routeKeyOf,
  type LambdaName,
} from "../ledger/http/routes";
import { IDEMPOTENCY_KEY_PATTERN } from "../ledger/domain/limits";
import { createLogger, type Logger } from "../ledger/log";
import { LedgerReader } from "../ledger/storage/store";
import { ShardReader } from "../ledger/storage/shards";
import { valueOf } from "../ledger/domain/escrow";
import { KMSClient } from "@aws-sdk/client-kms";
import { loadDigestConfig } from "../digest/config";
import { createLedgerDigestSource, type DigestSource } from "../digest/digests";
import { createKmsSigner } from "../digest/kms-signer";
import { createDigestQueries } from "./digest";
import { createHistoryQuery } from "./history";
import { ownerOf } from "./owner";
import { createProofQuery } from "./proof";
import { createVerifyQuery } from "./verify";
import type { VerifyReport } from "../../contract/schemas";
import { instrumented, traced, type MetricsRecorder } from "../ledger/telemetry";
import { createDigestVerifyQuery } from "./verify-digest";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export type QueryHandler = HttpHandler;

export interface QueryHandlerDependencies {
  readonly client: DynamoDBDocumentClient;
  readonly config: LedgerConfig;
  readonly log?: Logger;
  /** Signs GET /number/digest; without it the digest routes answer 404 (docs/api.md#digests). */
  readonly digests?: DigestSource;
  /** Leaves of the smallest kept Merkle subtree (MERKLE_CHUNK_LEAVES; smaller in tests). */
  readonly merkleChunkLeaves?: number;
  /** Called once a verification holds the counter's lease, before its replay (tests hold one there). */
  readonly onLeaseHeld?: () => Promise<void>;
  /** Milliseconds from a verification's start to its replay's deadline (VERIFY_DEADLINE_MS); smaller in tests. */
  readonly deadlineMs?: number;
  /** Where verify's results and store throttles go (services/ledger/telemetry.ts); none by default. */
  readonly metrics?: MetricsRecorder;
  /** The environment's incremental verification, when the schedule shares it (services/audit/handler.ts). */
  readonly verify?: () => Promise<VerifyReport>;
}

/** The Lambdas whose routes a read handler answers: the query Lambda's, the audit Lambda's, or both. */
export type ReadFunction = Exclude<LambdaName, "command">;

interface QueryContext {
  readonly event: APIGatewayProxyEventV2;
  readonly requestId: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  /** Whom the route's access rule let in (under AUTH=off, the anonymous caller with every scope). */
  readonly caller: Caller;
}

type Query = (context: QueryContext) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The counter's value, version and last change; with escrow shards one consistent snapshot of them
 * (docs/architecture.md#escrow-shards): the sum of their values, the number of their events, the latest
 * `updatedAt`, and an entity tag of every shard's version, which any write changes.
 */
async function numberOf(
  client: DynamoDBDocumentClient,
  config: LedgerConfig,
  reader: LedgerReader,
): Promise<{ value: number; version: number; updatedAt: string | null; entityTag?: string }> {
  const shards = config.counterShards ?? 1;
  if (shards === 1) return reader.readAggregate(config.counterId);
  const snapshot = await new ShardReader(
    client,
    config.tables,
    config.bounds,
    config.counterId,
    shards,
  ).readSnapshot();
  const updated = snapshot.flatMap((shard) => (shard.updatedAt === null ? [] : [shard.updatedAt])).sort();
  return {
    value: valueOf(snapshot),
    version: snapshot.reduce((sum, shard) => sum + shard.version, 0),
    updatedAt: updated.at(-1) ?? null,
    entityTag: `"${snapshot.map((shard) => shard.version).join(".")}"`,
  };
}

/** True when an If-None-Match header names the current entity tag (weak comparison, RFC 9110 §13.1.2). */
export function ifNoneMatchHits(header: string | undefined, entityTag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === entityTag);
}

function createQueries(dependencies: QueryHandlerDependencies): Record<string, Query> {
  const { config } = dependencies;
  const reader = new LedgerReader(dependencies.client, config.tables, config.bounds);
  return {
    "GET /number": async ({ event }) => {
      const aggregate = await numberOf(dependencies.client, config, reader);
      const entityTag = aggregate.entityTag ?? `"${aggregate.version}"`;
      const headers = { ETag: entityTag, "Cache-Control": "no-store" };
      if (ifNoneMatchHits(headerOf(event, "if-none-match"), entityTag)) {
        return { statusCode: 304, headers };
      }
      const view: NumberView = {
        value: aggregate.value,
        version: aggregate.version,
        updatedAt: aggregate.updatedAt,
        bounds: { min: config.bounds.min, max: config.bounds.max },
      };
      return jsonResponse(200, view, headers);
    },
    "GET /number/events/{key}": async ({ event: request, pathParameters, requestId, caller }) => {
      const owner = ownerOf(request, caller, requestId);
      if (owner.kind === "refused") return owner.result;
      const key = pathParameters.key ?? "";
      // Keys are per actor: another actor's event under this key is simply not found, as if never applied.
      const event = IDEMPOTENCY_KEY_PATTERN.test(key)
        ? await reader.readEvent(eventIdOf(config.counterId, key, { sub: owner.sub }))
        : undefined;
      if (event === undefined) {
        return problemResponse("notFound", { requestId, detail: "No event is recorded under that key." });
      }
      const view: EventView = viewOfEvent(event);
      return jsonResponse(200, view);
    },
    "GET /number/events/{key}/proof": createProofQuery(dependencies, reader),
    "GET /number/history": createHistoryQuery(dependencies),
    "GET /number/verify": verifyQuery(dependencies),
    ...createDigestQueries(dependencies.digests),
    "GET /health": async () => {
      await reader.readAggregate(config.counterId);
      const health: Health = { status: "ok" };
      return jsonResponse(200, health);
    },
    "GET /openapi.json": () =>
      Promise.resolve(jsonResponse(200, openapiDocument, { "Cache-Control": "max-age=300" })),
  };
}

/**
 * GET /number/verify: the incremental check after the API's checkpoint, or with `?digest=` the check against a
 * signed digest (services/query/verify-digest.ts), which leaves the checkpoint alone.
 */
function verifyQuery(dependencies: QueryHandlerDependencies): Query {
  const incremental = createVerifyQuery(dependencies, dependencies.verify);
  const againstDigest = createDigestVerifyQuery(dependencies);
  return ({ event, requestId }) => {
    const digest = event.queryStringParameters?.digest;
    return digest === undefined ? incremental() : againstDigest({ requestId, digest });
  };
}

/** Path parameters decoded as API Gateway does; a malformed escape leaves the segment as it came. */
function decodedParameters(
  parameters: Record<string, string | undefined> | undefined,
): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters ?? {})) {
    if (value === undefined) continue;
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      decoded[name] = value;
    }
  }
  return decoded;
}

/**
 * The route key a request is answered as: its own, or for `$default` the query Lambda's read route its method
 * and path name (HEAD as GET). A route of another Lambda is never one of these.
 */
function routeOf(event: APIGatewayProxyEventV2): string {
  if (event.routeKey !== "$default") return event.routeKey;
  const match = matchDefaultRoute(event.requestContext.http.method, event.rawPath);
  return match.kind === "found" && match.route.lambda === DEFAULT_ROUTE_LAMBDA
    ? routeKeyOf(match.route)
    : "$default";
}

/** What `$default` answers for a path no read route serves: 405 with Allow for a known path, else 404. */
function unrouted(event: APIGatewayProxyEventV2, requestId: string): APIGatewayProxyStructuredResultV2 {
  const match = matchDefaultRoute(event.requestContext.http.method, event.rawPath);
  if (match.kind === "methodNotAllowed") {
    return problemResponse("methodNotAllowed", {
      requestId,
      detail: `This path allows ${match.allow.join(", ")}.`,
      headers: { Allow: match.allow.join(", ") },
    });
  }
  return problemResponse("notFound", { requestId, detail: "There is nothing at this path." });
}

/** The route keys the given Lambdas serve (routes.ts); `$default` is routeOf's to resolve. */
function servedRoutes(functions: readonly ReadFunction[]): ReadonlySet<string> {
  const served = ROUTES.filter((route) => (functions as readonly LambdaName[]).includes(route.lambda));
  return new Set(served.map(routeKeyOf));
}

/**
 * A read handler answering the routes of `functions` only: any other route that reaches it — a mis-wired
 * route of the other function, a command — is answered as an unknown route is (404, or 405 with Allow),
 * before anything is read. Its `$default` is the query Lambda's; on the audit Lambda alone it finds nothing.
 */
export function createReadHandler(
  dependencies: QueryHandlerDependencies,
  functions: readonly ReadFunction[],
): QueryHandler {
  const served = servedRoutes(functions);
  const queries = Object.fromEntries(
    Object.entries(createQueries(dependencies)).filter(([routeKey]) => served.has(routeKey)),
  );
  const name = functions.length === 1 ? functions[0]! : "query";
  const options = {
    log: dependencies.log ?? createLogger(name),
    metrics: dependencies.metrics,
    routeOf,
    failureMessage: `${name} failed`,
    unavailableDetail: "The store is unavailable right now.",
    originSecret: dependencies.config.originSecret,
  };
  return createHttpHandler(options, async (event, requestId) => {
    const answer = await answerOf(queries, dependencies.config, event, requestId);
    // HEAD is answered as its GET: the same status and headers, without the body (RFC 9110 §9.3.2).
    const result = event.requestContext.http.method === "HEAD" ? withoutBody(answer.result) : answer.result;
    return { ...answer, result };
  });
}

/** The query Lambda's handler: the cheap reads and `$default`; the audit Lambda's routes are refused. */
export function createQueryHandler(dependencies: QueryHandlerDependencies): QueryHandler {
  return createReadHandler(dependencies, ["query"]);
}

/** The audit Lambda's handler: verification, event proofs and the digest; every other route is refused. */
export function createAuditHandler(dependencies: QueryHandlerDependencies): QueryHandler {
  return createReadHandler(dependencies, ["audit"]);
}

/**
 * The answer of a routed request, after its route's access rule: a HEAD that reached `$default` is checked as
 * the GET it is answered as (on AWS `$default` has no authorizer, so a HEAD of a route that needs a token is a
 * 401). A refused caller gets the refusal as it is, and nothing is read.
 */
async function answerOf(
  queries: Readonly<Record<string, Query>>,
  config: LedgerConfig,
  event: APIGatewayProxyEventV2,
  requestId: string,
): Promise<{ result: APIGatewayProxyStructuredResultV2; fields?: Record<string, string> }> {
  const routeKey = routeOf(event);
  const query = queries[routeKey];
  if (query === undefined) {
    // A route API Gateway sent here by name that this function does not serve: mis-wired, said in the log.
    const misrouted = event.routeKey !== "$default" && event.routeKey === routeKey;
    return {
      result: unrouted(event, requestId),
      ...(misrouted ? { fields: { outcome: "notThisFunction" } } : {}),
    };
  }
  const access = authorize(event, routeKey, config.auth, requestId);
  if (access.kind === "refused") {
    return { result: access.result, fields: { outcome: refusalOutcome(access.result) } };
  }
  const pathParameters =
    event.routeKey === "$default"
      ? decodedParameters(matchedParameters(event))
      : decodedParameters(event.pathParameters);
  return { result: await query({ event, requestId, pathParameters, caller: access.caller }) };
}

function matchedParameters(event: APIGatewayProxyEventV2): Record<string, string> {
  const match = matchDefaultRoute(event.requestContext.http.method, event.rawPath);
  return match.kind === "found" ? match.pathParameters : {};
}

function withoutBody(result: APIGatewayProxyStructuredResultV2): APIGatewayProxyStructuredResultV2 {
  const { body: _body, isBase64Encoded: _isBase64Encoded, ...rest } = result;
  return rest;
}

/** On AWS, digests are signed by the KMS key DIGEST_KMS_KEY_ID names (infra/digest.tf); none without it. */
function kmsDigestSource(client: DynamoDBDocumentClient, config: LedgerConfig): DigestSource | undefined {
  const { kmsKeyId } = loadDigestConfig();
  if (kmsKeyId === undefined) return undefined;
  return createLedgerDigestSource({
    client,
    tables: config.tables,
    counterId: config.counterId,
    signer: createKmsSigner(traced(new KMSClient({ region: config.region })), kmsKeyId),
  });
}

/** What a read function's handler needs on Lambda, from its environment: made once per execution environment. */
export function lambdaDependencies(metrics: MetricsRecorder): QueryHandlerDependencies {
  const config = loadLedgerConfig();
  const client = createDocumentClient(config);
  return { client, config, digests: kmsDigestSource(client, config), metrics };
}

/**
 * A Lambda entry point: configuration, clients and metrics are made once per execution environment, on the
 * first request. `create` is createQueryHandler or createAuditHandler.
 */
export function lambdaEntryOf(
  name: ReadFunction,
  create: (dependencies: QueryHandlerDependencies) => QueryHandler,
): QueryHandler {
  return instrumented(name, (metrics) => create(lambdaDependencies(metrics)));
}

/** The query Lambda's entry point (scripts/build.ts); the audit Lambda's is services/audit/handler.ts. */
export const handler: QueryHandler = lambdaEntryOf("query", createQueryHandler);
