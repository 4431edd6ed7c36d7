// The route table of docs/api.md: which method and path go to which Lambda. One definition, used by the local
// gateway to dispatch, by the query and audit Lambdas to refuse a route that is not theirs, by the query
// Lambda's `$default` route to answer 404 and 405, and checked against the Terraform routes and openapi.json.
//
// The audit Lambda serves the routes whose cost grows with the ledger — verification (a replay) and the routes
// that may fill the Merkle tree — on its own function with a small reserved concurrency, so that no rate of
// them can starve the query Lambda that serves GET /number (docs/architecture.md#the-audit-function).

export type LambdaName = "command" | "query" | "audit";

/** The Lambda behind API Gateway's `$default` route (and so behind every HEAD). */
export const DEFAULT_ROUTE_LAMBDA: LambdaName = "query";

export interface Route {
  readonly method: "GET" | "POST";
  /** API Gateway route path; `{name}` is a path parameter of one segment. */
  readonly path: string;
  readonly lambda: LambdaName;
}

export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/number", lambda: "query" },
  { method: "POST", path: "/number", lambda: "command" },
  { method: "GET", path: "/number/events/{key}", lambda: "query" },
  { method: "GET", path: "/number/events/{key}/proof", lambda: "audit" },
  { method: "GET", path: "/number/history", lambda: "query" },
  { method: "GET", path: "/number/verify", lambda: "audit" },
  { method: "GET", path: "/number/digest", lambda: "audit" },
  { method: "GET", path: "/number/digest/keys", lambda: "query" },
  { method: "GET", path: "/health", lambda: "query" },
  { method: "GET", path: "/openapi.json", lambda: "query" },
];

export type RouteMatch =
  | { readonly kind: "found"; readonly route: Route; readonly pathParameters: Record<string, string> }
  | { readonly kind: "methodNotAllowed"; readonly allow: readonly string[] }
  | { readonly kind: "notFound" };

/** Matches one path against a route path; parameters are returned as they appear (still encoded). */
function matchPath(routePath: string, path: string): Record<string, string> | undefined {
  const routeSegments = routePath.split("/");
  const segments = path.split("/");
  if (routeSegments.length !== segments.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, routeSegment] of routeSegments.entries()) {
    const segment = segments[index] ?? "";
    const parameter = /^\{(\w+)\}$/.exec(routeSegment)?.[1];
    if (parameter !== undefined) {
      if (segment === "") return undefined;
      parameters[parameter] = segment;
    } else if (routeSegment !== segment) {
      return undefined;
    }
  }
  return parameters;
}

/**
 * API Gateway's matching of a route: the exact method and path. An HTTP API route `GET /x` does not match
 * HEAD, so a HEAD reaches the `$default` route; the local gateway dispatches with this, as API Gateway does.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  const allow: string[] = [];
  for (const route of ROUTES) {
    const pathParameters = matchPath(route.path, path);
    if (pathParameters === undefined) continue;
    if (route.method === method) return { kind: "found", route, pathParameters };
    allow.push(route.method);
  }
  return allow.length > 0 ? { kind: "methodNotAllowed", allow } : { kind: "notFound" };
}

/**
 * How the query Lambda answers what reaches its `$default` route: HEAD as the GET of the same path (RFC 9110
 * §9.3.2: the same status and headers, no body), and a 405's Allow naming HEAD wherever GET is allowed — but
 * only for the query Lambda's own GET routes: a HEAD of an audit route would run its replay on the read path,
 * so it is a 405 that allows GET alone.
 */
export function matchDefaultRoute(method: string, path: string): RouteMatch {
  const match = matchRoute(method === "HEAD" ? "GET" : method, path);
  if (match.kind === "found") {
    if (method !== "HEAD" || match.route.lambda === DEFAULT_ROUTE_LAMBDA) return match;
    return { kind: "methodNotAllowed", allow: ["GET"] };
  }
  if (match.kind !== "methodNotAllowed") return match;
  const get = matchRoute("GET", path);
  const headable = get.kind === "found" && get.route.lambda === DEFAULT_ROUTE_LAMBDA;
  const allow = match.allow.flatMap((allowed) =>
    allowed === "GET" && headable ? ["GET", "HEAD"] : [allowed],
  );
  return { kind: "methodNotAllowed", allow };
}

/** The API Gateway route key of a route, e.g. `GET /number/events/{key}`. */
export function routeKeyOf(route: Route): string {
  return `${route.method} ${route.path}`;
}
