// The errors the AWS model answers with, built from the SDK's own exception classes with the codes, messages and
// throttling reasons that DynamoDB sends (API reference: TransactWriteItems, TransactionCanceledException,
// ThrottlingReason), so the SDK's retry strategy and the services' error handling see what they would on AWS.

import {
  ThrottlingException,
  TransactionCanceledException,
  TransactionConflictException,
  type CancellationReason,
  type ThrottlingReason,
} from "@aws-sdk/client-dynamodb";

/** What DynamoDB says when an on-demand table's partition is over its limit. */
export const ON_DEMAND_THROTTLE_MESSAGE =
  "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table " +
  "or index so please try again shortly. If exceptions persist, check if you have a hot key: " +
  "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html";
export const TRANSACTION_CONFLICT_MESSAGE = "Transaction is ongoing for the item";

const METADATA = { httpStatusCode: 400 } as const;

/** `TableWriteKeyRangeThroughputExceeded` and the like: resource type, operation, limit. */
export type ThrottleReasonCode = `${"Table" | "Index"}${"Read" | "Write"}KeyRangeThroughputExceeded`;

export function throttlingException(reasons: ThrottlingReason[]): ThrottlingException {
  return new ThrottlingException({
    message: ON_DEMAND_THROTTLE_MESSAGE,
    $metadata: METADATA,
    throttlingReasons: reasons,
  });
}

export function transactionConflictException(): TransactionConflictException {
  return new TransactionConflictException({ message: TRANSACTION_CONFLICT_MESSAGE, $metadata: METADATA });
}

/** A cancelled transaction, one reason per action in order, as DynamoDB lists them. */
export function transactionCanceled(reasons: CancellationReason[]): TransactionCanceledException {
  const codes = reasons.map((reason) => reason.Code ?? "None").join(", ");
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
    $metadata: METADATA,
    CancellationReasons: reasons,
  });
}

export const NO_REASON: CancellationReason = { Code: "None" };
export const THROTTLED_REASON: CancellationReason = {
  Code: "ThrottlingError",
  Message: ON_DEMAND_THROTTLE_MESSAGE,
};
export const CONFLICT_REASON: CancellationReason = {
  Code: "TransactionConflict",
  Message: TRANSACTION_CONFLICT_MESSAGE,
};
