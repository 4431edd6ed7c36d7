// Who may call which route: the OAuth 2.0 scopes of the API and the access rule of every route. One table, used
// by the local gateway's JWT authorizer, by the handlers (which check it again), by openapi.json's security
// requirements and by the tests that hold the Terraform routes' authorization scopes to it (docs/api.md#access).
// Pure: no I/O.

/** The API's scopes, as Cognito's resource server and the local issuer name them. */
export const SCOPES = {
  /** Change the number, and read one's own events by key. */
  write: "counter:write",
  /** Read every event, the history with its keys, and the ledger's verification. */
  audit: "counter:audit",
} as const;

export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

export const ALL_SCOPES: readonly Scope[] = [SCOPES.write, SCOPES.audit];

/**
 * - `public`: anyone, no token looked at.
 * - `publicRead`: anyone while PUBLIC_READ is true (the default); with PUBLIC_READ=false, any valid token.
 * - `scoped`: a valid token with at least one of `scopes` (API Gateway's rule for a route's authorization scopes).
 */
export type RouteAccess =
  | { readonly kind: "public" }
  | { readonly kind: "publicRead" }
  | { readonly kind: "scoped"; readonly scopes: readonly Scope[] };

/** The access rule of every route, by API Gateway route key (`METHOD /path`). */
export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  "GET /number": { kind: "publicRead" },
  "POST /number": { kind: "scoped", scopes: [SCOPES.write] },
  // A writer reads only its own events by key; an auditor anyone's (the handler tells them apart).
  "GET /number/events/{key}": { kind: "scoped", scopes: [SCOPES.write, SCOPES.audit] },
  // The proof of an event: the same rule as the event itself.
  "GET /number/events/{key}/proof": { kind: "scoped", scopes: [SCOPES.write, SCOPES.audit] },
  "GET /number/history": { kind: "scoped", scopes: [SCOPES.audit] },
  "GET /number/verify": { kind: "scoped", scopes: [SCOPES.audit] },
  // A digest tells the version GET /number already tells and a hash that reveals nothing of the events; it is
  // made to be handed to anyone who checks the ledger later, so it is as open as the number. Signing costs a
  // KMS call on AWS, but at most one per head version per execution environment (the signed digest is kept),
  // and only writers move the version: reading it again costs nothing (docs/api.md#digests).
  "GET /number/digest": { kind: "publicRead" },
  // Public keys, like an issuer's JWKS: whoever holds a digest must be able to check it.
  "GET /number/digest/keys": { kind: "public" },
  "GET /health": { kind: "public" },
  "GET /openapi.json": { kind: "public" },
};

/** Whether a route needs a token, given PUBLIC_READ. */
export function needsToken(access: RouteAccess, publicRead: boolean): boolean {
  return access.kind === "scoped" || (access.kind === "publicRead" && !publicRead);
}
