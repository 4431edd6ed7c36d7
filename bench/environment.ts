// What the bench's sections run against: tables of their own on a DynamoDB Local endpoint, with the ledger-only
// environment (AUTH off: the bench measures the ledger, not the gateway's token check), and a gateway serving
// given handlers on a free port while closed-loop clients load it.

import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGateway, type GatewayOptions } from "../local/gateway";
import { tableNamesWithPrefix } from "../services/ledger/storage/tables";
import { LEDGER_ONLY_ENVIRONMENT } from "../testkit/claims";
import { runClosedLoopApart, type LoadResult } from "./load";

/** The environment of a bench section: tables named after `prefix` on `endpoint`, a data directory of its own. */
export function benchEnvironment(endpoint: string, prefix: string): Record<string, string> {
  const tables = tableNamesWithPrefix(prefix);
  return {
    ...LEDGER_ONLY_ENVIRONMENT,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: "us-east-1",
    LEDGER_TABLE: tables.ledger,
    COUNTERS_TABLE: tables.counters,
    READ_MODEL_TABLE: tables.readModel,
    QUOTAS_TABLE: tables.quotas,
    LOG_LEVEL: "silent",
    DATA_DIR: mkdtempSync(join(tmpdir(), `counter-ledger-${prefix}-`)),
  };
}

/** `clients` closed-loop clients against `POST /number` of a gateway serving `handlers`, for `durationMs`. */
export async function loadThroughGateway(
  handlers: GatewayOptions["handlers"],
  clients: number,
  durationMs: number,
): Promise<LoadResult> {
  const gateway = createGateway({ handlers });
  await new Promise<void>((resolveListen) => gateway.listen(0, "127.0.0.1", () => resolveListen()));
  const { port } = gateway.address() as AddressInfo;
  try {
    return await runClosedLoopApart({ url: `http://127.0.0.1:${port}/number`, clients, durationMs });
  } finally {
    await new Promise<void>((resolveClose) => {
      gateway.close(() => resolveClose());
      gateway.closeAllConnections();
    });
  }
}
