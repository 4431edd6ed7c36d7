// Verification against signed digests on DynamoDB Local, at the layers a user meets: `npm run verify --
// --digest FILE` as a child process (scripts/verify.ts), and GET /number/verify?digest= through the real query
// handler. The forger here does their best: each tampering below the digest's version re-numbers, re-values
// and re-chains every later event and sets the aggregate to match, so that the ledger alone still verifies
// (checked) — and only the digest finds it, naming the version. The core's own cases (the fold, the replay)
// are in tests/unit/ledger/chain.test.ts and tests/integration/chain.test.ts.

import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { VERIFY_DIGEST_VERSION_MAX } from "../../../contract/limits";
import { verifyReportSchema, type DigestHead } from "../../../contract/schemas";
import { loadDigestSigner } from "../../../local/digests";
import { startLocalSystem } from "../../../local/system";
import { createLedgerDigestSource } from "../../../services/digest/digests";
import { leafOfChainHash, toHex, treeHash } from "../../../services/ledger/domain/merkle";
import { createKeySigner } from "../../../services/digest/keys";
import { chainedHashOf, GENESIS_HASH } from "../../../services/ledger/domain/chain";
import { signDigest, type DigestSigner } from "../../../services/ledger/domain/digest";
import { expectedEventIdOf, type LedgerEvent } from "../../../services/ledger/domain/event";
import { acquireLease, readCheckpoint, releaseLease } from "../../../services/ledger/storage/checkpoint";
import { COUNTERS, LEDGER } from "../../../services/ledger/storage/tables";
import { createAuditHandler } from "../../../services/query/handler";
import { LEDGER_ONLY_ENVIRONMENT } from "../../../testkit/claims";
import { httpEvent } from "../../support/fixtures";
import { createTestStore, type TestStore } from "../../support/store";
import { smallPagesClient, soundCounter } from "./corruption";

const run = promisify(execFile);
const tsx = resolve("node_modules/.bin/tsx");

/** Events of each counter; the digest signs version SIGNED, and every tampering is below it. */
const LENGTH = 12;
const SIGNED = 10;

let store: TestStore;
/** The data directory of the "local runtime" whose key signs the digests: the CLI's default key. */
let dataDirectory: string;
let signer: DigestSigner;

beforeAll(async () => {
  store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
  dataDirectory = mkdtempSync(join(tmpdir(), "digest-verify-"));
  signer = loadDigestSigner(dataDirectory);
});

/**
 * A counter of LENGTH sound, chained events; not projected unless asked (the forger then has only the ledger
 * and the aggregate to fix up).
 */
function counter(projected = false): Promise<{ counterId: string; events: LedgerEvent[] }> {
  return soundCounter(store, { length: LENGTH, projectedUpTo: projected ? LENGTH : 0, prefix: "digest" });
}

/** The chain's hash at `version` (every event of these counters is chained). */
function hashAt(events: readonly LedgerEvent[], version: number): string {
  if (version === 0) return GENESIS_HASH;
  const event = events[version - 1];
  if (event === undefined || !("hash" in event)) throw new Error(`no chained event at version ${version}`);
  return event.hash;
}

function headAt(counterId: string, events: readonly LedgerEvent[], version: number): DigestHead {
  const hash = hashAt(events, version);
  const leaves = events.slice(0, version).map((_, index) => leafOfChainHash(hashAt(events, index + 1)));
  return { counterId, version, hash, root: toHex(treeHash(leaves)), at: "2026-06-01T00:00:00.000Z" };
}

function sign(head: DigestHead, by: DigestSigner = signer): Promise<string> {
  return signDigest(head, by);
}

/** A file as the user has it: a saved GET /number/digest answer, or digests.jsonl (one answer a line). */
function digestFile(digests: readonly { digest: string; head: DigestHead }[], name = "digest.json"): string {
  const path = join(mkdtempSync(join(tmpdir(), "digest-file-")), name);
  writeFileSync(path, digests.map((digest) => JSON.stringify(digest)).join("\n") + "\n");
  return path;
}

async function savedDigest(counterId: string, events: readonly LedgerEvent[], version = SIGNED) {
  const head = headAt(counterId, events, version);
  return { digest: await sign(head), head };
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function verifyCli(counterId: string, args: readonly string[], data = dataDirectory): Promise<Outcome> {
  const env = { ...process.env, ...store.environment, COUNTER_ID: counterId, DATA_DIR: data };
  try {
    const { stdout, stderr } = await run(tsx, ["scripts/verify.ts", ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as Outcome;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A refusal: exit 2, nothing on stdout, one line on stderr naming the reason. */
function expectRefused(outcome: Outcome, reason: RegExp): void {
  expect(outcome.code).toBe(2);
  expect(outcome.stdout).toBe("");
  const lines = outcome.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(reason);
}

/**
 * The forger's rewrite: the ledger becomes `items` (the stored events, changed as they like), numbered from 1,
 * each value following from the one before, each hash chained to the one before, the aggregate at the last;
 * events no longer in it are deleted.
 */
async function forgeLedger(
  counterId: string,
  original: readonly LedgerEvent[],
  items: readonly Record<string, unknown>[],
): Promise<void> {
  let previousHash = GENESIS_HASH;
  let value = store.config.bounds.min;
  const forged: Record<string, unknown>[] = [];
  for (const [index, item] of items.entries()) {
    const event: Record<string, unknown> = { ...item, version: index + 1, valueBefore: value };
    event.valueAfter = value + (event.delta as number);
    event.previousHash = previousHash;
    event.hash = chainedHashOf(event, previousHash);
    value = event.valueAfter as number;
    previousHash = event.hash as string;
    forged.push(event);
  }
  const kept = new Set(forged.map((event) => event.eventId));
  for (const event of original.filter((event) => !kept.has(event.eventId))) {
    await store.client.send(
      new DeleteCommand({
        TableName: store.config.tables.ledger,
        Key: { [LEDGER.partitionKey]: event.eventId },
      }),
    );
  }
  for (const event of forged) {
    await store.client.send(new PutCommand({ TableName: store.config.tables.ledger, Item: event }));
  }
  const last = forged.at(-1)!;
  await store.client.send(
    new PutCommand({
      TableName: store.config.tables.counters,
      Item: {
        [COUNTERS.partitionKey]: counterId,
        value: last.valueAfter,
        version: last.version,
        updatedAt: last.at,
        lastEventId: last.eventId,
        headVersion: last.version,
        headHash: last.hash,
      },
    }),
  );
}

type Events = readonly LedgerEvent[];

/** Each tampering below version SIGNED, as the ledger's items after it, and the problem the digest finds. */
const TAMPERINGS: Record<string, { items: (events: Events) => Record<string, unknown>[]; found: string }> = {
  "a consistent rewrite of version 6 (an increment made a decrement)": {
    items: (events) =>
      events.map((event) => (event.version === 6 ? { ...event, action: "decrement", delta: -1 } : event)),
    found: `digestMismatch at version ${SIGNED}`,
  },
  "version 6 deleted": {
    items: (events) => events.filter((event) => event.version !== 6),
    found: `digestMismatch at version ${SIGNED}`,
  },
  "an event inserted after version 5": {
    items: (events) => {
      const copy = { ...events[4]!, idempotencyKey: "inserted", requestId: "inserted" };
      const inserted = { ...copy, eventId: expectedEventIdOf(copy) };
      return [...events.slice(0, 5), inserted, ...events.slice(5)];
    },
    found: `digestMismatch at version ${SIGNED}`,
  },
  "versions 4 and 5 swapped": {
    items: (events) => [...events.slice(0, 3), events[4]!, events[3]!, ...events.slice(5)],
    found: `digestMismatch at version ${SIGNED}`,
  },
  "the tail from version 9 rolled back, the aggregate set back": {
    items: (events) => events.slice(0, 8),
    found: "rolledBack at version 9",
  },
};

describe("npm run verify -- --digest FILE (the tables, a child process)", () => {
  it("proves a sound ledger against a saved digest, checked with the local key: exit 0 naming the version", async () => {
    const { counterId, events } = await counter();
    const file = digestFile([await savedDigest(counterId, events)]);
    const outcome = await verifyCli(counterId, ["--digest", file]);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain(`digests     1 signed digest, version ${SIGNED}`);
    expect(outcome.stdout).toContain(
      `Proven: the ledger holds, unchanged, the history signed at version ${SIGNED}`,
    );
  });

  it.each(Object.entries(TAMPERINGS))(
    "finds %s, which the ledger alone does not show: exit 1 naming the version",
    async (_, { items, found }) => {
      const { counterId, events } = await counter();
      const file = digestFile([await savedDigest(counterId, events)]);
      await forgeLedger(counterId, events, items(events));
      const alone = await verifyCli(counterId, []);
      expect(alone.code, `${alone.stdout}${alone.stderr}`).toBe(0);
      const outcome = await verifyCli(counterId, ["--digest", file]);
      expect(outcome.code, outcome.stderr).toBe(1);
      expect(outcome.stdout).toContain(found);
      expect(outcome.stdout).toContain(`first bad   version ${found.replace(/.* /, "")}`);
      expect(outcome.stdout).toContain("NOT OK: 1 violation.");
    },
  );

  it("holds the ledger to every line of a digests.jsonl, and names the first version that departs", async () => {
    const { counterId, events } = await counter();
    // The schedule's first line is often the empty counter's (version 0): it holds for any ledger.
    const lines = await Promise.all(
      [0, 3, 5, 7, 9].map((version) => savedDigest(counterId, events, version)),
    );
    const file = digestFile(lines, "digests.jsonl");
    const sound = await verifyCli(counterId, ["--digest", file]);
    expect(sound.code, sound.stdout + sound.stderr).toBe(0);
    expect(sound.stdout).toContain("digests     5 signed digests, versions 0, 3, 5, 7, 9");
    const json = await verifyCli(counterId, ["--json", "--digest", file]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, digestVersions: [0, 3, 5, 7, 9] });

    await forgeLedger(
      counterId,
      events,
      TAMPERINGS["a consistent rewrite of version 6 (an increment made a decrement)"]!.items(events),
    );
    const rewritten = await verifyCli(counterId, ["--digest", file]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.stdout).toContain("digestMismatch at version 7");
    expect(rewritten.stdout).toContain("digestMismatch at version 9");
    expect(rewritten.stdout).toContain("first bad   version 7");
  });

  /** A genuine digest of a fresh counter, and the same signature under a head the forger claims instead. */
  async function forgery() {
    const { counterId, events } = await counter();
    const genuine = await savedDigest(counterId, events);
    const [header, , signature] = genuine.digest.split(".");
    const claimed = { ...genuine.head, version: LENGTH, hash: hashAt(events, LENGTH) };
    const payload = Buffer.from(JSON.stringify(claimed)).toString("base64url");
    return {
      counterId,
      events,
      genuine,
      forged: { digest: `${header}.${payload}.${signature}`, head: claimed },
    };
  }

  it("refuses a forged signature with one line naming the reason, and exit 2", async () => {
    const { counterId, forged } = await forgery();
    expectRefused(await verifyCli(counterId, ["--digest", digestFile([forged])]), /bad signature/);
  });

  it("refuses a bare digest signed by a key the service does not publish", async () => {
    const { counterId, genuine } = await forgery();
    const stranger = createKeySigner(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
    const bare = join(mkdtempSync(join(tmpdir(), "digest-bare-")), "digest.jws");
    writeFileSync(bare, `${await sign(genuine.head, stranger)}\n`);
    expectRefused(await verifyCli(counterId, ["--digest", bare]), /unknown key/);
  });

  it("refuses another counter's genuine digest", async () => {
    const { counterId, genuine } = await forgery();
    const theirs = await sign({ ...genuine.head, counterId: "someone-else" });
    expectRefused(
      await verifyCli(counterId, ["--digest", digestFile([{ digest: theirs, head: genuine.head }])]),
      /other counter/,
    );
  });

  it("refuses a whole archive for one forged line, naming the line", async () => {
    const { counterId, events, forged } = await forgery();
    const archive = digestFile([await savedDigest(counterId, events, 3), forged], "digests.jsonl");
    expectRefused(await verifyCli(counterId, ["--digest", archive]), /bad signature.*digests\.jsonl:2/);
  });

  it("with --url passes one digest to the API's GET /number/verify?digest=, and refuses an archive", async () => {
    const { counterId, events } = await counter();
    const environment = { ...store.environment, COUNTER_ID: counterId, LOG_LEVEL: "silent" };
    // The running system signs with the key under the same data directory: the digest is its own.
    const system = await startLocalSystem({ environment, port: 0, dataDirectory });
    try {
      const file = digestFile([await savedDigest(counterId, events)]);
      const outcome = await verifyCli(counterId, ["--url", system.url, "--digest", file]);
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout).toContain(`digests     1 signed digest, version ${SIGNED}`);
      const archive = digestFile(
        await Promise.all([3, SIGNED].map((version) => savedDigest(counterId, events, version))),
        "digests.jsonl",
      );
      expectRefused(
        await verifyCli(counterId, ["--url", system.url, "--digest", archive]),
        /holds 2 digests/,
      );
    } finally {
      await system.stop();
    }
  });

  it("checks with --keys (a JWKS file), and without any key is exit 2", async () => {
    const { counterId, events } = await counter();
    const file = digestFile([await savedDigest(counterId, events)]);
    const elsewhere = mkdtempSync(join(tmpdir(), "digest-nokey-"));
    expectRefused(
      await verifyCli(counterId, ["--digest", file], elsewhere),
      /no key to check the digest with/,
    );
    const jwks = join(elsewhere, "keys.json");
    writeFileSync(jwks, JSON.stringify({ keys: [await signer.publicKey()] }));
    const outcome = await verifyCli(counterId, ["--digest", file, "--keys", jwks], elsewhere);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toContain(
      `Proven: the ledger holds, unchanged, the history signed at version ${SIGNED}`,
    );
  });
});

function json(result: APIGatewayProxyStructuredResultV2): Record<string, unknown> {
  return JSON.parse(result.body ?? "null") as Record<string, unknown>;
}

/**
 * The audit handler of a deployment of `counterId` whose digests `signer` signs (or that signs none); `replay`
 * gives its verification small ledger pages and a deadline.
 */
function queryOf(
  counterId: string,
  signs = true,
  replay: { readonly pageEvents?: number; readonly deadlineMs?: number } = {},
) {
  const config = { ...store.config, counterId };
  const digests = signs
    ? createLedgerDigestSource({ client: store.client, tables: config.tables, counterId, signer })
    : undefined;
  const client =
    replay.pageEvents === undefined
      ? store.client
      : (smallPagesClient(store, replay.pageEvents) as typeof store.client);
  const handler = createAuditHandler({
    client,
    config,
    log: () => undefined,
    digests,
    deadlineMs: replay.deadlineMs,
  });
  return (digest?: string) =>
    handler(
      httpEvent({
        method: "GET",
        path: "/number/verify",
        routeKey: "GET /number/verify",
        ...(digest === undefined ? {} : { queryStringParameters: { digest } }),
      }),
    );
}

describe("GET /number/verify?digest= (the audit handler)", () => {
  it("proves a sound ledger to the digest's version, and finds a rewrite, leaving the checkpoint where it was", async () => {
    const { counterId, events } = await counter(true);
    const verify = queryOf(counterId);
    expect(json(await verify())).toMatchObject({ ok: true, checkpointVersion: LENGTH });
    const checkpoint = await readCheckpoint(store.client, store.config.tables, counterId);
    const { digest } = await savedDigest(counterId, events);

    const sound = await verify(digest);
    expect(sound.statusCode).toBe(200);
    const report = verifyReportSchema.parse(json(sound));
    expect(report).toMatchObject({
      ok: true,
      digestVersion: SIGNED,
      checkedFrom: 1,
      checkedTo: SIGNED,
      events: SIGNED,
    });
    expect(report.checkpointVersion).toBeUndefined();

    await forgeLedger(
      counterId,
      events,
      TAMPERINGS["a consistent rewrite of version 6 (an increment made a decrement)"]!.items(events),
    );
    const rewritten = await verify(digest);
    expect(rewritten.statusCode).toBe(200);
    const found = verifyReportSchema.parse(json(rewritten));
    expect(found).toMatchObject({ ok: false, digestVersion: SIGNED });
    // The audit trail, left as it was, differs too; the digest names its own version.
    expect(found.problems).toContainEqual(
      expect.objectContaining({ kind: "digestMismatch", version: SIGNED }),
    );
    expect(await readCheckpoint(store.client, store.config.tables, counterId)).toEqual(checkpoint);
  });

  it("answers 400 naming the reason for a forged, another counter's or a malformed digest", async () => {
    const { counterId, events } = await counter();
    const verify = queryOf(counterId);
    const genuine = await savedDigest(counterId, events);
    const [header, , signature] = genuine.digest.split(".");
    const payload = Buffer.from(
      JSON.stringify({ ...genuine.head, version: 1, hash: hashAt(events, 1) }),
    ).toString("base64url");
    const cases = {
      badSignature: `${header}.${payload}.${signature}`,
      otherCounter: await sign({ ...genuine.head, counterId: "someone-else" }),
      malformed: "not-a-digest",
    };
    for (const [reason, digest] of Object.entries(cases)) {
      const answer = await verify(digest);
      expect(answer.statusCode, reason).toBe(400);
      expect(answer.headers?.["Content-Type"]).toMatch(/^application\/problem\+json/);
      expect(json(answer)).toMatchObject({ type: "https://counter-ledger.dev/problems/bad-request", reason });
    }
  });

  it(`answers 422 for a genuine digest above version ${VERIFY_DIGEST_VERSION_MAX}, and 404 where no digests are signed`, async () => {
    const { counterId, events } = await counter();
    const far = await sign({ ...headAt(counterId, events, 1), version: VERIFY_DIGEST_VERSION_MAX + 1 });
    const answer = await queryOf(counterId)(far);
    expect(answer.statusCode).toBe(422);
    expect(json(answer)).toMatchObject({
      type: "https://counter-ledger.dev/problems/digest-beyond-limit",
      versionMax: VERIFY_DIGEST_VERSION_MAX,
    });
    expect(String(json(answer).detail)).toContain("npm run verify -- --digest");
    expect((await queryOf(counterId, false)(far)).statusCode).toBe(404);
  });

  it("answers 503 with Retry-After while another verification holds the counter's lease", async () => {
    const { counterId, events } = await counter();
    const { digest } = await savedDigest(counterId, events);
    const holder = "another-verifier";
    const lease = { holder, nowMs: Date.now(), durationMs: 30_000 };
    expect((await acquireLease(store.client, store.config.tables, counterId, lease)).acquired).toBe(true);
    const busy = await queryOf(counterId)(digest);
    expect(busy.statusCode).toBe(503);
    expect(Number(busy.headers?.["Retry-After"])).toBeGreaterThanOrEqual(1);
    await releaseLease(store.client, store.config.tables, counterId, { holder, lastResult: undefined });
    expect((await queryOf(counterId)(digest)).statusCode).toBe(200);
  });

  it("answers 503 with Retry-After, and no report, when its deadline comes before the digest's version", async () => {
    const { counterId, events } = await counter();
    const { digest } = await savedDigest(counterId, events);
    // Pages of 4 events and a deadline already passed: the replay stops at version 4, below the digest's.
    const cut = await queryOf(counterId, true, { pageEvents: 4, deadlineMs: 0 })(digest);
    expect(cut.statusCode).toBe(503);
    expect(json(cut)).toMatchObject({ status: 503 });
    expect(String(json(cut).detail)).toContain(`did not reach version ${SIGNED}`);
    expect(Number(cut.headers?.["Retry-After"])).toBeGreaterThanOrEqual(1);
    // The lease was given back, and with time the same check proves the digest.
    const whole = await queryOf(counterId, true, { pageEvents: 4 })(digest);
    expect(whole.statusCode).toBe(200);
    expect(json(whole)).toMatchObject({ ok: true, checkedTo: SIGNED, digestVersion: SIGNED });
  });
});
