// The auth layer's state as React state: re-renders when someone signs in or out, or a session ends.

import { useSyncExternalStore } from "react";
import type { Auth, AuthState } from "./auth";

export function useAuthState(auth: Auth): AuthState {
  return useSyncExternalStore(auth.subscribe, auth.state);
}
