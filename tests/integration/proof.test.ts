// Event proofs on DynamoDB Local (docs/api.md#get-numbereventskeyproof): GET /number/events/{key}/proof through
// the REAL query handler (AUTH on, claims as API Gateway passes them), with the Merkle tree's kept subtrees made
// small (4 leaves) so that a short ledger keeps some. A proof checks offline — with verifyEventProof and with
// `npm run check-proof` as a real process — and fails for another ledger, another event, a changed field, a
// changed kept subtree, another tree size; an older archived digest checks with `?version=`; the owner rules are
// those of GET /number/events/{key}; bad parameters are problems. The digest's root is checked against a Merkle
// tree hash computed here, independently, from the ledger's stored hashes.

import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import {
  digestKeySetSchema,
  eventProofSchema,
  signedDigestSchema,
  type DigestPublicKey,
  type EventProof,
  type SignedDigest,
} from "../../contract/schemas";
import { loadDigestSigner } from "../../local/digests";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import { createLedgerDigestSource } from "../../services/digest/digests";
import type { DigestSigner } from "../../services/ledger/domain/digest";
import { verifyEventProof } from "../../services/ledger/domain/proof";
import {
  merkleEntryOf,
  merklePartitionOf,
  MerkleIncompleteError,
  MerkleStore,
} from "../../services/ledger/storage/merkle";
import { createReadHandler, type QueryHandler } from "../../services/query/handler";
import { ALICE, AUDREY, BOB, RITA, withClaims, type TestClaims } from "../../testkit/claims";
import { commandEvent, httpEvent } from "../support/fixtures";
import { createTestStore, type TestStore } from "../support/store";
import { seedLedger } from "../../testkit/seed-ledger";

const run = promisify(execFile);
const tsx = resolve("node_modules/.bin/tsx");
const CHUNK = 4;

interface Ledger {
  readonly store: TestStore;
  readonly query: QueryHandler;
  readonly command: (claims: TestClaims, key: string) => Promise<void>;
}

async function ledgerWith(signer: DigestSigner): Promise<Ledger> {
  const store = await createTestStore();
  const { client, config } = store;
  const digests = createLedgerDigestSource({
    client,
    tables: config.tables,
    counterId: config.counterId,
    signer,
    merkleChunkLeaves: CHUNK,
  });
  const query = createReadHandler(
    {
      client,
      config,
      log: () => undefined,
      digests,
      merkleChunkLeaves: CHUNK,
    },
    ["query", "audit"],
  );
  const handler = createCommandHandler({
    committer: new Committer({ client, config }),
    config,
    log: () => undefined,
  });
  const command = async (claims: TestClaims, key: string) => {
    expect((await handler(withClaims(commandEvent("increment", key), claims))).statusCode).toBe(200);
  };
  return { store, query, command };
}

function json<T>(result: APIGatewayProxyStructuredResultV2): T {
  return JSON.parse(result.body ?? "null") as T;
}

function proofOf(ledger: Ledger, key: string, claims: TestClaims, query: Record<string, string> = {}) {
  const path = `/number/events/${key}/proof`;
  return ledger.query(
    withClaims(
      httpEvent({
        method: "GET",
        path,
        routeKey: "GET /number/events/{key}/proof",
        pathParameters: { key },
        queryStringParameters: query,
      }),
      claims,
    ),
  );
}

async function proven(
  ledger: Ledger,
  key: string,
  claims: TestClaims = ALICE,
  query = {},
): Promise<EventProof> {
  const answer = await proofOf(ledger, key, claims, query);
  expect(answer.statusCode, answer.body).toBe(200);
  return eventProofSchema.parse(json(answer));
}

async function digestOf(ledger: Ledger): Promise<SignedDigest> {
  const answer = await ledger.query(
    httpEvent({ method: "GET", path: "/number/digest", routeKey: "GET /number/digest" }),
  );
  expect(answer.statusCode).toBe(200);
  return signedDigestSchema.parse(json(answer));
}

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** RFC 9162's MTH, written anew, over the ledger's stored event hashes in version order. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return sha256(Buffer.of(0), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

async function storedHashes(store: TestStore): Promise<Buffer[]> {
  const output = await store.client.send(
    new QueryCommand({
      TableName: store.config.tables.ledger,
      IndexName: "byVersion",
      KeyConditionExpression: "counterId = :counterId",
      ExpressionAttributeValues: { ":counterId": store.config.counterId },
    }),
  );
  return (output.Items ?? []).map((item) => Buffer.from(item.hash as string, "hex"));
}

let signer: DigestSigner;
let keys: DigestPublicKey[];
let ledger: Ledger;
/** The digest of version 5, archived before the ledger moved on. */
let archived: SignedDigest;

beforeAll(async () => {
  signer = loadDigestSigner(mkdtempSync(join(tmpdir(), "proof-key-")));
  keys = [await signer.publicKey()];
  ledger = await ledgerWith(signer);
  for (let index = 1; index <= 5; index += 1) await ledger.command(ALICE, `p-${index}`);
  archived = await digestOf(ledger);
  for (let index = 6; index <= 11; index += 1) await ledger.command(ALICE, `p-${index}`);
  for (let index = 1; index <= 3; index += 1) await ledger.command(BOB, `b-${index}`);
});

describe("GET /number/events/{key}/proof", () => {
  it("proves the event against the current digest, whose root is the ledger's Merkle tree hash", async () => {
    const digest = await digestOf(ledger);
    expect(digest.head.version).toBe(14);
    expect(digest.head.root).toBe(mth(await storedHashes(ledger.store)).toString("hex"));
    expect(archived.head.root).toBe(mth((await storedHashes(ledger.store)).slice(0, 5)).toString("hex"));
    for (const key of ["p-1", "p-3", "p-8", "p-11"]) {
      const proof = await proven(ledger, key);
      expect(proof.treeSize).toBe(14);
      expect(proof.digest).toEqual(digest);
      expect(proof.event).toMatchObject({ idempotencyKey: key, actor: { sub: ALICE.sub } });
      expect(proof.event).not.toHaveProperty("hash");
      expect(proof.path.length).toBeLessThanOrEqual(4);
      expect(await verifyEventProof(proof, undefined, keys)).toMatchObject({ ok: true, head: digest.head });
    }
  });

  it(
    "checks with npm run check-proof as a process: 0 proven, 1 refused with the reason, 2 for a missing file",
    { timeout: 180_000 },
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "proof-files-"));
      const proof = await proven(ledger, "p-4");
      const proofFile = join(directory, "proof.json");
      const keysFile = join(directory, "keys.json");
      writeFileSync(proofFile, JSON.stringify(proof));
      writeFileSync(keysFile, JSON.stringify(digestKeySetSchema.parse({ keys })));
      const check = (...args: string[]) =>
        run(tsx, ["scripts/check-proof.ts", ...args]).then(
          ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
          (error: { code: number; stdout: string; stderr: string }) => error,
        );
      const ok = await check(proofFile, "--keys", keysFile);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^proven: event 4 /);

      const tamperedFile = join(directory, "tampered.json");
      writeFileSync(tamperedFile, JSON.stringify({ ...proof, event: { ...proof.event, valueAfter: 40 } }));
      const refused = await check(tamperedFile, "--keys", keysFile);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^refused \(notIncluded\)/);

      // The proof against the digest of version 5, kept in a digests.jsonl: another tree.
      const archiveFile = join(directory, "digests.jsonl");
      writeFileSync(archiveFile, `${JSON.stringify(archived)}\n`);
      expect((await check(proofFile, "--keys", keysFile, "--digest", archiveFile)).code).toBe(1);
      expect((await check(join(directory, "absent.json"), "--keys", keysFile)).code).toBe(2);
      expect((await check("--keys", keysFile)).code).toBe(2);
    },
  );

  it("proves against an older archived digest with ?version=", async () => {
    const proof = await proven(ledger, "p-3", ALICE, { version: "5" });
    expect(proof.treeSize).toBe(5);
    expect(proof.digest).toBeNull();
    expect(await verifyEventProof(proof, archived, keys)).toMatchObject({ ok: true, head: archived.head });
    expect(await verifyEventProof(proof, archived.digest, keys)).toMatchObject({ ok: true });
    expect(await verifyEventProof(proof, undefined, keys)).toMatchObject({
      ok: false,
      reason: "malformedProof",
    });
    const current = await digestOf(ledger);
    expect(await verifyEventProof(proof, current, keys)).toMatchObject({ ok: false, reason: "otherTree" });
    // The head's own version carries the head's digest.
    const atHead = await proven(ledger, "p-3", ALICE, { version: "14" });
    expect(atHead.digest).toEqual(current);
  });

  it("fails for another ledger, another event, a changed field, a changed path", async () => {
    const other = await ledgerWith(signer);
    for (let index = 1; index <= 14; index += 1) await other.command(ALICE, `p-${index}`);
    const proof = await proven(ledger, "p-6");
    const otherDigest = await digestOf(other);
    expect(otherDigest.head.version).toBe(proof.treeSize);
    expect(await verifyEventProof(proof, otherDigest, keys)).toMatchObject({
      ok: false,
      reason: "notIncluded",
    });
    const otherProof = await proven(other, "p-6");
    expect(await verifyEventProof(otherProof, proof.digest!, keys)).toMatchObject({
      ok: false,
      reason: "notIncluded",
    });

    const moved = { ...proof, event: (await proven(ledger, "p-7")).event };
    expect(await verifyEventProof(moved, undefined, keys)).toMatchObject({
      ok: false,
      reason: "notIncluded",
    });
    const renumbered = { ...moved, version: 7 };
    expect(await verifyEventProof(renumbered, undefined, keys)).toMatchObject({
      ok: false,
      reason: "notIncluded",
    });
    for (const change of [
      { delta: -1 },
      { action: "decrement" },
      { at: "2020-01-01T00:00:00.000Z" },
      { extra: 1 },
    ]) {
      const changed = { ...proof, event: { ...proof.event, ...change } };
      expect(await verifyEventProof(changed, undefined, keys)).toMatchObject({
        ok: false,
        reason: "notIncluded",
      });
    }
    const pathChanged = { ...proof, path: [...proof.path].reverse() };
    expect(await verifyEventProof(pathChanged, undefined, keys)).toMatchObject({
      ok: false,
      reason: "notIncluded",
    });
  });

  it("fails for an event changed in the table, whose stored hash no longer covers it", async () => {
    const changed = await ledgerWith(signer);
    for (let index = 1; index <= 6; index += 1) await changed.command(ALICE, `p-${index}`);
    await digestOf(changed);
    const before = await proven(changed, "p-2");
    const { client, config } = changed.store;
    await client.send(
      new PutCommand({
        TableName: config.tables.ledger,
        Item: {
          ...before.event,
          valueAfter: 7,
          hash: (await storedHashes(changed.store))[1]!.toString("hex"),
        },
      }),
    );
    const after = await proven(changed, "p-2");
    expect(after.event.valueAfter).toBe(7);
    expect(await verifyEventProof(after, undefined, keys)).toMatchObject({
      ok: false,
      reason: "notIncluded",
    });
  });

  it("fails, never passes, when a kept subtree is changed: before or after the digest is signed", async () => {
    const kept = await ledgerWith(signer);
    for (let index = 1; index <= 14; index += 1) await kept.command(ALICE, `p-${index}`);
    await proven(kept, "p-1"); // signs the digest of 14, keeping [0,4), [4,8), [0,8), [8,12)
    const { client, config } = kept.store;
    const entry = merkleEntryOf({ start: 0, size: 8 });
    const key = { counterId: merklePartitionOf(config.counterId), entry };
    await client.send(
      new UpdateCommand({
        TableName: config.tables.readModel,
        Key: key,
        UpdateExpression: "SET #hash = :hash",
        ConditionExpression: "attribute_exists(#hash)",
        ExpressionAttributeNames: { "#hash": "hash" },
        ExpressionAttributeValues: { ":hash": "ab".repeat(32) },
      }),
    );
    // The digest signed before: the path of version 10 holds the changed subtree.
    const afterwards = await proven(kept, "p-10");
    expect(afterwards.path).toContain("ab".repeat(32));
    expect(await verifyEventProof(afterwards, undefined, keys)).toMatchObject({
      ok: false,
      reason: "notIncluded",
    });
    // A digest signed after (a new execution environment): its root commits to the changed subtree, which the
    // events below it do not hash to.
    const fresh = createReadHandler(
      {
        client,
        config,
        log: () => undefined,
        merkleChunkLeaves: CHUNK,
        digests: createLedgerDigestSource({
          client,
          tables: config.tables,
          counterId: config.counterId,
          signer,
          merkleChunkLeaves: CHUNK,
        }),
      },
      ["query", "audit"],
    );
    for (const eventKey of ["p-1", "p-6"]) {
      const answer = await proofOf({ ...kept, query: fresh }, eventKey, ALICE);
      expect(answer.statusCode).toBe(200);
      expect(await verifyEventProof(json(answer), undefined, keys)).toMatchObject({
        ok: false,
        reason: "notIncluded",
      });
    }
  });
});

describe("who may have a proof, and bad parameters", () => {
  it("follows the owner rules of GET /number/events/{key}", async () => {
    expect((await proofOf(ledger, "p-1", BOB)).statusCode).toBe(404);
    const asBob = await proofOf(ledger, "p-1", BOB, { actor: ALICE.sub });
    expect(asBob.statusCode).toBe(403);
    expect(asBob.headers?.["WWW-Authenticate"]).toMatch(/insufficient_scope/);
    expect((await proofOf(ledger, "p-1", RITA)).statusCode).toBe(403);
    const proof = await proven(ledger, "p-1", AUDREY, { actor: ALICE.sub });
    expect(await verifyEventProof(proof, undefined, keys)).toMatchObject({ ok: true });
    expect((await proofOf(ledger, "p-1", AUDREY)).statusCode).toBe(404);
    const unauthenticated = await ledger.query(
      httpEvent({
        method: "GET",
        path: "/number/events/p-1/proof",
        routeKey: "GET /number/events/{key}/proof",
        pathParameters: { key: "p-1" },
      }),
    );
    expect(unauthenticated.statusCode).toBe(401);
  });

  it("answers problems for bad versions and keys, and 404 without a signer", async () => {
    for (const [version, status] of [
      ["0", 400],
      ["-1", 400],
      ["abc", 400],
      ["05", 400],
      ["99999999999999999", 400],
      ["2", 400], // below the event's version (3)
      ["15", 400], // beyond the head (14)
    ] as const) {
      const answer = await proofOf(ledger, "p-3", ALICE, { version });
      expect(answer.statusCode, version).toBe(status);
      expect(answer.headers?.["Content-Type"]).toMatch(/^application\/problem\+json/);
      expect(json<{ detail: string }>(answer).detail).not.toMatch(/test-|Exception|arn:/);
    }
    expect((await proofOf(ledger, "no such key", ALICE)).statusCode).toBe(404);
    expect((await proofOf(ledger, "p-404", ALICE)).statusCode).toBe(404);
    const unsigned = createReadHandler(
      {
        client: ledger.store.client,
        config: ledger.store.config,
        log: () => undefined,
      },
      ["query", "audit"],
    );
    const answer = await proofOf({ ...ledger, query: unsigned }, "p-1", ALICE);
    expect(answer.statusCode).toBe(404);
    expect(json<{ detail: string }>(answer).detail).toBe("This deployment signs no digests.");
  });
});

describe("the kept Merkle tree under a deadline (services/ledger/storage/merkle.ts)", () => {
  it("stops when its budget is spent, keeps what it filled, and the next call goes on to the right root", async () => {
    const cold = await ledgerWith(signer);
    const { client, config } = cold.store;
    // Over two pages of the ledger (1 000 events each), with the real chunk of 256 leaves.
    const events = 2_100;
    await seedLedger(client, config, events);
    // A clock that moves one tick per look: each call reads two pages before its budget is spent.
    let ticks = 0;
    const tree = new MerkleStore({
      client,
      tables: config.tables,
      counterId: config.counterId,
      clock: () => ticks++,
    });
    let incomplete = 0;
    let root: Uint8Array | undefined;
    for (let call = 0; call < 10 && root === undefined; call += 1) {
      try {
        root = await tree.root(events, 1);
      } catch (error) {
        expect(error).toBeInstanceOf(MerkleIncompleteError);
        incomplete += 1;
      }
    }
    expect(incomplete).toBeGreaterThanOrEqual(1);
    expect(Buffer.from(root!).toString("hex")).toBe(mth(await storedHashes(cold.store)).toString("hex"));
    // Warm: a root of the same size reads no leaves at all, so a budget already spent does not stop it.
    ticks = 1_000;
    const warm = new MerkleStore({
      client,
      tables: config.tables,
      counterId: config.counterId,
      clock: () => ticks++,
    });
    expect(Buffer.from(await warm.root(2_048, -10)).toString("hex")).toBe(
      mth((await storedHashes(cold.store)).slice(0, 2_048)).toString("hex"),
    );
  });

  it("answers 503 with Retry-After from GET /number/digest and the proof while the tree is not filled", async () => {
    const cold = await ledgerWith(signer);
    for (let index = 1; index <= 9; index += 1) await cold.command(ALICE, `c-${index}`);
    const { client, config } = cold.store;
    const spent = createReadHandler(
      {
        client,
        config,
        log: () => undefined,
        merkleChunkLeaves: CHUNK,
        digests: createLedgerDigestSource({
          client,
          tables: config.tables,
          counterId: config.counterId,
          signer,
          merkleChunkLeaves: CHUNK,
          rootBudgetMs: -1,
        }),
      },
      ["query", "audit"],
    );
    const digest = await spent(
      httpEvent({ method: "GET", path: "/number/digest", routeKey: "GET /number/digest" }),
    );
    expect(digest.statusCode).toBe(503);
    expect(digest.headers?.["Retry-After"]).toBe("1");
    expect(json<{ detail: string }>(digest).detail).toMatch(/Merkle tree is still being filled/);
    const proof = await proofOf({ ...cold, query: spent }, "c-2", ALICE);
    expect(proof.statusCode).toBe(503);
    expect(proof.headers?.["Retry-After"]).toBe("1");
  });
});
