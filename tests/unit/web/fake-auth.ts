// A stand-in for the page's sign-in (web/src/auth.ts's `Auth`) in the component tests: a test puts it in any
// state — signed out, signed in as a development user with some scopes — without an issuer, and sees what the
// page does. Tokens come from the fake API (fake-api.ts), so the API honours exactly the ones it issued.
// It keeps the real one's rule on a 401 (oidc-auth.ts, tested with the real library in oidc-auth.test.ts):
// one silent renewal, and signed out when that fails or its token is refused too.

import type { Auth, AuthState } from "../../../web/src/auth";
import type { FakeCaller, FakeCounterApi } from "./fake-api";

export const WRITER: FakeCaller = { sub: "sub-alice", name: "alice", scopes: ["counter:write"] };
export const AUDITOR: FakeCaller = {
  sub: "sub-audrey",
  name: "audrey",
  scopes: ["counter:write", "counter:audit"],
};
export const READER: FakeCaller = { sub: "sub-rita", name: "rita", scopes: [] };

export const FAKE_SESSION_ENDED = "Your session has ended; sign in again to change the number.";

export class FakeAuth implements Auth {
  private current: AuthState = { kind: "signedOut", notice: null };
  private readonly listeners = new Set<() => void>();
  private caller: FakeCaller | null = null;
  private renewedAfterRefusal: string | null = null;
  /** How many times the page asked to go to the issuer's login page. */
  signInRequests = 0;
  /** Whether a silent renewal finds the issuer's session alive. */
  issuerSessionAlive = true;

  constructor(private readonly api: FakeCounterApi) {}

  readonly state = (): AuthState => this.current;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly signIn = (): void => {
    this.signInRequests += 1;
  };

  readonly signOut = (): void => {
    this.caller = null;
    this.set({ kind: "signedOut", notice: null });
  };

  readonly accessToken = (): string | null =>
    this.current.kind === "signedIn" ? this.current.user.accessToken : null;

  readonly unauthorized = (tokenSent: string): void => {
    if (this.current.kind !== "signedIn" || tokenSent !== this.current.user.accessToken) return;
    if (tokenSent === this.renewedAfterRefusal || !this.issuerSessionAlive || this.caller === null) {
      this.caller = null;
      this.set({ kind: "signedOut", notice: FAKE_SESSION_ENDED });
      return;
    }
    this.renewedAfterRefusal = this.signInAs(this.caller);
  };

  /** Signed in as `caller`, with a fresh token from the fake API; returns the token. */
  signInAs(caller: FakeCaller): string {
    this.caller = caller;
    const accessToken = this.api.issueToken(caller);
    this.set({ kind: "signedIn", user: { name: caller.name, scopes: caller.scopes, accessToken } });
    return accessToken;
  }

  set(state: AuthState): void {
    this.current = state;
    for (const listener of this.listeners) listener();
  }
}
