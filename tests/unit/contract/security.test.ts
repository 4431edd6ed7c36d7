// openapi.json's security, held to contract/auth.ts ROUTE_ACCESS (the table the local gateway, the handlers and
// the Terraform routes follow): each operation's security requirements, a 401 on exactly the operations that
// can need a token and a 403 on exactly the scoped ones, each a problem with its WWW-Authenticate challenge,
// and the OAuth 2.0 scheme's scopes exactly SCOPES.

import { describe, expect, it } from "vitest";
import { ALL_SCOPES, ROUTE_ACCESS, needsToken } from "../../../contract/auth";
import openapi from "../../../openapi.json";

interface Operation {
  readonly security?: Record<string, string[]>[];
  readonly responses: Record<string, { $ref?: string }>;
}

const document = openapi as unknown as {
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, Record<string, unknown>>;
    responses: Record<string, { headers?: Record<string, { $ref: string }>; content?: object }>;
    headers: Record<string, { required?: boolean; schema?: { pattern?: string } }>;
  };
};

function operationOf(routeKey: string): Operation {
  const [method, path] = routeKey.split(" ") as [string, string];
  const operation = document.paths[path]?.[method.toLowerCase()];
  if (operation === undefined) throw new Error(`openapi.json has no ${routeKey}`);
  return operation;
}

/** The schemes and scopes that satisfy an operation, as OpenAPI reads its requirements (any one of them). */
function alternatives(operation: Operation): string[] {
  return (operation.security ?? [])
    .map((requirement) =>
      Object.entries(requirement)
        .map(([scheme, scopes]) => `${scheme}[${[...scopes].sort().join(" ")}]`)
        .join("+"),
    )
    .sort();
}

describe("openapi.json's security is contract/auth.ts ROUTE_ACCESS", () => {
  it("its one OAuth 2.0 scheme is the authorization code flow, with exactly the scopes of contract/auth.ts", () => {
    const schemes = document.components.securitySchemes;
    expect(Object.keys(schemes)).toEqual(["oauth2"]);
    const flows = schemes.oauth2?.flows as Record<string, { scopes: Record<string, string> }>;
    expect(Object.keys(flows)).toEqual(["authorizationCode"]);
    expect(Object.keys(flows.authorizationCode!.scopes).sort()).toEqual([...ALL_SCOPES].sort());
  });

  it("public routes require nothing, publicRead routes nothing or any valid token, scoped routes any one of their scopes", () => {
    for (const [routeKey, access] of Object.entries(ROUTE_ACCESS)) {
      const expected =
        access.kind === "public"
          ? []
          : access.kind === "publicRead"
            ? ["", "oauth2[]"]
            : access.scopes.map((scope) => `oauth2[${scope}]`).sort();
      expect({ routeKey, security: alternatives(operationOf(routeKey)) }).toEqual({
        routeKey,
        security: expected,
      });
    }
  });

  it("401 on exactly the operations that can need a token, 403 on exactly those with scopes", () => {
    for (const [routeKey, access] of Object.entries(ROUTE_ACCESS)) {
      const responses = operationOf(routeKey).responses;
      expect({ routeKey, refusals: ["401", "403"].filter((status) => status in responses) }).toEqual({
        routeKey,
        refusals: [
          ...(needsToken(access, false) ? ["401"] : []),
          ...(access.kind === "scoped" ? ["403"] : []),
        ],
      });
      if ("401" in responses) expect(responses["401"]?.$ref).toBe("#/components/responses/Unauthorized");
      if ("403" in responses) expect(responses["403"]?.$ref).toBe("#/components/responses/Forbidden");
    }
  });

  it("the 401 and 403 answers are problems that carry a required RFC 6750 Bearer challenge", () => {
    const challenge = document.components.headers["WWW-Authenticate"];
    expect(challenge?.required).toBe(true);
    const pattern = new RegExp(challenge?.schema?.pattern ?? "^$");
    // What services/ledger/http/caller.ts sends for a 401 and a 403, and what a refused token gets.
    expect(pattern.test('Bearer realm="counter-ledger"')).toBe(true);
    expect(
      pattern.test(
        'Bearer realm="counter-ledger", error="insufficient_scope", scope="counter:write counter:audit"',
      ),
    ).toBe(true);
    expect(pattern.test('Bearer realm="counter-ledger", error="invalid_token"')).toBe(true);
    expect(pattern.test("Basic realm=x")).toBe(false);
    for (const name of ["Unauthorized", "Forbidden"]) {
      const response = document.components.responses[name];
      expect(response?.headers?.["WWW-Authenticate"]?.$ref, name).toBe(
        "#/components/headers/WWW-Authenticate",
      );
      expect(Object.keys(response?.content ?? {}), name).toEqual(["application/problem+json"]);
    }
  });
});
