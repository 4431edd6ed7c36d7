// The artifacts that infra/ deploys, tested as Lambda would run them: scripts/build.ts bundles each handler
// into a zip, the zip is unpacked (CRC-checked), `index.mjs` is loaded with import() and its `handler` is
// called with the real AWS event shapes of ../tests/fixtures/aws-events, against DynamoDB Local. This is
// what proves that the bundle — not the TypeScript source — loads, answers, and reaches the tables that the
// Lambda environment names.

import { DescribeTableCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  DynamoDBBatchResponse,
  DynamoDBStreamEvent,
} from "aws-lambda";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  BUNDLE_FILE_NAME,
  LAMBDA_ENTRIES,
  buildLambda,
  partsToBuild,
  zipArchive,
  type LambdaName,
} from "../../../scripts/build";
import { eventIdOf } from "../../../services/ledger/domain/event";
import { ALICE, AUDREY, actorOfClaims, withClaims } from "../../../testkit/claims";
import { FIXTURES_DIRECTORY, commandEvent, httpEvent, readFixture } from "../../support/fixtures";
import { createTestStore, type TestStore } from "../../support/store";
import { readZip } from "./zip-reader";

type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

let workDirectory: string;
let store: TestStore;
const zips = new Map<LambdaName, Buffer>();
const handlers = new Map<LambdaName, unknown>();
const environmentBefore = { ...process.env };

function handlerOf<T>(name: LambdaName): T {
  const handler = handlers.get(name);
  if (typeof handler !== "function") throw new Error(`the ${name} bundle exports no handler function`);
  return handler as T;
}

function jsonBody(result: APIGatewayProxyStructuredResultV2): Record<string, unknown> {
  return JSON.parse(result.body ?? "null") as Record<string, unknown>;
}

function contentTypeOf(result: APIGatewayProxyStructuredResultV2): string {
  return String(result.headers?.["Content-Type"] ?? result.headers?.["content-type"] ?? "");
}

beforeAll(async () => {
  expect(existsSync(FIXTURES_DIRECTORY), `${FIXTURES_DIRECTORY} must exist`).toBe(true);
  store = await createTestStore();
  // What lambda.tf puts in the environment, pointed at DynamoDB Local; read by each bundle on its first call.
  Object.assign(process.env, store.environment);
  workDirectory = await mkdtemp(join(tmpdir(), "counter-ledger-bundles-"));
  for (const entry of LAMBDA_ENTRIES) {
    const artifact = await buildLambda(entry, join(workDirectory, "dist"));
    const zip = await readFile(artifact.zipPath);
    zips.set(entry.name, zip);
    const unpacked = join(workDirectory, entry.name);
    await mkdir(unpacked);
    for (const file of await readZip(zip)) await writeFile(join(unpacked, file.name), file.data);
    const bundle = (await import(
      /* @vite-ignore */ pathToFileURL(join(unpacked, BUNDLE_FILE_NAME)).href
    )) as Record<string, unknown>;
    handlers.set(entry.name, bundle.handler);
  }
}, 120_000);

afterAll(async () => {
  for (const name of Object.keys(process.env)) {
    if (!(name in environmentBefore)) Reflect.deleteProperty(process.env, name);
  }
  Object.assign(process.env, environmentBefore);
  if (workDirectory !== undefined) await rm(workDirectory, { recursive: true, force: true });
});

describe("Lambda zips (scripts/build.ts)", () => {
  it("each zip holds exactly index.mjs and its source map, readable files, the map linked from the bundle", async () => {
    for (const [name, zip] of zips) {
      const files = await readZip(zip);
      expect(files.map((file) => file.name).sort(), name).toEqual([
        BUNDLE_FILE_NAME,
        `${BUNDLE_FILE_NAME}.map`,
      ]);
      for (const file of files) {
        expect(file.mode, `${name}/${file.name}: a regular file, rw-r--r--`).toBe(0o100644);
        expect(file.modified, `${name}/${file.name}`).toEqual(new Date(1980, 0, 1));
      }
      const bundle = files.find((file) => file.name === BUNDLE_FILE_NAME)!.data.toString("utf8");
      expect(bundle.trimEnd().endsWith(`//# sourceMappingURL=${BUNDLE_FILE_NAME}.map`), name).toBe(true);
      const map = JSON.parse(files.find((file) => file.name !== BUNDLE_FILE_NAME)!.data.toString("utf8")) as {
        sources: string[];
      };
      expect(
        map.sources.some((source) => source.includes(`services/${name}/handler.ts`)),
        name,
      ).toBe(true);
    }
  });

  it("the same source gives the same zip, byte for byte (so source_code_hash moves only with the code)", async () => {
    const again = await buildLambda(LAMBDA_ENTRIES[0]!, join(workDirectory, "again"));
    expect((await readFile(again.zipPath)).equals(zips.get(LAMBDA_ENTRIES[0]!.name)!)).toBe(true);
  });

  it("the same files give the same bytes in any order, at any time, in any time zone", () => {
    const files = [
      { name: "index.mjs", data: Buffer.from("export const handler = () => 1;\n") },
      { name: "index.mjs.map", data: Buffer.from('{"version":3}') },
    ];
    const reference = zipArchive(files);
    expect(zipArchive([...files].reverse()).equals(reference), "entries in the other order").toBe(true);
    const zoneBefore = process.env.TZ;
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      for (const [zone, now] of [
        ["UTC", "2031-07-01T12:00:00Z"],
        ["America/Los_Angeles", "2025-01-01T07:59:59Z"],
        ["Pacific/Kiritimati", "2026-03-29T01:30:00Z"],
      ] as const) {
        process.env.TZ = zone;
        vi.setSystemTime(new Date(now));
        expect(zipArchive(files).equals(reference), `${zone} at ${now}`).toBe(true);
      }
    } finally {
      vi.useRealTimers();
      if (zoneBefore === undefined) Reflect.deleteProperty(process.env, "TZ");
      else process.env.TZ = zoneBefore;
    }
  });

  it("refuses one name twice rather than write a zip that unpacks one file over the other", () => {
    const file = { name: "index.mjs", data: Buffer.from("x") };
    expect(() => zipArchive([file, file])).toThrow(/one name twice/);
  });
});

describe("npm run build's arguments", () => {
  it("builds both parts by default, one with --only or --only=, and refuses anything else", () => {
    expect([...partsToBuild([])].sort()).toEqual(["lambdas", "web"]);
    expect([...partsToBuild(["--only", "lambdas"])]).toEqual(["lambdas"]);
    expect([...partsToBuild(["--only=web"])]).toEqual(["web"]);
    expect(() => partsToBuild(["--only", "everything"])).toThrow(/--only takes "lambdas" or "web"/);
    expect(() => partsToBuild(["--only"])).toThrow();
    expect(() => partsToBuild(["--lambdas"])).toThrow();
  });
});

describe("bundles answer real AWS events", () => {
  const idempotencyKey = randomUUID();

  it("command: a POST /number that no JWT authorizer verified is refused 401 with a Bearer challenge", async () => {
    const result = await handlerOf<HttpHandler>("command")(commandEvent("increment", randomUUID()));
    expect(result.statusCode).toBe(401);
    expect(result.headers?.["WWW-Authenticate"]).toMatch(/^Bearer realm="counter-ledger"/);
    expect(contentTypeOf(result)).toMatch(/^application\/problem\+json/);
  });

  it("command: a POST /number with a malformed body is refused 400 problem+json before any write", async () => {
    const result = await handlerOf<HttpHandler>("command")(
      withClaims(
        httpEvent({
          method: "POST",
          path: "/number",
          headers: { "content-type": "application/json" },
          body: '{"action": ',
        }),
        ALICE,
      ),
    );
    expect(result.statusCode).toBe(400);
    expect(contentTypeOf(result)).toMatch(/^application\/problem\+json/);
    expect(jsonBody(result).status).toBe(400);
  });

  it("command: POST /number increments the counter in the tables named by the environment", async () => {
    const result = await handlerOf<HttpHandler>("command")(
      withClaims(commandEvent("increment", idempotencyKey), ALICE),
    );
    expect(result.statusCode, result.body).toBe(200);
    expect(jsonBody(result)).toMatchObject({ value: 1, version: 1 });
  });

  it("query: GET /number reads that aggregate, GET /openapi.json serves the contract, $default answers 404", async () => {
    const query = handlerOf<HttpHandler>("query");
    const number = await query(httpEvent({ method: "GET", path: "/number" }));
    expect(number.statusCode, number.body).toBe(200);
    expect(jsonBody(number)).toMatchObject({ value: 1, version: 1 });

    const openapi = await query(httpEvent({ method: "GET", path: "/openapi.json" }));
    expect(openapi.statusCode).toBe(200);
    expect(jsonBody(openapi)).toHaveProperty("openapi");

    const unknown = await query(httpEvent({ method: "GET", path: "/nowhere", routeKey: "$default" }));
    expect(unknown.statusCode).toBe(404);
    expect(contentTypeOf(unknown)).toMatch(/^application\/problem\+json/);
  });

  it("audit: GET /number/verify replays that ledger; the audit bundle refuses GET /number, the query bundle the verification", async () => {
    const audit = handlerOf<HttpHandler>("audit");
    const verify = await audit(withClaims(httpEvent({ method: "GET", path: "/number/verify" }), AUDREY));
    expect(verify.statusCode, verify.body).toBe(200);
    expect(jsonBody(verify)).toMatchObject({ aggregate: { value: 1, version: 1 }, checkedTo: 1 });

    const number = await audit(httpEvent({ method: "GET", path: "/number" }));
    expect(number.statusCode).toBe(404);
    const misrouted = await handlerOf<HttpHandler>("query")(
      withClaims(httpEvent({ method: "GET", path: "/number/verify" }), AUDREY),
    );
    expect(misrouted.statusCode).toBe(404);
    expect(contentTypeOf(misrouted)).toMatch(/^application\/problem\+json/);
  });

  it("projector: the stream record of that ledger event projects it into the read model", async () => {
    const { ledger, readModel } = store.config.tables;
    const eventId = eventIdOf(store.config.counterId, idempotencyKey, actorOfClaims(ALICE));
    const stored = await store.client.send(
      new GetItemCommand({ TableName: ledger, Key: { eventId: { S: eventId } } }),
    );
    expect(stored.Item).toBeDefined();
    const streamArn = (await store.client.send(new DescribeTableCommand({ TableName: ledger }))).Table
      ?.LatestStreamArn;
    const template = readFixture<DynamoDBStreamEvent>("dynamodb-stream-insert-modify.json");
    const insert = template.Records.find((record) => record.eventName === "INSERT")!;
    const event: DynamoDBStreamEvent = {
      Records: [
        {
          ...insert,
          eventSourceARN: streamArn,
          dynamodb: {
            ...insert.dynamodb,
            Keys: { eventId: { S: eventId } },
            NewImage: stored.Item as NonNullable<typeof insert.dynamodb>["NewImage"],
            SequenceNumber: "100000000000000000001",
          },
        },
      ],
    };
    const result = await handlerOf<StreamHandler>("projector")(event);
    expect(result).toEqual({ batchItemFailures: [] });
    const state = await store.client.send(
      new GetItemCommand({
        TableName: readModel,
        Key: { counterId: { S: store.config.counterId }, entry: { N: "0" } },
        ConsistentRead: true,
      }),
    );
    expect(state.Item?.value).toEqual({ N: "1" });
    expect(state.Item?.version).toEqual({ N: "1" });
  });

  it("projector: the fixture's foreign INSERT cannot be projected and is answered in batchItemFailures", async () => {
    const template = readFixture<DynamoDBStreamEvent>("dynamodb-stream-insert-modify.json");
    const result = await handlerOf<StreamHandler>("projector")(template);
    const insert = template.Records.find((record) => record.eventName === "INSERT")!;
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: insert.dynamodb?.SequenceNumber }] });
  });
});
