// The service's metrics and traces (docs/runbook.md#metrics). One table names every metric
// (METRICS): its CloudWatch name, unit and one dimension, and its Prometheus form; handlers record through a
// MetricsRecorder and never know where a point goes. On Lambda the recorder is Powertools' Metrics — the
// CloudWatch embedded metric format (EMF) on stdout, flushed after each invocation by `instrumented` — and the
// AWS SDK clients are traced by Powertools' Tracer (X-Ray); the local runtime passes its own recorder
// (local/metrics.ts, GET /metrics) and traces nothing. Recording never throws, never awaits, never carries an
// identifier (a dimension takes one of a few fixed values).

import { Metrics } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";

export interface MetricDefinition {
  /** The CloudWatch metric name, in the namespace of POWERTOOLS_METRICS_NAMESPACE (infra/lambda.tf). */
  readonly name: string;
  readonly unit: "Count" | "Milliseconds";
  /** Its one dimension (beside Powertools' `service`), whose values are few and fixed. */
  readonly dimension?: string;
  readonly help: string;
  /** The local runtime's form (local/metrics.ts): a counter sums the points, a histogram buckets them. */
  readonly prometheus: {
    readonly name: string;
    readonly kind: "counter" | "histogram";
    readonly buckets?: readonly number[];
  };
}

const MILLISECOND_BUCKETS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;

/** Every metric the service records; the dashboard (infra/dashboard.tf) and the README name these. */
export const METRICS = {
  commands: {
    name: "Commands",
    unit: "Count",
    dimension: "Outcome",
    help: "Commands answered by the command handler, by outcome (applied, replayed, outOfBounds, …).",
    prometheus: { name: "counter_ledger_commands_total", kind: "counter" },
  },
  transactionConflicts: {
    name: "TransactionConflicts",
    unit: "Count",
    help: "Transactions cancelled because another writer moved the aggregate first.",
    prometheus: { name: "counter_ledger_transaction_conflicts_total", kind: "counter" },
  },
  commitRetries: {
    name: "CommitRetries",
    unit: "Count",
    help: "Transactions tried again after a conflict, with backoff (a conflict past the budget is not retried).",
    prometheus: { name: "counter_ledger_commit_retries_total", kind: "counter" },
  },
  batchSize: {
    name: "BatchSize",
    unit: "Count",
    help: "Events per committed transaction (group commit).",
    prometheus: {
      name: "counter_ledger_batch_size_events",
      kind: "histogram",
      buckets: [1, 2, 4, 8, 16, 32, 64, 99],
    },
  },
  commitLatency: {
    name: "CommitLatency",
    unit: "Milliseconds",
    help: "From a command reaching the committer to its outcome: queueing, the transaction, any retries.",
    prometheus: {
      name: "counter_ledger_commit_latency_milliseconds",
      kind: "histogram",
      buckets: MILLISECOND_BUCKETS,
    },
  },
  projectorLag: {
    name: "ProjectorLag",
    unit: "Milliseconds",
    help: "From the commit of a batch's newest event to its projection into the read model.",
    prometheus: {
      name: "counter_ledger_projector_lag_milliseconds",
      kind: "histogram",
      buckets: MILLISECOND_BUCKETS,
    },
  },
  projectorFailedRecords: {
    name: "ProjectorFailedRecords",
    unit: "Count",
    help: "Records the projector could not project in a batch (retried, and after the retries dead-lettered).",
    prometheus: { name: "counter_ledger_projector_failed_records_total", kind: "counter" },
  },
  verifyRuns: {
    name: "VerifyRuns",
    unit: "Count",
    dimension: "Result",
    help: "Completed verifications, by result (passed, violations).",
    prometheus: { name: "counter_ledger_verify_runs_total", kind: "counter" },
  },
  verifyDuration: {
    name: "VerifyDuration",
    unit: "Milliseconds",
    help: "How long a completed verification took.",
    prometheus: {
      name: "counter_ledger_verify_duration_milliseconds",
      kind: "histogram",
      buckets: MILLISECOND_BUCKETS,
    },
  },
  throttles: {
    name: "Throttles",
    unit: "Count",
    dimension: "Reason",
    help: "Requests refused or failed for a limit, by reason (stage, concurrency, store, quota).",
    prometheus: { name: "counter_ledger_throttles_total", kind: "counter" },
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

/** The reasons of METRICS.throttles: the local gateway's stage bucket and concurrency, DynamoDB, a quota. */
export type ThrottleReason = "stage" | "concurrency" | "store" | "quota";

export interface MetricsRecorder {
  /** One data point of `metric`, with its dimension's value when it has a dimension. Never throws. */
  readonly record: (metric: MetricName, value: number, dimensionValue?: string) => void;
}

/** Records nothing: the default of a handler built without a recorder (tests, tools). */
export const NO_METRICS: MetricsRecorder = { record: () => undefined };

export interface EmfRecorder extends MetricsRecorder {
  /** Writes the points stored since the last flush as one EMF line; nothing when there are none. */
  readonly flush: () => void;
}

/**
 * The Lambda recorder: Powertools' Metrics. A point without a dimension is stored and written with the others at
 * the invocation's end (one line); a point with one is written at once as a single metric, so that it carries
 * its own dimension value and nobody else's.
 */
export function createEmfRecorder(metrics: Metrics): EmfRecorder {
  return {
    record: (metric, value, dimensionValue) => {
      const definition: MetricDefinition = METRICS[metric];
      if (definition.dimension === undefined) {
        metrics.addMetric(definition.name, definition.unit, value);
        return;
      }
      metrics
        .singleMetric()
        .addDimension(definition.dimension, dimensionValue ?? "unknown")
        .addMetric(definition.name, definition.unit, value);
    },
    flush: () => {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}

/** Whether this process is a Lambda execution environment (Lambda sets the variable in every one). */
export function onLambda(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
}

let tracer: Tracer | undefined;

/** The process's tracer on Lambda (made once); undefined elsewhere, so the local runtime loads no X-Ray context. */
function lambdaTracer(): Tracer | undefined {
  if (!onLambda()) return undefined;
  tracer ??= new Tracer({ serviceName: process.env.AWS_LAMBDA_FUNCTION_NAME });
  return tracer;
}

/** An AWS SDK v3 client traced on Lambda (a subsegment per call, when tracing is Active); as it is elsewhere. */
export function traced<Client>(client: Client): Client {
  const active = lambdaTracer();
  return active?.isTracingEnabled() === true ? active.captureAWSv3Client(client) : client;
}

/**
 * A Lambda entry point with its telemetry: `create` gets the function's EMF recorder (made once per execution
 * environment); each invocation runs in a `## handler` subsegment with the cold start annotated, and its stored
 * metrics are flushed when it ends, answered or thrown.
 */
export function instrumented<Event, Result>(
  service: string,
  create: (metrics: MetricsRecorder) => (event: Event) => Promise<Result>,
): (event: Event) => Promise<Result> {
  let handler: ((event: Event) => Promise<Result>) | undefined;
  let recorder: EmfRecorder | undefined;
  return async (event) => {
    recorder ??= createEmfRecorder(new Metrics({ serviceName: service }));
    handler ??= create(recorder);
    const active = lambdaTracer();
    const segment = active?.isTracingEnabled() === true ? active.getSegment() : undefined;
    const subsegment = segment?.addNewSubsegment("## handler");
    if (subsegment !== undefined) {
      active!.setSegment(subsegment);
      active!.annotateColdStart();
      active!.addServiceNameAnnotation();
    }
    try {
      return await handler(event);
    } catch (error) {
      if (subsegment !== undefined && error instanceof Error) active!.addErrorAsMetadata(error);
      throw error;
    } finally {
      recorder.flush();
      if (subsegment !== undefined) {
        subsegment.close();
        active!.setSegment(segment!);
      }
    }
  };
}
