// The local runtime's metrics (docs/runbook.md#metrics): the same points the Lambdas write as CloudWatch EMF
// (services/ledger/telemetry.ts, METRICS), kept in one prom-client registry of this process and served at
// GET /metrics in the Prometheus text format. Only the local gateway mounts it: on AWS there is no such route
// (API Gateway sends /metrics to the query function's `$default`, a 404). It holds counts and durations, never
// an identifier, so it is open like GET /health; it answers GET and HEAD only, and nothing below its path.

import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Histogram, Registry } from "prom-client";
import { problemResponse } from "../services/ledger/http/problem";
import {
  METRICS,
  type MetricDefinition,
  type MetricName,
  type MetricsRecorder,
} from "../services/ledger/telemetry";
import { newRequestId } from "./gateway";

export const METRICS_PATH = "/metrics";

export interface LocalMetrics extends MetricsRecorder {
  /** The registry's exposition, as GET /metrics answers it. */
  readonly text: () => Promise<string>;
  /** The listener mounted at METRICS_PATH. */
  readonly listener: (request: IncomingMessage, response: ServerResponse) => void;
}

/** A Prometheus label name of a CloudWatch dimension: `Outcome` → `outcome`. */
export function labelOf(definition: MetricDefinition): string | undefined {
  return definition.dimension?.toLowerCase();
}

type Instrument = Counter | Histogram;

function instrumentOf(definition: MetricDefinition, registry: Registry): Instrument {
  const label = labelOf(definition);
  const common = {
    name: definition.prometheus.name,
    help: definition.help,
    labelNames: label === undefined ? [] : [label],
    registers: [registry],
  };
  return definition.prometheus.kind === "counter"
    ? new Counter(common)
    : new Histogram({ ...common, buckets: [...(definition.prometheus.buckets ?? [])] });
}

/** Answers with the body's length; a HEAD gets the headers alone. */
function answer(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  response.writeHead(status, { ...headers, "Content-Length": String(Buffer.byteLength(body)) });
  response.end(request.method === "HEAD" ? undefined : body);
}

export function createLocalMetrics(): LocalMetrics {
  const registry = new Registry();
  const instruments = new Map<MetricName, Instrument>();
  for (const [name, definition] of Object.entries(METRICS) as [MetricName, MetricDefinition][]) {
    instruments.set(name, instrumentOf(definition, registry));
  }
  const record: MetricsRecorder["record"] = (metric, value, dimensionValue) => {
    const instrument = instruments.get(metric)!;
    const label = labelOf(METRICS[metric]);
    const labels = label === undefined ? {} : { [label]: dimensionValue ?? "unknown" };
    if (instrument instanceof Counter) instrument.inc(labels, value);
    else instrument.observe(labels, value);
  };
  const text = () => registry.metrics();
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    const requestId = newRequestId();
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const method = request.method ?? "GET";
    const refusal =
      path !== METRICS_PATH
        ? problemResponse("notFound", { requestId, detail: "There is nothing at this path." })
        : method !== "GET" && method !== "HEAD"
          ? problemResponse("methodNotAllowed", {
              requestId,
              detail: "This path allows GET, HEAD.",
              headers: { Allow: "GET, HEAD" },
            })
          : undefined;
    if (refusal !== undefined) {
      const headers = { ...(refusal.headers as Record<string, string>), "X-Request-Id": requestId };
      answer(request, response, refusal.statusCode ?? 400, headers, refusal.body ?? "");
      return;
    }
    void text().then((body) => {
      const headers = {
        "Content-Type": registry.contentType,
        "Cache-Control": "no-store",
        "X-Request-Id": requestId,
      };
      answer(request, response, 200, headers, body);
    });
  };
  return { record, text, listener };
}
