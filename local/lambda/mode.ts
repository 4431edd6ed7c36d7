// LAMBDA_CONCURRENCY in the local runtime (local/system.ts): the command and query functions each as a pool of
// execution environments (./pool.ts), the audit function left in-process with its reserved concurrency, and
// the AWS model, when on, shared by every environment through the parent's thread (./model-port.ts).

import type { LambdaName } from "../../services/ledger/http/routes";
import { createLogger } from "../../services/ledger/log";
import type { MetricsRecorder } from "../../services/ledger/telemetry";
import type { DynamoDbAwsModel } from "../dynamodb-model/model";
import type { HttpHandler } from "../gateway";
import { bundleEnvironment } from "./bundle";
import { ModelServer, type ModelPortStatistics } from "./model-port";
import { createLambdaPool, type LambdaPoolStatistics } from "./pool";

/** What the runtime's Lambda mode did, per function (LocalSystem.lambda). */
export interface LambdaModeStatistics {
  readonly command: LambdaPoolStatistics;
  readonly query: LambdaPoolStatistics;
  /** The shared model's refusals across environments, when DYNAMODB_MODEL=aws. */
  readonly model: ModelPortStatistics | undefined;
}

export interface LambdaMode {
  readonly handlers: Readonly<Record<Exclude<LambdaName, "audit">, HttpHandler>>;
  readonly statistics: LambdaModeStatistics;
  readonly stop: () => Promise<void>;
}

/** Bundles the environments' code (./bundle.ts), then makes the pools; no environment starts before a request. */
export async function startLambdaMode(parts: {
  readonly concurrency: number;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly metrics: MetricsRecorder;
  readonly model: DynamoDbAwsModel | undefined;
}): Promise<LambdaMode> {
  const bundle = await bundleEnvironment();
  const model = parts.model === undefined ? undefined : new ModelServer(parts.model);
  const pool = (name: "command" | "query") =>
    createLambdaPool({
      function: name,
      entry: bundle.entry,
      concurrency: parts.concurrency,
      environment: parts.environment,
      metrics: parts.metrics,
      model,
      log: createLogger("lambda", parts.environment),
    });
  const command = pool("command");
  const query = pool("query");
  return {
    handlers: { command: command.invoke, query: query.invoke },
    statistics: { command: command.statistics, query: query.statistics, model: model?.statistics },
    stop: async () => {
      await Promise.all([command.stop(), query.stop()]);
      bundle.remove();
    },
  };
}
