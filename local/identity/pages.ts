// The local issuer's own pages: sign in, sign out, and errors. Plain HTML with no script from elsewhere and
// nothing from the library: every word a user reads is ours, and an error page names the OAuth error code at
// most, never the library's description of it.

import { DEVELOPMENT_USERS } from "./users";

const STYLE = `
  body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f3f5f8;color:#141821;margin:0}
  main{max-width:22rem;margin:4rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #d8dde5;
    border-radius:8px}
  h1{font-size:1.3rem;margin:0 0 1rem}
  label{display:block;margin:.75rem 0 .25rem}
  input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #b8c0cc;border-radius:4px}
  button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem;border:0;border-radius:4px;
    background:#1f5fbf;color:#fff;cursor:pointer}
  .error{color:#a11a1a;background:#fdeceb;border:1px solid #f1b8b4;border-radius:4px;padding:.5rem .75rem}
  .hint{color:#556070;font-size:.85rem;margin-top:1.25rem}
`;

/** Text safe to put into HTML, in an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · counter-ledger</title>
<style>${STYLE}</style>
</head>
<body><main>${body}</main></body>
</html>
`;
}

export interface LoginPageOptions {
  /** Where the form posts to. */
  readonly action: string;
  readonly username?: string | undefined;
  readonly error?: string | undefined;
}

/** The sign-in form: `username`, `password` and a "Sign in" button. */
export function loginPage(options: LoginPageOptions): string {
  const error =
    options.error === undefined ? "" : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`;
  const users = Object.keys(DEVELOPMENT_USERS).join(", ");
  return page(
    "Sign in",
    `<h1>Sign in to counter-ledger</h1>
${error}
<form method="post" action="${escapeHtml(options.action)}" autocomplete="off">
<label for="username">User name</label>
<input id="username" name="username" value="${escapeHtml(options.username ?? "")}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>
<p class="hint">Local issuer of <code>npm start</code>. Development users: ${escapeHtml(users)}
(README, "Signing in").</p>`,
  );
}

/**
 * The sign-out page. oidc-provider asks for a confirmation; like Cognito's /logout, the local issuer signs out at
 * once: the form (oidc-provider's, with its anti-forgery field) is submitted as the page loads, and is a button
 * when scripts do not run.
 */
export function logoutPage(form: string): string {
  return page(
    "Sign out",
    `<h1>Signing out…</h1>
${form}
<noscript><button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button></noscript>
<script>
  const form = document.getElementById("op.logoutForm");
  const logout = document.createElement("input");
  logout.type = "hidden";
  logout.name = "logout";
  logout.value = "yes";
  form.appendChild(logout);
  form.submit();
</script>`,
  );
}

export function signedOutPage(): string {
  return page("Signed out", `<h1>You are signed out</h1><p>You can close this page.</p>`);
}

/** What a user is told for each OAuth error an HTML page may show; anything else gets the generic line. */
const ERROR_SENTENCES: Readonly<Record<string, string>> = {
  invalid_request: "The sign-in request is not valid. Start again from the app.",
  invalid_client: "The app asking to sign you in is not known here.",
  invalid_redirect_uri: "The app asked to return to an address it is not allowed to use.",
  invalid_scope: "The app asked for access this issuer does not give.",
  access_denied: "Sign-in was cancelled.",
  login_required: "You need to sign in again.",
  session_not_found: "This sign-in page has expired. Start again from the app.",
};

const GENERIC_ERROR = "Sign-in could not be completed. Start again from the app.";

/** An error page that says what happened in our words; the error code alone may come from the request. */
export function errorPage(code: string | undefined): string {
  const known = code !== undefined && Object.hasOwn(ERROR_SENTENCES, code);
  const sentence = known ? (ERROR_SENTENCES[code] ?? GENERIC_ERROR) : GENERIC_ERROR;
  const detail = known ? `<p class="hint">Error: <code>${escapeHtml(code)}</code></p>` : "";
  return page(
    "Sign-in problem",
    `<h1>Sign-in problem</h1><p class="error">${escapeHtml(sentence)}</p>${detail}`,
  );
}
