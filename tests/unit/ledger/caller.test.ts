// The caller as the handlers see it (services/ledger/http/caller.ts): read from `requestContext.authorizer.jwt`
// in the shape API Gateway's JWT authorizer gives it (every claim a string, arrays as "[a b]", scopes an array
// or null), and the route's access rule checked once more: the 401 and 403 problems with their RFC 6750
// challenges, public routes, PUBLIC_READ, AUTH=off, and events whose authorizer context is not that shape.

import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  ANONYMOUS_ACTOR,
  authorize,
  bearerChallenge,
  callerOf,
  claimList,
  forbiddenResult,
  hasScope,
  unauthorizedResult,
} from "../../../services/ledger/http/caller";
import type { AuthConfig } from "../../../services/ledger/config";
import { httpEvent } from "../../support/fixtures";

const AUTH: AuthConfig = { enabled: true, publicRead: true, actorNameClaim: "username" };

/** Claims of a Cognito access token as API Gateway renders them for the Lambda (all strings). */
const RENDERED_CLAIMS = {
  iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example",
  sub: "0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
  client_id: "counter-ledger-web",
  scope: "openid counter:write",
  username: "audrey",
  token_use: "access",
  "cognito:groups": "[auditors writers]",
  auth_time: "1787992402",
  iat: "1787992402",
  exp: "1787996002",
  jti: "afa8fe33-607e-4fdb-99ac-81c27d1ddc73",
};

function withAuthorizer(authorizer: unknown, routeKey = "POST /number"): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(" ") as ["GET" | "POST", string];
  const event = httpEvent({ method, path, routeKey });
  if (authorizer !== undefined) (event.requestContext as { authorizer?: unknown }).authorizer = authorizer;
  return event;
}

const jwt = (claims: Record<string, unknown>, scopes: unknown = null): unknown => ({
  jwt: { claims, scopes },
});

describe("callerOf", () => {
  it("takes the actor from sub and the configured name claim, and the scopes from the scope claim", () => {
    const caller = callerOf(withAuthorizer(jwt(RENDERED_CLAIMS)), AUTH);
    expect(caller).toEqual({
      actor: { sub: "0f1e2d3c-aaaa-bbbb-cccc-1234567890ab", name: "audrey" },
      scopes: new Set(["openid", "counter:write"]),
      anonymous: false,
    });
  });

  it("joins jwt.scopes (scoped routes) with the scope and scp claims, bracketed or not", () => {
    const claims = { sub: "s", scope: "counter:write", scp: "[counter:audit extra]" };
    const caller = callerOf(withAuthorizer(jwt(claims, ["openid"])), AUTH);
    expect([...(caller?.scopes ?? [])].sort()).toEqual(["counter:audit", "counter:write", "extra", "openid"]);
  });

  it("names the actor by sub when the name claim is missing or empty, and reads a numeric claim as text", () => {
    expect(callerOf(withAuthorizer(jwt({ sub: "s-1" })), AUTH)?.actor).toEqual({ sub: "s-1", name: "s-1" });
    expect(callerOf(withAuthorizer(jwt({ sub: "s-1", username: "" })), AUTH)?.actor.name).toBe("s-1");
    const byNumber = { ...AUTH, actorNameClaim: "custom:employee" };
    expect(callerOf(withAuthorizer(jwt({ sub: "s-1", "custom:employee": 42 })), byNumber)?.actor.name).toBe(
      "42",
    );
  });

  it.each([
    ["no authorizer", undefined],
    ["a null authorizer", null],
    ["a Lambda authorizer's context", { lambda: { sub: "s" } }],
    ["jwt without claims", { jwt: { scopes: ["counter:write"] } }],
    ["claims that are a string", { jwt: { claims: "sub=s", scopes: null } }],
    ["claims that are an array", { jwt: { claims: ["s"], scopes: null } }],
    ["no sub", jwt({ username: "alice" })],
    ["an empty sub", jwt({ sub: "" })],
    ["a sub that is an array", jwt({ sub: ["a", "b"] })],
  ])("sees no caller with %s", (_label, authorizer) => {
    expect(callerOf(withAuthorizer(authorizer), AUTH)).toBeUndefined();
  });

  it("ignores scopes that are not strings and a scopes member that is not an array", () => {
    const caller = callerOf(withAuthorizer(jwt({ sub: "s" }, [7, null, "counter:write"])), AUTH);
    expect([...(caller?.scopes ?? [])]).toEqual(["counter:write"]);
    expect(callerOf(withAuthorizer(jwt({ sub: "s" }, "counter:write")), AUTH)?.scopes.size).toBe(0);
  });

  it("does not read inherited properties as claims", () => {
    const caller = callerOf(withAuthorizer(jwt({ sub: "s" })), { ...AUTH, actorNameClaim: "toString" });
    expect(caller?.actor.name).toBe("s");
  });

  it("is the anonymous actor with every scope under AUTH=off, whatever the event says", () => {
    const caller = callerOf(withAuthorizer(jwt({ sub: "mallory" })), { ...AUTH, enabled: false });
    expect(caller?.actor).toEqual(ANONYMOUS_ACTOR);
    expect(caller !== undefined && hasScope(caller, "counter:audit")).toBe(true);
  });
});

describe("claimList", () => {
  it.each([
    ["[auditors writers]", ["auditors", "writers"]],
    ["[auditors]", ["auditors"]],
    ["[]", []],
    ["openid counter:write", ["openid", "counter:write"]],
    ["  spaced   out ", ["spaced", "out"]],
    ["", []],
  ])("reads %j as %j", (value, expected) => {
    expect(claimList({ groups: value }, "groups")).toEqual(expected);
  });

  it("reads a real array (hand-made events) and nothing from a number or a missing claim", () => {
    expect(claimList({ groups: ["a", "b"] }, "groups")).toEqual(["a", "b"]);
    expect(claimList({ groups: 3 }, "groups")).toEqual([]);
    expect(claimList({}, "groups")).toEqual([]);
  });
});

describe("authorize", () => {
  it("refuses a scoped route without a verified token: 401 with the bare Bearer challenge", () => {
    const refused = authorize(withAuthorizer(undefined), "POST /number", AUTH, "req-1");
    expect(refused.kind).toBe("refused");
    if (refused.kind !== "refused") return;
    expect(refused.result.statusCode).toBe(401);
    expect(refused.result.headers).toMatchObject({ "WWW-Authenticate": 'Bearer realm="counter-ledger"' });
    expect(JSON.parse(refused.result.body ?? "")).toMatchObject({
      type: "https://counter-ledger.dev/problems/unauthorized",
      status: 401,
      requestId: "req-1",
    });
  });

  it("refuses a token without the route's scope: 403 insufficient_scope naming the scopes", () => {
    const event = withAuthorizer(jwt({ sub: "s", scope: "counter:write" }), "GET /number/history");
    const refused = authorize(event, "GET /number/history", AUTH, "req-2");
    expect(refused.kind === "refused" && refused.result.statusCode).toBe(403);
    expect(refused.kind === "refused" && refused.result.headers).toMatchObject({
      "WWW-Authenticate": 'Bearer realm="counter-ledger", error="insufficient_scope", scope="counter:audit"',
    });
  });

  it("allows either scope of the events route", () => {
    for (const scope of ["counter:write", "counter:audit"]) {
      const event = withAuthorizer(jwt({ sub: "s", scope }), "GET /number/events/{key}");
      expect(authorize(event, "GET /number/events/{key}", AUTH, "r").kind).toBe("allowed");
    }
    const neither = withAuthorizer(jwt({ sub: "s", scope: "openid" }), "GET /number/events/{key}");
    const refused = authorize(neither, "GET /number/events/{key}", AUTH, "r");
    expect(refused.kind === "refused" && refused.result.headers).toMatchObject({
      "WWW-Authenticate":
        'Bearer realm="counter-ledger", error="insufficient_scope", scope="counter:write counter:audit"',
    });
  });

  it("lets anyone read GET /number, unless PUBLIC_READ=false: then any valid token, no scope", () => {
    const anonymous = withAuthorizer(undefined, "GET /number");
    const allowed = authorize(anonymous, "GET /number", AUTH, "r");
    expect(allowed.kind === "allowed" && allowed.caller.anonymous).toBe(true);
    const closed = { ...AUTH, publicRead: false };
    expect(authorize(anonymous, "GET /number", closed, "r").kind).toBe("refused");
    const reader = withAuthorizer(jwt({ sub: "s" }), "GET /number");
    expect(authorize(reader, "GET /number", closed, "r").kind).toBe("allowed");
  });

  it("treats unknown route keys, $default and inherited names as public, never as a crash", () => {
    for (const routeKey of ["$default", "GET /nowhere", "constructor", "__proto__", "toString"]) {
      const allowed = authorize(withAuthorizer(undefined), routeKey, AUTH, "r");
      expect(allowed.kind === "allowed" && allowed.caller.anonymous).toBe(true);
    }
  });

  it("allows everything under AUTH=off", () => {
    const off = { ...AUTH, enabled: false };
    expect(authorize(withAuthorizer(undefined), "GET /number/verify", off, "r").kind).toBe("allowed");
  });
});

describe("the refusals the gateway and the handlers share", () => {
  it("challenges per RFC 6750 §3: realm alone, or realm, error and description or scope", () => {
    expect(bearerChallenge()).toBe('Bearer realm="counter-ledger"');
    expect(bearerChallenge({ code: "invalid_token", description: "The access token has expired." })).toBe(
      'Bearer realm="counter-ledger", error="invalid_token", error_description="The access token has expired."',
    );
  });

  it("puts an invalid token's reason in the challenge and the problem's detail", () => {
    const result = unauthorizedResult("req-3", "The access token has expired.");
    expect(result.statusCode).toBe(401);
    expect(result.headers).toMatchObject({
      "Content-Type": "application/problem+json; charset=utf-8",
      "WWW-Authenticate":
        'Bearer realm="counter-ledger", error="invalid_token", error_description="The access token has expired."',
    });
    expect(JSON.parse(result.body ?? "")).toEqual({
      type: "https://counter-ledger.dev/problems/unauthorized",
      title: "Unauthorized",
      status: 401,
      detail: "The access token has expired.",
      requestId: "req-3",
    });
  });

  it("names every accepted scope in a 403", () => {
    const result = forbiddenResult("req-4", ["counter:write", "counter:audit"]);
    expect(JSON.parse(result.body ?? "")).toMatchObject({
      status: 403,
      detail: "This request needs the scope counter:write or counter:audit.",
    });
  });
});
