// Configuration of the local runtime (npm start), read once from the environment and the command line.

import { ConfigurationError, endpointFrom } from "../services/ledger/config";

export interface LocalConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDirectory: string;
  readonly inMemory: boolean;
  readonly dynamoDbEndpoint: string | undefined;
}

export function loadLocalConfig(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
): LocalConfig {
  const rawPort = env.PORT ?? "3000";
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65_535) {
    throw new ConfigurationError(`PORT must be an integer from 0 to 65535 (got "${rawPort}")`);
  }
  const rawInMemory = env.DYNAMODB_IN_MEMORY ?? "false";
  if (rawInMemory !== "true" && rawInMemory !== "false") {
    throw new ConfigurationError(`DYNAMODB_IN_MEMORY must be "true" or "false" (got "${rawInMemory}")`);
  }
  const unknown = argv.filter((argument) => argument !== "--in-memory");
  if (unknown.length > 0)
    throw new ConfigurationError(`Unknown argument ${unknown[0]}: only --in-memory is known`);
  return {
    port,
    host: env.HOST ?? "127.0.0.1",
    dataDirectory: env.DATA_DIR ?? ".data",
    inMemory: rawInMemory === "true" || argv.includes("--in-memory"),
    dynamoDbEndpoint: endpointFrom(env),
  };
}
