// The store's share of a replay's time: the same items the replay reads — the ledger through the byVersion
// index and the audit trail, in the same version segments, pages and parallelism — read with the plain
// DynamoDB client and thrown away: no unmarshalling into objects, no checks. A replay can be no faster than
// this on the same store and machine.

import { DynamoDBClient, QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import type { LedgerConfig } from "../services/ledger/config";
import { dynamoDbClientConfig } from "../services/ledger/storage/clients";
import { REPLAY_PAGE_EVENTS_MAX } from "../services/ledger/domain/limits";
import { REPLAY_SEGMENT_EVENTS } from "../services/ledger/storage/replay";
import { LEDGER, READ_MODEL } from "../services/ledger/storage/tables";

type Key = Record<string, AttributeValue>;

/** Items of one version range of the ledger's index (or the audit trail), counted and dropped. */
async function readRange(
  client: DynamoDBClient,
  config: LedgerConfig,
  audit: boolean,
  range: { after: number; through: number },
): Promise<number> {
  let items = 0;
  let startKey: Key | undefined;
  do {
    const output = await client.send(
      new QueryCommand({
        TableName: audit ? config.tables.readModel : config.tables.ledger,
        IndexName: audit ? undefined : LEDGER.byVersionIndex.name,
        KeyConditionExpression: "#counterId = :counterId AND #version BETWEEN :after AND :through",
        ExpressionAttributeNames: {
          "#counterId": audit ? READ_MODEL.partitionKey : LEDGER.byVersionIndex.partitionKey,
          "#version": audit ? READ_MODEL.sortKey : LEDGER.byVersionIndex.sortKey,
        },
        ExpressionAttributeValues: {
          ":counterId": { S: config.counterId },
          ":after": { N: String(range.after + 1) },
          ":through": { N: String(range.through) },
        },
        ConsistentRead: audit ? true : undefined,
        ExclusiveStartKey: startKey,
        Limit: REPLAY_PAGE_EVENTS_MAX,
      }),
    );
    items += output.Items?.length ?? 0;
    startKey = output.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

/** Reads versions 1 to `events` of the ledger and of the audit trail as the replay does with `segments`. */
export async function timeRawRead(config: LedgerConfig, options: { events: number; segments: number }) {
  const client = new DynamoDBClient(dynamoDbClientConfig(config));
  const ranges: { after: number; through: number }[] = [];
  for (let after = 0; after < options.events; after += REPLAY_SEGMENT_EVENTS)
    ranges.push({ after, through: Math.min(after + REPLAY_SEGMENT_EVENTS, options.events) });
  const startedAt = performance.now();
  let items = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let range = ranges[next++]; range !== undefined; range = ranges[next++]) {
      const [ledger, audit] = await Promise.all([
        readRange(client, config, false, range),
        readRange(client, config, true, range),
      ]);
      items += ledger + audit;
    }
  };
  await Promise.all(Array.from({ length: options.segments }, worker));
  const durationMs = performance.now() - startedAt;
  client.destroy();
  return {
    segments: options.segments,
    events: items / 2,
    durationMs,
    eventsPerSecond: (items / 2 / durationMs) * 1000,
  };
}
