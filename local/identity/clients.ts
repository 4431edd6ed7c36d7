// The local issuer's names that other parts share: its path under the gateway, its two first-party clients and
// what they may ask for. The gateway's authorizer accepts tokens whose `aud` (or, without one, `client_id`) is
// one of TOKEN_AUDIENCES, as API Gateway's JWT authorizer does with the Cognito app clients' ids.

import { ALL_SCOPES } from "../../contract/auth";

/** The issuer lives under this path of the gateway: its identifier is `<gateway base URL>/oidc`. */
export const ISSUER_PATH = "/oidc";

/** The web UI: a public client (no secret) using the authorization code flow with PKCE. */
export const WEB_CLIENT_ID = "counter-ledger-web";
/** `npm run token`: a public native client whose redirect is intercepted, never served (RFC 8252 loopback). */
export const CLI_CLIENT_ID = "counter-ledger-cli";
export const CLI_REDIRECT_URI = "http://127.0.0.1/callback";

/** The audiences of the access tokens: the ids of the clients they are issued to. */
export const TOKEN_AUDIENCES: readonly string[] = [WEB_CLIENT_ID, CLI_CLIENT_ID];

/** The resource indicator (RFC 8707) of the counter's API; every access token is issued for it. */
export const API_RESOURCE = "urn:counter-ledger:api";

/** What the web UI asks for: everything; each user gets the part that user may have. */
export const WEB_SCOPE = ["openid", ...ALL_SCOPES].join(" ");

/** The paths of the web UI's origin that the issuer may send a browser back to after signing in. */
export const WEB_REDIRECT_PATHS: readonly string[] = ["/", "/silent-renew.html"];

const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost"]);

/**
 * The origins the web UI may be served from: the gateway's own, its other loopback name (a browser on
 * http://localhost:3000 as well as http://127.0.0.1:3000), and CORS_ORIGINS (e.g. a Vite dev server).
 */
export function webOrigins(baseUrl: string, corsOrigins: readonly string[]): string[] {
  const base = new URL(baseUrl);
  const origins = [base.origin];
  if (LOOPBACK_NAMES.has(base.hostname)) {
    for (const name of LOOPBACK_NAMES) {
      const alias = new URL(base.origin);
      alias.hostname = name;
      origins.push(alias.origin);
    }
  }
  return [...new Set([...origins, ...corsOrigins])];
}
