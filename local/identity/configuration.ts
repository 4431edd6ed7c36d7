// oidc-provider's configuration for the local issuer (docs/runbook.md#the-local-issuer). Every helper whose
// default the library asks a deployment to replace is ours, which also keeps it from printing development
// notices. What it issues mirrors Cognito: RS256 JWT access tokens carrying `client_id`, `scope`, `username`,
// `token_use: "access"` and `cognito:groups`; ID tokens carrying `cognito:username`; refresh tokens for the
// clients allowed the refresh_token grant. No consent screen: the clients are first-party, and a grant is the
// intersection of what a client asks for and what the user may have (local/identity/users.ts).

import type { Adapter, Configuration, Grant, KoaContextWithOIDC, errors } from "oidc-provider";
import { ALL_SCOPES } from "../../contract/auth";
import {
  API_RESOURCE,
  CLI_CLIENT_ID,
  CLI_REDIRECT_URI,
  ISSUER_PATH,
  WEB_CLIENT_ID,
  WEB_REDIRECT_PATHS,
  webOrigins,
} from "./clients";
import { TOKEN_TTL_SECONDS } from "./keys";
import { errorPage, logoutPage, signedOutPage } from "./pages";
import { findUser, grantableScopes, type DevelopmentUser } from "./users";

/** How long a sign-in page may stay open. */
const INTERACTION_TTL_SECONDS = 10 * 60;
/** How long a browser stays signed in to the issuer, and how long a refresh token may keep a UI signed in. */
const SESSION_TTL_SECONDS = 8 * 60 * 60;
/** An authorization code is exchanged at once or never. */
const AUTHORIZATION_CODE_TTL_SECONDS = 60;

export interface IssuerConfigurationOptions {
  /** The gateway's base URL (the issuer is `${baseUrl}/oidc`). */
  readonly baseUrl: string;
  readonly corsOrigins: readonly string[];
  readonly adapter: new (name: string) => Adapter;
  /** Private JWKs, the signing key first. */
  readonly signingKeys: readonly object[];
  readonly cookieKeys: readonly string[];
  /** oidc-provider's InvalidTarget, from the module local/identity/issuer.ts loads. */
  readonly InvalidTarget: typeof errors.InvalidTarget;
}

/** Claims of a user, as Cognito names them; `cognito:groups` only when the user is in a group, as Cognito does. */
function userClaims(user: DevelopmentUser): Record<string, unknown> {
  return {
    "cognito:username": user.username,
    ...(user.groups.length > 0 ? { "cognito:groups": [...user.groups] } : {}),
  };
}

/** The claims an access token adds to oidc-provider's (`sub`, `client_id`, `scope`, `iss`, `aud`, `exp`…). */
function accessTokenClaims(user: DevelopmentUser | undefined): Record<string, unknown> {
  if (user === undefined) return { token_use: "access" };
  return {
    username: user.username,
    token_use: "access",
    ...(user.groups.length > 0 ? { "cognito:groups": [...user.groups] } : {}),
  };
}

/**
 * The grant of the session's user to this client, topped up for this request: each requested scope the user may
 * have is granted, each other one refused (so no consent is asked for, and none is given for it).
 */
async function grantFor(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const accountId = oidc.session?.accountId;
  const client = oidc.client;
  const user = accountId === undefined ? undefined : findUser(accountId);
  if (accountId === undefined || client === undefined || user === undefined) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(client.clientId);
  const found = grantId === undefined ? undefined : await oidc.provider.Grant.find(grantId);
  const grant =
    found !== undefined && found.accountId === accountId
      ? found
      : new oidc.provider.Grant({ accountId, clientId: client.clientId });
  const requested = [...oidc.requestParamScopes];
  grant.addOIDCScope([...oidc.requestParamOIDCScopes]);
  for (const indicator of Object.keys(oidc.resourceServers ?? {})) {
    const asked = requested.filter((scope) => (ALL_SCOPES as readonly string[]).includes(scope));
    const granted = grantableScopes(user, asked);
    const refused = asked.filter((scope) => !(granted as string[]).includes(scope));
    if (granted.length > 0) grant.addResourceScope(indicator, granted);
    if (refused.length > 0) grant.rejectResourceScope(indicator, refused);
  }
  await grant.save();
  return grant;
}

function clients(options: IssuerConfigurationOptions): NonNullable<Configuration["clients"]> {
  const origins = webOrigins(options.baseUrl, options.corsOrigins);
  return [
    {
      client_id: WEB_CLIENT_ID,
      client_name: "counter-ledger web UI",
      application_type: "web",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: origins.flatMap((origin) => WEB_REDIRECT_PATHS.map((path) => `${origin}${path}`)),
      post_logout_redirect_uris: origins.map((origin) => `${origin}/`),
    },
    {
      client_id: CLI_CLIENT_ID,
      client_name: "npm run token",
      application_type: "native",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      redirect_uris: [CLI_REDIRECT_URI],
    },
  ];
}

function features(options: IssuerConfigurationOptions): NonNullable<Configuration["features"]> {
  return {
    devInteractions: { enabled: false },
    // Access tokens are for the API alone (as Cognito's): no UserInfo endpoint needing tokens of its own.
    userinfo: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: (ctx, form) => {
        ctx.type = "html";
        ctx.body = logoutPage(form);
      },
      postLogoutSuccessSource: (ctx) => {
        ctx.type = "html";
        ctx.body = signedOutPage();
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API_RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator, client) => {
        if (indicator !== API_RESOURCE) throw new options.InvalidTarget();
        return {
          scope: ALL_SCOPES.join(" "),
          // API Gateway checks `aud` when a token has one: the client's id, as the authorizer's audiences list.
          audience: client.clientId,
          accessTokenTTL: TOKEN_TTL_SECONDS,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        };
      },
    },
  };
}

function ttl(): NonNullable<Configuration["ttl"]> {
  return {
    AccessToken: () => TOKEN_TTL_SECONDS,
    AuthorizationCode: () => AUTHORIZATION_CODE_TTL_SECONDS,
    IdToken: () => TOKEN_TTL_SECONDS,
    // A rotated refresh token lives no longer than the one it replaces.
    RefreshToken: (ctx) => ctx?.oidc?.entities.RotatedRefreshToken?.remainingTTL ?? SESSION_TTL_SECONDS,
    Interaction: () => INTERACTION_TTL_SECONDS,
    Session: () => SESSION_TTL_SECONDS,
    Grant: () => SESSION_TTL_SECONDS,
  };
}

export function issuerConfiguration(options: IssuerConfigurationOptions): Configuration {
  const origins = new Set(webOrigins(options.baseUrl, options.corsOrigins));
  return {
    adapter: options.adapter,
    clients: clients(options),
    jwks: { keys: [...options.signingKeys] },
    cookies: { keys: [...options.cookieKeys] },
    features: features(options),
    ttl: ttl(),
    claims: { openid: ["sub", "cognito:username", "cognito:groups"] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    responseTypes: ["code"],
    interactions: { url: (_ctx, interaction) => `${ISSUER_PATH}/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const user = findUser(sub);
      if (user === undefined) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...userClaims(user) }) };
    },
    extraTokenClaims: (_ctx, token) =>
      accessTokenClaims("accountId" in token ? findUser(String(token.accountId)) : undefined),
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    loadExistingGrant: grantFor,
    clientBasedCORS: (_ctx, origin) => origins.has(origin),
    renderError: (ctx, out) => {
      ctx.type = "html";
      ctx.body = errorPage(typeof out.error === "string" ? out.error : undefined);
    },
  };
}
