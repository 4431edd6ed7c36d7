// `npm run export -- --out DIR`: writes the counter's three tables (LEDGER_TABLE, COUNTERS_TABLE,
// READ_MODEL_TABLE) as DynamoDB table exports under DIR/<table>/ — manifest-summary.json, manifest-files.json
// and data/*.json.gz, the layout ExportTableToPointInTime writes to S3 — for DynamoDB Local, which has no
// export; `npm run verify -- --export DIR` replays from them. On AWS use the real export
// (docs/runbook.md#verifying-from-a-table-export). It reads the tables with Scans while they may change: stop
// writers first for a copy of one moment. Exit 0 written, 2 could not.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { existsSync, readdirSync } from "node:fs";
import "../local/quiet-sdk-notice";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ConfigurationError, loadLedgerConfig } from "../services/ledger/config";
import { dynamoDbClientConfig } from "../services/ledger/storage/clients";
import { writeTableExport } from "../services/ledger/storage/table-export";
import { describeError } from "../services/ledger/log";

const USAGE = `usage: npm run export -- --out DIR
  Writes LEDGER_TABLE, COUNTERS_TABLE and READ_MODEL_TABLE as DynamoDB table exports (DYNAMODB_JSON) under
  DIR/<table>/, for npm run verify -- --export DIR. DIR must be new or empty.
  Environment: DYNAMODB_ENDPOINT (else AWS with AWS_REGION), the table names.`;

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const out = values.out;
  if (out === undefined || out === "") throw new UsageError("--out needs a folder");
  if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`${out} is not empty`);
  const config = loadLedgerConfig(process.env);
  const client = new DynamoDBClient(dynamoDbClientConfig(config));
  const exportTime = new Date().toISOString();
  try {
    for (const table of [config.tables.ledger, config.tables.counters, config.tables.readModel]) {
      const summary = await writeTableExport(client, {
        table,
        directory: join(out, table),
        region: config.region,
        exportTime,
      });
      console.log(`${table}: ${summary.itemCount} items → ${join(out, table)}`);
    }
  } finally {
    client.destroy();
  }
  return 0;
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    if (error instanceof ConfigurationError) console.error(error.message);
    else if (
      error instanceof UsageError ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    )
      console.error(`usage error: ${(error as Error).message} (npm run export -- --help)`);
    else {
      const { errorName, errorMessage } = describeError(error);
      console.error(`could not export: ${errorName}: ${errorMessage}`);
    }
    process.exit(2);
  },
);
