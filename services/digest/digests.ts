// The signed digest of a counter's current head (docs/api.md#digests), shared by GET /number/digest, the digest
// Lambda and the local schedule. Signing costs a KMS call on AWS, so a digest is signed at most once per head
// (version and hash) and kept for the life of the execution environment: asking again at the same head answers
// the digest already signed.

import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DigestKeySet, SignedDigest } from "../../contract/schemas";
import { GENESIS_HASH } from "../ledger/domain/chain";
import { signDigest, type DigestSigner } from "../ledger/domain/digest";
import { MERKLE_REQUEST_BUDGET_MS } from "../ledger/domain/limits";
import { toHex } from "../ledger/domain/merkle";
import { MerkleStore } from "../ledger/storage/merkle";
import { storeCall } from "../ledger/storage/store";
import { COUNTERS, type TableNames } from "../ledger/storage/tables";

export interface Head {
  readonly counterId: string;
  readonly version: number;
  /**
   * Undefined while the aggregate records no head at its own version: events written before the chain, whose
   * head the next command catches up (docs/architecture.md#the-hash-chain).
   */
  readonly hash: string | undefined;
}

/** The counter's head, read consistently from its aggregate item: `version`, and `headHash` at `headVersion`. */
export async function readHead(
  client: Pick<DynamoDBDocumentClient, "send">,
  tables: Pick<TableNames, "counters">,
  counterId: string,
): Promise<Head> {
  const output = await storeCall(() =>
    client.send(
      new GetCommand({
        TableName: tables.counters,
        Key: { [COUNTERS.partitionKey]: counterId },
        ConsistentRead: true,
        ProjectionExpression: "#version, headVersion, headHash",
        ExpressionAttributeNames: { "#version": "version" },
      }),
    ),
  );
  const item = output.Item;
  const version = typeof item?.version === "number" ? item.version : 0;
  const recorded = item?.headVersion === version && typeof item?.headHash === "string";
  const stored = recorded ? (item.headHash as string) : undefined;
  return { counterId, version, hash: stored ?? (version === 0 ? GENESIS_HASH : undefined) };
}

/** The head has no hash yet: there is nothing a digest could commit to. */
export class HeadNotChainedError extends Error {
  override readonly name = "HeadNotChainedError";
}

export interface DigestSource {
  /**
   * The signed digest of the current head: signed now, or the one already signed at this head. `rootBudgetMs`
   * bounds the root's computation (the scheduled job allows more than a request); past it MerkleIncompleteError.
   */
  current(options?: { readonly rootBudgetMs?: number }): Promise<SignedDigest>;
  /** The public keys that verify digests, as a JWKS. */
  keys(): Promise<DigestKeySet>;
}

export interface DigestSourceOptions {
  readonly readHead: () => Promise<Head>;
  /**
   * The Merkle tree hash of versions 1..version as hex (services/ledger/storage/merkle.ts; SHA-256 of "" for
   * version 0): what the digest commits to beside the head, and what event proofs are checked against.
   */
  readonly root: (version: number, budgetMs?: number) => Promise<string>;
  readonly signer: DigestSigner;
  readonly now?: () => Date;
}

export function createDigestSource(options: DigestSourceOptions): DigestSource {
  const now = options.now ?? (() => new Date());
  let cached: { readonly key: string; readonly digest: Promise<SignedDigest> } | undefined;
  const sign = async (head: Head & { hash: string }, budgetMs?: number): Promise<SignedDigest> => {
    const root = await options.root(head.version, budgetMs);
    const signed = {
      counterId: head.counterId,
      version: head.version,
      hash: head.hash,
      root,
      at: now().toISOString(),
    };
    return { digest: await signDigest(signed, options.signer), head: signed };
  };
  return {
    current: async (currentOptions) => {
      const head = await options.readHead();
      const { hash } = head;
      if (hash === undefined) {
        throw new HeadNotChainedError(
          `the head of ${head.counterId} at version ${head.version} has no hash yet`,
        );
      }
      const key = `${head.counterId}\n${head.version}\n${hash}`;
      if (cached?.key !== key) {
        const digest = sign({ ...head, hash }, currentOptions?.rootBudgetMs);
        cached = { key, digest };
        // A failed signature (or a root not computed in time) is not kept: the next request tries again.
        digest.catch(() => {
          if (cached?.digest === digest) cached = undefined;
        });
      }
      return cached.digest;
    },
    keys: async () => ({ keys: [await options.signer.publicKey()] }),
  };
}

export interface LedgerDigestSourceOptions {
  readonly client: Pick<DynamoDBDocumentClient, "send">;
  readonly tables: Pick<TableNames, "counters" | "ledger" | "readModel">;
  readonly counterId: string;
  readonly signer: DigestSigner;
  /**
   * How long computing one root may take unless `current` says otherwise (MERKLE_REQUEST_BUDGET_MS by default);
   * past it MerkleIncompleteError, its progress kept.
   */
  readonly rootBudgetMs?: number;
  /** Leaves of the smallest kept Merkle subtree (MERKLE_CHUNK_LEAVES; smaller in tests). */
  readonly merkleChunkLeaves?: number;
  readonly now?: () => Date;
}

/** The digest source of a counter's ledger: its head from the aggregate, its root from the kept Merkle tree. */
export function createLedgerDigestSource(options: LedgerDigestSourceOptions): DigestSource {
  const { client, tables, counterId } = options;
  const tree = new MerkleStore({ client, tables, counterId, chunkLeaves: options.merkleChunkLeaves });
  return createDigestSource({
    readHead: () => readHead(client, tables, counterId),
    root: async (version, budgetMs) =>
      toHex(await tree.root(version, budgetMs ?? options.rootBudgetMs ?? MERKLE_REQUEST_BUDGET_MS)),
    signer: options.signer,
    now: options.now,
  });
}
