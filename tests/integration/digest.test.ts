// Signed digests on DynamoDB Local: GET /number/digest and /number/digest/keys through the REAL query handler
// (AUTH on, verified claims as API Gateway passes them), signed once per head; and the local runtime's digest
// key, kept under DATA_DIR across restarts, and its schedule, which appends a line to digests.jsonl only when the
// head moved and never rewrites the file.
//
// Until the hash chain lands (issue 12, point 1) the aggregate has no `headHash`: where it is missing, the test
// writes one into the aggregate item, as the command path will. Once the chain is there, nothing is written.

import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { digestKeySetSchema, signedDigestSchema, type SignedDigest } from "../../contract/schemas";
import { DIGESTS_FILE, loadDigestSigner, startDigestSchedule } from "../../local/digests";
import { Committer } from "../../services/command/committer";
import { createCommandHandler } from "../../services/command/handler";
import { createLedgerDigestSource, type DigestSource } from "../../services/digest/digests";
import type { DigestSigner } from "../../services/ledger/domain/digest";
import { verifyDigest } from "../../services/ledger/domain/digest";
import { createReadHandler } from "../../services/query/handler";
import { ALICE, withClaims } from "../../testkit/claims";
import { commandEvent, httpEvent } from "../support/fixtures";
import { createTestStore, type TestStore } from "../support/store";

let store: TestStore;
beforeAll(async () => {
  store = await createTestStore();
});

function json<T>(result: APIGatewayProxyStructuredResultV2): T {
  return JSON.parse(result.body ?? "null") as T;
}

/** Counts the signatures a signer makes. */
function counting(signer: DigestSigner): DigestSigner & { signatures: number } {
  const counted = {
    signatures: 0,
    publicKey: () => signer.publicKey(),
    sign: (input: Uint8Array) => {
      counted.signatures += 1;
      return signer.sign(input);
    },
  };
  return counted;
}

/** The ledger's digest source: the head from the aggregate, the root from the kept Merkle tree. */
function sourceOf(signer: DigestSigner): DigestSource {
  const { client, config } = store;
  return createLedgerDigestSource({ client, tables: config.tables, counterId: config.counterId, signer });
}

describe("GET /number/digest and /number/digest/keys (the query handler, AUTH on)", () => {
  it("answers the signed head, verifiable against the published keys, signed once per head", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "digest-query-"));
    const signer = counting(loadDigestSigner(dataDirectory));
    const { client, config } = store;
    const query = createReadHandler({ client, config, log: () => undefined, digests: sourceOf(signer) }, [
      "query",
      "audit",
    ]);
    const command = createCommandHandler({
      committer: new Committer({ client, config }),
      config,
      log: () => undefined,
    });
    const get = (path: string) => query(httpEvent({ method: "GET", path, routeKey: `GET ${path}` }));

    expect((await command(withClaims(commandEvent("increment", "digest-1"), ALICE))).statusCode).toBe(200);
    const first = await get("/number/digest");
    expect(first.statusCode).toBe(200);
    const digest = signedDigestSchema.parse(json(first));
    const keysAnswer = await get("/number/digest/keys");
    expect(keysAnswer.statusCode).toBe(200);
    const { keys } = digestKeySetSchema.parse(json(keysAnswer));
    const verified = await verifyDigest(digest.digest, keys, { counterId: config.counterId });
    expect(verified).toEqual({ ok: true, head: digest.head, kid: keys[0]?.kid });
    expect(digest.head.version).toBe(1);

    // The same head: the same digest, no new signature.
    expect(json<SignedDigest>(await get("/number/digest"))).toEqual(digest);
    expect(signer.signatures).toBe(1);

    // The head moves: a new digest, one more signature.
    expect((await command(withClaims(commandEvent("increment", "digest-2"), ALICE))).statusCode).toBe(200);
    const moved = signedDigestSchema.parse(json(await get("/number/digest")));
    expect(moved.head.version).toBe(2);
    expect(signer.signatures).toBe(2);
    expect(await verifyDigest(moved.digest, keys, { counterId: "another-counter" })).toMatchObject({
      ok: false,
      reason: "otherCounter",
    });
  });

  it("answers 404 where the deployment signs no digests, and needs a token where PUBLIC_READ=false", async () => {
    const query = createReadHandler({ client: store.client, config: store.config, log: () => undefined }, [
      "query",
      "audit",
    ]);
    const answer = await query(
      httpEvent({ method: "GET", path: "/number/digest", routeKey: "GET /number/digest" }),
    );
    expect(answer.statusCode).toBe(404);
    expect(answer.headers?.["Content-Type"]).toMatch(/^application\/problem\+json/);
    const closed = createReadHandler(
      {
        client: store.client,
        config: { ...store.config, auth: { ...store.config.auth, publicRead: false } },
        log: () => undefined,
        digests: sourceOf(loadDigestSigner(mkdtempSync(join(tmpdir(), "digest-closed-")))),
      },
      ["query", "audit"],
    );
    const refused = await closed(
      httpEvent({ method: "GET", path: "/number/digest", routeKey: "GET /number/digest" }),
    );
    expect(refused.statusCode).toBe(401);
    const keys = await closed(
      httpEvent({ method: "GET", path: "/number/digest/keys", routeKey: "GET /number/digest/keys" }),
    );
    expect(keys.statusCode).toBe(200);
  });
});

describe("the local digest key and schedule (local/digests.ts)", () => {
  it("keeps the key under DATA_DIR/digest, owner-only, and signs with the same key after a restart", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "digest-key-"));
    const before = await loadDigestSigner(dataDirectory).publicKey();
    const keyFile = join(dataDirectory, "digest", "signing-key.json");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDirectory, "digest")).mode & 0o777).toBe(0o700);
    const after = loadDigestSigner(dataDirectory);
    expect(await after.publicKey()).toEqual(before);
    const other = await loadDigestSigner(mkdtempSync(join(tmpdir(), "digest-key-other-"))).publicKey();
    expect(other).not.toEqual(before);
  });

  it("appends a line only when the head moved, never rewriting what is there, also across restarts", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "digest-schedule-"));
    const file = join(dataDirectory, DIGESTS_FILE);
    const { client, config } = store;
    const command = createCommandHandler({
      committer: new Committer({ client, config }),
      config,
      log: () => undefined,
    });
    const schedule = (signer: DigestSigner) =>
      startDigestSchedule({ source: sourceOf(signer), file, intervalMs: undefined, log: () => undefined });

    const first = schedule(loadDigestSigner(dataDirectory));
    expect(await first.tick()).toBe("written");
    expect(await first.tick()).toBe("unchanged");
    const oneLine = readFileSync(file, "utf8");
    expect(oneLine.trim().split("\n")).toHaveLength(1);
    const inode = statSync(file).ino;

    expect((await command(withClaims(commandEvent("increment", "schedule-1"), ALICE))).statusCode).toBe(200);
    expect(await first.tick()).toBe("written");
    await first.stop();
    const twoLines = readFileSync(file, "utf8");
    expect(twoLines.startsWith(oneLine)).toBe(true);

    // A restart (a new schedule, the key loaded again) does not write the same head again.
    const restarted = schedule(loadDigestSigner(dataDirectory));
    expect(await restarted.tick()).toBe("unchanged");
    await restarted.stop();
    expect(readFileSync(file, "utf8")).toBe(twoLines);
    expect(statSync(file).ino).toBe(inode);

    const lines = twoLines
      .trim()
      .split("\n")
      .map((line) => signedDigestSchema.parse(JSON.parse(line)));
    expect(lines[1]!.head.version).toBe(lines[0]!.head.version + 1);
    const keys = [await loadDigestSigner(dataDirectory).publicKey()];
    for (const line of lines) {
      expect(await verifyDigest(line.digest, keys, { counterId: config.counterId })).toMatchObject({
        ok: true,
      });
    }
  });

  it("runs on its timer", async () => {
    const dataDirectory = mkdtempSync(join(tmpdir(), "digest-timer-"));
    const file = join(dataDirectory, DIGESTS_FILE);
    let signed!: () => void;
    const wrote = new Promise<void>((resolve) => (signed = resolve));
    const signer = loadDigestSigner(dataDirectory);
    const watched: DigestSigner = {
      publicKey: () => signer.publicKey(),
      sign: async (input) => {
        const signature = await signer.sign(input);
        setImmediate(signed);
        return signature;
      },
    };
    const timed = startDigestSchedule({
      source: sourceOf(watched),
      file,
      intervalMs: 10,
      log: () => undefined,
    });
    await wrote;
    await timed.stop();
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(1);
  });
});
