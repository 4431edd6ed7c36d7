// The local runtime with ORIGIN_VERIFY set behaves as the functions behind CloudFront do (infra/web.tf,
// services/ledger/http/origin.ts): a request without the distribution's secret header — a call to API Gateway's
// own host on AWS — is refused 403 before anything is read or written, on the command, query and audit
// functions alike; the same request with the header is answered.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORIGIN_VERIFY_HEADER } from "../../../services/ledger/http/origin";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { createTestStore, type TestStore } from "../../support/store";

const SECRET = "5a1c9e2b-7d34-4f08-b6a2-3c9d0e8f1a27";

let store: TestStore;
let system: LocalSystem;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
  system = await startLocalSystem({
    environment: { ...store.environment, ORIGIN_VERIFY: SECRET },
    port: 0,
    streamPoller: false,
  });
});

afterAll(async () => {
  await system.stop();
  store.client.destroy();
});

function post(key: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${system.url}/number`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": key, ...headers },
    body: '{"action":"increment"}',
  });
}

async function expectRefused(response: Response): Promise<void> {
  expect(response.status).toBe(403);
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const problem = (await response.json()) as { status: number; detail: string };
  expect(problem.status).toBe(403);
  expect(problem.detail).toMatch(/site's address/);
}

const throughCloudFront = { [ORIGIN_VERIFY_HEADER]: SECRET };

describe("a direct call, refused (ORIGIN_VERIFY)", () => {
  it("a command without the header is refused and writes nothing; with it, it is applied", async () => {
    await expectRefused(await post("direct-1"));
    await expectRefused(await post("direct-2", { [ORIGIN_VERIFY_HEADER]: "not-the-secret" }));
    const before = await fetch(`${system.url}/number`, { headers: throughCloudFront });
    expect(before.status).toBe(200);
    expect(((await before.json()) as { version: number }).version).toBe(0);

    expect((await post("through-1", throughCloudFront)).status).toBe(200);
    const after = await fetch(`${system.url}/number`, { headers: throughCloudFront });
    expect(((await after.json()) as { version: number }).version).toBe(1);
  });

  it("the read and audit routes refuse it too, and answer through the distribution", async () => {
    for (const path of ["/number", "/health", "/number/verify", "/no/such/path"]) {
      await expectRefused(await fetch(`${system.url}${path}`));
    }
    expect((await fetch(`${system.url}/health`, { headers: throughCloudFront })).status).toBe(200);
    expect((await fetch(`${system.url}/number/verify`, { headers: throughCloudFront })).status).toBe(200);
  });
});
