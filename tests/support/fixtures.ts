// Real AWS event envelopes turned into the events a test needs: the envelope stays as AWS sends it, only
// route, path, headers and body change. Shared by every test that calls a handler directly, so no test
// invents its own event shape. The envelopes in tests/fixtures/aws-events are the repository's own copy of
// what AWS sends (docs/decisions.md, "The AWS event fixtures belong to the repository").

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The repository's copy of the real AWS event shapes. */
export const FIXTURES_DIRECTORY = resolve(repositoryRoot, "tests/fixtures/aws-events");

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(resolve(FIXTURES_DIRECTORY, name), "utf8")) as T;
}

export interface HttpEventOptions {
  readonly method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "HEAD";
  readonly path: string;
  /** The API Gateway route key; defaults to `METHOD path`, use "$default" for unrouted requests. */
  readonly routeKey?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly pathParameters?: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
}

/** An API Gateway HTTP API (payload 2.0) event built on the real POST or GET envelope. */
export function httpEvent(options: HttpEventOptions): APIGatewayProxyEventV2 {
  const template = readFixture<APIGatewayProxyEventV2>(
    options.method === "POST" ? "apigw-http-v2-post.json" : "apigw-http-v2-get-default-route.json",
  );
  const routeKey = options.routeKey ?? `${options.method} ${options.path}`;
  const headers: Record<string, string | undefined> = { ...template.headers };
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  if (options.body !== undefined) headers["content-length"] = String(Buffer.byteLength(options.body));
  const event: APIGatewayProxyEventV2 = {
    ...template,
    routeKey,
    rawPath: options.path,
    headers,
    requestContext: {
      ...template.requestContext,
      routeKey,
      requestId: randomBytes(10).toString("base64"),
      http: { ...template.requestContext.http, method: options.method, path: options.path },
    },
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
  if (options.body !== undefined) event.body = options.body;
  if (options.pathParameters !== undefined) event.pathParameters = options.pathParameters;
  if (options.queryStringParameters !== undefined)
    event.queryStringParameters = options.queryStringParameters;
  return event;
}

/** A POST /number event with a JSON body and, when given, an Idempotency-Key. */
export function commandEvent(action: string, idempotencyKey?: string): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
  return httpEvent({ method: "POST", path: "/number", headers, body: JSON.stringify({ action }) });
}
