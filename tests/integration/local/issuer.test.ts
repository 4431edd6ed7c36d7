// The local OpenID Connect issuer (local/identity/), through the local system's real gateway on DynamoDB Local:
// discovery and JWKS, the authorization code flow with PKCE through our own sign-in page, Cognito-shaped JWT
// access tokens verified against the JWKS with jose, the refusals (wrong password, PKCE missing or not S256),
// the scope intersection of each development user, silent renewal, sign-out, signing keys that survive a
// restart and rotate, `npm run token` end to end, /config.json with AUTH on and off, and no library notices.

import { spawn } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CLI_CLIENT_ID, WEB_CLIENT_ID } from "../../../local/identity/clients";
import {
  SIGNING_KEY_RETAIN_MS,
  SIGNING_KEY_ROTATE_AFTER_MS,
  TOKEN_TTL_SECONDS,
} from "../../../local/identity/keys";
import {
  authorizationCode,
  CookieJar,
  discover,
  exchangeCode,
  SignInError,
} from "../../../local/identity/login-client";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { tokensFor } from "../../../testkit/identity";
import { createTestStore, type TestStore } from "../../support/store";

const REPOSITORY_ROOT = resolve(import.meta.dirname, "../../..");
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/** Everything the process printed while this file ran (the issuer must print no library notice). */
const printed: string[] = [];
let store: TestStore;
let system: LocalSystem;
const extraSystems: LocalSystem[] = [];

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error"] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(" "));
      original(...args);
    });
  }
  store = await createTestStore();
  system = await startLocalSystem({ environment: store.environment, port: 0 });
});

afterEach(async () => {
  for (const extra of extraSystems.splice(0)) await extra.stop();
});

afterAll(async () => {
  await system.stop();
  store.client.destroy();
  vi.restoreAllMocks();
});

async function jwksOf(baseUrl: string): Promise<JSONWebKeySet> {
  const { jwks_uri: jwksUri } = (await (
    await fetch(`${baseUrl}/oidc/.well-known/openid-configuration`)
  ).json()) as { jwks_uri: string };
  return (await (await fetch(jwksUri)).json()) as JSONWebKeySet;
}

async function kidsOf(baseUrl: string): Promise<string[]> {
  return (await jwksOf(baseUrl)).keys.map((key) => String(key.kid));
}

/** The claims of an access token whose signature verifies against the issuer's JWKS. */
async function verifiedClaims(token: string, running: LocalSystem = system) {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await jwksOf(running.url)), {
    issuer: running.issuer,
    algorithms: ["RS256"],
  });
  return { payload, protectedHeader };
}

async function startAnother(environment: Record<string, string>, identity?: { now: () => number }) {
  const another = await startLocalSystem({ environment, port: 0, ...(identity ? { identity } : {}) });
  extraSystems.push(another);
  return another;
}

describe("discovery and JWKS", () => {
  it("publishes an issuer at <base URL>/oidc with the code flow, S256 PKCE and RS256", async () => {
    expect(system.issuer).toBe(`${system.url}/oidc`);
    const response = await fetch(`${system.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const discovery = (await response.json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      issuer: system.issuer,
      authorization_endpoint: `${system.issuer}/auth`,
      token_endpoint: `${system.issuer}/token`,
      jwks_uri: `${system.issuer}/jwks`,
      end_session_endpoint: `${system.issuer}/session/end`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
    });
    expect(discovery.grant_types_supported).toEqual(
      expect.arrayContaining(["authorization_code", "refresh_token"]),
    );
    expect(discovery.id_token_signing_alg_values_supported).toContain("RS256");
  });

  it("publishes only public RSA signing keys", async () => {
    const { keys } = await jwksOf(system.url);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: expect.any(String) as unknown });
      for (const member of PRIVATE_JWK_MEMBERS) expect(key).not.toHaveProperty(member);
    }
  });
});

describe("the authorization code flow with PKCE", () => {
  it("gives alice a Cognito-shaped RS256 access token that verifies against the JWKS", async () => {
    const tokens = await tokensFor(system.url, "alice");
    expect(tokens.accessToken).toMatch(JWT_SHAPE);
    const { payload, protectedHeader } = await verifiedClaims(tokens.accessToken);
    expect(protectedHeader.alg).toBe("RS256");
    expect(await kidsOf(system.url)).toContain(protectedHeader.kid);
    expect(payload).toMatchObject({
      iss: system.issuer,
      sub: "alice",
      aud: CLI_CLIENT_ID,
      client_id: CLI_CLIENT_ID,
      scope: "counter:write",
      username: "alice",
      token_use: "access",
      "cognito:groups": ["writers"],
      jti: expect.any(String) as unknown,
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(TOKEN_TTL_SECONDS);
    expect(tokens.expiresInSeconds).toBeLessThanOrEqual(TOKEN_TTL_SECONDS);
  });

  it("refuses a wrong password on our page, with a safe message, and issues no code", async () => {
    const { authorization_endpoint: endpoint } = await discover(system.url);
    await expect(tokensFor(system.url, "alice", undefined)).resolves.toBeDefined();
    await expect(
      authorizationCode({ baseUrl: system.url, user: "alice", password: "not-the-password" }),
    ).rejects.toThrow(new SignInError("wrong user name or password"));
    await expect(
      authorizationCode({ baseUrl: system.url, user: "mallory", password: "counter-ledger" }),
    ).rejects.toThrow(new SignInError("wrong user name or password"));

    // The page itself, as a browser sees it after a wrong password.
    const jar = new CookieJar();
    const start = new URL(endpoint);
    start.search = new URLSearchParams({
      client_id: CLI_CLIENT_ID,
      response_type: "code",
      redirect_uri: "http://127.0.0.1/callback",
      scope: "openid counter:write",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    }).toString();
    const toLogin = await fetch(start, { redirect: "manual" });
    jar.store(toLogin);
    const loginUrl = new URL(toLogin.headers.get("location") ?? "", start).href;
    const form = await fetch(loginUrl, { headers: jar.header() });
    const formHtml = await form.text();
    expect(formHtml).toMatch(/<input id="username" name="username"/);
    expect(formHtml).toMatch(/<input id="password" name="password" type="password"/);
    expect(formHtml).toMatch(/<button type="submit">Sign in<\/button>/);
    const refused = await fetch(`${loginUrl}/login`, {
      method: "POST",
      headers: { ...jar.header(), "Content-Type": "application/x-www-form-urlencoded" },
      body: "username=alice&password=wrong",
      redirect: "manual",
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("location")).toBeNull();
    const refusedHtml = await refused.text();
    expect(refusedHtml).toContain("Wrong user name or password.");
    expect(refusedHtml).not.toMatch(/oidc-provider|Error:|at .*\.js|stack/i);
  });

  it("refuses PKCE that is not S256, missing, or without its verifier", async () => {
    const plain = authorizationCode({
      baseUrl: system.url,
      user: "alice",
      codeChallenge: "a".repeat(43),
      codeChallengeMethod: "plain",
    });
    await expect(plain).rejects.toMatchObject({ code: "invalid_request" });
    const none = authorizationCode({
      baseUrl: system.url,
      user: "alice",
      codeChallenge: null,
      codeChallengeMethod: null,
    });
    await expect(none).rejects.toMatchObject({ code: "invalid_request" });

    const { code, verifier, discovery } = await authorizationCode({ baseUrl: system.url, user: "alice" });
    const withoutVerifier = await exchangeCode(discovery.token_endpoint, code, undefined);
    expect(withoutVerifier.status).toBe(400);
    expect(await withoutVerifier.json()).toMatchObject({ error: "invalid_grant" });
    // With its verifier the code works, once: a second exchange of the same code is refused.
    expect((await exchangeCode(discovery.token_endpoint, code, verifier)).status).toBe(200);
    const replayed = await exchangeCode(discovery.token_endpoint, code, verifier);
    expect(replayed.status).toBe(400);
    expect(await replayed.json()).toMatchObject({ error: "invalid_grant" });

    const another = await authorizationCode({ baseUrl: system.url, user: "alice" });
    const wrongVerifier = await exchangeCode(another.discovery.token_endpoint, another.code, "b".repeat(43));
    expect(wrongVerifier.status).toBe(400);
    expect(await wrongVerifier.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("grants each user the requested scopes that user may have", async () => {
    const both = "counter:write counter:audit";
    const alice = await tokensFor(system.url, "alice", both);
    expect((await verifiedClaims(alice.accessToken)).payload.scope).toBe("counter:write");
    const audrey = await tokensFor(system.url, "audrey", both);
    const audreyClaims = (await verifiedClaims(audrey.accessToken)).payload;
    expect(String(audreyClaims.scope).split(" ").sort()).toEqual(["counter:audit", "counter:write"]);
    expect(audreyClaims["cognito:groups"]).toEqual(["auditors"]);
    const audreyWriteOnly = await tokensFor(system.url, "audrey", "counter:write");
    expect((await verifiedClaims(audreyWriteOnly.accessToken)).payload.scope).toBe("counter:write");
    const rita = await tokensFor(system.url, "rita", both);
    const ritaClaims = (await verifiedClaims(rita.accessToken)).payload;
    expect(ritaClaims.scope ?? "").toBe("");
    expect(ritaClaims).not.toHaveProperty("cognito:groups");
    expect(ritaClaims.username).toBe("rita");
  });

  it("gives the web client a code without any page once signed in (prompt=none), and refreshes", async () => {
    const client = { id: WEB_CLIENT_ID, redirectUri: `${system.url}/` };
    const jar = new CookieJar();
    const first = await authorizationCode({ baseUrl: system.url, user: "bob", client, jar });
    const firstTokens = await exchangeCode(
      first.discovery.token_endpoint,
      first.code,
      first.verifier,
      client,
    );
    expect(firstTokens.status).toBe(200);
    const answer = (await firstTokens.json()) as Record<string, string>;
    expect(answer.refresh_token).toEqual(expect.any(String));
    expect((await verifiedClaims(answer.access_token ?? "")).payload).toMatchObject({
      aud: WEB_CLIENT_ID,
      client_id: WEB_CLIENT_ID,
      username: "bob",
    });

    // Silent renewal: the same browser asks again without a page; a wrong password would show if one were asked.
    const silent = await authorizationCode({
      baseUrl: system.url,
      user: "bob",
      password: "never-asked",
      client,
      jar,
      prompt: "none",
    });
    expect(
      (await exchangeCode(silent.discovery.token_endpoint, silent.code, silent.verifier, client)).status,
    ).toBe(200);
    // A browser with no session gets login_required, not a page.
    await expect(
      authorizationCode({ baseUrl: system.url, user: "bob", client, prompt: "none" }),
    ).rejects.toMatchObject({ code: "login_required" });

    const refreshed = await fetch(first.discovery.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: answer.refresh_token ?? "",
        client_id: WEB_CLIENT_ID,
      }).toString(),
    });
    expect(refreshed.status).toBe(200);
    const renewed = (await refreshed.json()) as Record<string, string>;
    expect((await verifiedClaims(renewed.access_token ?? "")).payload.scope).toBe("counter:write");
  });

  it("signs out to a post-logout address on the gateway's origin, and refuses any other", async () => {
    const endSession = `${system.issuer}/session/end`;
    const allowed = await fetch(
      `${endSession}?client_id=${WEB_CLIENT_ID}&post_logout_redirect_uri=${encodeURIComponent(`${system.url}/`)}`,
      { headers: { Accept: "text/html" } },
    );
    expect(allowed.status).toBe(200);
    const refused = await fetch(
      `${endSession}?client_id=${WEB_CLIENT_ID}&post_logout_redirect_uri=${encodeURIComponent("https://evil.example/")}`,
      { headers: { Accept: "text/html" } },
    );
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain("Sign-in problem");
    expect(html).not.toContain("post_logout_redirect_uri not registered");
  });

  it("shows our error page, not the library's text, for a bad authorization request", async () => {
    const response = await fetch(`${system.issuer}/auth?client_id=nobody&response_type=code`, {
      headers: { Accept: "text/html" },
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("The app asking to sign you in is not known here.");
    expect(html).not.toMatch(/oops|client is invalid|client not found/i);
  });
});

describe("signing keys under DATA_DIR", () => {
  it("signs with the same key after a restart, and keeps the key files private", async () => {
    const environment = {
      ...store.environment,
      DATA_DIR: mkdtempSync(join(tmpdir(), "counter-ledger-keys-")),
    };
    const first = await startAnother(environment);
    const token = (await tokensFor(first.url, "alice")).accessToken;
    const kids = await kidsOf(first.url);
    await first.stop();
    extraSystems.splice(extraSystems.indexOf(first), 1);

    const second = await startAnother(environment);
    expect(await kidsOf(second.url)).toEqual(kids);
    const again = (await tokensFor(second.url, "alice")).accessToken;
    expect(decodeProtectedHeader(again).kid).toBe(decodeProtectedHeader(token).kid);
    for (const file of ["signing-keys.json", "cookie-keys.json"]) {
      expect(statSync(join(environment.DATA_DIR, "identity", file)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(environment.DATA_DIR, "identity")).mode & 0o777).toBe(0o700);
  });

  it("keeps a retired key in the JWKS until its tokens have expired, then drops it", async () => {
    const environment = {
      ...store.environment,
      DATA_DIR: mkdtempSync(join(tmpdir(), "counter-ledger-keys-")),
    };
    let nowMs = Date.now();
    const clock = { now: () => nowMs };
    const first = await startAnother(environment, clock);
    const [oldKid] = await kidsOf(first.url);
    const oldToken = (await tokensFor(first.url, "alice")).accessToken;
    expect(decodeProtectedHeader(oldToken).kid).toBe(oldKid);

    await first.identity?.rotateSigningKey();
    const [newKid, ...retired] = await kidsOf(first.url);
    expect(newKid).not.toBe(oldKid);
    expect(retired).toEqual([oldKid]);
    expect(decodeProtectedHeader((await tokensFor(first.url, "alice")).accessToken).kid).toBe(newKid);
    await expect(verifiedClaims(oldToken, first)).resolves.toBeDefined();
    await first.stop();
    extraSystems.splice(extraSystems.indexOf(first), 1);

    nowMs += SIGNING_KEY_RETAIN_MS - 1000;
    const beforeExpiry = await startAnother(environment, clock);
    expect(await kidsOf(beforeExpiry.url)).toEqual([newKid, oldKid]);
    await beforeExpiry.stop();
    extraSystems.splice(extraSystems.indexOf(beforeExpiry), 1);

    nowMs += 2000;
    const afterExpiry = await startAnother(environment, clock);
    expect(await kidsOf(afterExpiry.url)).toEqual([newKid]);
  });

  it("rotates at start-up once the current key is older than the rotation age", async () => {
    const environment = {
      ...store.environment,
      DATA_DIR: mkdtempSync(join(tmpdir(), "counter-ledger-keys-")),
    };
    let nowMs = Date.now();
    const clock = { now: () => nowMs };
    const first = await startAnother(environment, clock);
    const [kid] = await kidsOf(first.url);
    await first.stop();
    extraSystems.splice(extraSystems.indexOf(first), 1);

    nowMs += SIGNING_KEY_ROTATE_AFTER_MS - 1000;
    const young = await startAnother(environment, clock);
    expect(await kidsOf(young.url)).toEqual([kid]);
    await young.stop();
    extraSystems.splice(extraSystems.indexOf(young), 1);

    nowMs += 2000;
    const old = await startAnother(environment, clock);
    const kids = await kidsOf(old.url);
    expect(kids).toHaveLength(2);
    expect(kids[1]).toBe(kid);
  });
});

/** `npm run token` as a user runs it; resolves with its exit code and output. */
function runToken(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn("npm", ["run", "--silent", "token", "--", ...args], {
      cwd: REPOSITORY_ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        npm_config_update_notifier: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe("npm run token", () => {
  it("prints audrey's access token as its last line", async () => {
    const run = await runToken([
      "--url",
      system.url,
      "--user",
      "audrey",
      "--scope",
      "counter:write counter:audit",
    ]);
    expect(run.code).toBe(0);
    const lastLine = run.stdout.trimEnd().split("\n").at(-1) ?? "";
    expect(lastLine).toMatch(JWT_SHAPE);
    const { payload } = await verifiedClaims(lastLine);
    expect(payload.username).toBe("audrey");
    expect(String(payload.scope).split(" ").sort()).toEqual(["counter:audit", "counter:write"]);
    expect(run.stderr).toContain("audrey");
  });

  it("refuses a wrong password (exit 1) and an unknown flag (usage, exit 2)", async () => {
    const wrong = await runToken(["--url", system.url, "--user", "alice", "--password", "nope"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe("");
    expect(wrong.stderr).toContain("wrong user name or password");
    const unknown = await runToken(["--url", system.url, "--user", "alice", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/usage: npm run token/);
    const missing = await runToken(["--url", system.url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--user/);
  });
});

describe("/config.json", () => {
  it("names the issuer, the web client and its scopes with AUTH on", async () => {
    const response = await fetch(`${system.url}/config.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      auth: {
        authority: system.issuer,
        clientId: "counter-ledger-web",
        scope: "openid counter:write counter:audit",
      },
    });
  });

  it("is {auth: null} with AUTH=off, and there is no issuer", async () => {
    const anonymous = await startAnother({ ...store.environment, AUTH: "off" });
    expect(anonymous.issuer).toBeUndefined();
    expect(await (await fetch(`${anonymous.url}/config.json`)).json()).toEqual({ auth: null });
    expect((await fetch(`${anonymous.url}/oidc/.well-known/openid-configuration`)).status).toBe(404);
  });
});

describe("quiet", () => {
  it("printed no oidc-provider notice or warning while all of the above ran", () => {
    expect(printed.filter((line) => /oidc-provider/i.test(line))).toEqual([]);
  });
});
