// GET /number/history (docs/api.md): the audit trail a page at a time, from the read model, with
// `projectedVersion` saying how far the projector has come. Every item names its actor; its idempotency key
// only to a caller with scope counter:audit, whatever the route table says. The cursor is opaque to clients but not a secret:
// it names the last version of the page and the order, and is validated strictly, so that no cursor a client
// sends — forged, truncated or from another order — can become anything but a page or a 400. It never writes.

import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { z } from "zod";
import { SCOPES } from "../../contract/auth";
import type { HistoryPage as HistoryPageBody } from "../../contract/schemas";
import type { LedgerConfig } from "../ledger/config";
import { hasScope, type Caller } from "../ledger/http/caller";
import { echo, problemResponse } from "../ledger/http/problem";
import { jsonResponse } from "../ledger/http/response";
import {
  HISTORY_CURSOR_CHARACTERS_MAX,
  HISTORY_PAGE_ENTRIES_DEFAULT,
  HISTORY_PAGE_ENTRIES_MAX,
} from "../ledger/domain/limits";
import {
  historyItemOf,
  projectedStateFromItem,
  stateEntryKey,
  type HistoryItem,
} from "../ledger/storage/read-model";
import { auditEntrySchema } from "../ledger/domain/audit";
import { storeCall } from "../ledger/storage/store";
import { READ_MODEL } from "../ledger/storage/tables";
import { readShardedHistoryPage } from "./sharded-history";

export type HistoryOrder = "asc" | "desc";

export interface HistoryRequest {
  readonly limit: number;
  readonly order: HistoryOrder;
  /** The last version of the previous page; the page starts after it in the request's order. */
  readonly afterVersion: number | undefined;
  /** An escrow-sharded counter's cursor instead: a position per shard (services/query/sharded-history.ts). */
  readonly positions?: readonly number[];
}

export type HistoryRequestReading =
  | { readonly kind: "valid"; readonly request: HistoryRequest }
  | { readonly kind: "invalid"; readonly detail: string };

export interface HistoryPage {
  readonly items: readonly HistoryItem[];
  readonly nextCursor: string | null;
  readonly projectedVersion: number;
}

/** Bumped if the cursor's content changes; a cursor of another format is refused, not guessed at. */
const CURSOR_FORMAT = 1;

/** The cursor of an escrow-sharded counter's history: a position per shard (services/query/sharded-history.ts). */
const SHARDED_CURSOR_FORMAT = 2;

const cursorSchema = z.discriminatedUnion("format", [
  z.strictObject({
    format: z.literal(CURSOR_FORMAT),
    order: z.enum(["asc", "desc"]),
    version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  }),
  z.strictObject({
    format: z.literal(SHARDED_CURSOR_FORMAT),
    order: z.enum(["asc", "desc"]),
    // Shard positions as decimal numbers joined by dots: short enough for 64 shards in the cursor's limit.
    positions: z.string().regex(/^\d{1,16}(\.\d{1,16}){1,63}$/),
  }),
]);

type Cursor = z.infer<typeof cursorSchema>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function encodeCursor(cursor: DistributiveOmit<Cursor, "format">): string {
  const format = "positions" in cursor ? SHARDED_CURSOR_FORMAT : CURSOR_FORMAT;
  return Buffer.from(JSON.stringify({ format, ...cursor })).toString("base64url");
}

/** The cursor's content, or undefined for anything that is not exactly a cursor we issue. */
export function decodeCursor(text: string): Cursor | undefined {
  if (text.length > HISTORY_CURSOR_CHARACTERS_MAX || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const json = Buffer.from(text, "base64url").toString("utf8");
  // Base64 that does not round-trip was altered or cut: refuse it rather than read what is left.
  if (Buffer.from(json, "utf8").toString("base64url") !== text) return undefined;
  let content: unknown;
  try {
    content = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = cursorSchema.safeParse(content);
  return parsed.success ? parsed.data : undefined;
}

export function readHistoryRequest(
  parameters: Readonly<Record<string, string | undefined>> | undefined,
): HistoryRequestReading {
  const rawLimit = parameters?.limit;
  const rawOrder = parameters?.order;
  const rawCursor = parameters?.cursor;
  let limit = HISTORY_PAGE_ENTRIES_DEFAULT;
  if (rawLimit !== undefined) {
    limit = /^\d{1,3}$/.test(rawLimit) ? Number(rawLimit) : 0;
    if (limit < 1 || limit > HISTORY_PAGE_ENTRIES_MAX) {
      return {
        kind: "invalid",
        detail: `limit must be an integer from 1 to ${HISTORY_PAGE_ENTRIES_MAX} (got ${echo(rawLimit)}).`,
      };
    }
  }
  if (rawOrder !== undefined && rawOrder !== "asc" && rawOrder !== "desc") {
    return { kind: "invalid", detail: `order must be asc or desc (got ${echo(rawOrder)}).` };
  }
  if (rawCursor === undefined) {
    return { kind: "valid", request: { limit, order: rawOrder ?? "desc", afterVersion: undefined } };
  }
  const cursor = decodeCursor(rawCursor);
  if (cursor === undefined) {
    return { kind: "invalid", detail: "cursor is not one this API issued; pass nextCursor as it came." };
  }
  if (rawOrder !== undefined && rawOrder !== cursor.order) {
    return { kind: "invalid", detail: `cursor belongs to a history in ${cursor.order} order.` };
  }
  if (cursor.format === SHARDED_CURSOR_FORMAT) {
    const positions = cursor.positions.split(".").map(Number);
    return { kind: "valid", request: { limit, order: cursor.order, afterVersion: undefined, positions } };
  }
  return { kind: "valid", request: { limit, order: cursor.order, afterVersion: cursor.version } };
}

export interface HistoryDependencies {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly config: Pick<LedgerConfig, "tables" | "counterId" | "counterShards">;
}

/**
 * Reads one page: the projected state first, then a Query over the audit entries after the cursor and no
 * higher than the projected version (one entry more than asked, to know whether more follow). Within a stream
 * shard the projector writes audit entries before it moves the state, so a page never shows a version whose
 * predecessors are still being written: paging stays contiguous while commands keep arriving.
 */
export async function readHistoryPage(
  dependencies: HistoryDependencies,
  request: HistoryRequest,
  view: { readonly showKeys: boolean },
): Promise<HistoryPage> {
  const { client, config } = dependencies;
  const stateItem = (
    await storeCall(() =>
      client.send(
        new GetCommand({ TableName: config.tables.readModel, Key: stateEntryKey(config.counterId) }),
      ),
    )
  ).Item;
  const projectedVersion = projectedStateFromItem(stateItem).version;
  const descending = request.order === "desc";
  const after = request.afterVersion;
  const lowest = descending || after === undefined ? 1 : after + 1;
  const highest =
    descending && after !== undefined ? Math.min(after - 1, projectedVersion) : projectedVersion;
  const entries =
    lowest > highest
      ? []
      : ((
          await storeCall(() =>
            client.send(
              new QueryCommand({
                TableName: config.tables.readModel,
                KeyConditionExpression: "#counterId = :counterId AND #entry BETWEEN :lowest AND :highest",
                ExpressionAttributeNames: {
                  "#counterId": READ_MODEL.partitionKey,
                  "#entry": READ_MODEL.sortKey,
                },
                ExpressionAttributeValues: {
                  ":counterId": config.counterId,
                  ":lowest": lowest,
                  ":highest": highest,
                },
                ScanIndexForward: !descending,
                Limit: request.limit + 1,
              }),
            ),
          )
        ).Items ?? []);
  const items = entries
    .slice(0, request.limit)
    .map((entry) => historyItemOf(auditEntrySchema.parse(entry), { showKey: view.showKeys }));
  const last = items.at(-1);
  const nextCursor =
    entries.length > request.limit && last !== undefined
      ? encodeCursor({ order: request.order, version: last.version })
      : null;
  return { items, nextCursor, projectedVersion };
}

const FOREIGN_CURSOR = "cursor is not one this API issued; pass nextCursor as it came.";

export function createHistoryQuery(
  dependencies: HistoryDependencies,
): (context: {
  readonly event: APIGatewayProxyEventV2;
  readonly requestId: string;
  readonly caller: Caller;
}) => Promise<APIGatewayProxyStructuredResultV2> {
  return async ({ event, requestId, caller }) => {
    const reading = readHistoryRequest(event.queryStringParameters);
    if (reading.kind === "invalid")
      return problemResponse("badRequest", { requestId, detail: reading.detail });
    const view = { showKeys: hasScope(caller, SCOPES.audit) };
    const shards = dependencies.config.counterShards ?? 1;
    const { positions, ...request } = reading.request;
    // A cursor of the other kind, or of another shard count, was not issued for this counter as it is now.
    const foreign =
      shards === 1
        ? positions !== undefined
        : request.afterVersion !== undefined || (positions !== undefined && positions.length !== shards);
    if (foreign) return problemResponse("badRequest", { requestId, detail: FOREIGN_CURSOR });
    if (shards === 1) return jsonResponse(200, await readHistoryPage(dependencies, request, view));
    const page = await readShardedHistoryPage({ ...dependencies, shards }, { ...request, positions }, view);
    const body: HistoryPageBody = {
      items: page.items,
      projectedVersion: page.projectedVersion,
      nextCursor:
        page.nextPositions === null
          ? null
          : encodeCursor({ order: request.order, positions: page.nextPositions.join(".") }),
    };
    return jsonResponse(200, body);
  };
}
