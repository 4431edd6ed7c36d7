// The local stand-in for API Gateway's JWT authorizer (HTTP APIs): checks a Bearer token the way the deployed
// authorizer does, with jose doing the cryptography, and renders the verified claims the way API Gateway passes
// them to the Lambda in `requestContext.authorizer.jwt`, so a handler cannot tell the laptop from AWS
// (docs/decisions.md#the-local-gateway-authorizes-like-api-gateways-jwt-authorizer).
//
// API Gateway's evaluation, step by step (developer guide, "Control access to HTTP APIs with JWT authorizers",
// section "Authorizing API requests with a JWT authorizer"), and where each step is done here:
//  1. Take the token from the identity source (`$request.header.Authorization`): the gateway (local/gateway.ts).
//  2. Decode the token: jose (compact JWS, three base64url segments), after `wellFormed` below.
//  3. Check the algorithm and the signature with the public key from the issuer's `jwks_uri`; only RSA
//     algorithms: `ALLOWED_ALGORITHMS`, keys from discovery → jwks_uri, cached (API Gateway: up to two hours)
//     and fetched again for an unknown `kid`.
//  4. Validate the claims: `kid` (a header that names a key of the set), `iss` equal to the issuer, `aud` — or
//     `client_id` only when there is no `aud` — one of the audiences, `exp` after now, `nbf` and `iat` before
//     now (each with `CLOCK_TOLERANCE_SECONDS`), then `scope` or `scp` holding at least one of the route's
//     authorization scopes.
// Any failed step denies the request: 401 for the token (RFC 6750 `invalid_token`), 403 for the scope.

import {
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";

/**
 * The algorithms API Gateway accepts on an HTTP API: "currently, only RSA-based algorithms are supported"; the
 * RSA members of the list its JWT authorizers take (RS256, RS384, RS512 — never `none`, never HS*, so a public
 * key can never be used as an HMAC secret). The local issuer and Cognito sign with RS256.
 */
export const ALLOWED_ALGORITHMS: readonly string[] = ["RS256", "RS384", "RS512"];

/**
 * Tolerated clock difference for `exp`, `nbf` and `iat`, in seconds. API Gateway documents none; 5 s covers
 * NumericDate's whole seconds and issuers that round them up, plus the drift of NTP-synced clocks between an
 * issuer and the gateway, while adding at most 5 s to a token's life.
 */
export const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * Longer tokens are refused before any parsing. Node's parser already answers 431 above 16 KiB of headers;
 * a Cognito access token is about 1 KiB, an ID token with many groups a few KiB.
 */
export const TOKEN_CHARACTERS_MAX = 8 * 1024;

/** API Gateway may cache an issuer's public keys for two hours. */
const JWKS_CACHE_MAX_AGE_MS = 2 * 60 * 60 * 1000;
/** jose's default: an unknown `kid` fetches the key set again at most this often. */
const JWKS_COOLDOWN_MS = 30_000;
const DISCOVERY_TIMEOUT_MS = 5_000;

/** What API Gateway passes the Lambda in `requestContext.authorizer.jwt`. */
export interface JwtAuthorizerContext {
  /** Every claim, rendered as a string (`renderClaims`). */
  readonly claims: Readonly<Record<string, string>>;
  /** The token's scopes on a route with authorization scopes; null on a route without. */
  readonly scopes: readonly string[] | null;
}

export type JwtVerdict =
  | { readonly kind: "allowed"; readonly jwt: JwtAuthorizerContext }
  /** 401: the token is malformed, forged, expired or not for us; `description` is safe to send. */
  | { readonly kind: "invalidToken"; readonly description: string }
  /** 403: a valid token without any of the route's scopes. */
  | { readonly kind: "insufficientScope"; readonly scopes: readonly string[] };

export interface JwtAuthorizer {
  readonly issuer: string;
  /**
   * Checks a token for a route whose authorization scopes are `routeScopes` (empty: the route needs a valid
   * token only). Never throws: every failure is a verdict.
   */
  readonly authorize: (token: string, routeScopes: readonly string[]) => Promise<JwtVerdict>;
}

export interface JwtAuthorizerOptions {
  /** The issuer, exactly as in the tokens' `iss`; discovery is at `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** The accepted audiences (client ids), matched against `aud`, or `client_id` when there is no `aud`. */
  readonly audiences: readonly string[];
  readonly clockToleranceSeconds?: number;
  /** The fetch used for discovery and the key set (tests count requests with it). */
  readonly fetch?: typeof fetch;
  /** The clock `exp`, `nbf` and `iat` are checked against (tests); the key set's cache keeps real time. */
  readonly now?: () => Date;
}

/** The safe `error_description` of every refusal: fixed sentences, never a library's message. */
export const TOKEN_ERRORS = {
  malformed: "The access token is malformed.",
  algorithm: "The access token's signing algorithm is not accepted.",
  unknownKey: "The access token's signing key is unknown.",
  signature: "The access token's signature is invalid.",
  issuer: "The access token was issued by another issuer.",
  audience: "The access token does not have a valid audience.",
  expired: "The access token has expired.",
  notYetValid: "The access token is not valid yet.",
  keysUnavailable: "The access token cannot be verified: the issuer's keys are unavailable.",
  tooLong: "The access token is too long.",
} as const;

const invalid = (description: string): JwtVerdict => ({ kind: "invalidToken", description });

/** A claim as API Gateway renders it: one string per claim (see `renderClaims`), or undefined to omit it. */
function renderClaim(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    const items = value.map((item) => (typeof item === "string" ? item : JSON.stringify(item)));
    return `[${items.join(" ")}]`;
  }
  return JSON.stringify(value);
}

/**
 * The claims as API Gateway passes them in `requestContext.authorizer.jwt.claims`: every value a string —
 * numbers and booleans as their text (`"exp": "1787996002"`), arrays in brackets separated by spaces
 * (`"cognito:groups": "[auditors writers]"`), objects as JSON, null claims left out. The rendering API
 * Gateway documents only by example; arrays and nulls as measured on live HTTP APIs (aws-lambda-go#317,
 * DefinitelyTyped#75458, and the emulators that reproduce it).
 */
export function renderClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    const rendered = renderClaim(value);
    if (rendered !== undefined) claims[name] = rendered;
  }
  return claims;
}

/** The token's scopes: `scp` (array or space-separated), else `scope`; undefined when it has neither. */
export function tokenScopes(payload: JWTPayload): string[] | undefined {
  for (const name of ["scp", "scope"]) {
    const value = payload[name];
    if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
    if (typeof value === "string") return value.split(" ").filter((scope) => scope.length > 0);
  }
  return undefined;
}

/** RFC 7515 compact serialisation, each segment canonical base64url (no padding, zero padding bits). */
function wellFormed(token: string): boolean {
  const segments = token.split(".");
  return (
    segments.length === 3 &&
    segments.every(
      (segment) =>
        segment.length > 0 &&
        /^[A-Za-z0-9_-]+$/.test(segment) &&
        Buffer.from(segment, "base64url").toString("base64url") === segment,
    )
  );
}

/** Thrown by the key getter when the key set cannot be had (discovery or JWKS fetch failed). */
class KeysUnavailableError extends Error {}

interface DiscoveryDocument {
  readonly issuer?: unknown;
  readonly jwks_uri?: unknown;
}

/** The key set of the issuer, found by OpenID Connect discovery once, then cached by jose. */
function createKeySource(options: JwtAuthorizerOptions): JWTVerifyGetKey {
  const fetchImpl = options.fetch ?? fetch;
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    const response = await fetchImpl(`${options.issuer}/.well-known/openid-configuration`, {
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
    });
    if (response.status !== 200) throw new KeysUnavailableError();
    const document = (await response.json()) as DiscoveryDocument;
    // OpenID Connect Discovery 1.0 §4.3: the document's issuer must be the one asked for.
    if (document.issuer !== options.issuer || typeof document.jwks_uri !== "string") {
      throw new KeysUnavailableError();
    }
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      [customFetch]: fetchImpl,
    });
  };
  return async (header, token) => {
    // Step 4, `kid`: the header must name the key that signed the token.
    if (typeof header.kid !== "string" || header.kid.length === 0) throw new errors.JWSInvalid();
    keySet ??= discover().catch((error: unknown) => {
      keySet = undefined; // a failed discovery is tried again by the next request
      throw error;
    });
    let getKey: JWTVerifyGetKey;
    try {
      getKey = await keySet;
    } catch {
      throw new KeysUnavailableError();
    }
    try {
      return await getKey(header, token);
    } catch (error) {
      // An unknown kid (after one more fetch, unless within the cooldown) is the token's fault; anything else
      // (unreachable, not 200, not a key set) is the issuer's.
      if (error instanceof errors.JWKSNoMatchingKey) throw error;
      if (error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new KeysUnavailableError();
    }
  };
}

/** The safe description of a failed verification. */
function describeFailure(error: unknown): string {
  if (error instanceof KeysUnavailableError) return TOKEN_ERRORS.keysUnavailable;
  if (error instanceof errors.JOSEAlgNotAllowed) return TOKEN_ERRORS.algorithm;
  if (error instanceof errors.JWKSNoMatchingKey) return TOKEN_ERRORS.unknownKey;
  if (error instanceof errors.JWKSMultipleMatchingKeys) return TOKEN_ERRORS.unknownKey;
  if (error instanceof errors.JWSSignatureVerificationFailed) return TOKEN_ERRORS.signature;
  if (error instanceof errors.JWTExpired) return TOKEN_ERRORS.expired;
  // A claim that is missing or not a NumericDate makes the token malformed, whichever claim it is.
  if (error instanceof errors.JWTClaimValidationFailed && error.reason === "check_failed") {
    if (error.claim === "iss") return TOKEN_ERRORS.issuer;
    if (error.claim === "nbf" || error.claim === "iat") return TOKEN_ERRORS.notYetValid;
    if (error.claim === "exp") return TOKEN_ERRORS.expired;
  }
  return TOKEN_ERRORS.malformed;
}

/** Step 4, audience: `aud` when the token has one, else `client_id` (how Cognito access tokens name it). */
function audienceMatches(payload: JWTPayload, audiences: readonly string[]): boolean {
  if (payload.aud !== undefined) {
    const aud: unknown[] = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    return aud.some((value) => typeof value === "string" && audiences.includes(value));
  }
  const clientId = payload.client_id;
  return typeof clientId === "string" && audiences.includes(clientId);
}

type Verified =
  { readonly ok: true; readonly payload: JWTPayload } | { readonly ok: false; readonly verdict: JwtVerdict };

/** Steps 2–4 but the audience and the scopes: the token's signature, `iss`, `exp`, `nbf` and `iat`. */
async function verifyToken(
  token: string,
  getKey: JWTVerifyGetKey,
  options: JwtAuthorizerOptions,
): Promise<Verified> {
  if (token.length > TOKEN_CHARACTERS_MAX) return { ok: false, verdict: invalid(TOKEN_ERRORS.tooLong) };
  if (!wellFormed(token)) return { ok: false, verdict: invalid(TOKEN_ERRORS.malformed) };
  const tolerance = options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS;
  const currentDate = options.now?.() ?? new Date();
  try {
    const { payload } = await jwtVerify(token, getKey, {
      algorithms: [...ALLOWED_ALGORITHMS],
      issuer: options.issuer,
      requiredClaims: ["exp"],
      clockTolerance: tolerance,
      currentDate,
    });
    // jose checks `iat` only with maxTokenAge; API Gateway wants it in the past too.
    if (typeof payload.iat === "number" && payload.iat > currentDate.getTime() / 1000 + tolerance) {
      return { ok: false, verdict: invalid(TOKEN_ERRORS.notYetValid) };
    }
    return { ok: true, payload };
  } catch (error) {
    return { ok: false, verdict: invalid(describeFailure(error)) };
  }
}

/** Creates the authorizer of one issuer; nothing is fetched until the first token arrives. */
export function createJwtAuthorizer(options: JwtAuthorizerOptions): JwtAuthorizer {
  const getKey = createKeySource(options);
  return {
    issuer: options.issuer,
    authorize: async (token, routeScopes) => {
      const verified = await verifyToken(token, getKey, options);
      if (!verified.ok) return verified.verdict;
      const { payload } = verified;
      if (!audienceMatches(payload, options.audiences)) return invalid(TOKEN_ERRORS.audience);
      const claims = renderClaims(payload);
      // A route without authorization scopes gets `scopes: null`, as on AWS, even when the token has some.
      if (routeScopes.length === 0) return { kind: "allowed", jwt: { claims, scopes: null } };
      const scopes = tokenScopes(payload) ?? [];
      if (!routeScopes.some((scope) => scopes.includes(scope))) {
        return { kind: "insufficientScope", scopes: routeScopes };
      }
      return { kind: "allowed", jwt: { claims, scopes } };
    },
  };
}
