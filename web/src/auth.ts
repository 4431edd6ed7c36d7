// Who is using the page, as the rest of the UI sees it: a small interface, so that components and tests never
// touch the OpenID Connect library. The real implementation signs in with oidc-client-ts (oidc-auth.ts); the
// component tests drive a fake one (tests/unit/web/fake-auth.ts). Also here: what the page lets a person do with
// what they were granted (the scopes of contract/auth.ts), and the name it shows for them.

import { SCOPES } from "../../contract/auth";

/** The signed-in person, as the page needs them: never the ID token, never a refresh token. */
export interface SignedInUser {
  /** The name shown: the access token's `username`, else the ID token's `preferred_username` or `name`, else `sub`. */
  readonly name: string;
  /** The scopes granted (the access token's `scope`), which decide what the page offers. */
  readonly scopes: readonly string[];
  /** Sent as `Authorization: Bearer …` with every API call. Held in memory only. */
  readonly accessToken: string;
}

export type AuthState =
  /** The API runs with AUTH=off (`/config.json` says `auth: null`): no sign-in, everything enabled. */
  | { readonly kind: "off" }
  /** Sign-in cannot work: `/config.json` could not be read. `reason` is a sentence for people. */
  | { readonly kind: "unavailable"; readonly reason: string }
  /** On load: finishing a sign-in, or asking the issuer silently whether its session still lives. */
  | { readonly kind: "checking" }
  /** `notice` says why, when the session ended without the person asking (a renewal failed). */
  | { readonly kind: "signedOut"; readonly notice: string | null }
  | { readonly kind: "signedIn"; readonly user: SignedInUser };

export interface Auth {
  /** The current state; the same object until it changes (for React's useSyncExternalStore). */
  readonly state: () => AuthState;
  readonly subscribe: (listener: () => void) => () => void;
  /** Leaves for the issuer's login page; the page comes back signed in. */
  readonly signIn: () => void;
  readonly signOut: () => void;
  /** The access token to send, or null when nobody is signed in. */
  readonly accessToken: () => string | null;
  /**
   * The API answered 401 to a request sent with `tokenSent`: the token expired or was revoked. Tries one
   * silent renewal; when that fails, or the renewed token is refused too, the page is signed out.
   */
  readonly unauthorized: (tokenSent: string) => void;
}

/** The auth of a page whose API runs with AUTH=off: nobody signs in, nothing is sent. */
export function authOff(): Auth {
  return fixedAuth({ kind: "off" });
}

/** The auth of a page that cannot sign anybody in, saying why. */
export function authUnavailable(reason: string): Auth {
  return fixedAuth({ kind: "unavailable", reason });
}

function fixedAuth(state: AuthState): Auth {
  return {
    state: () => state,
    subscribe: () => () => undefined,
    signIn: () => undefined,
    signOut: () => undefined,
    accessToken: () => null,
    unauthorized: () => undefined,
  };
}

/** What the page offers the person using it. */
export interface Access {
  /** Why Increment and Decrement are disabled, in words shown beside them; null when they are not. */
  readonly writeBlocked: string | null;
  /** History and Verify: only for `counter:audit` (the routes need it). */
  readonly audit: boolean;
}

export function accessOf(state: AuthState): Access {
  switch (state.kind) {
    case "off":
      return { writeBlocked: null, audit: true };
    case "unavailable":
      return { writeBlocked: state.reason, audit: false };
    case "checking":
      return { writeBlocked: "Checking whether you are signed in…", audit: false };
    case "signedOut":
      return { writeBlocked: "Sign in to change the number.", audit: false };
    case "signedIn": {
      const { scopes } = state.user;
      return {
        writeBlocked: scopes.includes(SCOPES.write) ? null : "Your account may only read the number.",
        audit: scopes.includes(SCOPES.audit),
      };
    }
  }
}

/**
 * The claims of a JWT's payload, read without checking its signature: only to show a name and the scopes
 * granted, never to decide anything the API does not decide again. Null when it is not a JWT.
 */
export function jwtClaimsOf(token: string | undefined): Readonly<Record<string, unknown>> | null {
  const payload = token?.split(".")[1];
  if (payload === undefined) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The tokens of a sign-in, as the issuer's token endpoint answered. */
export interface IssuedTokens {
  readonly accessToken: string;
  /** The ID token's claims (oidc-client-ts's `profile`). */
  readonly idClaims: Readonly<Record<string, unknown>>;
  /** The token response's `scope`, when the access token does not say. */
  readonly grantedScope: string | undefined;
}

export function signedInUserOf(tokens: IssuedTokens): SignedInUser {
  const accessClaims = jwtClaimsOf(tokens.accessToken) ?? {};
  const text = (value: unknown) => (typeof value === "string" && value.trim() !== "" ? value : null);
  const name =
    text(accessClaims["username"]) ??
    text(tokens.idClaims["preferred_username"]) ??
    text(tokens.idClaims["name"]) ??
    text(accessClaims["sub"]) ??
    text(tokens.idClaims["sub"]) ??
    "unknown user";
  const scope = text(accessClaims["scope"]) ?? tokens.grantedScope ?? "";
  return { name, scopes: scope.split(" ").filter((word) => word !== ""), accessToken: tokens.accessToken };
}
