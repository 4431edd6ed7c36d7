// Creates the four tables when they are missing (with TTL where tables.ts asks for it), waits until they are
// active, and writes the initial
// aggregate of the counter (the decider's initial state: value COUNTER_MIN, version 0), as Terraform does on
// AWS. It never alters a table that exists, nor an aggregate that exists.

import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  waitUntilTableExists,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Bounds } from "../services/ledger/domain/decider";
import { aggregateItem, newAggregate } from "../services/ledger/storage/aggregate";
import {
  COUNTERS,
  tableDefinitions,
  timeToLiveAttributes,
  type TableNames,
} from "../services/ledger/storage/tables";

/** How long a table may take to become active; DynamoDB Local is immediate, AWS takes seconds. */
const TABLE_ACTIVE_WAIT_SECONDS_MAX = 120;

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/** Turns on TTL of a table just created (a table that existed keeps its settings, as everything else here). */
async function enableTimeToLive(
  client: DynamoDBClient,
  tableName: string,
  attributeName: string | undefined,
): Promise<void> {
  if (attributeName === undefined) return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: attributeName },
    }),
  );
}

/** Creates one table unless it exists, waits until it is active, and turns its TTL on; true if it created it. */
async function ensureTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
  timeToLiveAttribute: string | undefined,
): Promise<boolean> {
  const tableName = definition.TableName ?? "";
  if (await tableExists(client, tableName)) return false;
  let createdHere = false;
  try {
    await client.send(new CreateTableCommand(definition));
    createdHere = true;
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists(
    { client, maxWaitTime: TABLE_ACTIVE_WAIT_SECONDS_MAX },
    { TableName: tableName },
  );
  if (createdHere) await enableTimeToLive(client, tableName, timeToLiveAttribute);
  return createdHere;
}

/** Returns the names of the tables it created. The tables are independent, so they are made at once. */
export async function ensureTables(
  documentClient: DynamoDBDocumentClient,
  names: TableNames,
  counterId: string,
  bounds: Bounds,
): Promise<string[]> {
  const client: DynamoDBClient = documentClient;
  const definitions = tableDefinitions(names);
  const timeToLive = timeToLiveAttributes(names);
  const createdHere = await Promise.all(
    definitions.map((definition) =>
      ensureTable(client, definition, timeToLive.get(definition.TableName ?? "")),
    ),
  );
  const created = definitions
    .filter((_, index) => createdHere[index])
    .map((definition) => definition.TableName ?? "");
  try {
    await documentClient.send(
      new PutCommand({
        TableName: names.counters,
        Item: aggregateItem(newAggregate(counterId, bounds)),
        ConditionExpression: `attribute_not_exists(${COUNTERS.partitionKey})`,
      }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === "ConditionalCheckFailedException")) throw error;
  }
  return created;
}
