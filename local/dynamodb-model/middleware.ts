// Puts the AWS model (./model.ts) between a DynamoDB client and DynamoDB Local: a middleware inside the SDK's
// retry loop, so a modelled throttle is retried with the SDK's backoff exactly as a real one would be, and what
// the SDK finally throws is what the services would see on AWS. It changes no request and no response.
// The model may be in this thread, or in another one behind a MessagePort (LAMBDA_CONCURRENCY: one model for
// every execution environment, local/lambda/model-port.ts): the middleware awaits each answer either way.

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export const MODEL_MIDDLEWARE_NAME = "counterLedgerDynamoDbAwsModel";

/**
 * What the middleware asks of the model (DynamoDbAwsModel, or its stand-in in a worker): admit a request or
 * throw DynamoDB's answer instead; settle it with DynamoDB Local's output (may throw); release what it held.
 */
export interface ModelGate<Ticket> {
  readonly admit: (operation: string, input: unknown) => Ticket | undefined | Promise<Ticket | undefined>;
  readonly settle: (ticket: Ticket, output: unknown) => void | Promise<void>;
  readonly release: (ticket: Ticket) => void;
}

/** Installs the model on a client; a document client shares its stack with the client it was built from. */
export function installDynamoDbModel<Ticket>(
  client: DynamoDBClient | DynamoDBDocumentClient,
  model: ModelGate<Ticket>,
): void {
  const stack = client.middlewareStack as DynamoDBClient["middlewareStack"];
  stack.add(
    (next, context) => async (args) => {
      const ticket = await model.admit(context.commandName ?? "", args.input);
      if (ticket === undefined) return next(args);
      try {
        const result = await next(args);
        await model.settle(ticket, result.output);
        return result;
      } finally {
        model.release(ticket);
      }
    },
    // After the retry middleware (priority "high" in the same step): inside the loop that it retries.
    { step: "finalizeRequest", priority: "low", name: MODEL_MIDDLEWARE_NAME, override: true },
  );
}
