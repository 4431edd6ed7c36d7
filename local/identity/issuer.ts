// The local OpenID Connect issuer, standing in for Cognito on a laptop (docs/runbook.md#the-local-issuer):
// oidc-provider, mounted in the local gateway's server under /oidc, with our own sign-in page, development users,
// and signing keys that persist and rotate under <DATA_DIR>/identity/. Discovery is at
// `<issuer>/.well-known/openid-configuration`; the sign-in page at `/oidc/interaction/<uid>` is served here,
// every other path under /oidc by oidc-provider.

import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type Provider from "oidc-provider";
import type * as OidcProviderModule from "oidc-provider";
import { describeError, type Logger } from "../../services/ledger/log";
import { memoryAdapter, MemoryStore } from "./adapter";
import { ISSUER_PATH } from "./clients";
import { issuerConfiguration } from "./configuration";
import { loadCookieKeys, loadSigningKeys, type StoredSigningKey } from "./keys";
import { errorPage, loginPage } from "./pages";
import { authenticate } from "./users";

type OidcModule = typeof OidcProviderModule;

/**
 * oidc-provider 9 warns on import that it wants Node 22; it runs on Node 20 (package.json `engines`), which the
 * README's "Run it" covers. That one line is dropped while the module loads; every other warning still shows.
 */
const RUNTIME_WARNING = "oidc-provider WARNING: Unsupported runtime";
let loading: Promise<OidcModule> | undefined;

function loadOidcProvider(): Promise<OidcModule> {
  loading ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].includes(RUNTIME_WARNING)) return;
      warn(...args);
    };
    try {
      return await import("oidc-provider");
    } finally {
      console.warn = warn;
    }
  })();
  return loading;
}

export interface LocalIssuerOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:3000; the issuer is `${baseUrl}/oidc`. */
  readonly baseUrl: string;
  /** DATA_DIR: the keys are kept in its `identity` folder. */
  readonly dataDirectory: string;
  /** CORS_ORIGINS: origins the web UI may also be served from. */
  readonly corsOrigins?: readonly string[];
  readonly log?: Logger;
  /** The clock of key rotation (tests move it); Date.now by default. */
  readonly now?: () => number;
  /** Retire the current signing key and make a new one at start (`npm start -- --rotate-signing-key`). */
  readonly rotateSigningKey?: boolean;
}

export interface LocalIssuer {
  /** The issuer identifier, `<base URL>/oidc`. */
  readonly issuer: string;
  /** Answers every request whose path is /oidc or below it (the gateway's mount). */
  readonly listener: (request: IncomingMessage, response: ServerResponse) => void;
  /** The kids of the JWKS, the signing key first. */
  readonly kids: () => readonly string[];
  /** Retires the signing key and signs with a new one from now on, without a restart. */
  readonly rotateSigningKey: () => Promise<void>;
}

const INTERACTION_PATH = new RegExp(`^${ISSUER_PATH}/interaction/([A-Za-z0-9_-]+)(/login)?$`);
const FORM_BYTES_MAX = 8 * 1024;
const WRONG_CREDENTIALS = "Wrong user name or password.";

function sendHtml(response: ServerResponse, status: number, html: string): void {
  const body = Buffer.from(html, "utf8");
  response.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Length": String(body.length),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
  });
  response.end(body);
}

class FormTooLargeError extends Error {}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > FORM_BYTES_MAX) throw new FormTooLargeError();
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** The sign-in page (GET) and its form (POST): the only interaction; consent is never asked (configuration.ts). */
async function interaction(
  provider: Provider,
  request: IncomingMessage,
  response: ServerResponse,
  log: Logger,
): Promise<void> {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  const match = INTERACTION_PATH.exec(path);
  const details = await provider.interactionDetails(request, response);
  if (match === null || match[1] !== details.uid) {
    sendHtml(response, 400, errorPage("session_not_found"));
    return;
  }
  const action = `${ISSUER_PATH}/interaction/${details.uid}/login`;
  const posted = match[2] !== undefined;
  if (!posted || request.method !== "POST") {
    if (request.method !== "GET" && request.method !== "HEAD") {
      sendHtml(response, 405, errorPage("invalid_request"));
      return;
    }
    sendHtml(response, 200, loginPage({ action }));
    return;
  }
  const form = await readForm(request);
  const username = form.get("username") ?? "";
  const user = authenticate(username, form.get("password") ?? "");
  if (user === undefined) {
    log({ level: "info", message: "sign-in refused" });
    sendHtml(response, 401, loginPage({ action, username, error: WRONG_CREDENTIALS }));
    return;
  }
  log({ level: "info", message: "signed in", username: user.username });
  const result = { login: { accountId: user.username }, consent: {} };
  await provider.interactionFinished(request, response, result, { mergeWithLastSubmission: false });
}

/** The safe page for a failed interaction: an expired or foreign sign-in page, a huge form, or our own bug. */
function interactionFailed(error: unknown, response: ServerResponse, module: OidcModule, log: Logger): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof module.errors.SessionNotFound) {
    sendHtml(response, 400, errorPage("session_not_found"));
  } else if (error instanceof FormTooLargeError) {
    sendHtml(response, 413, errorPage("invalid_request"));
  } else {
    log({ level: "error", message: "sign-in page failed", ...describeError(error) });
    sendHtml(response, 500, errorPage(undefined));
  }
}

interface ProviderParts {
  readonly module: OidcModule;
  readonly options: LocalIssuerOptions;
  readonly store: MemoryStore;
  readonly cookieKeys: readonly string[];
  readonly log: Logger;
}

function buildProvider(parts: ProviderParts, signingKeys: readonly StoredSigningKey[]): Provider {
  const { module, options, log } = parts;
  const provider = new module.Provider(
    `${options.baseUrl}${ISSUER_PATH}`,
    issuerConfiguration({
      baseUrl: options.baseUrl,
      corsOrigins: options.corsOrigins ?? [],
      adapter: memoryAdapter(parts.store),
      signingKeys: signingKeys.map((key) => key.privateJwk),
      cookieKeys: parts.cookieKeys,
      InvalidTarget: module.errors.InvalidTarget,
    }),
  );
  provider.on("server_error", (_ctx: unknown, error: unknown) =>
    log({ level: "error", message: "identity server error", ...describeError(error) }),
  );
  // Koa prints an unhandled error itself unless the app has a listener.
  (provider as unknown as NodeJS.EventEmitter).on("error", (error: unknown) =>
    log({ level: "error", message: "identity request failed", ...describeError(error) }),
  );
  return provider;
}

function logKeys(log: Logger, plan: { created: string | undefined; dropped: readonly string[] }): void {
  if (plan.created !== undefined) log({ level: "info", message: "new signing key", kid: plan.created });
  if (plan.dropped.length > 0)
    log({ level: "info", message: "retired signing keys dropped", kids: plan.dropped });
}

export async function startLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const module = await loadOidcProvider();
  const now = options.now ?? Date.now;
  const log: Logger = options.log ?? (() => undefined);
  const directory = join(options.dataDirectory, "identity");
  const parts: ProviderParts = {
    module,
    options,
    store: new MemoryStore(),
    cookieKeys: loadCookieKeys(directory),
    log,
  };
  let plan = await loadSigningKeys(directory, now(), { rotateNow: options.rotateSigningKey ?? false });
  logKeys(log, plan);
  let provider = buildProvider(parts, plan.keys);
  let handle = provider.callback();

  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? "/";
    if (INTERACTION_PATH.test(url.split("?")[0] ?? "")) {
      interaction(provider, request, response, log).catch((error: unknown) =>
        interactionFailed(error, response, module, log),
      );
      return;
    }
    // As express mounts it: oidc-provider reads its mount path from `originalUrl` less `url`.
    const rest = url.slice(ISSUER_PATH.length);
    Object.assign(request, { originalUrl: url });
    request.url = rest.startsWith("/") ? rest : `/${rest}`;
    void handle(request, response);
  };

  return {
    issuer: provider.issuer,
    listener,
    kids: () => plan.keys.map((key) => key.kid),
    rotateSigningKey: async () => {
      plan = await loadSigningKeys(directory, now(), { rotateNow: true });
      logKeys(log, plan);
      provider = buildProvider(parts, plan.keys);
      handle = provider.callback();
    },
  };
}
