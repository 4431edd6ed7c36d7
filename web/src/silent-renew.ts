// The page a silent sign-in's hidden iframe lands on (`silent-renew.html`, the `silent_redirect_uri`): it posts
// the issuer's answer — a code or an error — to the page that opened the iframe, which exchanges the code with
// its own PKCE verifier (oidc-auth.ts). It holds nothing itself: the settings below are only what the library's
// constructor asks for; nothing is fetched and nothing is stored.

import { InMemoryWebStorage, UserManager, WebStorageStateStore } from "oidc-client-ts";

const nowhere = new WebStorageStateStore({ store: new InMemoryWebStorage() });
void new UserManager({
  authority: window.location.origin,
  client_id: "silent-renew",
  redirect_uri: window.location.href,
  automaticSilentRenew: false,
  monitorSession: false,
  userStore: nowhere,
  stateStore: nowhere,
}).signinSilentCallback();
