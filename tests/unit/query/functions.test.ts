// The split of the read routes between the query and the audit Lambda (docs/architecture.md#the-audit-function):
// each handler answers only its own routes, and refuses the other's as it refuses an unknown route — a 404,
// or for a HEAD of an audit route a 405 that allows GET alone — before anything is read. The store here is a
// client (and a digest signer) that counts its calls and fails them: a refusal must not reach it. What the served routes answer is
// tested against DynamoDB Local (tests/integration/query.test.ts, verify/, proof.test.ts, local/audit.test.ts).

import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { DigestSource } from "../../../services/digest/digests";
import { loadLedgerConfig } from "../../../services/ledger/config";
import { ROUTES, routeKeyOf } from "../../../services/ledger/http/routes";
import { createAuditHandler, createQueryHandler, type QueryHandler } from "../../../services/query/handler";
import { httpEvent, type HttpEventOptions } from "../../support/fixtures";

/** The routes that replay the ledger or may fill the Merkle tree: the audit Lambda's, and only they. */
const AUDIT_ROUTES = ["GET /number/verify", "GET /number/events/{key}/proof", "GET /number/digest"];

interface Harness {
  readonly query: QueryHandler;
  readonly audit: QueryHandler;
  readonly storeCalls: () => number;
}

function harness(): Harness {
  let calls = 0;
  const refuse = <T>(): Promise<T> => {
    calls += 1;
    return Promise.reject(new Error("a refused route must not reach the store or the signer"));
  };
  const client = { send: refuse } as unknown as DynamoDBDocumentClient;
  // A deployment that signs digests: without one the digest routes answer 404 whoever serves them.
  const digests: DigestSource = { current: refuse, keys: refuse };
  const config = loadLedgerConfig({ AUTH: "off" });
  const log = (): void => undefined;
  return {
    query: createQueryHandler({ client, config, log, digests }),
    audit: createAuditHandler({ client, config, log, digests }),
    storeCalls: () => calls,
  };
}

/** An event for a route as API Gateway sends it there by name: the route key and its path parameters. */
function routedEvent(routeKey: string, extra: Partial<HttpEventOptions> = {}) {
  const [method, path] = routeKey.split(" ") as [HttpEventOptions["method"], string];
  const hasKey = path.includes("{key}");
  return httpEvent({
    method,
    path: path.replace("{key}", "k-1"),
    routeKey,
    ...(hasKey ? { pathParameters: { key: "k-1" } } : {}),
    ...extra,
  });
}

function expectRefused(result: APIGatewayProxyStructuredResultV2, status: number): void {
  expect(result.statusCode).toBe(status);
  expect(String(result.headers?.["Content-Type"])).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(result.body ?? "{}") as { status: number; detail: string };
  expect(problem.status).toBe(status);
  expect(problem.detail).not.toMatch(/audit|lambda|function/i);
}

describe("the route table (services/ledger/http/routes.ts)", () => {
  it("puts verification, event proofs and the digest on the audit Lambda, and nothing else there", () => {
    const audit = ROUTES.filter((route) => route.lambda === "audit").map(routeKeyOf);
    expect(audit.sort()).toEqual([...AUDIT_ROUTES].sort());
    expect(ROUTES.find((route) => routeKeyOf(route) === "GET /number")?.lambda).toBe("query");
  });
});

describe("the query Lambda's handler", () => {
  it.each(AUDIT_ROUTES)("refuses %s, sent to it by name, with a 404 and reads nothing", async (routeKey) => {
    const { query, storeCalls } = harness();
    expectRefused(await query(routedEvent(routeKey)), 404);
    expect(storeCalls()).toBe(0);
  });

  it("refuses a verification against a digest too, whatever its query string", async () => {
    const { query, storeCalls } = harness();
    const event = routedEvent("GET /number/verify", { queryStringParameters: { digest: "a.b.c" } });
    expectRefused(await query(event), 404);
    expect(storeCalls()).toBe(0);
  });

  it.each(AUDIT_ROUTES)(
    "answers a HEAD of %s (which API Gateway sends to $default) 405, allowing GET alone",
    async (routeKey) => {
      const { query, storeCalls } = harness();
      const path = routeKey.split(" ")[1]!.replace("{key}", "k-1");
      const result = await query(httpEvent({ method: "HEAD", path, routeKey: "$default" }));
      expect(result.statusCode).toBe(405);
      expect(result.headers?.Allow).toBe("GET");
      expect(result.body).toBeUndefined();
      expect(storeCalls()).toBe(0);
    },
  );

  it("still answers its own routes: GET /number reaches the store, GET /openapi.json needs none", async () => {
    const { query, storeCalls } = harness();
    const openapi = await query(routedEvent("GET /openapi.json"));
    expect(openapi.statusCode).toBe(200);
    // The store refuses every call here: reaching it is what shows the route is served (a 5xx, not a 404).
    const number = await query(routedEvent("GET /number"));
    expect(number.statusCode).toBeGreaterThanOrEqual(500);
    expect(storeCalls()).toBe(1);
  });
});

describe("the audit Lambda's handler", () => {
  const cheap = ROUTES.filter((route) => route.lambda === "query").map(routeKeyOf);

  it.each(cheap)("refuses %s, sent to it by name, with a 404 and reads nothing", async (routeKey) => {
    const { audit, storeCalls } = harness();
    expectRefused(await audit(routedEvent(routeKey)), 404);
    expect(storeCalls()).toBe(0);
  });

  it("refuses POST /number and anything that reaches it through $default", async () => {
    const { audit, storeCalls } = harness();
    expectRefused(await audit(httpEvent({ method: "POST", path: "/number" })), 404);
    expectRefused(await audit(httpEvent({ method: "GET", path: "/number", routeKey: "$default" })), 404);
    // A HEAD is answered as its GET, without the body.
    const head = await audit(httpEvent({ method: "HEAD", path: "/number", routeKey: "$default" }));
    expect(head.statusCode).toBe(404);
    expect(head.body).toBeUndefined();
    expect(storeCalls()).toBe(0);
  });

  it("answers its own routes: GET /number/verify reaches the store", async () => {
    const { audit, storeCalls } = harness();
    const result = await audit(routedEvent("GET /number/verify"));
    expect(result.statusCode).toBeGreaterThanOrEqual(500);
    expect(storeCalls()).toBeGreaterThan(0);
  });
});
