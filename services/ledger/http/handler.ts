// The one wrapper of every HTTP handler (command and query): the request id, the refusal of a request that did
// not come through the site's distribution (origin.ts), the mapping of a thrown error to a safe problem (503
// when the store is unavailable, else 500), and one structured log line per request.
// A handler inside it only answers; nothing it throws reaches a client.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describeError, type Logger } from "../log";
import { StoreUnavailableError } from "../storage/errors";
import { cameThroughOrigin, directCallRefused } from "./origin";
import { NO_METRICS, type MetricName, type MetricsRecorder } from "../telemetry";
import { problemResponse } from "./problem";
import { requestIdOf, withRequestId } from "./response";

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Answer {
  readonly result: APIGatewayProxyStructuredResultV2;
  /** Extra fields of the request's log line, e.g. a command's outcome. */
  readonly fields?: Readonly<Record<string, string | number>>;
}

export interface HttpHandlerOptions {
  readonly log: Logger;
  /** The route key a request is answered as (e.g. `GET /number`, or `$default`), for the log lines. */
  readonly routeOf: (event: APIGatewayProxyEventV2) => string;
  /** The message of the error line logged when answering throws. */
  readonly failureMessage: string;
  /** The detail of the 503 answered while the store is unavailable. */
  readonly unavailableDetail: string;
  /** CloudFront's secret header value (ORIGIN_VERIFY): a request without it is refused, 403 (origin.ts). */
  readonly originSecret?: string | undefined;
  /** Where the answers' metrics go (services/ledger/telemetry.ts); none by default. */
  readonly metrics?: MetricsRecorder | undefined;
  /** The metric that counts each answer by its outcome (a command's, METRICS.commands); none by default. */
  readonly outcomeMetric?: MetricName;
}

/** DynamoDB's names for a request refused by its throughput limits: counted as throttles, reason `store`. */
const STORE_THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
]);

function storeThrottled(error: StoreUnavailableError): boolean {
  const { cause } = error;
  if (!(cause instanceof Error)) return false;
  // A cancelled transaction names its throttled items in its reasons (services/command/transaction.ts).
  const reasons = (cause as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return (
    STORE_THROTTLING_ERRORS.has(cause.name) || reasons.some((reason) => reason.Code === "ThrottlingError")
  );
}

/**
 * Routes an open UI tab polls every few seconds: their successes (200, 304) are logged at `debug`, so that a
 * tab left open does not print a line per poll at the default `info`. Everything else is logged at `info`.
 */
const POLLED_ROUTES: ReadonlySet<string> = new Set(["GET /number", "GET /health"]);

function levelOf(route: string, status: number): "debug" | "info" {
  return POLLED_ROUTES.has(route) && status < 400 ? "debug" : "info";
}

export function createHttpHandler(
  options: HttpHandlerOptions,
  answer: (event: APIGatewayProxyEventV2, requestId: string) => Promise<Answer>,
): HttpHandler {
  const { log } = options;
  const metrics = options.metrics ?? NO_METRICS;
  return async (event) => {
    const startedAtMs = Date.now();
    const requestId = requestIdOf(event);
    const route = options.routeOf(event);
    let answered: Answer;
    try {
      answered = cameThroughOrigin(event, options.originSecret)
        ? await answer(event, requestId)
        : { result: directCallRefused(requestId), fields: { outcome: "directCall" } };
    } catch (error) {
      const unavailable = error instanceof StoreUnavailableError;
      if (unavailable && storeThrottled(error)) metrics.record("throttles", 1, "store");
      log({ level: "error", message: options.failureMessage, requestId, route, ...describeError(error) });
      answered = {
        result: unavailable
          ? problemResponse("unavailable", { requestId, detail: options.unavailableDetail })
          : problemResponse("internal", { requestId, detail: "An internal error occurred." }),
        fields: { outcome: unavailable ? "unavailable" : "internal" },
      };
    }
    const status = answered.result.statusCode ?? 200;
    if (options.outcomeMetric !== undefined) {
      metrics.record(options.outcomeMetric, 1, String(answered.fields?.outcome ?? status));
    }
    log({
      level: levelOf(route, status),
      message: "request",
      requestId,
      route,
      ...answered.fields,
      status,
      latencyMs: Date.now() - startedAtMs,
    });
    return withRequestId(answered.result, requestId);
  };
}
