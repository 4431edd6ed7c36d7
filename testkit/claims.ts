// Verified callers for tests that call a handler directly: the claims API Gateway's JWT authorizer (and the
// local gateway, which checks tokens the same way) passes in `requestContext.authorizer.jwt` once a token is
// verified — every claim a string (numbers too, arrays as "[a b]"), `scopes` null for a token whose scopes
// are in its `scope` claim, as Cognito's access tokens are. Nothing here signs or checks a token: the tests of
// the gateway's authorizer do that. And the one switch for tests that exercise the ledger, not identity.

import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { SCOPES } from "../contract/auth";

/**
 * The environment of tests (and of the benchmark and the soak) that exercise the ledger, not identity: the ones
 * that go through the local system over HTTP, and handler-level tests of the read routes. They send no tokens,
 * so they run with AUTH=off, and assert what they asserted before identity. Identity has its own tests, with
 * AUTH on: the handlers' in tests/integration/identity.test.ts (and every write path of the handler-level and
 * property tests, which send verified claims), the gateway's authorizer in its own.
 */
export const LEDGER_ONLY_ENVIRONMENT: Readonly<Record<string, string>> = { AUTH: "off" };

export interface TestClaims {
  readonly sub: string;
  /** The display name claim (ACTOR_NAME_CLAIM, `username` by default); left out when undefined. */
  readonly username?: string;
  /** Space-separated, as in the token's `scope` claim. */
  readonly scope: string;
  /** Cognito groups, passed as API Gateway passes an array claim: `[a b]`. */
  readonly groups?: readonly string[];
}

/** The development users of the local issuer, as their verified tokens' claims. */
export const ALICE: TestClaims = { sub: "7d3f2a10-alice", username: "alice", scope: SCOPES.write };
export const BOB: TestClaims = { sub: "9b41c0e2-bob", username: "bob", scope: SCOPES.write };
export const AUDREY: TestClaims = {
  sub: "2c8e5f47-audrey",
  username: "audrey",
  scope: `${SCOPES.write} ${SCOPES.audit}`,
  groups: ["auditors"],
};
/** A user with a valid token but no API scope. */
export const RITA: TestClaims = { sub: "51aa9d03-rita", username: "rita", scope: "openid" };

/** The event as a handler receives it after API Gateway's JWT authorizer verified a token with these claims. */
export function withClaims(event: APIGatewayProxyEventV2, claims: TestClaims): APIGatewayProxyEventV2 {
  const issuedAt = Math.floor(Date.now() / 1000);
  const passed: Record<string, string> = {
    iss: "http://127.0.0.1:3000/oidc",
    sub: claims.sub,
    client_id: "counter-ledger-web",
    token_use: "access",
    scope: claims.scope,
    iat: String(issuedAt),
    exp: String(issuedAt + 3600),
    jti: `jti-${claims.sub}-${issuedAt}`,
  };
  if (claims.username !== undefined) passed.username = claims.username;
  if (claims.groups !== undefined) passed["cognito:groups"] = `[${claims.groups.join(" ")}]`;
  return {
    ...event,
    requestContext: { ...event.requestContext, authorizer: { jwt: { claims: passed, scopes: null } } },
  } as APIGatewayProxyEventV2;
}

/** The actor an event records for a caller with these claims (ACTOR_NAME_CLAIM left at `username`). */
export function actorOfClaims(claims: TestClaims): { readonly sub: string; readonly name: string } {
  return { sub: claims.sub, name: claims.username ?? claims.sub };
}
