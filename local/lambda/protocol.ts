// The messages between the local gateway's thread and an execution environment (a worker thread, ./pool.ts and
// ./environment.ts). Structured-clone-safe objects only: API Gateway events and results, metric points, the
// committer's statistics, and the AWS model's questions and answers (./model-port.ts).

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { CommitterStatistics } from "../../services/command/committer";
import type { MetricName } from "../../services/ledger/telemetry";

/** The functions that LAMBDA_CONCURRENCY runs as execution environments; the audit function stays in-process. */
export type EnvironmentFunction = "command" | "query";

/** What an environment is made with (its `workerData`): as a Lambda's configuration, its environment variables. */
export interface EnvironmentData {
  readonly function: EnvironmentFunction;
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Whether the AWS model answers this environment's DynamoDB requests, through the parent's model. */
  readonly model: boolean;
}

/** An error of the model, as its name and DynamoDB's reasons: rebuilt as the SDK's own class in the worker. */
export interface ModelError {
  readonly name: string;
  readonly message: string;
  readonly throttlingReasons?: unknown;
  readonly CancellationReasons?: unknown;
}

export type ToEnvironment =
  | { readonly type: "invoke"; readonly id: number; readonly event: APIGatewayProxyEventV2 }
  | {
      readonly type: "modelAnswer";
      readonly id: number;
      readonly ticket?: number | undefined;
      readonly error?: ModelError | undefined;
    };

export type FromEnvironment =
  | { readonly type: "ready"; readonly initMs: number }
  | {
      readonly type: "result";
      readonly id: number;
      readonly result?: APIGatewayProxyStructuredResultV2;
      /** The committer's counters after this invocation (command function only). */
      readonly statistics?: CommitterStatistics;
    }
  | {
      readonly type: "metric";
      readonly metric: MetricName;
      readonly value: number;
      readonly dimension?: string | undefined;
    }
  | {
      readonly type: "model";
      readonly id: number;
      readonly call: "admit";
      readonly operation: string;
      readonly input: unknown;
    }
  | {
      readonly type: "model";
      readonly id: number;
      readonly call: "settle";
      readonly ticket: number;
      readonly output: unknown;
    }
  | { readonly type: "model"; readonly id: number; readonly call: "release"; readonly ticket: number };
