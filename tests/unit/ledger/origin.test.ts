// The refusal of a request that did not come through the site's CloudFront distribution
// (services/ledger/http/origin.ts, infra/web.tf): without ORIGIN_VERIFY every request passes; with it, only a
// request carrying exactly that value in x-origin-verify does. The local runtime's end-to-end check is
// tests/integration/local/origin.test.ts.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROBLEMS } from "../../../contract/problems";
import { loadLedgerConfig } from "../../../services/ledger/config";
import {
  cameThroughOrigin,
  directCallRefused,
  ORIGIN_VERIFY_HEADER,
} from "../../../services/ledger/http/origin";
import { httpEvent } from "../../support/fixtures";

const SECRET = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

function get(headers: Record<string, string> = {}) {
  return httpEvent({ method: "GET", path: "/number", headers });
}

describe("the origin check (services/ledger/http/origin.ts)", () => {
  it("is off without a secret: a direct call passes", () => {
    expect(cameThroughOrigin(get(), undefined)).toBe(true);
  });

  it("passes the secret CloudFront adds, and refuses a request without the header", () => {
    expect(cameThroughOrigin(get({ [ORIGIN_VERIFY_HEADER]: SECRET }), SECRET)).toBe(true);
    expect(cameThroughOrigin(get(), SECRET)).toBe(false);
  });

  it("refuses any other value, whatever its length", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 80 }).filter((value) => value !== SECRET),
        (value) => !cameThroughOrigin(get({ [ORIGIN_VERIFY_HEADER]: value }), SECRET),
      ),
    );
    // A prefix or an extension of the secret is no better than any other value.
    expect(cameThroughOrigin(get({ [ORIGIN_VERIFY_HEADER]: SECRET.slice(0, -1) }), SECRET)).toBe(false);
    expect(cameThroughOrigin(get({ [ORIGIN_VERIFY_HEADER]: `${SECRET}0` }), SECRET)).toBe(false);
  });

  it("answers a refused call with a 403 problem that names nothing internal", () => {
    const result = directCallRefused("request-1");
    expect(result.statusCode).toBe(PROBLEMS.forbidden.status);
    expect(result.headers?.["Content-Type"] ?? result.headers?.["content-type"]).toMatch(
      /^application\/problem\+json/,
    );
    const body = JSON.parse(String(result.body)) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 403, title: PROBLEMS.forbidden.title, requestId: "request-1" });
    expect(String(body.detail)).not.toMatch(/execute-api|arn:|x-origin-verify|secret/i);
  });

  it("ORIGIN_VERIFY is read into the configuration, and a short one is refused at start-up", () => {
    expect(loadLedgerConfig({ ORIGIN_VERIFY: SECRET }).originSecret).toBe(SECRET);
    expect(loadLedgerConfig({}).originSecret).toBeUndefined();
    expect(() => loadLedgerConfig({ ORIGIN_VERIFY: "short" })).toThrow(/ORIGIN_VERIFY/);
  });
});
