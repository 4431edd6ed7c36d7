// Per-file isolation on the shared DynamoDB Local: each call makes a fresh set of tables with a unique
// prefix, so test files never see each other's writes.

import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { ensureTables } from "../../local/bootstrap";
import { createDocumentClient } from "../../services/ledger/storage/clients";
import { loadLedgerConfig, type LedgerConfig } from "../../services/ledger/config";
import { tableNamesWithPrefix } from "../../services/ledger/storage/tables";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface TestStore {
  readonly config: LedgerConfig;
  readonly client: DynamoDBDocumentClient;
  /** The environment a handler or the local runtime reads to reach these tables. */
  readonly environment: Record<string, string>;
}

/**
 * `overrides` go into the environment; `bounds` replaces the configured bounds in the config object (tests
 * of a counter whose lower bound is above 0 build the configuration directly).
 */
export async function createTestStore(
  overrides: Record<string, string> = {},
  bounds?: LedgerConfig["bounds"],
): Promise<TestStore> {
  const endpoint = inject("dynamoDbEndpoint");
  const tables = tableNamesWithPrefix(`test-${randomUUID().slice(0, 8)}`);
  const environment: Record<string, string> = {
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: "us-east-1",
    LEDGER_TABLE: tables.ledger,
    COUNTERS_TABLE: tables.counters,
    READ_MODEL_TABLE: tables.readModel,
    QUOTAS_TABLE: tables.quotas,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    // The stream poller's checkpoints and failure log: never the developer's own .data/.
    DATA_DIR: mkdtempSync(join(tmpdir(), "counter-ledger-test-")),
    ...overrides,
  };
  const loaded = loadLedgerConfig(environment);
  const config: LedgerConfig = bounds === undefined ? loaded : { ...loaded, bounds };
  const client = createDocumentClient(config);
  await ensureTables(client, config.tables, config.counterId, config.bounds);
  return { config, client, environment };
}
