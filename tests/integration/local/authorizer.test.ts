// The local gateway's JWT authorizer against hostile tokens: a test issuer of our own (discovery and a JWKS over
// real HTTP, an RSA key pair made by jose) and the real gateway, whose handlers only record the events they get.
// Proves: every forged, malformed, expired, foreign or misaddressed token is a 401 problem with an RFC 6750
// challenge and reaches no handler (so nothing can be written); a valid token without the route's scope is a
// 403; a valid token reaches the handler with its claims exactly where and how API Gateway puts them; the key
// set is fetched again for an unknown kid, then cached; the clock skew is what docs/decisions.md says; and no
// mutation of a valid token is ever let through or answered with a 5xx.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import fc from "fast-check";
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  CLOCK_TOLERANCE_SECONDS,
  createJwtAuthorizer,
  TOKEN_CHARACTERS_MAX,
} from "../../../local/authorizer";
import { createGateway, type HttpHandler } from "../../../local/gateway";

const WEB_CLIENT = "counter-ledger-web";
const CLI_CLIENT = "counter-ledger-cli";
const CHALLENGE = 'Bearer realm="counter-ledger"';

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly publicPem: string;
}

async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

/** A minimal OpenID provider: discovery and a JWKS whose keys and health a test may change. */
interface TestIssuer {
  readonly url: string;
  readonly keys: JWK[];
  readonly requests: { discovery: number; jwks: number };
  failing: boolean;
  readonly server: Server;
}

async function startIssuer(keys: JWK[]): Promise<TestIssuer> {
  const issuer: TestIssuer = {
    url: "",
    keys,
    requests: { discovery: 0, jwks: 0 },
    failing: false,
    server: createServer((request, response) => {
      const json = (body: unknown): void => {
        response.writeHead(200, { "Content-Type": "application/json" });
        response.end(JSON.stringify(body));
      };
      if (issuer.failing) {
        response.writeHead(500, { "Content-Type": "text/plain" });
        response.end("java.lang.IllegalStateException: keystore at /secret/path is locked");
      } else if (request.url === "/.well-known/openid-configuration") {
        issuer.requests.discovery += 1;
        json({ issuer: issuer.url, jwks_uri: `${issuer.url}/jwks` });
      } else if (request.url === "/jwks") {
        issuer.requests.jwks += 1;
        json({ keys: issuer.keys });
      } else {
        response.writeHead(404);
        response.end();
      }
    }),
  };
  await new Promise<void>((listening) => issuer.server.listen(0, "127.0.0.1", () => listening()));
  (issuer as { url: string }).url = `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`;
  return issuer;
}

/** The gateway with recording handlers and the authorizer of `issuer`; `clock` overrides its time. */
interface Harness {
  readonly url: string;
  readonly events: APIGatewayProxyEventV2[];
  clock: Date | undefined;
  readonly server: Server;
}

const ALLOWED_ORIGIN = "https://ui.example.org";

async function startGateway(issuer: TestIssuer, publicRead = true): Promise<Harness> {
  const events: APIGatewayProxyEventV2[] = [];
  const record: HttpHandler = (event) => {
    events.push(event);
    return Promise.resolve({ statusCode: 200, body: "{}", headers: { "Content-Type": "application/json" } });
  };
  const harness: Harness = { url: "", events, clock: undefined, server: undefined as unknown as Server };
  const server = createGateway({
    handlers: { command: record, query: record, audit: record },
    authorizer: createJwtAuthorizer({
      issuer: issuer.url,
      audiences: [WEB_CLIENT, CLI_CLIENT],
      now: () => harness.clock ?? new Date(),
    }),
    publicRead,
    corsOrigins: [ALLOWED_ORIGIN],
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", () => listening()));
  Object.assign(harness, { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return harness;
}

async function close(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  await new Promise<void>((closed) => {
    server.close(() => closed());
    server.closeAllConnections();
  });
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The claims of a Cognito-shaped access token of alice, valid for ten minutes. */
function accessClaims(issuer: string, overrides: JWTPayload = {}): JWTPayload {
  const iat = nowSeconds();
  return {
    iss: issuer,
    sub: "sub-alice",
    client_id: WEB_CLIENT,
    scope: "openid counter:write",
    username: "alice",
    token_use: "access",
    "cognito:groups": ["writers", "beta"],
    iat,
    exp: iat + 600,
    jti: randomUUID(),
    ...overrides,
  };
}

async function sign(
  claims: JWTPayload,
  key: SigningKey,
  header: { alg?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: header.alg ?? "RS256", kid: header.kid ?? key.kid })
    .sign(key.privateKey);
}

const encodeJson = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** HS256 over the token's header and payload with `secret`: the public-key-as-HMAC-secret forgery. */
async function signHs256(claims: JWTPayload, secret: Uint8Array, kid: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid }).sign(secret);
}

function post(harness: Harness, authorization?: string | string[]): Promise<Response> {
  const headers = new Headers({ "Content-Type": "application/json", "Idempotency-Key": randomUUID() });
  for (const value of [authorization ?? []].flat()) headers.append("Authorization", value);
  return fetch(`${harness.url}/number`, { method: "POST", headers, body: '{"action":"increment"}' });
}

function get(harness: Harness, path: string, token?: string): Promise<Response> {
  return fetch(`${harness.url}${path}`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
}

/** A 401 problem with a Bearer challenge (`error` undefined: the bare challenge of RFC 6750 §3.1). */
async function expectUnauthorized(
  response: Response,
  error?: "invalid_token",
  description?: RegExp,
): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(401);
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const challenge = response.headers.get("www-authenticate") ?? "";
  if (error === undefined) expect(challenge).toBe(CHALLENGE);
  else
    expect(challenge).toMatch(new RegExp(`^${CHALLENGE}, error="${error}", error_description="[^"\\\\]+"$`));
  if (description !== undefined) expect(challenge).toMatch(description);
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem).toMatchObject({
    type: "https://counter-ledger.dev/problems/unauthorized",
    title: "Unauthorized",
    status: 401,
    requestId: response.headers.get("x-request-id"),
  });
  expect(text).not.toMatch(/Exception|ERR_|jose|JWS|JWK|keystore|\/secret|stack|\.ts:\d+/i);
}

describe("the local gateway's JWT authorizer against hostile tokens", () => {
  let issuer: TestIssuer;
  let harness: Harness;
  let key: SigningKey;
  let foreign: SigningKey;

  beforeAll(async () => {
    key = await newSigningKey("key-1");
    foreign = await newSigningKey("key-1"); // same kid, another key pair
    issuer = await startIssuer([key.publicJwk]);
    harness = await startGateway(issuer);
  });

  afterAll(async () => {
    await close(harness?.server);
    await close(issuer?.server);
  });

  afterEach(() => {
    harness.clock = undefined;
    harness.events.length = 0;
  });

  /** Each hostile case: a 401 with `invalid_token`, and no handler ever saw the request. */
  async function expectRefusedToken(token: string, description: RegExp): Promise<void> {
    await expectUnauthorized(await post(harness, `Bearer ${token}`), "invalid_token", description);
    expect(harness.events).toHaveLength(0);
  }

  it("lets a valid token through, with its claims exactly as API Gateway passes them", async () => {
    const claims = accessClaims(issuer.url);
    const response = await post(harness, `Bearer ${await sign(claims, key)}`);
    expect(response.status).toBe(200);
    expect(harness.events).toHaveLength(1);
    expect(harness.events[0]?.requestContext).toMatchObject({ routeKey: "POST /number" });
    expect((harness.events[0]?.requestContext as { authorizer?: unknown }).authorizer).toStrictEqual({
      jwt: {
        claims: {
          iss: issuer.url,
          sub: "sub-alice",
          client_id: WEB_CLIENT,
          scope: "openid counter:write",
          username: "alice",
          token_use: "access",
          "cognito:groups": "[writers beta]",
          iat: String(claims.iat),
          exp: String(claims.exp),
          jti: claims.jti,
        },
        scopes: ["openid", "counter:write"],
      },
    });
  });

  it("refuses alg none, without a signature and with one", async () => {
    const header = encodeJson({ alg: "none", kid: key.kid, typ: "JWT" });
    const payload = encodeJson(accessClaims(issuer.url));
    await expectRefusedToken(`${header}.${payload}.`, /malformed/);
    await expectRefusedToken(`${header}.${payload}.c2lnbmF0dXJl`, /algorithm is not accepted/);
  });

  it("refuses HS256 signed with the public key (as JWK and as PEM) or with a guessed secret", async () => {
    const claims = accessClaims(issuer.url);
    const jwkBytes = new TextEncoder().encode(JSON.stringify(key.publicJwk));
    const pemBytes = new TextEncoder().encode(key.publicPem);
    for (const secret of [jwkBytes, pemBytes, new TextEncoder().encode("secret")]) {
      await expectRefusedToken(await signHs256(claims, secret, key.kid), /algorithm is not accepted/);
    }
  });

  it("refuses a token signed by a foreign RSA key that claims the same kid", async () => {
    await expectRefusedToken(await sign(accessClaims(issuer.url), foreign), /signature is invalid/);
  });

  it("refuses a token without a kid", async () => {
    const token = await new SignJWT(accessClaims(issuer.url))
      .setProtectedHeader({ alg: "RS256" })
      .sign(key.privateKey);
    await expectRefusedToken(token, /malformed/);
  });

  it("refuses another issuer, even one that signs with the right key", async () => {
    const claims = accessClaims("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_evil");
    await expectRefusedToken(await sign(claims, key), /another issuer/);
    await expectRefusedToken(await sign(accessClaims(`${issuer.url}/`), key), /another issuer/);
  });

  it("evaluates aud when present and client_id only without aud, as API Gateway does", async () => {
    const wrongAud = accessClaims(issuer.url, { aud: "someone-else" }); // client_id is right
    await expectRefusedToken(await sign(wrongAud, key), /valid audience/);
    const wrongClient = accessClaims(issuer.url, { client_id: "someone-else" }); // no aud
    await expectRefusedToken(await sign(wrongClient, key), /valid audience/);
    const neither = accessClaims(issuer.url, { client_id: undefined });
    await expectRefusedToken(await sign(neither, key), /valid audience/);
    // aud wins over client_id: a right aud with a wrong client_id passes, as on AWS.
    const rightAud = accessClaims(issuer.url, { aud: [CLI_CLIENT, "other"], client_id: "someone-else" });
    expect((await post(harness, `Bearer ${await sign(rightAud, key)}`)).status).toBe(200);
  });

  it("refuses an expired token, one not valid yet, one issued in the future and one without exp", async () => {
    const now = nowSeconds();
    await expectRefusedToken(
      await sign(accessClaims(issuer.url, { iat: now - 700, exp: now - 60 }), key),
      /has expired/,
    );
    await expectRefusedToken(await sign(accessClaims(issuer.url, { nbf: now + 60 }), key), /not valid yet/);
    await expectRefusedToken(await sign(accessClaims(issuer.url, { iat: now + 60 }), key), /not valid yet/);
    await expectRefusedToken(await sign(accessClaims(issuer.url, { exp: undefined }), key), /malformed/);
  });

  it("refuses a tampered payload under the original signature", async () => {
    const [header, , signature] = (await sign(accessClaims(issuer.url), key)).split(".");
    const escalated = encodeJson(accessClaims(issuer.url, { scope: "openid counter:write counter:audit" }));
    await expectRefusedToken(`${header}.${escalated}.${signature}`, /signature is invalid/);
  });

  it("refuses the same signature written with non-zero padding bits: only the issued text passes", async () => {
    const token = await sign(accessClaims(issuer.url), key);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // A 2048-bit signature is 342 characters: the last one carries 2 bits and 4 bits of padding.
    const last = alphabet.indexOf(token.at(-1) ?? "");
    const variant = token.slice(0, -1) + alphabet.charAt(last ^ 1);
    const signatureBytes = (jwt: string): Buffer => Buffer.from(jwt.split(".")[2] ?? "", "base64url");
    expect(signatureBytes(variant)).toEqual(signatureBytes(token));
    await expectRefusedToken(variant, /malformed/);
  });

  it("refuses truncated tokens", async () => {
    const token = await sign(accessClaims(issuer.url), key);
    const [header, payload] = token.split(".");
    await expectRefusedToken(token.slice(0, -10), /malformed|signature is invalid/);
    await expectRefusedToken(`${header}.${payload}`, /malformed/);
    await expectRefusedToken(`${header}`, /malformed/);
  });

  it("answers 403 insufficient_scope to a valid token without the route's scope", async () => {
    const reader = await sign(accessClaims(issuer.url, { scope: "openid" }), key);
    const refused = await post(harness, `Bearer ${reader}`);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toBe(
      `${CHALLENGE}, error="insufficient_scope", scope="counter:write"`,
    );
    expect(await refused.json()).toMatchObject({ type: "https://counter-ledger.dev/problems/forbidden" });
    const writer = await sign(accessClaims(issuer.url), key);
    const history = await get(harness, "/number/history", writer);
    expect(history.status).toBe(403);
    expect(history.headers.get("www-authenticate")).toBe(
      `${CHALLENGE}, error="insufficient_scope", scope="counter:audit"`,
    );
    expect(harness.events).toHaveLength(0);
    // Either scope of the events route will do.
    expect((await get(harness, "/number/events/some-key", writer)).status).toBe(200);
  });

  it("answers a huge token with 431 or 401, never a 5xx", async () => {
    const huge = await fetch(`${harness.url}/number`, {
      method: "POST",
      headers: { Authorization: `Bearer ${"a".repeat(20_000)}` },
    });
    expect(huge.status).toBe(431);
    await expectRefusedToken("a".repeat(TOKEN_CHARACTERS_MAX + 1), /too long/);
    const long = await sign(accessClaims(issuer.url, { padding: "x".repeat(TOKEN_CHARACTERS_MAX) }), key);
    await expectRefusedToken(long, /too long/);
  });

  it("asks for a Bearer token when none came, or another scheme, and refuses a malformed Bearer value", async () => {
    const token = await sign(accessClaims(issuer.url), key);
    await expectUnauthorized(await post(harness));
    await expectUnauthorized(await post(harness, "Basic YWxpY2U6Y291bnRlci1sZWRnZXI="));
    await expectUnauthorized(await post(harness, `DPoP ${token}`));
    await expectUnauthorized(await post(harness, token)); // no scheme at all
    await expectUnauthorized(await post(harness, "Bearer"), "invalid_token", /malformed/);
    await expectUnauthorized(await post(harness, "Bearer    "), "invalid_token", /malformed/);
    await expectUnauthorized(await post(harness, `Bearer ${token} extra`), "invalid_token", /malformed/);
    await expectUnauthorized(await post(harness, `Bearer "${token}"`), "invalid_token", /malformed/);
    await expectUnauthorized(
      await post(harness, [`Bearer ${token}`, `Bearer ${token}`]),
      "invalid_token",
      /malformed/,
    );
    expect(harness.events).toHaveLength(0);
    // The scheme is case-insensitive (RFC 7235 §2.1).
    expect((await post(harness, `bearer ${token}`)).status).toBe(200);
  });

  it("passes public routes and $default without an authorizer, whatever token comes", async () => {
    expect((await get(harness, "/number")).status).toBe(200);
    expect((await get(harness, "/health", "not-a-token")).status).toBe(200);
    const unrouted = await fetch(`${harness.url}/number`, {
      method: "DELETE",
      headers: { Authorization: "Bearer garbage" },
    });
    expect(unrouted.status).toBe(200);
    expect(harness.events.map((event) => event.routeKey)).toEqual(["GET /number", "GET /health", "$default"]);
    for (const event of harness.events) {
      expect((event.requestContext as { authorizer?: unknown }).authorizer).toBeUndefined();
    }
  });

  it("lets a browser send Authorization and read WWW-Authenticate (CORS), and never asks a preflight for a token", async () => {
    const preflight = await fetch(`${harness.url}/number`, {
      method: "OPTIONS",
      headers: {
        Origin: ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/(^|, )Authorization(,|$)/);
    const refused = await fetch(`${harness.url}/number`, {
      method: "POST",
      headers: { Origin: ALLOWED_ORIGIN },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-expose-headers")).toMatch(/(^|, )WWW-Authenticate(,|$)/);
    expect(harness.events).toHaveLength(0);
  });

  it("tolerates a clock skew of CLOCK_TOLERANCE_SECONDS, and not a second more", async () => {
    const exp = nowSeconds() + 60;
    const token = await sign(accessClaims(issuer.url, { iat: exp - 600, exp }), key);
    harness.clock = new Date((exp + CLOCK_TOLERANCE_SECONDS - 1) * 1000);
    expect((await post(harness, `Bearer ${token}`)).status).toBe(200);
    harness.clock = new Date((exp + CLOCK_TOLERANCE_SECONDS) * 1000);
    await expectUnauthorized(await post(harness, `Bearer ${token}`), "invalid_token", /has expired/);
    const nbf = nowSeconds() + 60;
    const early = await sign(accessClaims(issuer.url, { nbf, iat: nbf }), key);
    harness.clock = new Date((nbf - CLOCK_TOLERANCE_SECONDS) * 1000);
    expect((await post(harness, `Bearer ${early}`)).status).toBe(200);
    harness.clock = new Date((nbf - CLOCK_TOLERANCE_SECONDS - 1) * 1000);
    await expectUnauthorized(await post(harness, `Bearer ${early}`), "invalid_token", /not valid yet/);
  });

  it("never lets a mutation of a valid token through, and never answers one with a 5xx", async () => {
    const valid = await sign(accessClaims(issuer.url, { exp: nowSeconds() + 3600 }), key);
    const segments = valid.split(".") as [string, string, string];
    const printable = fc.string({ minLength: 1, maxLength: 1, unit: "grapheme-ascii" });
    const index = fc.nat({ max: valid.length - 1 });
    const mutation = fc.oneof(
      fc.tuple(index, printable).map(([at, char]) => valid.slice(0, at) + char + valid.slice(at + 1)),
      index.map((at) => valid.slice(0, at) + valid.slice(at + 1)),
      fc.tuple(index, printable).map(([at, char]) => valid.slice(0, at) + char + valid.slice(at)),
      fc
        .constantFrom([1, 0, 2], [0, 2, 1], [2, 1, 0], [0, 0, 2], [0, 1, 1], [1, 2, 0])
        .map((order) => order.map((at) => segments[at]).join(".")),
      fc
        .constantFrom("none", "HS256", "HS512", "RS384", "PS256", "ES256", "EdDSA", "", "rs256", "RS256 ")
        .map((alg) => [encodeJson({ alg, kid: key.kid }), segments[1], segments[2]].join(".")),
    );
    const headerSafe = (token: string): boolean => !/[^\x20-\x7e]/.test(token);
    await fc.assert(
      fc.asyncProperty(mutation.filter(headerSafe), async (token) => {
        const before = harness.events.length;
        const response = await post(harness, `Bearer ${token}`);
        await response.arrayBuffer();
        expect(response.status).toBeLessThan(500);
        // RFC 6750 §2.1 puts one or more spaces after `Bearer`, and HTTP trims a header value's trailing
        // spaces: a space added before or after the token presents the valid token itself.
        if (token.replace(/^ +| +$/g, "") === valid) {
          expect(response.status).toBe(200);
        } else {
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(harness.events.length).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("the key set of the local gateway's JWT authorizer", () => {
  let issuer: TestIssuer;
  let harness: Harness;
  let key: SigningKey;

  beforeAll(async () => {
    key = await newSigningKey("key-1");
    issuer = await startIssuer([key.publicJwk]);
    harness = await startGateway(issuer);
  });

  afterAll(async () => {
    vi.useRealTimers();
    await close(harness?.server);
    await close(issuer?.server);
  });

  it("is found by discovery, cached, and fetched again once for an unknown kid, then cached", async () => {
    // jose's key-set cooldown reads Date.now(): only Date is faked, timers and sockets stay real.
    vi.useFakeTimers({ toFake: ["Date"] });
    const valid = await sign(accessClaims(issuer.url), key);
    expect((await post(harness, `Bearer ${valid}`)).status).toBe(200);
    expect((await post(harness, `Bearer ${valid}`)).status).toBe(200);
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 1 });

    const stranger = await newSigningKey("key-unknown");
    vi.setSystemTime(Date.now() + 31_000); // past the 30 s cooldown of the last fetch
    const unknown = await sign(accessClaims(issuer.url), stranger);
    await expectUnauthorized(await post(harness, `Bearer ${unknown}`), "invalid_token", /key is unknown/);
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 2 });
    await expectUnauthorized(await post(harness, `Bearer ${unknown}`), "invalid_token", /key is unknown/);
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 2 });

    // A rotated-in key is picked up by the same refresh.
    const next = await newSigningKey("key-2");
    issuer.keys.push(next.publicJwk);
    vi.setSystemTime(Date.now() + 31_000);
    const rotated = await sign(accessClaims(issuer.url), next);
    expect((await post(harness, `Bearer ${rotated}`)).status).toBe(200);
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 3 });
    expect(harness.events).toHaveLength(3);
  });
});

describe("the local gateway's JWT authorizer when the issuer is unavailable", () => {
  let issuer: TestIssuer;
  let harness: Harness;
  let key: SigningKey;

  beforeAll(async () => {
    key = await newSigningKey("key-1");
    issuer = await startIssuer([key.publicJwk]);
    harness = await startGateway(issuer);
  });

  afterAll(async () => {
    await close(harness?.server);
    await close(issuer?.server);
  });

  it("refuses with 401 and nothing of the issuer's answer, then recovers once discovery works", async () => {
    issuer.failing = true;
    const token = await sign(accessClaims(issuer.url), key);
    const refused = await post(harness, `Bearer ${token}`);
    await expectUnauthorized(refused, "invalid_token", /keys are unavailable/);
    expect(harness.events).toHaveLength(0);
    issuer.failing = false;
    expect((await post(harness, `Bearer ${token}`)).status).toBe(200);
  });
});

describe("the local gateway's JWT authorizer with PUBLIC_READ=false", () => {
  let issuer: TestIssuer;
  let harness: Harness;
  let key: SigningKey;

  beforeAll(async () => {
    key = await newSigningKey("key-1");
    issuer = await startIssuer([key.publicJwk]);
    harness = await startGateway(issuer, false);
  });

  afterAll(async () => {
    await close(harness?.server);
    await close(issuer?.server);
  });

  it("asks GET /number for a valid token of any scope, and passes scopes as null (no route scopes)", async () => {
    await expectUnauthorized(await get(harness, "/number"));
    const token = await sign(accessClaims(issuer.url, { scope: "openid" }), key);
    expect((await get(harness, "/number", token)).status).toBe(200);
    const jwt = (harness.events[0]?.requestContext as { authorizer?: { jwt?: { scopes?: unknown } } })
      .authorizer?.jwt;
    expect(jwt?.scopes).toBeNull();
    expect((await get(harness, "/health")).status).toBe(200);
  });
});
