// Signing in with OpenID Connect through oidc-client-ts: the authorization code flow with PKCE (the library's
// default for `response_type: "code"`), as a public client without a secret. It holds the tokens in memory
// only — a reload forgets them and asks the issuer again, silently, whether its session still lives.
//
// Storage, on purpose:
// - the user (access and ID tokens) lives in an InMemoryWebStorage: never localStorage, never sessionStorage;
// - the transient state of one redirect round trip (the `state` id, the PKCE `code_verifier`, the nonce) must
//   survive the page being left for the issuer's login page, so it goes to sessionStorage (this tab only;
//   the library's default would be localStorage). The library removes it when the page comes back.
//
// Silent renewal runs in a hidden iframe with `prompt=none`, redirected to `silent-renew.html` on the page's
// own origin (silent-renew.ts); the library renews a minute before the access token expires. When renewal
// fails — the issuer's session ended, or its cookie cannot reach the iframe — the page says "signed out".

import {
  InMemoryWebStorage,
  UserManager,
  WebStorageStateStore,
  type INavigator,
  type User,
} from "oidc-client-ts";
import type { UiAuthConfig } from "../../contract/schemas";
import { signedInUserOf, type Auth, type AuthState } from "./auth";

/** Said when a session ends without the person signing out: a renewal failed or the API refused the token. */
export const SESSION_ENDED = "Your session has ended; sign in again to change the number.";
/** Said when the issuer sent the page back without a sign-in (an error, or the person went back). */
export const SIGN_IN_FAILED = "Signing in did not complete; try again.";

/** How long a silent sign-in may take before it counts as failed: quick, since the page waits for it on load. */
const SILENT_TIMEOUT_SECONDS = 8;

export interface OidcAuthOptions {
  readonly config: UiAuthConfig;
  /** The page's address (`location.href`): the redirect URIs are beside it, on the same origin. */
  readonly pageUrl: string;
  /** Where the transient redirect state goes; sessionStorage in the browser. */
  readonly transientStore: Storage;
  /** Replaces the address shown once a sign-in's `code` and `state` are used up (history.replaceState). */
  readonly replaceUrl: (url: string) => void;
  /** For tests: stands in for the browser's navigation to the issuer, and for the hidden iframe. */
  readonly redirectNavigator?: INavigator;
  readonly iframeNavigator?: INavigator;
  /** Sends the browser to a URL (Cognito's logout); `location.assign` in the browser. */
  readonly navigate?: (url: string) => void;
}

export interface OidcAuth extends Auth {
  /** Finishes a sign-in the page came back from, else tries a silent one. Call once, at start. */
  readonly start: () => Promise<void>;
}

/** The page's own directory: `https://host/app/?code=…` → `https://host/app/`. */
export function pageBaseOf(pageUrl: string): string {
  return new URL("./", pageUrl).href;
}

export function createOidcAuth(options: OidcAuthOptions): OidcAuth {
  const { config } = options;
  const base = pageBaseOf(options.pageUrl);
  const manager = new UserManager(
    {
      authority: config.authority,
      client_id: config.clientId,
      scope: config.scope,
      response_type: "code",
      redirect_uri: base,
      silent_redirect_uri: new URL("silent-renew.html", base).href,
      post_logout_redirect_uri: base,
      userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
      stateStore: new WebStorageStateStore({ store: options.transientStore }),
      automaticSilentRenew: true,
      silentRequestTimeoutInSeconds: SILENT_TIMEOUT_SECONDS,
      // A failed silent renewal is final here: the page says "signed out" rather than retrying in silence.
      maxSilentRenewTimeoutRetries: 0,
      monitorSession: false,
      loadUserInfo: false,
    },
    options.redirectNavigator,
    undefined,
    options.iframeNavigator,
  );

  let state: AuthState = { kind: "checking" };
  const listeners = new Set<() => void>();
  const set = (next: AuthState) => {
    state = next;
    for (const listener of listeners) listener();
  };
  const signedIn = (user: User) =>
    set({
      kind: "signedIn",
      user: signedInUserOf({
        accessToken: user.access_token,
        idClaims: user.profile,
        grantedScope: user.scope,
      }),
    });
  const endSession = async (notice: string | null) => {
    await manager.removeUser().catch(() => undefined);
    set({ kind: "signedOut", notice });
  };

  /** The token a renewal brought after the API refused the one before: refused too means signed out. */
  let renewedAfterRefusal: string | null = null;
  let renewing = false;

  manager.events.addUserLoaded((user) => {
    // The library announces the renewed user before signinSilent returns it: a 401 may come in between.
    if (renewing) {
      renewedAfterRefusal = user.access_token;
      renewing = false;
    }
    signedIn(user);
  });
  manager.events.addSilentRenewError(() => void endSession(SESSION_ENDED));
  manager.events.addAccessTokenExpired(() => {
    if (state.kind === "signedIn") void endSession(SESSION_ENDED);
  });

  async function renewAfterRefusal(): Promise<void> {
    renewing = true;
    try {
      await manager.signinSilent().then(requireUser);
    } catch {
      await endSession(SESSION_ENDED);
    } finally {
      renewing = false;
    }
  }

  return {
    state: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    accessToken: () => (state.kind === "signedIn" ? state.user.accessToken : null),

    async start() {
      const url = new URL(options.pageUrl);
      const returning =
        url.searchParams.has("state") && (url.searchParams.has("code") || url.searchParams.has("error"));
      if (returning) {
        try {
          signedIn(await manager.signinCallback(url.href).then(requireUser));
        } catch {
          set({ kind: "signedOut", notice: SIGN_IN_FAILED });
        }
        // The code is used up: keep it out of the address bar, the history and any bookmark.
        url.searchParams.delete("code");
        url.searchParams.delete("state");
        url.searchParams.delete("session_state");
        url.searchParams.delete("iss");
        url.searchParams.delete("error");
        url.searchParams.delete("error_description");
        options.replaceUrl(url.href);
        return;
      }
      try {
        signedIn(await manager.signinSilent().then(requireUser));
      } catch {
        set({ kind: "signedOut", notice: null });
      }
    },

    signIn() {
      void manager.signinRedirect().catch(() => set({ kind: "signedOut", notice: SIGN_IN_FAILED }));
    },

    signOut() {
      void (async () => {
        // The issuer's session ends too, so that the next load's silent sign-in finds none: through its
        // end-session endpoint (the local issuer's), else Cognito's own /logout; else the page only forgets.
        const endpoint = await manager.metadataService.getEndSessionEndpoint().catch(() => undefined);
        if (endpoint !== undefined) {
          try {
            await manager.signoutRedirect({ extraQueryParams: { client_id: config.clientId } });
            return;
          } catch {
            // Signed out here at least, below.
          }
        }
        const cognitoLogout = await cognitoLogoutOf(manager, config, base);
        await endSession(null);
        if (cognitoLogout !== null)
          (options.navigate ?? ((url) => window.location.assign(url)))(cognitoLogout);
      })();
    },

    unauthorized(tokenSent) {
      if (state.kind !== "signedIn" || tokenSent !== state.user.accessToken || renewing) return;
      if (tokenSent === renewedAfterRefusal) void endSession(SESSION_ENDED);
      else void renewAfterRefusal();
    },
  };
}

/**
 * Cognito's discovery names no end-session endpoint; its managed login signs out at `/logout` on the domain of
 * its authorization endpoint, with `client_id` and a `logout_uri` registered on the app client. Null for any
 * other issuer, or when the discovery document cannot be read.
 */
async function cognitoLogoutOf(
  manager: UserManager,
  config: UiAuthConfig,
  base: string,
): Promise<string | null> {
  if (!new URL(config.authority).hostname.startsWith("cognito-idp.")) return null;
  const authorize = await manager.metadataService.getAuthorizationEndpoint().catch(() => null);
  if (authorize === null) return null;
  const logout = new URL("/logout", authorize);
  logout.searchParams.set("client_id", config.clientId);
  logout.searchParams.set("logout_uri", base);
  return logout.href;
}

function requireUser(user: User | null | undefined): User {
  if (user === null || user === undefined) throw new Error("the issuer sent no user");
  return user;
}
