// The containment of the audit routes in the local runtime (docs/architecture.md#the-audit-function): the local
// gateway serves GET /number/verify on the audit handler, at most AUDIT_CONCURRENCY_DEFAULT at once (the
// Terraform default of the audit Lambda's reserved concurrency); beyond it a request is refused as API Gateway
// refuses a throttled Lambda, and GET /number and POST /number are answered meanwhile. A verification is held
// inside its lease by a hook, so the test needs no timing: whatever is answered while it is held was answered
// beside a saturated audit function.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_CONCURRENCY_DEFAULT, LAMBDA_THROTTLED_RETRY_AFTER_SECONDS } from "../../../local/limits";
import { startLocalSystem, type LocalSystem } from "../../../local/system";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { createTestStore, type TestStore } from "../../support/store";

let store: TestStore;
let system: LocalSystem;

/** The hook: the first verification to hold the lease waits there until `release` is called. */
let held: () => void = () => undefined;
let release: () => void = () => undefined;
const leaseHeld = new Promise<void>((resolveHeld) => (held = resolveHeld));
const released = new Promise<void>((resolveReleased) => (release = resolveReleased));

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
  system = await startLocalSystem({
    environment: store.environment,
    port: 0,
    streamPoller: false,
    onVerifyLeaseHeld: async () => {
      held();
      await released;
    },
  });
});

afterAll(async () => {
  release();
  await system.stop();
  store.client.destroy();
});

function post(key: string): Promise<Response> {
  return fetch(`${system.url}/number`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": key },
    body: '{"action":"increment"}',
  });
}

const verify = (): Promise<Response> => fetch(`${system.url}/number/verify`);

describe("the audit routes, contained (local/gateway.ts, local/system.ts)", () => {
  it("while verifications fill the audit function, one more is refused and GET /number and POST /number are answered", async () => {
    expect((await post("before-1")).status).toBe(200);

    const first = verify();
    await leaseHeld;
    // As many more as the function may run: one of them finds it full (whichever arrives last) and is refused;
    // the others join the held verification. Nothing else can settle before the hook is released.
    const more = Array.from({ length: AUDIT_CONCURRENCY_DEFAULT }, () => verify());
    const refused = await Promise.race(more);
    expect(refused.status).toBe(500);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get("retry-after")).toBe(String(LAMBDA_THROTTLED_RETRY_AFTER_SECONDS));
    const problem = (await refused.json()) as { status: number; detail: string };
    expect(problem.status).toBe(500);
    expect(problem.detail).toMatch(/concurrency/);

    // Meanwhile, with the audit function saturated, the read and the write paths answer.
    const number = await fetch(`${system.url}/number`);
    expect(number.status).toBe(200);
    expect(((await number.json()) as { version: number }).version).toBe(1);
    expect((await post("during-1")).status).toBe(200);
    expect((await fetch(`${system.url}/health`)).status).toBe(200);
    // A HEAD of the verification goes to the query function's $default, which never runs it.
    const head = await fetch(`${system.url}/number/verify`, { method: "HEAD" });
    expect(head.status).toBe(405);
    expect(head.headers.get("allow")).toBe("GET");

    release();
    const answered = await Promise.all([first, ...more]);
    const statuses = answered.map((response) => response.status).sort((left, right) => left - right);
    expect(statuses).toEqual([...Array<number>(AUDIT_CONCURRENCY_DEFAULT).fill(200), 500]);
    // The limit counts requests in flight: once they are answered, a verification is served again.
    expect((await verify()).status).toBe(200);
  });
});
