// GET /number/history through the local system (gateway, poller, projector, query handler) on DynamoDB Local:
// paging is complete and chained in both orders, stays contiguous while commands keep arriving, validates
// limit and order, and refuses every forged, truncated or foreign cursor with a 400 — never a 500.

import fc from "fast-check";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../local/system";
import { createQueryHandler } from "../../services/query/handler";
import { encodeCursor } from "../../services/query/history";
import { httpEvent } from "../support/fixtures";
import { createTestStore, type TestStore } from "../support/store";
import { eventually } from "../support/ledger-fixtures";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

interface HistoryItemBody {
  version: number;
  action: string;
  delta: number;
  valueBefore: number;
  valueAfter: number;
  at: string;
  eventId: string;
}

interface HistoryPageBody {
  items: HistoryItemBody[];
  nextCursor: string | null;
  projectedVersion: number;
}

let store: TestStore;
let system: LocalSystem;
let directory: string;

async function post(action: "increment" | "decrement"): Promise<void> {
  const response = await fetch(`${system.url}/number`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ action }),
  });
  expect(response.status).toBe(200);
}

async function history(query: string): Promise<Response> {
  return fetch(`${system.url}/number/history${query}`);
}

async function page(query: string): Promise<HistoryPageBody> {
  const response = await history(query);
  expect(response.status).toBe(200);
  return (await response.json()) as HistoryPageBody;
}

/** Follows nextCursor to the end; answers every page. */
async function allPages(
  order: "asc" | "desc",
  limit: number,
  between?: () => Promise<void>,
): Promise<HistoryPageBody[]> {
  const pages = [await page(`?order=${order}&limit=${limit}`)];
  for (let cursor = pages[0]?.nextCursor; cursor !== null && cursor !== undefined;) {
    await between?.();
    const next = await page(`?order=${order}&limit=${limit}&cursor=${encodeURIComponent(cursor)}`);
    pages.push(next);
    cursor = next.nextCursor;
  }
  return pages;
}

async function projectedVersionReaches(version: number): Promise<void> {
  const reached = await eventually(
    () => page("?limit=1"),
    (body) => body.projectedVersion >= version,
  );
  expect(reached.projectedVersion).toBeGreaterThanOrEqual(version);
}

const COMMITTED = 23;

beforeAll(async () => {
  store = await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, LOG_LEVEL: "silent" });
  directory = await mkdtemp(join(tmpdir(), "history-test-"));
  system = await startLocalSystem({ environment: store.environment, port: 0, dataDirectory: directory });
  for (let index = 0; index < COMMITTED; index++) await post(index % 5 === 4 ? "decrement" : "increment");
  await projectedVersionReaches(COMMITTED);
});

afterAll(async () => {
  await system.stop();
  await rm(directory, { recursive: true, force: true });
});

async function expectBadRequest(response: Response): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  const problem = (await response.json()) as { type: string; status: number; detail: string };
  expect(problem.type).toMatch(/\/bad-request$/);
  expect(problem.status).toBe(400);
}

describe("GET /number/history paging", () => {
  it("answers newest first, 20 items, by default, with projectedVersion", async () => {
    const first = await page("");
    expect(first.projectedVersion).toBe(COMMITTED);
    expect(first.items.map((item) => item.version)).toEqual(
      Array.from({ length: 20 }, (_, index) => COMMITTED - index),
    );
    expect(first.nextCursor).not.toBeNull();
  });

  it.each(["desc", "asc"] as const)(
    "pages %s through every event once, each page chained to the last",
    async (order) => {
      const pages = await allPages(order, 7);
      expect(pages.map((body) => body.items.length)).toEqual([7, 7, 7, 2]);
      expect(pages.at(-1)?.nextCursor).toBeNull();
      const versions = pages.flatMap((body) => body.items.map((item) => item.version));
      const expected = Array.from({ length: COMMITTED }, (_, index) => index + 1);
      expect(versions).toEqual(order === "asc" ? expected : expected.reverse());
      const items = pages.flatMap((body) => body.items).sort((left, right) => left.version - right.version);
      for (const [index, item] of items.entries()) {
        expect(item.valueBefore).toBe(index === 0 ? 0 : items[index - 1]?.valueAfter);
        expect(item.valueAfter).toBe(item.valueBefore + item.delta);
      }
    },
  );

  it("stays contiguous while commands keep arriving: no version twice, none skipped", async () => {
    const before = (await page("?limit=1")).projectedVersion;
    const descending = await allPages("desc", 4, () => post("increment"));
    const descendingVersions = descending.flatMap((body) => body.items.map((item) => item.version));
    const top = descendingVersions[0] ?? 0;
    expect(top).toBeGreaterThanOrEqual(before);
    expect(descendingVersions).toEqual(Array.from({ length: top }, (_, index) => top - index));

    const ascending = await allPages("asc", 4, () => post("increment"));
    const ascendingVersions = ascending.flatMap((body) => body.items.map((item) => item.version));
    expect(ascendingVersions).toEqual(
      Array.from({ length: ascendingVersions.length }, (_, index) => index + 1),
    );
    expect(ascendingVersions.length).toBeGreaterThanOrEqual(top);
  });
});

describe("GET /number/history refuses what it cannot read", () => {
  it.each([
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=1.5",
    "limit=",
    "limit=-1",
    "limit=10&limit=20",
    "order=up",
    "order=",
  ])("400 for %s", async (query) => {
    await expectBadRequest(await history(`?${query}`));
  });

  it("400 for forged, truncated, altered and foreign cursors", async () => {
    const real = (await page("?limit=2")).nextCursor ?? "";
    const altered = real.slice(0, 10) + (real[10] === "A" ? "B" : "A") + real.slice(11);
    const forgedContents: unknown[] = [
      { format: 1, order: "desc", version: -1 },
      { format: 1, order: "desc", version: 0 },
      { format: 1, order: "desc", version: 1.5 },
      { format: 1, order: "desc", version: 1e300 },
      { format: 2, order: "desc", version: 3 },
      { format: 1, order: "sideways", version: 3 },
      { format: 1, order: "desc", version: 3, extra: true },
      { format: 1, order: "desc", version: "3" },
      null,
      [],
    ];
    const cursors = [
      "garbage!",
      real.slice(0, -3),
      real.slice(0, 5),
      altered,
      "A".repeat(10_000),
      ...forgedContents.map((content) => Buffer.from(JSON.stringify(content)).toString("base64url")),
    ];
    for (const cursor of cursors)
      await expectBadRequest(await history(`?cursor=${encodeURIComponent(cursor)}`));
    const ascending = encodeCursor({ order: "asc", version: 3 });
    await expectBadRequest(await history(`?order=desc&cursor=${ascending}`));
    expect((await page(`?order=asc&cursor=${ascending}&limit=2`)).items.map((item) => item.version)).toEqual([
      4, 5,
    ]);
  });

  it("answers any cursor string with a page or a 400, never anything else", async () => {
    const query = createQueryHandler({ client: store.client, config: store.config, log: () => undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.base64String(), fc.string({ unit: "binary" })),
        async (cursor) => {
          const result = await query(
            httpEvent({ method: "GET", path: "/number/history", queryStringParameters: { cursor } }),
          );
          expect([200, 400]).toContain(result.statusCode);
        },
      ),
      { numRuns: 150 },
    );
  });
});
