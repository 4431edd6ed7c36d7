// The browser entry point: reads the page's runtime configuration (`config.json`: where to sign in, or
// AUTH=off), sets up signing in, makes the API client from the build-time base URL — sending the signed-in
// person's access token — and renders the app. A sign-in the page came back from is finished before the
// first render, so the address bar never keeps the one-time code.

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { buildTimeBaseUrl, createCounterApi } from "./api";
import { App } from "./app";
import { authOff, authUnavailable, type Auth } from "./auth";
import { loadUiConfig } from "./config";
import { createOidcAuth } from "./oidc-auth";
import "./styles.css";

const baseUrl = buildTimeBaseUrl();
const root = document.getElementById("root");
if (root === null) throw new Error('index.html must hold an element with id="root"');
const rootElement = root;

async function startAuth(): Promise<Auth> {
  const answer = await loadUiConfig(window.location.href);
  if (answer.kind === "unavailable") return authUnavailable(answer.reason);
  if (answer.config.auth === null) return authOff();
  const auth = createOidcAuth({
    config: answer.config.auth,
    pageUrl: window.location.href,
    transientStore: window.sessionStorage,
    replaceUrl: (url) => window.history.replaceState(null, "", url),
  });
  // Not awaited: the page shows "Checking whether you are signed in…" meanwhile, and the number at once.
  void auth.start();
  return auth;
}

void startAuth().then((auth) => {
  const api = createCounterApi({ baseUrl, credentials: auth });
  createRoot(rootElement).render(
    <StrictMode>
      <App api={api} auth={auth} baseUrl={baseUrl} />
    </StrictMode>,
  );
});
