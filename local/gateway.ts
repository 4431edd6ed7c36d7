// The local stand-in for API Gateway (HTTP API, payload format 2.0): turns each HTTP request into the event
// API Gateway would send (shapes: tests/fixtures/aws-events), calls the same handler functions that run on
// Lambda, and turns their result back into a response. It also serves the built web UI at `/` (with sirv).
// It defends itself like the real edge: size limits, timeouts, and never a stack trace to a client.

import { randomBytes } from "node:crypto";
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Duplex } from "node:stream";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import sirv from "sirv";
import { ROUTE_ACCESS, needsToken } from "../contract/auth";
import { forbiddenResult, unauthorizedResult } from "../services/ledger/http/caller";
import { problemResponse } from "../services/ledger/http/problem";
import { matchRoute, routeKeyOf, type LambdaName } from "../services/ledger/http/routes";
import { NO_METRICS, type MetricsRecorder } from "../services/ledger/telemetry";
import { TOKEN_ERRORS, type JwtAuthorizer } from "./authorizer";
import {
  GATEWAY_BODY_BYTES_MAX,
  GATEWAY_CONNECTION_CHECK_INTERVAL_MS,
  LAMBDA_THROTTLED_RETRY_AFTER_SECONDS,
} from "./limits";
import { throttledDetail, type RequestThrottle } from "./throttle";

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface GatewayOptions {
  readonly handlers: Readonly<Record<LambdaName, HttpHandler>>;
  /** Directory of the built web UI, served for GET paths that are not API routes. */
  readonly webRoot?: string | undefined;
  /** Origins allowed to call the API from a browser (CORS); same-origin needs none. */
  readonly corsOrigins?: readonly string[];
  /** Stage throttling of API requests (local/throttle.ts); undefined never throttles. */
  readonly throttle?: RequestThrottle | undefined;
  /**
   * Requests each Lambda may serve at once, as its reserved concurrency on AWS (infra/lambda.tf); a request
   * beyond it is answered as API Gateway answers a throttled Lambda. A Lambda not named has no limit here.
   */
  readonly concurrency?: Partial<Readonly<Record<LambdaName, number>>>;
  /** Shorter timeouts than the defaults below, for tests of slow clients. */
  readonly timeouts?: Partial<GatewayTimeouts>;
  /**
   * The JWT authorizer of every route whose access needs a token (contract/auth.ts), as on API Gateway;
   * undefined lets every request through without one (AUTH=off).
   */
  readonly authorizer?: JwtAuthorizer | undefined;
  /** PUBLIC_READ: whether `GET /number` is open to anyone (default true, as the configuration's). */
  readonly publicRead?: boolean;
  /**
   * Other applications in the same server, by path prefix (e.g. "/oidc": the local issuer): a request whose path
   * is the prefix or below it goes to the listener as it arrived, before CORS, body limits, throttling and routes.
   */
  readonly mounts?: Readonly<Record<string, MountedListener>>;
  /** Where the gateway's throttles go (reasons `stage` and `concurrency`; local/metrics.ts); none by default. */
  readonly metrics?: MetricsRecorder;
}

export type MountedListener = (request: IncomingMessage, response: ServerResponse) => void;

/** The listener mounted at the request's path, if any. */
function mountedAt(
  mounts: Readonly<Record<string, MountedListener>> | undefined,
  path: string | undefined,
): MountedListener | undefined {
  if (mounts === undefined || path === undefined) return undefined;
  for (const [prefix, listener] of Object.entries(mounts)) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return listener;
  }
  return undefined;
}

export interface GatewayTimeouts {
  /** A client must have sent every header within this long of opening the request. */
  readonly headersTimeoutMs: number;
  /** A client must have sent the whole request within this long. */
  readonly requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
}

/** Limits of the local edge, comparable to API Gateway's: a slow or huge request is cut off. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const HEADER_BYTES_MAX = 16 * 1024;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

const CORS_EXPOSED_HEADERS =
  "ETag, Idempotency-Key, Idempotent-Replayed, Location, Retry-After, WWW-Authenticate, X-Request-Id";
const CORS_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-None-Match";
const CORS_MAX_AGE_SECONDS = 600;

/** Vite puts content-hashed files under /assets/: a new build gets new names, so they never change. */
const HASHED_ASSETS_PREFIX = "/assets/";

type StaticServer = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;

/**
 * The built web UI, served by sirv: only the files found under the web root when the gateway is made (no path
 * can leave it), hashed assets cached for good, everything else revalidated. GET and HEAD only.
 */
function createStaticServer(webRoot: string): StaticServer {
  return sirv(webRoot, {
    dev: false,
    etag: true,
    setHeaders: (response, pathname) => {
      response.setHeader(
        "Cache-Control",
        pathname.startsWith(HASHED_ASSETS_PREFIX) ? "public, max-age=31536000, immutable" : "no-cache",
      );
      response.setHeader("X-Content-Type-Options", "nosniff");
    },
  });
}

/**
 * Answers with a file of the web UI if one matches, and says whether it did. sirv decides at once (its file list
 * is read when it is made) and calls `next` only when no file matches.
 */
function servedStatic(serve: StaticServer, request: IncomingMessage, response: ServerResponse): boolean {
  let matched = true;
  serve(request, response, () => {
    matched = false;
  });
  return matched;
}

/** An id in the style of API Gateway's (e.g. "JKJaXmPLvHcESHA="), unique per request. */
export function newRequestId(): string {
  return randomBytes(10).toString("base64");
}

class BodyTooLargeError extends Error {}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > GATEWAY_BODY_BYTES_MAX) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > GATEWAY_BODY_BYTES_MAX) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Builds the payload 2.0 event: lower-case header names, repeated headers joined by commas, cookies apart. */
export function toApiGatewayEvent(
  request: IncomingMessage,
  body: Buffer,
  requestId: string,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = (request.rawHeaders[index] ?? "").toLowerCase();
    const value = request.rawHeaders[index + 1] ?? "";
    if (name === "cookie") {
      cookies = [...(cookies ?? []), ...value.split(";").map((cookie) => cookie.trim())];
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    queryStringParameters[name] =
      queryStringParameters[name] === undefined ? value : `${queryStringParameters[name]},${value}`;
  }
  const now = new Date();
  const textBody = isUtf8(body);
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: (headers.host ?? "localhost").split(".")[0] ?? "localhost",
      http: {
        method: request.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey,
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: body.length > 0 && !textBody,
  };
  if (cookies !== undefined) event.cookies = cookies;
  if (Object.keys(queryStringParameters).length > 0) event.queryStringParameters = queryStringParameters;
  if (pathParameters !== undefined && Object.keys(pathParameters).length > 0)
    event.pathParameters = pathParameters;
  if (body.length > 0) event.body = textBody ? body.toString("utf8") : body.toString("base64");
  return event;
}

/** The request's path, or undefined for a request target that is not a URL (e.g. `http://[`). */
function pathOf(request: IncomingMessage): string | undefined {
  try {
    return new URL(request.url ?? "/", "http://localhost").pathname;
  } catch {
    return undefined;
  }
}

/** The problem for what Node's HTTP parser refused before any handler ran. */
function clientErrorProblem(code: string | undefined, requestId: string): APIGatewayProxyStructuredResultV2 {
  if (code === "HPE_HEADER_OVERFLOW") {
    return problemResponse("headersTooLarge", { requestId, detail: "The request headers are too large." });
  }
  if (code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "HPE_HEADERS_TIMEOUT") {
    return problemResponse("requestTimeout", { requestId, detail: "The request took too long to arrive." });
  }
  return problemResponse("badRequest", { requestId, detail: "The request is not valid HTTP/1.1." });
}

/**
 * Answers on a raw socket (a request Node's parser refused, or CONNECT) with a problem, then closes it: never
 * Node's bare status line without a body. A socket already answering another request is only closed.
 */
function answerOnSocket(socket: Duplex, result: APIGatewayProxyStructuredResultV2, requestId: string): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const status = result.statusCode ?? 400;
  const body = Buffer.from(result.body ?? "", "utf8");
  const headers: Record<string, string> = {
    ...(result.headers as Record<string, string>),
    "Content-Length": String(body.length),
    "X-Request-Id": requestId,
    Connection: "close",
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  const answer = Buffer.concat([
    Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n${head}\r\n`),
    body,
  ]);
  // Nobody reads this socket any more, so the client's close would never be noticed: destroy it once written.
  socket.end(answer, () => socket.destroy());
}

function send(
  response: ServerResponse,
  result: APIGatewayProxyStructuredResultV2,
  requestId: string,
  extraHeaders: Record<string, string>,
): void {
  const headers: Record<string, string> = { "X-Request-Id": requestId, ...extraHeaders };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const body =
    result.body === undefined
      ? undefined
      : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  if (body !== undefined) headers["Content-Length"] = String(body.length);
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}

function corsHeaders(origin: string | undefined, corsOrigins: readonly string[]): Record<string, string> {
  if (origin === undefined || !corsOrigins.includes(origin)) return {};
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Expose-Headers": CORS_EXPOSED_HEADERS,
    Vary: "Origin",
  };
}

/** What every request of one gateway shares. */
interface GatewayContext {
  readonly options: GatewayOptions;
  readonly corsOrigins: readonly string[];
  readonly serveStatic: StaticServer | undefined;
  /** Requests each Lambda is serving now. */
  readonly inFlight: Map<LambdaName, number>;
}

/**
 * What API Gateway answers when Lambda throttles the invocation (the function is at its concurrency): 500, here
 * as an `internal` problem with a Retry-After (docs/api.md#when-a-function-is-at-its-concurrency); counted as a
 * throttle of reason `concurrency`. The gateway's reserved concurrency and LAMBDA_CONCURRENCY's environments
 * (local/lambda/pool.ts) both answer it.
 */
export function concurrencyThrottled(
  event: APIGatewayProxyEventV2,
  metrics: MetricsRecorder,
): APIGatewayProxyStructuredResultV2 {
  metrics.record("throttles", 1, "concurrency");
  const retry = event.requestContext.http.method === "POST" ? ", with the same Idempotency-Key" : "";
  return problemResponse("internal", {
    requestId: event.requestContext.requestId,
    detail: `The function behind this route is at its concurrency limit: retry after Retry-After${retry}.`,
    headers: { "Retry-After": String(LAMBDA_THROTTLED_RETRY_AFTER_SECONDS) },
  });
}

/**
 * Calls a Lambda's handler as Lambda would: within its reserved concurrency, if it has one. Past it, Lambda
 * refuses the invocation and API Gateway answers 500 (docs/api.md#when-a-function-is-at-its-concurrency);
 * locally that 500 is a problem, with a Retry-After that API Gateway does not send.
 */
async function invoke(
  context: GatewayContext,
  lambda: LambdaName,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  const handler = context.options.handlers[lambda];
  const limit = context.options.concurrency?.[lambda];
  if (limit === undefined) return handler(event);
  const busy = context.inFlight.get(lambda) ?? 0;
  if (busy >= limit) return concurrencyThrottled(event, context.options.metrics ?? NO_METRICS);
  context.inFlight.set(lambda, busy + 1);
  try {
    return await handler(event);
  } finally {
    context.inFlight.set(lambda, (context.inFlight.get(lambda) ?? 1) - 1);
  }
}

/** Answers a CORS preflight from an allowed origin, and says whether it did. */
function answeredPreflight(
  method: string,
  cors: Record<string, string>,
  response: ServerResponse,
  requestId: string,
): boolean {
  if (method !== "OPTIONS" || cors["Access-Control-Allow-Origin"] === undefined) return false;
  response.writeHead(204, {
    ...cors,
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS,
    "Access-Control-Max-Age": String(CORS_MAX_AGE_SECONDS),
    "X-Request-Id": requestId,
  });
  response.end();
  return true;
}

/** The body, or the 413 problem already answered (undefined) when it is over the gateway's limit. */
async function bodyOrTooLarge(
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
  cors: Record<string, string>,
): Promise<Buffer | undefined> {
  try {
    return await readBody(request);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    response.setHeader("Connection", "close");
    const tooLarge = problemResponse("payloadTooLarge", { requestId, detail: "The body is too large." });
    send(response, tooLarge, requestId, cors);
    request.resume();
    return undefined;
  }
}

/** The 429 problem of stage throttling, or undefined when the request may go on. */
function throttledProblem(
  context: GatewayContext,
  method: string,
  requestId: string,
): APIGatewayProxyStructuredResultV2 | undefined {
  const throttled = context.options.throttle?.take();
  if (throttled?.kind !== "throttled") return undefined;
  (context.options.metrics ?? NO_METRICS).record("throttles", 1, "stage");
  return problemResponse("throttled", {
    requestId,
    detail: throttledDetail(method),
    headers: { "Retry-After": String(throttled.retryAfterSeconds) },
  });
}

/** What the request's `Authorization` header holds: nothing usable as a Bearer token, or a token. */
type Credentials =
  | { readonly kind: "none" }
  | { readonly kind: "malformed" }
  | { readonly kind: "bearer"; readonly token: string };

/** RFC 6750 §2.1: `Bearer` (any case, RFC 7235 §2.1), one or more spaces, a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

/**
 * The Bearer token of a request. No `Authorization` header, or another scheme, is no credentials (RFC 6750
 * §3.1: the challenge then carries no error); an empty or malformed Bearer value, or several `Authorization`
 * headers, is a malformed one. API Gateway also takes a bare token without `Bearer`; the local gateway does
 * not, so a client that works here sends what RFC 6750 asks for everywhere.
 */
function credentialsOf(request: IncomingMessage): Credentials {
  const values: string[] = [];
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    if ((request.rawHeaders[index] ?? "").toLowerCase() === "authorization") {
      values.push(request.rawHeaders[index + 1] ?? "");
    }
  }
  const [value] = values;
  if (value === undefined) return { kind: "none" };
  if (values.length > 1) return { kind: "malformed" };
  const token = BEARER.exec(value)?.[1];
  if (token !== undefined) return { kind: "bearer", token };
  return BEARER_SCHEME.test(value) ? { kind: "malformed" } : { kind: "none" };
}

/**
 * The JWT authorizer of API Gateway, for a route whose access needs a token: refuses with a 401 or 403
 * problem before any handler runs, or puts the verified claims where API Gateway does
 * (`requestContext.authorizer.jwt`). Public routes and `$default` have no authorizer, as on AWS.
 */
async function authorizationRefusal(
  context: GatewayContext,
  request: IncomingMessage,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
  const { authorizer, publicRead = true } = context.options;
  const { routeKey, requestId } = event.requestContext;
  const access = Object.hasOwn(ROUTE_ACCESS, routeKey) ? ROUTE_ACCESS[routeKey] : undefined;
  if (authorizer === undefined || access === undefined || !needsToken(access, publicRead)) return undefined;
  const credentials = credentialsOf(request);
  if (credentials.kind === "none") return unauthorizedResult(requestId);
  if (credentials.kind === "malformed") return unauthorizedResult(requestId, TOKEN_ERRORS.malformed);
  const verdict = await authorizer.authorize(
    credentials.token,
    access.kind === "scoped" ? access.scopes : [],
  );
  if (verdict.kind === "invalidToken") return unauthorizedResult(requestId, verdict.description);
  if (verdict.kind === "insufficientScope") return forbiddenResult(requestId, verdict.scopes);
  (event.requestContext as { authorizer?: unknown }).authorizer = {
    jwt: { claims: verdict.jwt.claims, scopes: verdict.jwt.scopes },
  };
  return undefined;
}

/**
 * One request, dispatched as API Gateway would: a route by its exact method and path to its Lambda (the audit
 * routes to the audit Lambda, within its concurrency), anything else (HEAD included) to the query Lambda's
 * `$default`. A GET or HEAD that matches no route may be a file of the web UI.
 */
async function handleRequest(
  context: GatewayContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = pathOf(request);
  const mounted = mountedAt(context.options.mounts, path);
  if (mounted !== undefined) {
    mounted(request, response);
    return;
  }
  const requestId = newRequestId();
  const method = request.method ?? "GET";
  const cors = corsHeaders(request.headers.origin, context.corsOrigins);
  if (answeredPreflight(method, cors, response, requestId)) return;
  const body = await bodyOrTooLarge(request, response, requestId, cors);
  if (body === undefined) return;
  if (path === undefined) {
    const badTarget = problemResponse("badRequest", {
      requestId,
      detail: "The request target is not a URL.",
    });
    send(response, badTarget, requestId, cors);
    return;
  }
  const match = matchRoute(method, path);
  const { serveStatic } = context;
  if (match.kind === "notFound" && (method === "GET" || method === "HEAD") && serveStatic !== undefined) {
    response.setHeader("X-Request-Id", requestId);
    if (servedStatic(serveStatic, request, response)) return;
  }
  const tooMany = throttledProblem(context, method, requestId);
  if (tooMany !== undefined) {
    send(response, tooMany, requestId, cors);
    return;
  }
  const found = match.kind === "found" ? match : undefined;
  const lambda: LambdaName = found?.route.lambda ?? "query";
  const routeKey = found === undefined ? "$default" : routeKeyOf(found.route);
  const event = toApiGatewayEvent(request, body, requestId, routeKey, found?.pathParameters);
  const refusal = await authorizationRefusal(context, request, event);
  const result = refusal ?? (await invoke(context, lambda, event));
  send(response, result, requestId, cors);
}

export function createGateway(options: GatewayOptions): Server {
  const context: GatewayContext = {
    options,
    corsOrigins: options.corsOrigins ?? [],
    serveStatic: options.webRoot === undefined ? undefined : createStaticServer(options.webRoot),
    inFlight: new Map(),
  };
  const timeouts: GatewayTimeouts = {
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    ...options.timeouts,
  };
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(
        GATEWAY_CONNECTION_CHECK_INTERVAL_MS,
        Math.max(10, Math.floor(timeouts.headersTimeoutMs / 4)),
      ),
      maxHeaderSize: HEADER_BYTES_MAX,
    },
    (request, response) => {
      void handleRequest(context, request, response).catch(() => {
        if (!response.headersSent) {
          const requestId = newRequestId();
          send(
            response,
            problemResponse("internal", { requestId, detail: "An internal error occurred." }),
            requestId,
            {},
          );
        } else {
          response.destroy();
        }
      });
    },
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  // Malformed requests, oversized headers and slow clients get a problem too, never Node's bare status line.
  server.on("clientError", (error: Error & { code?: string }, socket: Duplex) => {
    if (error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const requestId = newRequestId();
    answerOnSocket(socket, clientErrorProblem(error.code, requestId), requestId);
  });
  // CONNECT is not an API method; without this listener Node would drop the connection without an answer.
  server.on("connect", (_request: IncomingMessage, socket: Duplex) => {
    const requestId = newRequestId();
    const notAllowed = problemResponse("methodNotAllowed", {
      requestId,
      detail: "CONNECT is not allowed here.",
      headers: { Allow: "GET, HEAD, POST" },
    });
    answerOnSocket(socket, notAllowed, requestId);
  });
  return server;
}
