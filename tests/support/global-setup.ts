// Starts one in-memory DynamoDB Local for the whole test run and stops it afterwards.
// Test files get its endpoint through `inject("dynamoDbEndpoint")` and make their own tables.

import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../../local/dynamodb-local";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamoDb = await startDynamoDbLocal();
  project.provide("dynamoDbEndpoint", dynamoDb.endpoint);
  return dynamoDb.stop;
}
