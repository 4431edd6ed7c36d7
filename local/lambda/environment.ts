// One Lambda execution environment of the local runtime (LAMBDA_CONCURRENCY, ./pool.ts): a worker thread that
// runs the module initialisation a Lambda's cold start runs — configuration parsed from its environment
// variables, its own SDK client, for the command function its own committer — then serves one invocation at a
// time with the same handler factories the Lambda entry points use (services/command/handler.ts,
// services/query/handler.ts). Nothing is shared with other environments but the AWS model, which is the
// parent's (./model-port.ts), and the metrics, which are posted to the parent's registry.

import "../quiet-sdk-notice";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import { createLedgerDigestSource } from "../../services/digest/digests";
import { createDocumentClient } from "../../services/ledger/storage/clients";
import type { HttpHandler } from "../../services/ledger/http/handler";
import { createLogger } from "../../services/ledger/log";
import type { MetricsRecorder } from "../../services/ledger/telemetry";
import { createQueryHandler } from "../../services/query/handler";
import { localSettingsOf, readLocalEnvironment } from "../config";
import { loadDigestSigner } from "../digests";
import { installDynamoDbModel } from "../dynamodb-model/middleware";
import { remoteModel } from "./model-port";
import type { EnvironmentData, FromEnvironment, ToEnvironment } from "./protocol";

function post(port: MessagePort, message: FromEnvironment): void {
  port.postMessage(message);
}

/** The function's handler and, for the command function, its committer: what a cold start makes. */
function initialise(port: MessagePort, data: EnvironmentData) {
  const settings = localSettingsOf(readLocalEnvironment(data.environment));
  const config = settings.ledger;
  const client = createDocumentClient(config);
  const model = data.model ? remoteModel(port) : undefined;
  if (model !== undefined) installDynamoDbModel(client, model.gate);
  const metrics: MetricsRecorder = {
    record: (metric, value, dimension) => post(port, { type: "metric", metric, value, dimension }),
  };
  const log = createLogger(data.function, data.environment);
  if (data.function === "command") {
    const committer = new Committer({ client, config, metrics });
    const handler: HttpHandler = createCommandHandler({ committer, config, log, metrics });
    return { handler, committer, model };
  }
  const digests = createLedgerDigestSource({
    client,
    tables: config.tables,
    counterId: config.counterId,
    signer: loadDigestSigner(settings.dataDirectory),
  });
  const handler: HttpHandler = createQueryHandler({ client, config, log, digests, metrics });
  return { handler, committer: undefined, model };
}

function serve(port: MessagePort, data: EnvironmentData): void {
  const startedAtMs = performance.now();
  const { handler, committer, model } = initialise(port, data);
  port.on("message", (message: ToEnvironment) => {
    if (message.type === "modelAnswer") {
      model?.answered(message);
      return;
    }
    // The handler answers every error itself (services/ledger/http/handler.ts); a rejection here is a bug,
    // answered without a result: the parent answers it as API Gateway answers a function error.
    void handler(message.event).then(
      (result) => post(port, { type: "result", id: message.id, result, statistics: committer?.statistics }),
      () => post(port, { type: "result", id: message.id, statistics: committer?.statistics }),
    );
  });
  post(port, { type: "ready", initMs: performance.now() - startedAtMs });
}

if (parentPort !== null) serve(parentPort, workerData as EnvironmentData);
