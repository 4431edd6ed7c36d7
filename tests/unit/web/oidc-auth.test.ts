// The page's sign-in (web/src/oidc-auth.ts) with the real oidc-client-ts, against a small issuer (fake-issuer.ts)
// whose token endpoint checks PKCE: the authorization code flow, where the tokens are kept (in memory: nothing
// token-like in localStorage or sessionStorage once signed in), the silent sign-in on load, the one renewal a
// 401 earns, signing out, and a sign-in that came back with an error.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AuthState } from "../../../web/src/auth";
import { createOidcAuth, SESSION_ENDED, SIGN_IN_FAILED, type OidcAuth } from "../../../web/src/oidc-auth";
import { AUTHORITY, CLIENT_ID, FakeIssuer } from "./fake-issuer";

const PAGE = "http://ui.test/";
const SCOPE = "openid counter:write counter:audit";

let issuer: FakeIssuer;
let shownUrls: string[];

beforeEach(() => {
  issuer = new FakeIssuer();
  shownUrls = [];
  vi.stubGlobal("fetch", issuer.fetch);
  localStorage.clear();
  sessionStorage.clear();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A page load at `pageUrl`: a fresh sign-in, as the browser builds it after every navigation. */
function loadPage(pageUrl = PAGE): OidcAuth {
  return createOidcAuth({
    config: { authority: issuer.authority, clientId: CLIENT_ID, scope: SCOPE },
    navigate: (url) => issuer.redirects.push(url),
    pageUrl,
    transientStore: sessionStorage,
    replaceUrl: (url) => shownUrls.push(url),
    redirectNavigator: issuer.redirectNavigator,
    iframeNavigator: issuer.iframeNavigator,
  });
}

/** Resolves with the first state that passes `test`. */
function until(auth: OidcAuth, test: (state: AuthState) => boolean): Promise<AuthState> {
  return new Promise((resolve) => {
    if (test(auth.state())) return resolve(auth.state());
    const stop = auth.subscribe(() => {
      if (!test(auth.state())) return;
      stop();
      resolve(auth.state());
    });
  });
}

async function waitForRedirect(count: number): Promise<URL> {
  await vi.waitFor(() => expect(issuer.redirects).toHaveLength(count));
  return new URL(issuer.redirects[count - 1]!);
}

/** Everything both storages hold, keys and values, as one string. */
function storedText(): string {
  const dump = (storage: Storage) =>
    Array.from({ length: storage.length }, (_, index) => {
      const key = storage.key(index) ?? "";
      return `${key}=${storage.getItem(key)}`;
    }).join("\n");
  return `${dump(localStorage)}\n${dump(sessionStorage)}`;
}

/** Signs in through the login page: the redirect, the person's sign-in, and the page loaded again. */
async function signInThroughLoginPage(): Promise<OidcAuth> {
  const first = loadPage();
  await first.start();
  first.signIn();
  const loginRequest = await waitForRedirect(1);
  const back = issuer.authorize(loginRequest, true);
  const second = loadPage(back);
  await second.start();
  return second;
}

describe("signing in with oidc-client-ts", () => {
  it("uses the authorization code with PKCE (S256) and no secret, on the page's own redirect URI", async () => {
    const page = loadPage();
    await page.start();
    expect(page.state()).toEqual({ kind: "signedOut", notice: null });
    page.signIn();
    const request = await waitForRedirect(1);
    expect(request.origin + request.pathname).toBe(`${issuer.authority}/auth`);
    expect(Object.fromEntries(request.searchParams)).toMatchObject({
      client_id: CLIENT_ID,
      response_type: "code",
      redirect_uri: PAGE,
      scope: SCOPE,
      code_challenge_method: "S256",
    });
    expect(request.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request.searchParams.has("client_secret")).toBe(false);
    // While the browser is away, only the transient redirect state is kept, in this tab's sessionStorage.
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(1);
  });

  it("comes back signed in, shows the access token's username, and keeps no token in web storage", async () => {
    const page = await signInThroughLoginPage();
    const state = page.state();
    expect(issuer.refusals).toEqual([]);
    expect(state).toEqual({
      kind: "signedIn",
      user: {
        name: "audrey",
        scopes: ["counter:write", "counter:audit"],
        accessToken: issuer.accessTokens[0],
      },
    });
    expect(page.accessToken()).toBe(issuer.accessTokens[0]);
    // The one-time code leaves the address bar.
    expect(shownUrls).toEqual([PAGE]);
    // Tokens live in memory only: neither storage holds anything once the redirect is done.
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(storedText()).not.toMatch(/token|verifier|eyJ/i);
  });

  it("the token endpoint refuses a code without the page's verifier: PKCE is what binds it", async () => {
    const first = loadPage();
    await first.start();
    first.signIn();
    const back = issuer.authorize(await waitForRedirect(1), true);
    sessionStorage.clear(); // another tab, or the transient state lost: no verifier to send
    const second = loadPage(back);
    await second.start();
    expect(second.state()).toEqual({ kind: "signedOut", notice: SIGN_IN_FAILED });
    expect(issuer.accessTokens).toEqual([]);
  });

  it("on load, a live issuer session signs the page in silently (prompt=none in the hidden iframe)", async () => {
    issuer.sessionAlive = true;
    const page = loadPage();
    await page.start();
    expect(page.state()).toMatchObject({ kind: "signedIn", user: { name: "audrey" } });
    const [silent] = issuer.silentRequests;
    expect(silent?.searchParams.get("prompt")).toBe("none");
    expect(silent?.searchParams.get("redirect_uri")).toBe(`${PAGE}silent-renew.html`);
    expect(issuer.redirects).toEqual([]);
    expect(storedText()).not.toMatch(/token|verifier|eyJ/i);
  });

  it("a sign-in that comes back with an error says so, and leaves the address bar clean", async () => {
    const first = loadPage();
    await first.start();
    first.signIn();
    const request = await waitForRedirect(1);
    const back = new URL(PAGE);
    back.searchParams.set("error", "access_denied");
    back.searchParams.set("state", request.searchParams.get("state") ?? "");
    const second = loadPage(back.href);
    await second.start();
    expect(second.state()).toEqual({ kind: "signedOut", notice: SIGN_IN_FAILED });
    expect(shownUrls).toEqual([PAGE]);
  });
});

describe("when the API refuses the token (401)", () => {
  it("renews once, silently; a renewed token refused too signs the page out", async () => {
    const page = await signInThroughLoginPage();
    const first = page.accessToken() ?? "";
    page.unauthorized(first);
    const renewed = await until(
      page,
      (state) => state.kind === "signedIn" && state.user.accessToken !== first,
    );
    expect(renewed).toMatchObject({
      kind: "signedIn",
      user: { name: "audrey", accessToken: issuer.accessTokens[1] },
    });
    expect(issuer.silentRequests.at(-1)?.searchParams.get("prompt")).toBe("none");
    // A late 401 to a request sent with the old token changes nothing.
    page.unauthorized(first);
    expect(page.accessToken()).toBe(issuer.accessTokens[1]);
    page.unauthorized(issuer.accessTokens[1] ?? "");
    expect(await until(page, (state) => state.kind === "signedOut")).toEqual({
      kind: "signedOut",
      notice: SESSION_ENDED,
    });
    expect(page.accessToken()).toBeNull();
    expect(issuer.accessTokens).toHaveLength(2);
  });

  it("signs the page out when the issuer's session has ended and renewal fails", async () => {
    const page = await signInThroughLoginPage();
    issuer.sessionAlive = false;
    page.unauthorized(page.accessToken() ?? "");
    expect(await until(page, (state) => state.kind === "signedOut")).toEqual({
      kind: "signedOut",
      notice: SESSION_ENDED,
    });
    expect(page.accessToken()).toBeNull();
  });
});

describe("signing out", () => {
  it("ends the issuer's session at its end-session endpoint and comes back to the page", async () => {
    const page = await signInThroughLoginPage();
    page.signOut();
    const endSession = await waitForRedirect(2);
    expect(endSession.origin + endSession.pathname).toBe(`${AUTHORITY}/session/end`);
    expect(endSession.searchParams.get("post_logout_redirect_uri")).toBe(PAGE);
    expect(endSession.searchParams.get("client_id")).toBe(CLIENT_ID);
    // The ID token tells the issuer whose session to end; it was in memory, and goes only to the issuer.
    expect(endSession.searchParams.get("id_token_hint")).toMatch(/^eyJ/);
    expect(storedText()).not.toMatch(/token|eyJ/i);
  });
});

describe("signing out of Cognito", () => {
  it("forgets the tokens and ends the managed login's session at its /logout, since discovery names no end-session endpoint", async () => {
    issuer = new FakeIssuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool");
    vi.stubGlobal("fetch", issuer.fetch);
    const page = await signInThroughLoginPage();
    expect(page.state()).toMatchObject({ kind: "signedIn", user: { name: "audrey" } });
    page.signOut();
    const logout = await waitForRedirect(2);
    expect(logout.origin + logout.pathname).toBe("https://pool.auth.example.test/logout");
    expect(Object.fromEntries(logout.searchParams)).toEqual({ client_id: CLIENT_ID, logout_uri: PAGE });
    expect(page.state()).toEqual({ kind: "signedOut", notice: null });
    expect(page.accessToken()).toBeNull();
  });
});
