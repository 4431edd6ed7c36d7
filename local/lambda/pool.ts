// LAMBDA_CONCURRENCY=N (docs/architecture.md#lambda-mode): one function of the local runtime as up to N isolated
// execution environments, each a worker thread (./environment.ts) serving one invocation at a time, as Lambda
// runs a function behind a synchronous invoke. An environment is created on demand when every existing one is
// busy — its cold start (the worker's start and the module initialisation) is paid by the invocation that
// needed it — and idle environments are reused most recently used first. An invocation that finds all N busy
// is answered as API Gateway answers a throttled Lambda (local/gateway.ts, concurrencyThrottled): never queued.

import { Worker } from "node:worker_threads";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { CommitterStatistics } from "../../services/command/committer";
import { problemResponse } from "../../services/ledger/http/problem";
import type { MetricsRecorder } from "../../services/ledger/telemetry";
import { describeError, type Logger } from "../../services/ledger/log";
import { concurrencyThrottled } from "../gateway";
import type { ModelServer } from "./model-port";
import type { EnvironmentData, EnvironmentFunction, FromEnvironment, ToEnvironment } from "./protocol";

export interface LambdaPoolOptions {
  readonly function: EnvironmentFunction;
  /** The environments' code: the bundle of ./environment.ts (./bundle.ts). */
  readonly entry: URL;
  /** Execution environments at most (LAMBDA_CONCURRENCY). */
  readonly concurrency: number;
  /** The environment variables every environment is configured with, as a Lambda's. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Where the environments' metric points go: the runtime's one registry (local/metrics.ts). */
  readonly metrics: MetricsRecorder;
  /** Where an environment's failure (its init error, a crash) is said, as Lambda logs it. */
  readonly log: Logger;
  /** The runtime's one AWS model, when DYNAMODB_MODEL=aws: every environment's requests go through it. */
  readonly model?: ModelServer | undefined;
}

/** What the pool did, for tests, the bench and the log; never used for decisions. */
export interface LambdaPoolStatistics {
  /** Environments created, each with its cold start (worker start and module initialisation). */
  coldStarts: number;
  /** Milliseconds of all cold starts, summed: from the worker's creation to its handler's being ready. */
  coldStartMsTotal: number;
  /** Of which the module initialisation (configuration, clients, committer), once the modules are loaded. */
  initMsTotal: number;
  invocations: number;
  /** Invocations refused because every one of the N environments was busy. */
  throttles: number;
  /** The most environments alive at once. */
  environmentsMax: number;
  /** Invocations each environment served, in the order they were created (warm reuse shows here). */
  readonly invocationsPerEnvironment: number[];
  /** The committers' counters summed over every environment (command function only). */
  readonly committers: CommitterStatistics;
}

export interface LambdaPool {
  /** Invokes the function in a free environment, or answers as API Gateway answers a throttled Lambda. */
  readonly invoke: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  readonly statistics: LambdaPoolStatistics;
  /** Terminates every environment; invocations in flight are answered as failed. */
  readonly stop: () => Promise<void>;
}

interface Environment {
  readonly worker: Worker;
  /** Its place in statistics.invocationsPerEnvironment. */
  readonly index: number;
  readonly ready: Promise<void>;
  /** The invocation in flight, if any: an environment serves one at a time. */
  current?: {
    readonly id: number;
    readonly event: APIGatewayProxyEventV2;
    readonly settle: (result: APIGatewayProxyStructuredResultV2) => void;
  };
  statistics?: CommitterStatistics;
}

/** What API Gateway answers for a function that failed (its 502 "Internal server error"), as a problem. */
function functionFailed(event: APIGatewayProxyEventV2): APIGatewayProxyStructuredResultV2 {
  return problemResponse("internal", {
    requestId: event.requestContext.requestId,
    detail: "The request could not be answered; retry later.",
  });
}

const emptyCommitterStatistics = (): CommitterStatistics => ({
  transactions: 0,
  conflicts: 0,
  eventsCommitted: 0,
});

class EnvironmentPool implements LambdaPool {
  readonly statistics: LambdaPoolStatistics = {
    coldStarts: 0,
    coldStartMsTotal: 0,
    initMsTotal: 0,
    invocations: 0,
    throttles: 0,
    environmentsMax: 0,
    invocationsPerEnvironment: [],
    committers: emptyCommitterStatistics(),
  };
  private readonly environments = new Set<Environment>();
  /** Idle environments, the most recently used last: Lambda reuses the warmest first. */
  private readonly idle: Environment[] = [];
  private nextInvocation = 1;

  constructor(private readonly options: LambdaPoolOptions) {}

  readonly invoke = (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const environment =
      this.idle.pop() ?? (this.environments.size < this.options.concurrency ? this.create() : undefined);
    if (environment === undefined) {
      this.statistics.throttles++;
      return Promise.resolve(concurrencyThrottled(event, this.options.metrics));
    }
    this.statistics.invocations++;
    this.statistics.invocationsPerEnvironment[environment.index]! += 1;
    const id = this.nextInvocation++;
    return new Promise((settle) => {
      environment.current = { id, event, settle };
      environment.ready.then(
        () => environment.worker.postMessage({ type: "invoke", id, event } satisfies ToEnvironment),
        () => undefined, // retire() answers it
      );
    });
  };

  readonly stop = async (): Promise<void> => {
    const workers = [...this.environments].map((environment) => environment.worker);
    await Promise.all(workers.map((worker) => worker.terminate()));
    this.environments.clear();
    this.idle.length = 0;
  };

  /** A new environment: its worker starts, and its module initialisation runs, now (the cold start). */
  private create(): Environment {
    const data: EnvironmentData = {
      function: this.options.function,
      environment: { ...this.options.environment },
      model: this.options.model !== undefined,
    };
    const createdAtMs = performance.now();
    // No Node options of the parent's (tsx's loader among them): the environment runs the plain bundle.
    const worker = new Worker(this.options.entry, { workerData: data, execArgv: [] });
    let markReady: () => void = () => undefined;
    let failStart: (error: unknown) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    ready.catch(() => undefined);
    const environment: Environment = { worker, ready, index: this.statistics.coldStarts };
    this.statistics.invocationsPerEnvironment.push(0);
    const started = () => {
      this.statistics.coldStartMsTotal += performance.now() - createdAtMs;
      markReady();
    };
    worker.on("message", (message: FromEnvironment) => this.received(environment, message, started));
    worker.on("error", (error) => {
      this.options.log({
        level: "error",
        message: "execution environment failed",
        function: this.options.function,
        ...describeError(error),
      });
      failStart(error);
      this.retire(environment);
    });
    worker.on("exit", () => {
      failStart(new Error("the environment exited"));
      this.retire(environment);
    });
    this.environments.add(environment);
    this.statistics.coldStarts++;
    this.statistics.environmentsMax = Math.max(this.statistics.environmentsMax, this.environments.size);
    return environment;
  }

  private received(environment: Environment, message: FromEnvironment, markReady: () => void): void {
    switch (message.type) {
      case "ready":
        this.statistics.initMsTotal += message.initMs;
        markReady();
        return;
      case "metric":
        this.options.metrics.record(message.metric, message.value, message.dimension);
        return;
      case "model": {
        const answer = this.options.model?.answer(environment, message);
        if (answer !== undefined) environment.worker.postMessage(answer satisfies ToEnvironment);
        return;
      }
      case "result":
        this.finish(environment, message);
        return;
    }
  }

  private finish(environment: Environment, message: Extract<FromEnvironment, { type: "result" }>): void {
    const current = environment.current;
    if (current?.id !== message.id) return;
    environment.current = undefined;
    if (message.statistics !== undefined) environment.statistics = message.statistics;
    this.sumCommitters();
    // Free before the answer is given: the next invocation finds this environment warm.
    this.idle.push(environment);
    current.settle(message.result ?? functionFailed(current.event));
  }

  /** An environment that failed or exited: forgotten, its held items released, its invocation answered. */
  private retire(environment: Environment): void {
    if (!this.environments.delete(environment)) return;
    const at = this.idle.indexOf(environment);
    if (at >= 0) this.idle.splice(at, 1);
    this.options.model?.releaseAll(environment);
    const current = environment.current;
    environment.current = undefined;
    current?.settle(functionFailed(current.event));
  }

  private sumCommitters(): void {
    const sum = emptyCommitterStatistics();
    for (const environment of this.environments) {
      for (const key of Object.keys(sum) as (keyof CommitterStatistics)[])
        sum[key] += environment.statistics?.[key] ?? 0;
    }
    Object.assign(this.statistics.committers, sum);
  }
}

export function createLambdaPool(options: LambdaPoolOptions): LambdaPool {
  return new EnvironmentPool(options);
}
