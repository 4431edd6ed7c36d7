// The API is served through the site's CloudFront distribution only (infra/web.tf): CloudFront adds a secret
// header to every request it forwards, and a request without it — one made to API Gateway's own execute-api
// host, past WAF and its rate limits — is refused here, 403, before anything is read or written. HTTP APIs have
// no resource policy and no WAF of their own, so the handlers are where this can be refused. Off when
// ORIGIN_VERIFY is unset (the local runtime, unless set there too).

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createHash, timingSafeEqual } from "node:crypto";
import { problemResponse } from "./problem";

/** The header CloudFront adds (infra/web.tf `origin_verify_header`); API Gateway gives header names lower-cased. */
export const ORIGIN_VERIFY_HEADER = "x-origin-verify";

function digestOf(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Whether the request came through the distribution; always true when no secret is configured. */
export function cameThroughOrigin(event: APIGatewayProxyEventV2, secret: string | undefined): boolean {
  if (secret === undefined) return true;
  const presented = event.headers?.[ORIGIN_VERIFY_HEADER];
  if (presented === undefined) return false;
  // Digests of equal length, compared in constant time: the comparison says nothing of the secret.
  return timingSafeEqual(digestOf(presented), digestOf(secret));
}

export function directCallRefused(requestId: string): APIGatewayProxyStructuredResultV2 {
  return problemResponse("forbidden", {
    requestId,
    detail: "Call this API at its site's address, not at API Gateway's own.",
  });
}
