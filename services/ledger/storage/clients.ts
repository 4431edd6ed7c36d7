// The DynamoDB clients of a process, built once from configuration.
// Local endpoints get dummy credentials so that DynamoDB Local works without an AWS profile. On Lambda the client
// is traced (X-Ray, services/ledger/telemetry.ts); elsewhere it is the SDK's own.

import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { LedgerConfig } from "../config";
import { traced } from "../telemetry";

export function dynamoDbClientConfig(
  config: Pick<LedgerConfig, "endpoint" | "region">,
): DynamoDBClientConfig {
  if (config.endpoint === undefined) return { region: config.region };
  return {
    region: config.region,
    endpoint: config.endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  };
}

export function createDocumentClient(
  config: Pick<LedgerConfig, "endpoint" | "region">,
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(traced(new DynamoDBClient(dynamoDbClientConfig(config))), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
