// The local gateway serves the built web UI at `/` beside the API: files from the web root only, with the
// request id like every other answer, and a problem for anything that is neither a file nor a route.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { createTestStore } from "../../support/store";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";

let system: LocalSystem;

beforeAll(async () => {
  const parent = mkdtempSync(join(tmpdir(), "counter-ledger-web-"));
  const webRoot = join(parent, "dist");
  mkdirSync(join(webRoot, "assets"), { recursive: true });
  writeFileSync(join(webRoot, "index.html"), "<!doctype html><title>counter</title>");
  writeFileSync(join(webRoot, "assets", "app-1234.js"), "console.log(1)");
  writeFileSync(join(parent, "secret.txt"), "not for the web");
  const store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
  system = await startLocalSystem({ environment: store.environment, port: 0, webRoot });
});

afterAll(async () => {
  await system.stop();
});

/** A raw GET, so that `..` reaches the server as written (fetch would normalise it away). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveAnswer, reject) => {
    const url = new URL(system.url);
    const outgoing = request({ host: url.hostname, port: url.port, path, method: "GET" }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolveAnswer({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

describe("the web UI beside the API", () => {
  it("serves index.html at / with the request id, and hashed assets as immutable", async () => {
    const index = await fetch(`${system.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(index.headers.get("x-request-id")).toBeTruthy();
    expect(await index.text()).toContain("<title>counter</title>");
    const asset = await fetch(`${system.url}/assets/app-1234.js`);
    expect(asset.headers.get("cache-control")).toMatch(/immutable/);
  });

  it("answers HEAD for / and for assets with the headers of the GET and no body", async () => {
    for (const path of ["/", "/assets/app-1234.js"]) {
      const get = await fetch(`${system.url}${path}`);
      await get.arrayBuffer();
      const head = await fetch(`${system.url}${path}`, { method: "HEAD" });
      expect(head.status, path).toBe(200);
      for (const name of ["content-type", "content-length", "cache-control"]) {
        expect(head.headers.get(name), `${path} ${name}`).toBe(get.headers.get(name));
      }
      expect(head.headers.get("x-request-id"), path).toBeTruthy();
      expect(await head.text(), path).toBe("");
    }
    const missing = await fetch(`${system.url}/nothing.js`, { method: "HEAD" });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("never serves a file outside the web root", async () => {
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"]) {
      const answer = await rawGet(path);
      expect(answer.body, path).not.toContain("not for the web");
    }
  });

  it("answers a 404 problem for a path that is neither a file nor a route", async () => {
    const missing = await fetch(`${system.url}/nothing.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(missing.headers.get("x-request-id")).toBeTruthy();
  });
});
