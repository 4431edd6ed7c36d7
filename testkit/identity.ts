// Access tokens for tests, from the local issuer's real sign-in (local/identity/login-client.ts): the
// authorization code flow with PKCE through the issuer's own sign-in page, as a browser goes through it.

import { accessTokenFor, signIn, type IssuedTokens } from "../local/identity/login-client";

export { DEVELOPMENT_PASSWORD, DEVELOPMENT_USERS } from "../local/identity/users";

/** An access token of `user` (alice, bob, audrey, rita) for `scope` (space-separated; counter:write by default). */
export function tokenFor(baseUrl: string, user: string, scope?: string): Promise<string> {
  return accessTokenFor({ baseUrl, user, scope });
}

/** The whole answer of the token endpoint, for tests of what was granted. */
export function tokensFor(baseUrl: string, user: string, scope?: string): Promise<IssuedTokens> {
  return signIn({ baseUrl, user, scope });
}

/** The Authorization header of a bearer token. */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}
