// GET /config.json: what the web UI reads at start to know how to sign in (web/, README "Signing in"). Locally
// the gateway answers it; on AWS Terraform writes the same shape into the site's bucket with Cognito's values.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { problemResponse } from "../../services/ledger/http/problem";
import { newRequestId } from "../gateway";
import { WEB_CLIENT_ID, WEB_SCOPE } from "./clients";

export const UI_CONFIG_PATH = "/config.json";

/** `auth: null` when AUTH=off: the UI then shows no sign-in and the API takes anonymous calls. */
export interface UiConfig {
  readonly auth: { readonly authority: string; readonly clientId: string; readonly scope: string } | null;
}

export function uiConfigOf(issuer: string | undefined): UiConfig {
  return {
    auth: issuer === undefined ? null : { authority: issuer, clientId: WEB_CLIENT_ID, scope: WEB_SCOPE },
  };
}

function sendResult(
  response: ServerResponse,
  result: APIGatewayProxyStructuredResultV2,
  requestId: string,
): void {
  const body = Buffer.from(result.body ?? "", "utf8");
  response.writeHead(result.statusCode ?? 500, {
    ...(result.headers as Record<string, string>),
    "Content-Length": String(body.length),
    "X-Request-Id": requestId,
  });
  response.end(body);
}

/** Answers GET and HEAD of exactly /config.json with the configuration of the moment (the issuer is known late). */
export function uiConfigListener(
  issuer: () => string | undefined,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const method = request.method ?? "GET";
    if (path !== UI_CONFIG_PATH || (method !== "GET" && method !== "HEAD")) {
      const requestId = newRequestId();
      const refusal =
        path === UI_CONFIG_PATH
          ? problemResponse("methodNotAllowed", {
              requestId,
              detail: "Only GET reads /config.json.",
              headers: { Allow: "GET, HEAD" },
            })
          : problemResponse("notFound", { requestId, detail: "No such path." });
      sendResult(response, refusal, requestId);
      return;
    }
    const body = Buffer.from(JSON.stringify(uiConfigOf(issuer())), "utf8");
    response.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": String(body.length),
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    response.end(method === "HEAD" ? undefined : body);
  };
}
