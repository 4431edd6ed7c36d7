// Who is signed in, and the one button that changes it: Sign in when nobody is, Sign out when someone is.
// Under AUTH=off it shows nothing at all. A session that ended by itself says so here, in plain words.

import type { Auth, AuthState } from "../auth";

export function AccountBar({ auth, state }: { readonly auth: Auth; readonly state: AuthState }) {
  switch (state.kind) {
    case "off":
      return null;
    case "unavailable":
      return (
        <div className="account" data-testid="account">
          <p className="account-note">{state.reason}</p>
        </div>
      );
    case "checking":
      return (
        <div className="account" data-testid="account" aria-busy="true">
          <p className="account-note">Checking whether you are signed in…</p>
        </div>
      );
    case "signedOut":
      return (
        <div className="account" data-testid="account">
          <p className="account-note" role={state.notice === null ? undefined : "alert"}>
            {state.notice ?? "Not signed in."}
          </p>
          <button type="button" className="secondary-button" onClick={auth.signIn}>
            Sign in
          </button>
        </div>
      );
    case "signedIn":
      return (
        <div className="account" data-testid="account">
          <p className="account-note">
            Signed in as <strong data-testid="account-name">{state.user.name}</strong>
          </p>
          <button type="button" className="secondary-button" onClick={auth.signOut}>
            Sign out
          </button>
        </div>
      );
  }
}
