// Fault injection for the reliability tests and `npm run soak`, on the real things: an AWS SDK v3 middleware
// attached to the real DynamoDB client (failures before the request is sent, ambiguous failures after DynamoDB
// has done the work, throttling errors shaped as the SDK raises them, slow answers), and an HTTP fault proxy
// between a client and the gateway (random 5xx before or after the gateway answered, dropped responses).
// It never stands in for DynamoDB or the gateway, never changes a request or a stored item, and only ever
// listens on and forwards to loopback addresses. Nothing in production imports it.

import {
  ProvisionedThroughputExceededException,
  ThrottlingException,
  type DynamoDBServiceException,
} from "@aws-sdk/client-dynamodb";
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import {
  FAULT_PROXY_BODY_BYTES_MAX,
  FAULT_PROXY_UPSTREAM_TIMEOUT_MS,
  FAULT_SLOW_ANSWER_MS_MAX,
} from "../local/limits";

// ——— randomness ———

/** A small seeded generator (mulberry32), uniform in [0, 1): a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// ——— faults at the SDK ———

export type ThrottlingErrorName = "ProvisionedThroughputExceededException" | "ThrottlingException";

export type SdkFault =
  /** A network failure before the request left: DynamoDB never saw it. */
  | { readonly kind: "failBeforeSend" }
  /** DynamoDB did the work and answered, and the answer was lost: the caller cannot know what happened. */
  | { readonly kind: "failAfterCommit" }
  /** DynamoDB refused the request for throughput (HTTP 400), before doing anything. */
  | { readonly kind: "throttle"; readonly errorName: ThrottlingErrorName }
  /** DynamoDB did the work, and its answer arrives late. */
  | { readonly kind: "slowAnswer"; readonly delayMs: number };

export type SdkFaultKind = SdkFault["kind"];

export const SDK_FAULT_KINDS: readonly SdkFaultKind[] = [
  "failBeforeSend",
  "failAfterCommit",
  "throttle",
  "slowAnswer",
];

/** One call the middleware sees: the low-level command name (e.g. `TransactWriteItemsCommand`). */
export interface SdkCall {
  readonly commandName: string;
}

/** Decides the fault of one call, or none. */
export type SdkFaultPlan = (call: SdkCall) => SdkFault | undefined;

export interface SdkFaultStatistics {
  calls: number;
  readonly injected: Record<SdkFaultKind, number>;
}

export interface SdkFaultInjector {
  readonly statistics: SdkFaultStatistics;
  /** Faults are injected only while this is true (it starts true). */
  enabled: boolean;
  readonly detach: () => void;
}

/**
 * Where the middleware sits. `eachAttempt`: inside the SDK's retry loop, so each HTTP attempt may fail and the
 * SDK retries as it would a real failure (for a transaction, with the same ClientRequestToken). `eachCall`:
 * outside it, so a fault reaches the caller as if every SDK retry had failed.
 */
export type SdkFaultPlacement = "eachAttempt" | "eachCall";

/** The error Node's HTTP stack raises for a broken connection; the SDK classifies it by `code`. */
export class InjectedNetworkError extends Error {
  override readonly name = "InjectedNetworkError";
  readonly code: "ECONNREFUSED" | "ECONNRESET";
  readonly $metadata: Record<string, never> = {};
  constructor(message: string, code: "ECONNREFUSED" | "ECONNRESET") {
    super(message);
    this.code = code;
  }
}

/** A throttling error exactly as the DynamoDB client deserialises one: the modelled class, HTTP status 400. */
export function throttlingError(errorName: ThrottlingErrorName, attempt: number): DynamoDBServiceException {
  const options = {
    message: "Throughput exceeds the current capacity of your table or index (injected).",
    $metadata: { httpStatusCode: 400, requestId: `injected-${attempt}`, attempts: 1, totalRetryDelay: 0 },
  };
  return errorName === "ThrottlingException"
    ? new ThrottlingException(options)
    : new ProvisionedThroughputExceededException(options);
}

const pause = (milliseconds: number): Promise<void> => new Promise((wake) => setTimeout(wake, milliseconds));

/** The part of an SDK client the middleware needs (a DynamoDBClient or a DynamoDBDocumentClient). */
export interface MiddlewareClient {
  readonly middlewareStack: {
    add: (...parameters: never[]) => void;
    addRelativeTo: (...parameters: never[]) => void;
    remove: (name: string) => boolean;
  };
}

type Next = (args: unknown) => Promise<unknown>;
type Middleware = (next: Next, context: { commandName?: string }) => (args: unknown) => Promise<unknown>;
interface MiddlewareStackOf {
  add: (middleware: Middleware, options: { step: string; priority: string; name: string }) => void;
  addRelativeTo: (
    middleware: Middleware,
    options: { relation: string; toMiddleware: string; name: string },
  ) => void;
  remove: (name: string) => boolean;
}

let injectorCount = 0;

/** Attaches fault injection to a real SDK client; `detach` takes it off again. */
export function injectSdkFaults(
  client: MiddlewareClient,
  plan: SdkFaultPlan,
  placement: SdkFaultPlacement = "eachAttempt",
): SdkFaultInjector {
  const statistics: SdkFaultStatistics = {
    calls: 0,
    injected: { failBeforeSend: 0, failAfterCommit: 0, throttle: 0, slowAnswer: 0 },
  };
  const name = `faultInjection${++injectorCount}`;
  const stack = client.middlewareStack as unknown as MiddlewareStackOf;
  const injector = { statistics, enabled: true, detach: () => void stack.remove(name) };
  const middleware: Middleware = (next, context) => async (args) => {
    statistics.calls++;
    const fault = injector.enabled ? plan({ commandName: context.commandName ?? "unknown" }) : undefined;
    if (fault === undefined) return next(args);
    statistics.injected[fault.kind]++;
    switch (fault.kind) {
      case "failBeforeSend":
        throw new InjectedNetworkError("connect ECONNREFUSED (injected before send)", "ECONNREFUSED");
      case "throttle":
        throw throttlingError(fault.errorName, statistics.calls);
      case "failAfterCommit":
        await next(args);
        throw new InjectedNetworkError("socket hang up (injected after DynamoDB answered)", "ECONNRESET");
      case "slowAnswer": {
        const output = await next(args);
        await pause(Math.min(Math.max(0, fault.delayMs), FAULT_SLOW_ANSWER_MS_MAX));
        return output;
      }
    }
  };
  if (placement === "eachCall") stack.add(middleware, { step: "initialize", priority: "high", name });
  else stack.addRelativeTo(middleware, { relation: "after", toMiddleware: "retryMiddleware", name });
  return injector;
}

/** Probabilities per call, each in [0, 1], adding up to at most 1. */
export interface SdkFaultRates {
  readonly failBeforeSend?: number;
  readonly failAfterCommit?: number;
  readonly throttle?: number;
  readonly slowAnswer?: number;
}

export interface RandomSdkFaultOptions {
  readonly rates: SdkFaultRates;
  readonly random: () => number;
  /** A slow answer waits uniformly up to this long. */
  readonly slowAnswerMsMax?: number;
  /** Only these commands get faults (e.g. `TransactWriteItemsCommand`); all when undefined. */
  readonly commandNames?: ReadonlySet<string>;
}

/** A plan that draws one fault per call at the given rates. */
export function randomSdkFaultPlan(options: RandomSdkFaultOptions): SdkFaultPlan {
  const { rates, random, commandNames } = options;
  const slowAnswerMsMax = Math.min(options.slowAnswerMsMax ?? 50, FAULT_SLOW_ANSWER_MS_MAX);
  const ordered: [SdkFaultKind, number][] = SDK_FAULT_KINDS.map((kind) => [kind, rates[kind] ?? 0]);
  const total = ordered.reduce((sum, [, rate]) => sum + rate, 0);
  if (ordered.some(([, rate]) => !(rate >= 0 && rate <= 1)) || total > 1) {
    throw new Error(`fault rates must each be in [0, 1] and add up to at most 1 (got ${total})`);
  }
  return ({ commandName }) => {
    if (commandNames !== undefined && !commandNames.has(commandName)) return undefined;
    let draw = random();
    for (const [kind, rate] of ordered) {
      if (draw < rate) {
        if (kind === "throttle") {
          return {
            kind,
            errorName: random() < 0.5 ? "ProvisionedThroughputExceededException" : "ThrottlingException",
          };
        }
        if (kind === "slowAnswer") return { kind, delayMs: Math.floor(random() * slowAnswerMsMax) };
        return { kind };
      }
      draw -= rate;
    }
    return undefined;
  };
}

// ——— faults at the HTTP edge ———

export type HttpFaultKind =
  /** A 5xx from the proxy itself: the gateway never saw the request. */
  | "failBeforeForward"
  /** The gateway answered, and the proxy cut the connection instead of relaying the answer. */
  | "dropResponse"
  /** The gateway answered, and the proxy answered a 5xx instead. */
  | "replaceWith5xx";

export const HTTP_FAULT_KINDS: readonly HttpFaultKind[] = [
  "failBeforeForward",
  "dropResponse",
  "replaceWith5xx",
];

export type HttpFaultPlan = (request: {
  readonly method: string;
  readonly path: string;
}) => HttpFaultKind | undefined;

export interface HttpFaultStatistics {
  requests: number;
  readonly injected: Record<HttpFaultKind, number>;
}

export interface HttpFaultProxy {
  /** Where clients send their requests instead of the gateway. */
  readonly url: string;
  readonly statistics: HttpFaultStatistics;
  /** Faults are injected only while this is true (it starts true). */
  enabled: boolean;
  readonly stop: () => Promise<void>;
}

export interface HttpFaultProxyOptions {
  /** The gateway's URL: a loopback address only. */
  readonly targetUrl: string;
  readonly plan: HttpFaultPlan;
  readonly random?: () => number;
}

/** A plan that draws one fault per request at the given rates (each in [0, 1], adding up to at most 1). */
export function randomHttpFaultPlan(
  rates: Partial<Record<HttpFaultKind, number>>,
  random: () => number,
): HttpFaultPlan {
  const ordered = HTTP_FAULT_KINDS.map((kind) => [kind, rates[kind] ?? 0] as const);
  const total = ordered.reduce((sum, [, rate]) => sum + rate, 0);
  if (ordered.some(([, rate]) => !(rate >= 0 && rate <= 1)) || total > 1) {
    throw new Error(`fault rates must each be in [0, 1] and add up to at most 1 (got ${total})`);
  }
  return () => {
    let draw = random();
    for (const [kind, rate] of ordered) {
      if (draw < rate) return kind;
      draw -= rate;
    }
    return undefined;
  };
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Headers that belong to one connection and must not be relayed (RFC 9110 §7.6.1). */
const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "content-length",
]);

function relayableHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const relayed: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP_HEADERS.has(name)) relayed[name] = value;
  }
  return relayed;
}

class ProxyBodyTooLargeError extends Error {
  override readonly name = "ProxyBodyTooLargeError";
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > FAULT_PROXY_BODY_BYTES_MAX) throw new ProxyBodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** What a load balancer answers on its own: a short JSON body, not the API's problem+json. */
function answerGatewayError(response: ServerResponse, random: () => number): void {
  const status = [502, 503, 504][Math.floor(random() * 3)] ?? 502;
  const body = JSON.stringify({ message: "Service Unavailable (injected by the fault proxy)" });
  response.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(body);
}

interface UpstreamAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** Sends the request (its body read already) to the gateway and reads the whole answer. */
function forward(agent: Agent, target: URL, request: IncomingMessage, body: Buffer): Promise<UpstreamAnswer> {
  return new Promise((resolveAnswer, reject) => {
    const upstream = httpRequest(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: { ...relayableHeaders(request.headers), "content-length": String(body.length) },
        timeout: FAULT_PROXY_UPSTREAM_TIMEOUT_MS,
      },
      (answer) => {
        readAll(answer).then(
          (answerBody) =>
            resolveAnswer({
              status: answer.statusCode ?? 502,
              headers: relayableHeaders(answer.headers),
              body: answerBody,
            }),
          reject,
        );
      },
    );
    upstream.on("timeout", () => upstream.destroy(new Error("upstream timeout")));
    upstream.on("error", reject);
    upstream.end(body);
  });
}

/** Relays one request to the gateway, or fails it the way `fault` says. */
async function relay(
  request: IncomingMessage,
  response: ServerResponse,
  fault: HttpFaultKind | undefined,
  upstream: (request: IncomingMessage, body: Buffer) => Promise<UpstreamAnswer>,
  random: () => number,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readAll(request);
  } catch {
    response.writeHead(413, { Connection: "close" }).end();
    return;
  }
  if (fault === "failBeforeForward") return answerGatewayError(response, random);
  let answer: UpstreamAnswer;
  try {
    answer = await upstream(request, body);
  } catch {
    return answerGatewayError(response, random);
  }
  if (fault === "dropResponse") {
    request.socket.destroy();
    return;
  }
  if (fault === "replaceWith5xx") return answerGatewayError(response, random);
  response.writeHead(answer.status, { ...answer.headers, "content-length": String(answer.body.length) });
  response.end(answer.body);
}

/** Starts the proxy on 127.0.0.1 at a free port. */
export async function startHttpFaultProxy(options: HttpFaultProxyOptions): Promise<HttpFaultProxy> {
  const target = new URL(options.targetUrl);
  if (target.protocol !== "http:" || !LOOPBACK_HOSTS.has(target.hostname)) {
    throw new Error("the fault proxy only forwards to http on a loopback address");
  }
  const random = options.random ?? Math.random;
  const agent = new Agent({ keepAlive: true });
  const statistics: HttpFaultStatistics = {
    requests: 0,
    injected: { failBeforeForward: 0, dropResponse: 0, replaceWith5xx: 0 },
  };
  const upstream = (request: IncomingMessage, body: Buffer): Promise<UpstreamAnswer> =>
    forward(agent, target, request, body);

  const server = createServer((request, response) => {
    statistics.requests++;
    const fault = proxy.enabled
      ? options.plan({ method: request.method ?? "GET", path: request.url ?? "/" })
      : undefined;
    if (fault !== undefined) statistics.injected[fault]++;
    relay(request, response, fault, upstream, random).catch(() => response.destroy());
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const proxy: HttpFaultProxy = {
    url: `http://127.0.0.1:${port}`,
    statistics,
    enabled: true,
    stop: async () => {
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
  return proxy;
}
