// Building API Gateway (payload 2.0) results and reading the parts of a request every handler needs.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
  contentType = "application/json",
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "Content-Type": `${contentType}; charset=utf-8`, "Cache-Control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}

/** The API Gateway request id, which every response echoes as X-Request-Id. */
export function requestIdOf(event: APIGatewayProxyEventV2): string {
  return event.requestContext.requestId;
}

/** Adds X-Request-Id to a result; every response carries it (docs/api.md#headers). */
export function withRequestId(
  result: APIGatewayProxyStructuredResultV2,
  requestId: string,
): APIGatewayProxyStructuredResultV2 {
  return { ...result, headers: { ...result.headers, "X-Request-Id": requestId } };
}

/** A header of a payload 2.0 event: names arrive lower-cased. */
export function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}
