// The local JWT authorizer without a network (local/authorizer.ts): claims rendered as API Gateway passes them to
// the Lambda, the token's scopes from scp or scope, and discovery through an injected fetch — a discovery
// document naming another issuer, or an answer that is not a key set, refuses every token with the same safe
// 401 reason. The hostile tokens over real HTTP are in tests/integration/local/authorizer.test.ts.

import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createJwtAuthorizer, renderClaims, TOKEN_ERRORS, tokenScopes } from "../../../local/authorizer";

describe("renderClaims", () => {
  it("renders every claim as a string: numbers and booleans as text, arrays in brackets, objects as JSON", () => {
    expect(
      renderClaims({
        sub: "s-1",
        exp: 1787996002,
        ratio: 0.5,
        email_verified: true,
        "cognito:groups": ["auditors", "writers"],
        empty: [],
        mixed: ["a", 1, { b: 2 }],
        address: { country: "NL" },
        nothing: null,
      }),
    ).toStrictEqual({
      sub: "s-1",
      exp: "1787996002",
      ratio: "0.5",
      email_verified: "true",
      "cognito:groups": "[auditors writers]",
      empty: "[]",
      mixed: '[a 1 {"b":2}]',
      address: '{"country":"NL"}',
    });
  });
});

describe("tokenScopes", () => {
  it("reads scp before scope, as a list or space-separated, and nothing when neither is there", () => {
    expect(tokenScopes({ scope: "openid  counter:write" })).toEqual(["openid", "counter:write"]);
    expect(tokenScopes({ scp: ["counter:audit"], scope: "counter:write" })).toEqual(["counter:audit"]);
    expect(tokenScopes({ scp: "counter:audit counter:write" })).toEqual(["counter:audit", "counter:write"]);
    expect(tokenScopes({ scope: 7 })).toBeUndefined();
    expect(tokenScopes({})).toBeUndefined();
  });
});

const ISSUER = "http://issuer.test/oidc";

async function fixture(): Promise<{ token: string; jwks: unknown }> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: "s", client_id: "web", scope: "counter:write" })
    .setProtectedHeader({ alg: "RS256", kid: "k" })
    .setIssuer(ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
  return { token, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: "k", alg: "RS256" }] } };
}

/** A fetch that answers from a table of URLs and counts what it was asked. */
function fakeFetch(routes: Record<string, unknown>): { fetch: typeof fetch; asked: string[] } {
  const asked: string[] = [];
  const fetchImpl = (input: string | URL | Request): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    asked.push(url);
    const body = routes[url];
    return Promise.resolve(
      body === undefined ? new Response("nope", { status: 404 }) : Response.json(body, { status: 200 }),
    );
  };
  return { fetch: fetchImpl, asked };
}

describe("createJwtAuthorizer's discovery", () => {
  it("finds the key set through discovery once, and passes the token's scopes on a scoped route", async () => {
    const { token, jwks } = await fixture();
    const { fetch, asked } = fakeFetch({
      [`${ISSUER}/.well-known/openid-configuration`]: { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` },
      [`${ISSUER}/jwks`]: jwks,
    });
    const authorizer = createJwtAuthorizer({ issuer: ISSUER, audiences: ["web"], fetch });
    expect(asked).toEqual([]); // nothing before the first token
    const verdict = await authorizer.authorize(token, ["counter:write"]);
    expect(verdict).toMatchObject({ kind: "allowed", jwt: { scopes: ["counter:write"] } });
    await authorizer.authorize(token, ["counter:write"]);
    expect(asked).toEqual([`${ISSUER}/.well-known/openid-configuration`, `${ISSUER}/jwks`]);
  });

  it.each([
    ["names another issuer", { issuer: "http://evil.test/oidc", jwks_uri: `${ISSUER}/jwks` }, {}],
    ["has no jwks_uri", { issuer: ISSUER }, {}],
    [
      "points at something that is not a key set",
      { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` },
      { keys: 3 },
    ],
    ["points at nothing", { issuer: ISSUER, jwks_uri: `${ISSUER}/elsewhere` }, {}],
  ])("refuses every token, safely, when the discovery document %s", async (_label, document, keySet) => {
    const { token } = await fixture();
    const { fetch } = fakeFetch({
      [`${ISSUER}/.well-known/openid-configuration`]: document,
      [`${ISSUER}/jwks`]: keySet,
    });
    const authorizer = createJwtAuthorizer({ issuer: ISSUER, audiences: ["web"], fetch });
    expect(await authorizer.authorize(token, ["counter:write"])).toEqual({
      kind: "invalidToken",
      description: TOKEN_ERRORS.keysUnavailable,
    });
  });

  it("refuses, and tries discovery again on the next token, when fetch itself fails", async () => {
    const { token } = await fixture();
    let calls = 0;
    const failing = (() => {
      calls += 1;
      return Promise.reject(new TypeError("fetch failed: ECONNREFUSED 10.0.0.1:443"));
    }) as typeof fetch;
    const authorizer = createJwtAuthorizer({ issuer: ISSUER, audiences: ["web"], fetch: failing });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect(await authorizer.authorize(token, [])).toEqual({
        kind: "invalidToken",
        description: TOKEN_ERRORS.keysUnavailable,
      });
    }
    expect(calls).toBe(2);
  });

  it("keeps every refusal's description within RFC 6750's error_description characters", () => {
    for (const description of Object.values(TOKEN_ERRORS)) {
      expect(description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
    }
  });
});
