// The audit Lambda's entry point (scripts/build.ts, infra/lambda.tf): GET /number/verify,
// /number/events/{key}/proof and /number/digest, on their own function with a small reserved concurrency and
// its own role (docs/architecture.md#the-audit-function). The handler is the read routes' module, restricted
// to these routes: any other route that reaches this function is refused as an unknown one.

import { createAuditHandler, lambdaEntryOf, type QueryHandler } from "../query/handler";

export const handler: QueryHandler = lambdaEntryOf(createAuditHandler);
