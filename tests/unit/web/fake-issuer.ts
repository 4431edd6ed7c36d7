// A small OpenID Connect issuer for the sign-in tests in jsdom (oidc-auth.test.ts), so that the real
// oidc-client-ts runs its real flow: discovery, the authorization request, and the token endpoint, which checks
// the PKCE verifier against the challenge (S256) as a real issuer does. Its tokens are JWT-shaped but not
// signed: the UI never checks signatures (the API does), it only reads a name and the scopes granted.
// It also stands in for the browser's navigation: the redirect to the login page, and the hidden iframe of a
// silent sign-in (`prompt=none`). The real issuer and the real browser are proven in tests/e2e/sign-in.test.ts.

import { createHash } from "node:crypto";
import type { INavigator } from "oidc-client-ts";

export const AUTHORITY = "http://issuer.test/oidc";
export const CLIENT_ID = "counter-ledger-web";

export interface IssuerUser {
  readonly sub: string;
  readonly username: string;
  /** The scopes this user may be granted (the issuer grants what is asked and allowed). */
  readonly scopes: readonly string[];
}

interface PendingCode {
  readonly challenge: string;
  readonly redirectUri: string;
  readonly nonce: string | null;
  readonly scope: string;
}

export class FakeIssuer {
  /** The issuer's identifier: AUTHORITY, or a Cognito user pool's. */
  constructor(readonly authority = AUTHORITY) {}

  user: IssuerUser = { sub: "sub-audrey", username: "audrey", scopes: ["counter:write", "counter:audit"] };
  /** Whether the browser holds a live session cookie at the issuer: what `prompt=none` finds. */
  sessionAlive = false;
  /** Every access token issued, oldest first. */
  readonly accessTokens: string[] = [];
  /** The URLs the page sent the browser to (the login page, the end-session endpoint), oldest first. */
  readonly redirects: string[] = [];
  /** Silent sign-ins asked for through the hidden iframe. */
  readonly silentRequests: URL[] = [];
  /** Token requests refused, with the reason, to show a test what went wrong. */
  readonly refusals: string[] = [];
  private readonly codes = new Map<string, PendingCode>();
  private issued = 0;

  readonly fetch = (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> =>
    Promise.resolve(this.answer(input, init));

  private answer(input: RequestInfo | URL, init: RequestInit): Response {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    if (url.href === `${this.authority}/.well-known/openid-configuration`) {
      // Cognito's discovery names no end-session endpoint, and its endpoints live on the pool's own domain.
      const cognito = this.authority !== AUTHORITY;
      const endpoints = cognito ? "https://pool.auth.example.test/oauth2" : this.authority;
      return json(200, {
        issuer: this.authority,
        authorization_endpoint: `${endpoints}/auth`,
        token_endpoint: `${endpoints}/token`,
        ...(cognito ? {} : { end_session_endpoint: `${this.authority}/session/end` }),
        jwks_uri: `${this.authority}/jwks`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname.endsWith("/token") && init.method === "POST" && init.body instanceof URLSearchParams) {
      return this.token(init.body);
    }
    return json(404, { error: "not_found" });
  }

  /** The browser's navigation away from the page: recorded; the page is gone, so it never resolves. */
  readonly redirectNavigator: INavigator = {
    prepare: () =>
      Promise.resolve({
        navigate: (params) => {
          this.redirects.push(params.url);
          return new Promise(() => undefined);
        },
        close: () => undefined,
      }),
    callback: () => Promise.resolve(),
  };

  /** The hidden iframe of a silent sign-in: the issuer answers at once, with a code or `login_required`. */
  readonly iframeNavigator: INavigator = {
    prepare: () =>
      Promise.resolve({
        navigate: (params) => {
          const request = new URL(params.url);
          this.silentRequests.push(request);
          return Promise.resolve({ url: this.authorize(request, false) });
        },
        close: () => undefined,
      }),
    callback: () => Promise.resolve(),
  };

  /**
   * The authorization endpoint: where it sends the browser back to. `signsIn` is the person submitting the
   * login form; without it, only a live session signs them in, and `prompt=none` never shows a form.
   */
  authorize(request: URL, signsIn: boolean): string {
    const parameters = request.searchParams;
    const back = new URL(parameters.get("redirect_uri") ?? "");
    back.searchParams.set("state", parameters.get("state") ?? "");
    const valid =
      parameters.get("response_type") === "code" &&
      parameters.get("client_id") === CLIENT_ID &&
      parameters.get("code_challenge_method") === "S256" &&
      (parameters.get("code_challenge") ?? "") !== "";
    if (!valid) {
      back.searchParams.set("error", "invalid_request");
      return back.href;
    }
    if (signsIn) this.sessionAlive = true;
    if (!this.sessionAlive) {
      back.searchParams.set("error", "login_required");
      return back.href;
    }
    const code = `code-${(this.issued += 1)}`;
    this.codes.set(code, {
      challenge: parameters.get("code_challenge") ?? "",
      redirectUri: back.origin + back.pathname,
      nonce: parameters.get("nonce"),
      scope: parameters.get("scope") ?? "",
    });
    back.searchParams.set("code", code);
    return back.href;
  }

  private token(form: URLSearchParams): Response {
    const code = this.codes.get(form.get("code") ?? "");
    this.codes.delete(form.get("code") ?? "");
    const verifier = form.get("code_verifier") ?? "";
    const reason =
      form.get("grant_type") !== "authorization_code"
        ? "grant_type"
        : code === undefined
          ? "unknown or used code"
          : form.get("client_id") !== CLIENT_ID
            ? "client_id"
            : form.get("redirect_uri") !== code.redirectUri
              ? "redirect_uri"
              : createHash("sha256").update(verifier).digest("base64url") !== code.challenge
                ? "PKCE verifier does not match the challenge"
                : null;
    if (reason !== null || code === undefined) {
      this.refusals.push(reason ?? "unknown");
      return json(400, { error: "invalid_grant" });
    }
    const now = Math.floor(Date.now() / 1000);
    const granted = code.scope.split(" ").filter((scope) => this.user.scopes.includes(scope));
    const accessToken = unsignedJwt({
      iss: this.authority,
      sub: this.user.sub,
      client_id: CLIENT_ID,
      scope: granted.join(" "),
      username: this.user.username,
      token_use: "access",
      iat: now,
      exp: now + 3600,
      jti: `jti-${this.issued}`,
    });
    this.accessTokens.push(accessToken);
    const idToken = unsignedJwt({
      iss: this.authority,
      sub: this.user.sub,
      aud: CLIENT_ID,
      iat: now,
      exp: now + 3600,
      ...(code.nonce === null ? {} : { nonce: code.nonce }),
    });
    return json(200, {
      access_token: accessToken,
      id_token: idToken,
      token_type: "Bearer",
      expires_in: 3600,
      scope: ["openid", ...granted].join(" "),
    });
  }
}

function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT", kid: "test" })}.${part(claims)}.c2lnbmF0dXJl`;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
