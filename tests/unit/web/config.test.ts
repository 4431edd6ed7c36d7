// The page's runtime configuration (`/config.json`, web/src/config.ts): read with the contract's uiConfigSchema;
// anything else — a missing file, an HTML page, a shape that is not the contract's — leaves sign-in unavailable,
// said in plain words, rather than guessing AUTH=off.

import { describe, expect, it } from "vitest";
import { loadUiConfig } from "../../../web/src/config";

const PAGE = "https://ui.example.test/app/?code=abc";
const AUTH = {
  authority: "https://issuer.example.test/oidc",
  clientId: "counter-ledger-web",
  scope: "openid counter:write",
};

function serving(status: number, body: string, seen: string[] = []): typeof fetch {
  return (input) => {
    seen.push(input instanceof Request ? input.url : input.toString());
    return Promise.resolve(new Response(body, { status, headers: { "Content-Type": "application/json" } }));
  };
}

describe("loadUiConfig", () => {
  it("reads config.json beside the page: the issuer to sign in with, or auth null for AUTH=off", async () => {
    const seen: string[] = [];
    expect(await loadUiConfig(PAGE, serving(200, JSON.stringify({ auth: AUTH }), seen))).toEqual({
      kind: "config",
      config: { auth: AUTH },
    });
    expect(seen).toEqual(["https://ui.example.test/app/config.json"]);
    expect(await loadUiConfig(PAGE, serving(200, '{"auth":null}'))).toEqual({
      kind: "config",
      config: { auth: null },
    });
  });

  it("says sign-in is unavailable when the file is missing, not JSON, not the contract's shape, or unreachable", async () => {
    const unavailable = {
      kind: "unavailable",
      reason: "Signing in is unavailable: this page's settings (config.json) could not be read.",
    };
    for (const [status, body] of [
      [404, '{"type":"about:blank"}'],
      [200, "<!doctype html><html></html>"],
      [200, "{}"],
      [200, JSON.stringify({ auth: { ...AUTH, authority: "not a url" } })],
      [200, JSON.stringify({ auth: { ...AUTH, clientSecret: "s3cret" } })],
      [200, JSON.stringify({ auth: { ...AUTH, scope: "" } })],
    ] as const) {
      expect(await loadUiConfig(PAGE, serving(status, body)), `${status} ${body}`).toEqual(unavailable);
    }
    expect(await loadUiConfig(PAGE, () => Promise.reject(new TypeError("Failed to fetch")))).toEqual(
      unavailable,
    );
  });
});
