// The Lambda handler of the read routes (GET /number, /number/events/{key}, /number/history,
// /number/verify, /health, /openapi.json) and of API Gateway's `$default` route, which answers 404 and 405
// for everything else. A thin adapter: route → query → response. It never writes.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import openapiDocument from "../../openapi.json";
import { createDocumentClient } from "../ledger/storage/clients";
import { loadLedgerConfig, type LedgerConfig } from "../ledger/config";
import { StoreUnavailableError } from "../ledger/storage/errors";
import { eventIdOf, viewOfEvent } from "../ledger/domain/event";
import { problemResponse } from "../ledger/http/problem";
import { headerOf, jsonResponse, requestIdOf, withRequestId } from "../ledger/http/response";
import { matchRoute } from "../ledger/http/routes";
import { IDEMPOTENCY_KEY_PATTERN } from "../ledger/domain/limits";
import { createLogger, describeError, type Logger } from "../ledger/log";
import { LedgerReader } from "../ledger/storage/store";
import { createHistoryQuery } from "./history";
import { createVerifyQuery } from "./verify";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export type QueryHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface QueryHandlerDependencies {
  readonly client: DynamoDBDocumentClient;
  readonly config: LedgerConfig;
  readonly log?: Logger;
}

interface QueryContext {
  readonly event: APIGatewayProxyEventV2;
  readonly requestId: string;
  readonly pathParameters: Readonly<Record<string, string>>;
}

type Query = (context: QueryContext) => Promise<APIGatewayProxyStructuredResultV2>;

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
  const reader = new LedgerReader(dependencies.client, config.tables);
  return {
    "GET /number": async ({ event }) => {
      const aggregate = await reader.readAggregate(config.counterId);
      const entityTag = `"${aggregate.version}"`;
      const headers = { ETag: entityTag, "Cache-Control": "no-store" };
      if (ifNoneMatchHits(headerOf(event, "if-none-match"), entityTag)) {
        return { statusCode: 304, headers };
      }
      return jsonResponse(
        200,
        {
          value: aggregate.value,
          version: aggregate.version,
          updatedAt: aggregate.updatedAt,
          bounds: config.bounds,
        },
        headers,
      );
    },
    "GET /number/events/{key}": async ({ pathParameters, requestId }) => {
      const key = pathParameters.key ?? "";
      const event = IDEMPOTENCY_KEY_PATTERN.test(key)
        ? await reader.readEvent(eventIdOf(config.counterId, key))
        : undefined;
      if (event === undefined) {
        return problemResponse("notFound", { requestId, detail: "No event is recorded under that key." });
      }
      return jsonResponse(200, viewOfEvent(event));
    },
    "GET /number/history": createHistoryQuery(dependencies),
    "GET /number/verify": createVerifyQuery(dependencies),
    "GET /health": async () => {
      await reader.readAggregate(config.counterId);
      return jsonResponse(200, { status: "ok" });
    },
    "GET /openapi.json": () =>
      Promise.resolve(jsonResponse(200, openapiDocument, { "Cache-Control": "max-age=300" })),
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

export function createQueryHandler(dependencies: QueryHandlerDependencies): QueryHandler {
  const queries = createQueries(dependencies);
  const log = dependencies.log ?? createLogger("query");
  return async (event) => {
    const startedAtMs = Date.now();
    const requestId = requestIdOf(event);
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    let routeKey = event.routeKey;
    let pathParameters = decodedParameters(event.pathParameters);
    let result: APIGatewayProxyStructuredResultV2;
    try {
      if (routeKey === "$default" || queries[routeKey] === undefined) {
        const match = matchRoute(method, path);
        if (match.kind === "found" && match.route.lambda === "query") {
          routeKey = `${match.route.method} ${match.route.path}`;
          pathParameters = decodedParameters(match.pathParameters);
        } else if (match.kind === "methodNotAllowed") {
          routeKey = "$default";
          result = problemResponse("methodNotAllowed", {
            requestId,
            detail: `This path allows ${match.allow.join(", ")}.`,
            headers: { Allow: match.allow.join(", ") },
          });
        }
      }
      const query = queries[routeKey];
      result ??=
        query === undefined
          ? problemResponse("notFound", { requestId, detail: "There is nothing at this path." })
          : await query({ event, requestId, pathParameters });
    } catch (error) {
      const unavailable = error instanceof StoreUnavailableError;
      log({ level: "error", message: "query failed", requestId, routeKey, ...describeError(error) });
      result = unavailable
        ? problemResponse("unavailable", { requestId, detail: "The store is unavailable right now." })
        : problemResponse("internal", { requestId, detail: "An internal error occurred." });
    }
    log({
      level: "info",
      message: "request",
      requestId,
      route: routeKey,
      status: result.statusCode,
      latencyMs: Date.now() - startedAtMs,
    });
    return withRequestId(result, requestId);
  };
}

let defaultHandler: QueryHandler | undefined;

/** The Lambda entry point: configuration and clients are made once per execution environment. */
export const handler: QueryHandler = async (event) => {
  if (defaultHandler === undefined) {
    const config = loadLedgerConfig();
    defaultHandler = createQueryHandler({ client: createDocumentClient(config), config });
  }
  return defaultHandler(event);
};
