// `npm start`: the whole system on one machine. Starts DynamoDB Local (persistent under DATA_DIR, or in
// memory with --in-memory / DYNAMODB_IN_MEMORY=true) unless DYNAMODB_ENDPOINT names one, creates missing
// tables, serves the API and the web UI on PORT, and stops everything cleanly on SIGINT or SIGTERM.

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureTables } from "./bootstrap";
import { JavaMissingError, startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb-local";
import { startLocalSystem, type LocalSystem } from "./system";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { ConfigurationError, loadLedgerConfig } from "../services/ledger/config";
import { loadLocalConfig } from "./config";

async function main(): Promise<void> {
  const local = loadLocalConfig(process.env, process.argv.slice(2));
  const running: { dynamoDb?: DynamoDbLocal; system?: LocalSystem } = {};
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ level: "info", message: `stopping on ${signal}` }));
    await running.system?.stop();
    await running.dynamoDb?.stop();
    process.exit(0);
  };
  process.on("SIGINT", (signal) => void stop(signal));
  process.on("SIGTERM", (signal) => void stop(signal));

  const environment: Record<string, string | undefined> = { ...process.env };
  if (local.dynamoDbEndpoint === undefined) {
    const dynamoDb = await startDynamoDbLocal({
      dataDirectory: local.inMemory ? undefined : join(local.dataDirectory, "dynamodb"),
    });
    running.dynamoDb = dynamoDb;
    environment.DYNAMODB_ENDPOINT = dynamoDb.endpoint;
    environment.AWS_REGION ??= "us-east-1";
  }
  const config = loadLedgerConfig(environment);
  const client = createDocumentClient(config);
  const created = await ensureTables(client, config.tables, config.counterId, config.bounds);
  client.destroy();

  const webRoot = resolve("web/dist");
  const system = await startLocalSystem({
    environment,
    port: local.port,
    host: local.host,
    webRoot: existsSync(webRoot) ? webRoot : undefined,
    dataDirectory: local.dataDirectory,
  });
  running.system = system;
  console.log(
    JSON.stringify({
      level: "info",
      message: "counter-ledger is up",
      url: system.url,
      dynamoDbEndpoint: config.endpoint,
      dynamoDb:
        local.dynamoDbEndpoint !== undefined
          ? "external"
          : local.inMemory
            ? "DynamoDB Local, in memory"
            : `DynamoDB Local, data in ${local.dataDirectory}`,
      tablesCreated: created,
    }),
  );
  console.log(
    `\n  counter-ledger is serving ${system.url}  (API: ${system.url}/number, UI: ${system.url}/)` +
      `\n  DynamoDB: ${config.endpoint ?? "AWS"}  (npm run verify: DYNAMODB_ENDPOINT=${config.endpoint ?? ""})\n`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof JavaMissingError || error instanceof ConfigurationError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
