// GET /number/verify (docs/api.md): replays the whole ledger and reports I1–I3 and I5
// (services/ledger/storage/replay.ts).
// A report with violations is still a 200: the report is the answer. It never writes.

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { VerifyReport } from "../../contract/schemas";
import type { LedgerConfig } from "../ledger/config";
import { jsonResponse } from "../ledger/http/response";
import { verifyLedger } from "../ledger/storage/replay";

export interface VerifyDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly config: Pick<LedgerConfig, "tables" | "counterId" | "bounds">;
}

export function createVerifyQuery(
  dependencies: VerifyDependencies,
): () => Promise<APIGatewayProxyStructuredResultV2> {
  const { client, config } = dependencies;
  return async () => {
    const report = await verifyLedger({
      client,
      tables: config.tables,
      counterId: config.counterId,
      bounds: config.bounds,
    });
    const body: VerifyReport = report;
    return jsonResponse(200, body);
  };
}
