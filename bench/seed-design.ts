// The seed's own design, implemented plainly so that the benchmark can compare against it on the same
// DynamoDB Local and the same gateway: per request, one TransactWriteItems of an idempotency-record Put
// (condition: the key is new) and a conditional ADD on the counter (condition: the value stays in bounds).
// No ledger, no version guard, no group commit. For measurement only; never deployed.

import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { parseCommandRequest } from "../services/command/request";
import type { LedgerConfig } from "../services/ledger/config";
import { deltaOf } from "../services/ledger/domain/decider";
import { problemResponse } from "../services/ledger/http/problem";
import { jsonResponse, requestIdOf } from "../services/ledger/http/response";

/** The seed keeps idempotency records for 60 s (DynamoDB TTL). */
const IDEMPOTENCY_TTL_SECONDS = 60;

export function createSeedCommandHandler(
  client: DynamoDBDocumentClient,
  config: LedgerConfig,
): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  return async (event) => {
    const requestId = requestIdOf(event);
    const parsed = parseCommandRequest(event);
    if (parsed.kind === "invalid")
      return problemResponse(parsed.problem, { requestId, detail: parsed.detail });
    const delta = deltaOf(parsed.request.action);
    try {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: config.tables.ledger,
                Item: {
                  eventId: `${config.counterId}#${parsed.request.idempotencyKey}`,
                  expiresAt: Math.floor(Date.now() / 1000) + IDEMPOTENCY_TTL_SECONDS,
                },
                ConditionExpression: "attribute_not_exists(eventId)",
              },
            },
            {
              Update: {
                TableName: config.tables.counters,
                Key: { counterId: config.counterId },
                UpdateExpression: "ADD #value :delta",
                ConditionExpression: "#value BETWEEN :lowest AND :highest",
                ExpressionAttributeNames: { "#value": "value" },
                ExpressionAttributeValues: {
                  ":delta": delta,
                  ":lowest": config.bounds.min - delta,
                  ":highest": config.bounds.max - delta,
                },
              },
            },
          ],
        }),
      );
      return jsonResponse(200, { ok: true }, { "Idempotency-Key": parsed.request.idempotencyKey });
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const [keyReason] = error.CancellationReasons ?? [];
        if (keyReason?.Code === "ConditionalCheckFailed") {
          return jsonResponse(200, { ok: true }, { "Idempotent-Replayed": "true" });
        }
        return problemResponse("outOfBounds", { requestId, detail: "out of bounds" });
      }
      return problemResponse("unavailable", { requestId, detail: "unavailable" });
    }
  };
}
