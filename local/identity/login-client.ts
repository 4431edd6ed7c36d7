// Signs a development user in to the local issuer over HTTP as a browser would, for `npm run token` and the tests:
// the authorization code flow with PKCE (S256) of the `counter-ledger-cli` client — GET the authorization
// endpoint, follow it to our sign-in page, POST the credentials, follow the redirects to the code, exchange the
// code at the token endpoint. Nothing is shortcut: the issuer cannot tell this client from a browser.

import { createHash, randomBytes } from "node:crypto";
import { SCOPES } from "../../contract/auth";
import { CLI_CLIENT_ID, CLI_REDIRECT_URI, ISSUER_PATH } from "./clients";
import { DEVELOPMENT_PASSWORD } from "./users";

/** Redirects and pages a sign-in may go through before it reaches the code. */
const STEPS_MAX = 10;

/** A sign-in that did not give a token; `code` is the OAuth error code when the issuer named one. */
export class SignInError extends Error {
  override readonly name = "SignInError";
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The few lines of a cookie jar this flow needs: one host, every cookie sent back, expired ones forgotten. */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const separator = pair.indexOf("=");
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = "", date = ""] = attribute.split("=");
        return key.trim().toLowerCase() === "expires" && Date.parse(date) <= Date.now();
      });
      if (value === "" || expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): Record<string, string> {
    if (this.#cookies.size === 0) return {};
    return { Cookie: [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ") };
  }
}

export interface SignInOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:3000 (the issuer is `${baseUrl}/oidc`). */
  readonly baseUrl: string;
  readonly user: string;
  /** Defaults to the development password. */
  readonly password?: string;
  /** Space-separated API scopes; `counter:write` by default. `openid` is added. */
  readonly scope?: string;
}

export interface AuthorizationOptions extends SignInOptions {
  /** PKCE as sent; by default S256 of a fresh verifier (tests send other values, or none, to see them refused). */
  readonly codeChallenge?: string | null;
  readonly codeChallengeMethod?: string | null;
  /** Another client than `counter-ledger-cli` (tests of the web UI's client), with one of its redirect URIs. */
  readonly client?: { readonly id: string; readonly redirectUri: string };
  /** `none` asks for a code without any page, as a UI's silent renewal does. */
  readonly prompt?: string;
  /** The browser's cookies, to carry a session from one sign-in to the next. */
  readonly jar?: CookieJar;
}

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
}

export function issuerOf(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${ISSUER_PATH}`;
}

export async function discover(baseUrl: string): Promise<Discovery> {
  const response = await fetch(`${issuerOf(baseUrl)}/.well-known/openid-configuration`);
  if (response.status !== 200) {
    throw new SignInError(`no OpenID Connect issuer at ${issuerOf(baseUrl)} (HTTP ${response.status})`);
  }
  return (await response.json()) as Discovery;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** The form of our sign-in page (local/identity/pages.ts): where it posts, if this page is it. */
function loginFormAction(html: string, pageUrl: string): string | undefined {
  if (!/name="username"/.test(html)) return undefined;
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  return action === undefined ? undefined : new URL(action.replaceAll("&amp;", "&"), pageUrl).href;
}

/** The code (or the refusal) in the redirect back to the client, checked against the request's state and issuer. */
function codeFrom(location: URL, state: string, issuer: string): string {
  const error = location.searchParams.get("error");
  if (error !== null) throw new SignInError(`the issuer refused the sign-in: ${error}`, error);
  if (location.searchParams.get("state") !== state)
    throw new SignInError("the issuer answered another request");
  if (location.searchParams.get("iss") !== issuer)
    throw new SignInError("the answer came from another issuer");
  const code = location.searchParams.get("code");
  if (code === null) throw new SignInError("the issuer answered without a code");
  return code;
}

/** Walks the sign-in from the authorization request to the redirect back to the client; answers the code. */
async function walkToCode(start: string, options: AuthorizationOptions, state: string, issuer: string) {
  const jar = options.jar ?? new CookieJar();
  const redirect = new URL(options.client?.redirectUri ?? CLI_REDIRECT_URI);
  const isRedirect = (url: URL): boolean =>
    url.origin === redirect.origin && url.pathname === redirect.pathname;
  let request: { url: string; init: RequestInit } = { url: start, init: {} };
  let posted = false;
  for (let step = 0; step < STEPS_MAX; step += 1) {
    const headers = { ...jar.header(), ...(request.init.headers as Record<string, string> | undefined) };
    const response = await fetch(request.url, { ...request.init, headers, redirect: "manual" });
    jar.store(response);
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location !== null) {
      const next = new URL(location, request.url);
      if (isRedirect(next)) return codeFrom(next, state, issuer);
      request = { url: next.href, init: {} };
      continue;
    }
    const html = await response.text();
    if (posted && response.status === 401) throw new SignInError("wrong user name or password");
    const action = response.status === 200 && !posted ? loginFormAction(html, request.url) : undefined;
    if (action === undefined) throw new SignInError(`the issuer answered HTTP ${response.status}`);
    posted = true;
    const body = new URLSearchParams({
      username: options.user,
      password: options.password ?? DEVELOPMENT_PASSWORD,
    });
    const formHeaders = { "Content-Type": "application/x-www-form-urlencoded" };
    request = { url: action, init: { method: "POST", body: body.toString(), headers: formHeaders } };
  }
  throw new SignInError("the sign-in did not end");
}

/** Signs the user in and answers the authorization code, with the PKCE verifier that goes with it. */
export async function authorizationCode(
  options: AuthorizationOptions,
): Promise<{ readonly code: string; readonly verifier: string; readonly discovery: Discovery }> {
  const discovery = await discover(options.baseUrl);
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(16).toString("base64url");
  const url = new URL(discovery.authorization_endpoint);
  const parameters = new URLSearchParams({
    client_id: options.client?.id ?? CLI_CLIENT_ID,
    response_type: "code",
    redirect_uri: options.client?.redirectUri ?? CLI_REDIRECT_URI,
    scope: `openid ${options.scope ?? SCOPES.write}`,
    state,
    nonce: randomBytes(16).toString("base64url"),
  });
  const pkce = { code_challenge: options.codeChallenge, code_challenge_method: options.codeChallengeMethod };
  for (const [name, value] of Object.entries(pkce)) {
    if (value !== null) parameters.set(name, value ?? (name === "code_challenge" ? challenge : "S256"));
  }
  if (options.prompt !== undefined) parameters.set("prompt", options.prompt);
  url.search = parameters.toString();
  const code = await walkToCode(url.href, options, state, discovery.issuer);
  return { code, verifier, discovery };
}

/** The token endpoint's answer to a code (and a verifier, unless a test leaves it out). */
export function exchangeCode(
  tokenEndpoint: string,
  code: string,
  verifier: string | undefined,
  client: AuthorizationOptions["client"] = undefined,
): Promise<Response> {
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: client?.redirectUri ?? CLI_REDIRECT_URI,
    client_id: client?.id ?? CLI_CLIENT_ID,
  });
  if (verifier !== undefined) body.set("code_verifier", verifier);
  return fetch(tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: body.toString(),
  });
}

export interface IssuedTokens {
  readonly accessToken: string;
  readonly idToken: string | undefined;
  /** The scopes granted: what was asked for and the user may have ("" for none). */
  readonly scope: string;
  readonly expiresInSeconds: number;
}

/** Signs in and exchanges the code: the tokens the issuer gives this user for these scopes. */
export async function signIn(options: SignInOptions): Promise<IssuedTokens> {
  const { code, verifier, discovery } = await authorizationCode(options);
  const response = await exchangeCode(discovery.token_endpoint, code, verifier);
  const answer = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200 || typeof answer.access_token !== "string") {
    const error = typeof answer.error === "string" ? answer.error : undefined;
    throw new SignInError(`the token endpoint answered HTTP ${response.status} ${error ?? ""}`.trim(), error);
  }
  return {
    accessToken: answer.access_token,
    idToken: typeof answer.id_token === "string" ? answer.id_token : undefined,
    scope: typeof answer.scope === "string" ? answer.scope : "",
    expiresInSeconds: typeof answer.expires_in === "number" ? answer.expires_in : 0,
  };
}

/** An access token of the local issuer for the user and scopes (`counter:write` by default). */
export async function accessTokenFor(options: SignInOptions): Promise<string> {
  return (await signIn(options)).accessToken;
}
