// Puts the AWS model (./model.ts) between a DynamoDB client and DynamoDB Local: a middleware inside the SDK's
// retry loop, so a modelled throttle is retried with the SDK's backoff exactly as a real one would be, and what
// the SDK finally throws is what the services would see on AWS. It changes no request and no response.

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DynamoDbAwsModel } from "./model";

export const MODEL_MIDDLEWARE_NAME = "counterLedgerDynamoDbAwsModel";

/** Installs the model on a client; a document client shares its stack with the client it was built from. */
export function installDynamoDbModel(
  client: DynamoDBClient | DynamoDBDocumentClient,
  model: DynamoDbAwsModel,
): void {
  const stack = client.middlewareStack as DynamoDBClient["middlewareStack"];
  stack.add(
    (next, context) => async (args) => {
      const ticket = model.admit(context.commandName ?? "", args.input);
      if (ticket === undefined) return next(args);
      try {
        const result = await next(args);
        model.settle(ticket, result.output);
        return result;
      } finally {
        model.release(ticket);
      }
    },
    // After the retry middleware (priority "high" in the same step): inside the loop that it retries.
    { step: "finalizeRequest", priority: "low", name: MODEL_MIDDLEWARE_NAME, override: true },
  );
}
