// The Lambda handler of the ledger table's stream (DynamoDB Streams, ReportBatchItemFailures): a thin adapter
// over the projection. Configuration and clients are made once per execution environment. It never throws
// past a batch: whatever fails is answered in `batchItemFailures`, so Lambda retries from that record.

import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { createDocumentClient } from "../ledger/storage/clients";
import { loadLedgerConfig } from "../ledger/config";
import type { TableNames } from "../ledger/storage/tables";
import { createLogger, describeError, type Logger } from "../ledger/log";
import { instrumented, type MetricsRecorder } from "../ledger/telemetry";
import { Projector, type ProjectorDependencies } from "./projection";

export type ProjectorHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

export interface ProjectorHandlerDependencies {
  readonly client: ProjectorDependencies["client"];
  readonly tables: Pick<TableNames, "readModel">;
  readonly log?: Logger;
  readonly clock?: () => Date;
  readonly metrics?: MetricsRecorder;
}

export function createProjectorHandler(dependencies: ProjectorHandlerDependencies): ProjectorHandler {
  const log = dependencies.log ?? createLogger("projector");
  const projector = new Projector({ ...dependencies, log });
  return async (event) => {
    const records = Array.isArray(event?.Records) ? event.Records : [];
    try {
      return await projector.projectBatch(records);
    } catch (error) {
      // A bug in the projection itself: fail the whole batch (an empty identifier does) rather than throw.
      log({ level: "error", message: "projector failed", records: records.length, ...describeError(error) });
      return { batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber ?? "" }] };
    }
  };
}

/** The Lambda entry point: configuration, clients and metrics are made once per execution environment. */
export const handler: ProjectorHandler = instrumented("projector", (metrics) => {
  const config = loadLedgerConfig();
  return createProjectorHandler({ client: createDocumentClient(config), tables: config.tables, metrics });
});
