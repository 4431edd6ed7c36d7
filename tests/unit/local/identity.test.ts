// The pure parts of the local issuer (local/identity/): signing-key rotation bookkeeping on an injected clock,
// the development users' scope intersection and passwords, the web client's origins, the UI configuration, the
// pages' escaping, and `npm start -- --rotate-signing-key`.

import { describe, expect, it } from "vitest";
import { loadLocalConfig } from "../../../local/config";
import { webOrigins } from "../../../local/identity/clients";
import {
  currentKey,
  planSigningKeys,
  rotationDue,
  SIGNING_KEY_RETAIN_MS,
  SIGNING_KEY_ROTATE_AFTER_MS,
  TOKEN_TTL_SECONDS,
  type SigningKeyPolicy,
  type StoredSigningKey,
} from "../../../local/identity/keys";
import { errorPage, escapeHtml, loginPage } from "../../../local/identity/pages";
import { uiConfigOf } from "../../../local/identity/ui-config";
import { authenticate, DEVELOPMENT_PASSWORD, findUser, grantableScopes } from "../../../local/identity/users";

const POLICY: SigningKeyPolicy = { rotateAfterMs: 1_000, retainMs: 100 };

function key(kid: string, createdAtMs: number, retiredAtMs?: number): StoredSigningKey {
  return {
    kid,
    createdAtMs,
    ...(retiredAtMs === undefined ? {} : { retiredAtMs }),
    privateJwk: { kty: "RSA", kid, alg: "RS256", use: "sig", n: "n", e: "AQAB", d: "d" },
  };
}

describe("signing key rotation", () => {
  it("makes a key when there is none, and keeps a young one", () => {
    expect(rotationDue([], 0, POLICY, false)).toBe(true);
    expect(rotationDue([key("a", 0)], 999, POLICY, false)).toBe(false);
    expect(rotationDue([key("a", 0)], 1_000, POLICY, false)).toBe(true);
    expect(rotationDue([key("a", 0)], 1, POLICY, true)).toBe(true);
    // Only retired keys: a new one is due.
    expect(rotationDue([key("a", 0, 5)], 6, POLICY, false)).toBe(true);
  });

  it("retires the current key and puts the new one first", () => {
    const plan = planSigningKeys([key("a", 0)], 1_000, POLICY, key("b", 1_000));
    expect(plan.keys.map((k) => [k.kid, k.retiredAtMs])).toEqual([
      ["b", undefined],
      ["a", 1_000],
    ]);
    expect(plan.created).toBe("b");
    expect(currentKey(plan.keys)?.kid).toBe("b");
  });

  it("keeps a retired key until its retention has passed, then drops it", () => {
    const keys = [key("b", 1_000), key("a", 0, 1_000)];
    expect(planSigningKeys(keys, 1_099, POLICY, undefined)).toMatchObject({
      created: undefined,
      dropped: [],
    });
    expect(planSigningKeys(keys, 1_099, POLICY, undefined).keys.map((k) => k.kid)).toEqual(["b", "a"]);
    const later = planSigningKeys(keys, 1_100, POLICY, undefined);
    expect(later.dropped).toEqual(["a"]);
    expect(later.keys.map((k) => k.kid)).toEqual(["b"]);
  });

  it("orders retired keys newest first behind the current one", () => {
    const keys = [key("a", 0, 10), key("b", 10, 20)];
    const plan = planSigningKeys(keys, 30, POLICY, key("c", 30));
    expect(plan.keys.map((k) => k.kid)).toEqual(["c", "b", "a"]);
  });

  it("retains a retired key longer than any token it signed lives, and rotates monthly", () => {
    expect(SIGNING_KEY_RETAIN_MS).toBeGreaterThan(TOKEN_TTL_SECONDS * 1000);
    expect(SIGNING_KEY_ROTATE_AFTER_MS).toBe(30 * 24 * 60 * 60 * 1000);
  });
});

describe("development users", () => {
  it("grant the intersection of what is asked and what the user may have", () => {
    const asked = ["counter:write", "counter:audit"];
    expect(grantableScopes(findUser("alice")!, asked)).toEqual(["counter:write"]);
    expect(grantableScopes(findUser("bob")!, asked)).toEqual(["counter:write"]);
    expect(grantableScopes(findUser("audrey")!, asked)).toEqual(["counter:write", "counter:audit"]);
    expect(grantableScopes(findUser("audrey")!, ["counter:audit"])).toEqual(["counter:audit"]);
    expect(grantableScopes(findUser("rita")!, asked)).toEqual([]);
    expect(grantableScopes(findUser("audrey")!, ["openid", "counter:admin"])).toEqual([]);
  });

  it("sign in with the development password only, and only as a development user", () => {
    expect(authenticate("alice", DEVELOPMENT_PASSWORD)?.username).toBe("alice");
    expect(authenticate("alice", "counter-ledgerx")).toBeUndefined();
    expect(authenticate("alice", "")).toBeUndefined();
    expect(authenticate("mallory", DEVELOPMENT_PASSWORD)).toBeUndefined();
    expect(authenticate("constructor", DEVELOPMENT_PASSWORD)).toBeUndefined();
    expect(authenticate("__proto__", DEVELOPMENT_PASSWORD)).toBeUndefined();
  });
});

describe("the web client and the UI configuration", () => {
  it("accepts the gateway's origin under both loopback names, and CORS_ORIGINS", () => {
    expect(webOrigins("http://127.0.0.1:3000", ["http://localhost:5173"])).toEqual([
      "http://127.0.0.1:3000",
      "http://localhost:3000",
      "http://localhost:5173",
    ]);
    expect(webOrigins("http://ledger.example:8080", [])).toEqual(["http://ledger.example:8080"]);
  });

  it("is the shape the web UI reads", () => {
    expect(uiConfigOf("http://127.0.0.1:3000/oidc")).toEqual({
      auth: {
        authority: "http://127.0.0.1:3000/oidc",
        clientId: "counter-ledger-web",
        scope: "openid counter:write counter:audit",
      },
    });
    expect(uiConfigOf(undefined)).toEqual({ auth: null });
  });
});

describe("the issuer's pages", () => {
  it("escape what comes from a request", () => {
    expect(escapeHtml(`<script>"'&`)).toBe("&lt;script&gt;&quot;&#39;&amp;");
    const html = loginPage({ action: "/oidc/interaction/x/login", username: '"><script>', error: "Wrong." });
    expect(html).not.toContain('"><script>');
    expect(html).toContain("&quot;&gt;&lt;script&gt;");
  });

  it("show an unknown error code as the generic sentence without echoing it", () => {
    const html = errorPage("<b>made-up</b>");
    expect(html).toContain("Sign-in could not be completed.");
    expect(html).not.toContain("made-up");
  });
});

describe("npm start -- --rotate-signing-key", () => {
  it("asks the issuer for a new signing key at start; no flag, no rotation", () => {
    expect(loadLocalConfig({}, ["--rotate-signing-key"]).rotateSigningKey).toBe(true);
    expect(loadLocalConfig({}, []).rotateSigningKey).toBe(false);
  });
});
