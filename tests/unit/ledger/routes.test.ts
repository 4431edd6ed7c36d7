// The route table: matching, path parameters, and the 404/405 split.

import { describe, expect, it } from "vitest";
import { matchDefaultRoute, matchRoute } from "../../../services/ledger/http/routes";

describe("matchRoute", () => {
  it("finds each lambda by method and path", () => {
    expect(matchRoute("POST", "/number")).toMatchObject({ kind: "found", route: { lambda: "command" } });
    expect(matchRoute("GET", "/number")).toMatchObject({ kind: "found", route: { lambda: "query" } });
  });

  it("extracts the key of /number/events/{key}", () => {
    expect(matchRoute("GET", "/number/events/abc-1")).toMatchObject({
      kind: "found",
      pathParameters: { key: "abc-1" },
    });
  });

  it("says 405 with the allowed methods for a known path", () => {
    expect(matchRoute("DELETE", "/number")).toEqual({ kind: "methodNotAllowed", allow: ["GET", "POST"] });
    expect(matchRoute("POST", "/health")).toEqual({ kind: "methodNotAllowed", allow: ["GET"] });
  });

  it("says 404 for unknown paths, empty parameters and extra segments", () => {
    for (const path of ["/", "/numbers", "/number/events/", "/number/events/a/b", "/number/"]) {
      expect(matchRoute("GET", path), path).toEqual({ kind: "notFound" });
    }
  });
});

describe("matchDefaultRoute", () => {
  it("matches HEAD as API Gateway does not: to the GET route of the same path", () => {
    expect(matchRoute("HEAD", "/number")).toEqual({ kind: "methodNotAllowed", allow: ["GET", "POST"] });
    expect(matchDefaultRoute("HEAD", "/number")).toMatchObject({
      kind: "found",
      route: { method: "GET", path: "/number", lambda: "query" },
    });
    expect(matchDefaultRoute("HEAD", "/number/events/k-1")).toMatchObject({ pathParameters: { key: "k-1" } });
    expect(matchDefaultRoute("HEAD", "/nowhere")).toEqual({ kind: "notFound" });
  });

  it("answers a HEAD of an audit route 405 allowing GET, and names no HEAD in its Allow: $default is not its function", () => {
    for (const path of ["/number/verify", "/number/digest", "/number/events/k-1/proof"]) {
      expect(matchDefaultRoute("HEAD", path), path).toEqual({ kind: "methodNotAllowed", allow: ["GET"] });
      expect(matchDefaultRoute("DELETE", path), path).toEqual({ kind: "methodNotAllowed", allow: ["GET"] });
      expect(matchDefaultRoute("GET", path), path).toMatchObject({
        kind: "found",
        route: { lambda: "audit" },
      });
    }
  });

  it("names HEAD in Allow wherever GET is allowed", () => {
    expect(matchDefaultRoute("DELETE", "/number")).toEqual({
      kind: "methodNotAllowed",
      allow: ["GET", "HEAD", "POST"],
    });
    expect(matchDefaultRoute("POST", "/health")).toEqual({
      kind: "methodNotAllowed",
      allow: ["GET", "HEAD"],
    });
  });
});
