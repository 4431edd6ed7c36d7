// Who is calling: the verified claims that API Gateway's JWT authorizer (or the local gateway, which checks
// tokens the same way) passes in `requestContext.authorizer.jwt`, and the route's access rule checked once more
// here (defence in depth: a route deployed without its authorizer still refuses). The actor of an event comes
// from these claims only, never from the request (docs/api.md#access).

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { ALL_SCOPES, ROUTE_ACCESS, needsToken, type Scope } from "../../../contract/auth";
import type { AuthConfig } from "../config";
import { problemResponse } from "./problem";

/** Who an event is by: the token's subject, and a name for people from the configured claim. */
export interface Actor {
  readonly sub: string;
  readonly name: string;
}

/** The actor of every command under AUTH=off (local demos only; Lambda refuses AUTH=off). */
export const ANONYMOUS_ACTOR: Actor = { sub: "anonymous", name: "anonymous" };

export interface Caller {
  readonly actor: Actor;
  readonly scopes: ReadonlySet<string>;
  /** True when no verified token came with the request (public routes, or AUTH=off). */
  readonly anonymous: boolean;
}

export type Authorization =
  | { readonly kind: "allowed"; readonly caller: Caller }
  | { readonly kind: "refused"; readonly result: APIGatewayProxyStructuredResultV2 };

/** The realm of every WWW-Authenticate challenge (RFC 6750 §3). */
export const AUTH_REALM = "counter-ledger";

interface JwtContext {
  readonly claims: Readonly<Record<string, string | number | boolean | string[]>>;
  readonly scopes: readonly string[] | null | undefined;
}

function jwtOf(event: APIGatewayProxyEventV2): JwtContext | undefined {
  const context = event.requestContext as { authorizer?: { jwt?: JwtContext } };
  return context.authorizer?.jwt;
}

/** A claim as API Gateway passes it: a string (numbers and booleans arrive as strings too). */
function claimText(claims: JwtContext["claims"], name: string): string | undefined {
  const value = claims[name];
  if (typeof value === "string") return value.length > 0 ? value : undefined;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/** The caller of a request that came through a JWT authorizer, or undefined when none did. */
export function callerOf(event: APIGatewayProxyEventV2, auth: AuthConfig): Caller | undefined {
  if (!auth.enabled) return { actor: ANONYMOUS_ACTOR, scopes: new Set(ALL_SCOPES), anonymous: true };
  const jwt = jwtOf(event);
  const sub = jwt === undefined ? undefined : claimText(jwt.claims, "sub");
  if (jwt === undefined || sub === undefined) return undefined;
  const scopes = new Set<string>([
    ...(jwt.scopes ?? []),
    ...(claimText(jwt.claims, "scope") ?? "").split(" ").filter((scope) => scope.length > 0),
  ]);
  const name = claimText(jwt.claims, auth.actorNameClaim) ?? sub;
  return { actor: { sub, name }, scopes, anonymous: false };
}

export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.scopes.has(scope);
}

const NOBODY: Caller = { actor: ANONYMOUS_ACTOR, scopes: new Set(), anonymous: true };

/**
 * The route's access rule (contract/auth.ts) for this request: 401 with a Bearer challenge when a token is
 * needed and none was verified, 403 when the token lacks every scope of the route, else the caller.
 */
export function authorize(
  event: APIGatewayProxyEventV2,
  routeKey: string,
  auth: AuthConfig,
  requestId: string,
): Authorization {
  const caller = callerOf(event, auth);
  const access = ROUTE_ACCESS[routeKey] ?? { kind: "public" };
  if (!auth.enabled || !needsToken(access, auth.publicRead)) {
    return { kind: "allowed", caller: caller ?? NOBODY };
  }
  if (caller === undefined) {
    return {
      kind: "refused",
      result: problemResponse("unauthorized", {
        requestId,
        detail: "This request needs a valid access token (Authorization: Bearer).",
        headers: { "WWW-Authenticate": `Bearer realm="${AUTH_REALM}"` },
      }),
    };
  }
  if (access.kind === "scoped" && !access.scopes.some((scope) => caller.scopes.has(scope))) {
    const needed = access.scopes.join(" ");
    return {
      kind: "refused",
      result: problemResponse("forbidden", {
        requestId,
        detail: `This request needs the scope ${access.scopes.join(" or ")}.`,
        headers: {
          "WWW-Authenticate": `Bearer realm="${AUTH_REALM}", error="insufficient_scope", scope="${needed}"`,
        },
      }),
    };
  }
  return { kind: "allowed", caller };
}
