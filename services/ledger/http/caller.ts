// Who is calling: the verified claims that API Gateway's JWT authorizer (or the local gateway, which checks
// tokens the same way) passes in `requestContext.authorizer.jwt`, and the route's access rule checked once more
// here (defence in depth: a route deployed without its authorizer still refuses). The actor of an event comes
// from these claims only, never from the request (docs/api.md#access).

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { ALL_SCOPES, ROUTE_ACCESS, needsToken, type RouteAccess, type Scope } from "../../../contract/auth";
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

/** Claim values as API Gateway renders them: strings; the other types only from hand-made or older events. */
type ClaimValue = string | number | boolean | readonly string[];

interface JwtContext {
  readonly claims: Readonly<Record<string, ClaimValue>>;
  readonly scopes: readonly string[] | null | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `requestContext.authorizer.jwt`, when it has the shape API Gateway gives it; anything else is no token. */
function jwtOf(event: APIGatewayProxyEventV2): JwtContext | undefined {
  const authorizer: unknown = (event.requestContext as { authorizer?: unknown }).authorizer;
  const jwt = isRecord(authorizer) ? authorizer.jwt : undefined;
  if (!isRecord(jwt) || !isRecord(jwt.claims)) return undefined;
  const scopes = Array.isArray(jwt.scopes)
    ? jwt.scopes.filter((scope): scope is string => typeof scope === "string")
    : null;
  return { claims: jwt.claims as JwtContext["claims"], scopes };
}

/** A claim as API Gateway passes it: a string (numbers and booleans arrive as strings too). */
function claimText(claims: JwtContext["claims"], name: string): string | undefined {
  const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (typeof value === "string") return value.length > 0 ? value : undefined;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * A list claim as API Gateway renders it: an array claim arrives as one string in brackets, items separated
 * by spaces (`cognito:groups` → `"[auditors writers]"`); a space-separated string (`scope`) is a list too.
 */
export function claimList(claims: JwtContext["claims"], name: string): string[] {
  const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  if (typeof value !== "string") return [];
  const bracketed = value.startsWith("[") && value.endsWith("]");
  const inner = bracketed ? value.slice(1, -1) : value;
  return inner.split(" ").filter((item) => item.length > 0);
}

/**
 * The caller of a request that came through a JWT authorizer, or undefined when none did. Its scopes are
 * `jwt.scopes` (API Gateway fills it on routes with authorization scopes only) and the token's `scope` and
 * `scp` claims, so a route without authorization scopes still sees them.
 */
export function callerOf(event: APIGatewayProxyEventV2, auth: AuthConfig): Caller | undefined {
  if (!auth.enabled) return { actor: ANONYMOUS_ACTOR, scopes: new Set(ALL_SCOPES), anonymous: true };
  const jwt = jwtOf(event);
  const sub = jwt === undefined ? undefined : claimText(jwt.claims, "sub");
  if (jwt === undefined || sub === undefined) return undefined;
  const scopes = new Set<string>([
    ...(jwt.scopes ?? []),
    ...claimList(jwt.claims, "scope"),
    ...claimList(jwt.claims, "scp"),
  ]);
  const name = claimText(jwt.claims, auth.actorNameClaim) ?? sub;
  return { actor: { sub, name }, scopes, anonymous: false };
}

/**
 * The `WWW-Authenticate` challenge of a refusal (RFC 6750 §3): the realm alone when no token came (§3.1: no
 * error code then), else the error code and a description. Descriptions and scopes are our own fixed text,
 * never the request's, so they need no escaping (§3: no `"` or `\`).
 */
export function bearerChallenge(error?: {
  readonly code: "invalid_token" | "insufficient_scope";
  readonly description?: string;
  readonly scope?: string;
}): string {
  const parts = [`realm="${AUTH_REALM}"`];
  if (error !== undefined) parts.push(`error="${error.code}"`);
  if (error?.description !== undefined) parts.push(`error_description="${error.description}"`);
  if (error?.scope !== undefined) parts.push(`scope="${error.scope}"`);
  return `Bearer ${parts.join(", ")}`;
}

/**
 * 401 for a request that needs a token: without `invalidToken`, none came (or not as `Bearer`); with it, the
 * safe reason the token was refused. The same body from the gateway's authorizer and from the handlers.
 */
export function unauthorizedResult(
  requestId: string,
  invalidToken?: string,
): APIGatewayProxyStructuredResultV2 {
  const challenge =
    invalidToken === undefined
      ? bearerChallenge()
      : bearerChallenge({ code: "invalid_token", description: invalidToken });
  return problemResponse("unauthorized", {
    requestId,
    detail: invalidToken ?? "This request needs a valid access token (Authorization: Bearer).",
    headers: { "WWW-Authenticate": challenge },
  });
}

/** 403 for a valid token without any of the route's scopes (any one of them would do). */
export function forbiddenResult(
  requestId: string,
  scopes: readonly string[],
): APIGatewayProxyStructuredResultV2 {
  return problemResponse("forbidden", {
    requestId,
    detail: `This request needs the scope ${scopes.join(" or ")}.`,
    headers: {
      "WWW-Authenticate": bearerChallenge({ code: "insufficient_scope", scope: scopes.join(" ") }),
    },
  });
}

export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.scopes.has(scope);
}

const PUBLIC: RouteAccess = { kind: "public" };

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
  // Own keys only: a route key is never `constructor` or `__proto__`, but the lookup must not depend on it.
  const access: RouteAccess = Object.hasOwn(ROUTE_ACCESS, routeKey)
    ? (ROUTE_ACCESS[routeKey] ?? PUBLIC)
    : PUBLIC;
  if (!auth.enabled || !needsToken(access, auth.publicRead)) {
    return { kind: "allowed", caller: caller ?? NOBODY };
  }
  if (caller === undefined) return { kind: "refused", result: unauthorizedResult(requestId) };
  if (access.kind === "scoped" && !access.scopes.some((scope) => caller.scopes.has(scope))) {
    return { kind: "refused", result: forbiddenResult(requestId, access.scopes) };
  }
  return { kind: "allowed", caller };
}
