// GET /number/events/{key}/proof (docs/api.md#get-numbereventskeyproof): the event under a key, exactly as
// stored, with its audit path in the Merkle tree of the ledger's versions and the signed digest whose root the
// path leads to, so that the client proves offline that its event is in the ledger the digest covers. The same
// owner rules as GET /number/events/{key}; `?version=V` proves against the tree of an older digest of version V.
// It reads, and writes nothing but kept Merkle subtrees (services/ledger/storage/merkle.ts).

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { PROOF_HASH_ENCODING, type EventProof, type SignedDigest } from "../../contract/schemas";
import type { LedgerConfig } from "../ledger/config";
import { GENESIS_HASH } from "../ledger/domain/chain";
import { eventIdOf, ledgerEventSchema } from "../ledger/domain/event";
import { IDEMPOTENCY_KEY_PATTERN, MERKLE_REQUEST_BUDGET_MS } from "../ledger/domain/limits";
import { toHex } from "../ledger/domain/merkle";
import type { Caller } from "../ledger/http/caller";
import { echo, problemResponse } from "../ledger/http/problem";
import { jsonResponse } from "../ledger/http/response";
import { MerkleIncompleteError, MerkleStore } from "../ledger/storage/merkle";
import type { LedgerReader } from "../ledger/storage/store";
import { HeadNotChainedError, readHead, type DigestSource } from "../digest/digests";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ownerOf } from "./owner";

export interface ProofContext {
  readonly event: APIGatewayProxyEventV2;
  readonly requestId: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly caller: Caller;
}

export interface ProofDependencies {
  readonly client: DynamoDBDocumentClient;
  readonly config: LedgerConfig;
  readonly digests?: DigestSource;
  /** Leaves of the smallest kept Merkle subtree (MERKLE_CHUNK_LEAVES; smaller in tests). */
  readonly merkleChunkLeaves?: number;
}

type Answer = APIGatewayProxyStructuredResultV2;

/** `?version=`: a decimal version, at least 1, no sign, no leading zero. */
function requestedTreeSize(request: APIGatewayProxyEventV2): number | "absent" | "bad" {
  const raw = request.queryStringParameters?.version;
  if (raw === undefined) return "absent";
  if (!/^[1-9][0-9]{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) return "bad";
  return Number(raw);
}

/** The tree the proof is of and the digest that signs its root: the current head's, or an older size's. */
async function treeOf(
  dependencies: ProofDependencies & { readonly digests: DigestSource },
  eventVersion: number,
  requested: number | "absent",
  requestId: string,
): Promise<{ treeSize: number; digest: SignedDigest | null } | Answer> {
  const { client, config, digests } = dependencies;
  if (requested === "absent") {
    const digest = await digests.current();
    if (digest.head.version < eventVersion) {
      return problemResponse("unavailable", { requestId, detail: "No digest covers the event yet." });
    }
    return { treeSize: digest.head.version, digest };
  }
  if (requested < eventVersion) {
    return problemResponse("badRequest", {
      requestId,
      detail: `version must be at least the event's version, ${eventVersion}: no tree before it holds the event.`,
    });
  }
  const head = await readHead(client, config.tables, config.counterId);
  if (requested > head.version) {
    return problemResponse("badRequest", {
      requestId,
      detail: `version must be at most the ledger's version, ${head.version}.`,
    });
  }
  const current = requested === head.version ? await digests.current() : null;
  return { treeSize: requested, digest: current?.head.version === requested ? current : null };
}

function notFound(requestId: string): Answer {
  return problemResponse("notFound", { requestId, detail: "No event is recorded under that key." });
}

export function createProofQuery(
  dependencies: ProofDependencies,
  reader: LedgerReader,
): (context: ProofContext) => Promise<Answer> {
  const { config, digests } = dependencies;
  const tree = new MerkleStore({
    client: dependencies.client,
    tables: config.tables,
    counterId: config.counterId,
    chunkLeaves: dependencies.merkleChunkLeaves,
  });
  return async ({ event: request, pathParameters, requestId, caller }) => {
    if (digests === undefined) {
      return problemResponse("notFound", { requestId, detail: "This deployment signs no digests." });
    }
    const owner = ownerOf(request, caller, requestId);
    if (owner.kind === "refused") return owner.result;
    const requested = requestedTreeSize(request);
    if (requested === "bad") {
      return problemResponse("badRequest", {
        requestId,
        detail: `version must be a version of the ledger, a whole number from 1 (got ${echo(request.queryStringParameters?.version ?? "")}).`,
      });
    }
    const key = pathParameters.key ?? "";
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) return notFound(requestId);
    const item = await reader.readStoredEvent(eventIdOf(config.counterId, key, { sub: owner.sub }));
    if (item === undefined) return notFound(requestId);
    // An item that is not a ledger event is a broken ledger: a 500, never a proof of something unreadable.
    const { version } = ledgerEventSchema.parse(item);
    try {
      const found = await treeOf({ ...dependencies, digests }, version, requested, requestId);
      if (!("treeSize" in found)) return found;
      const path = await tree.inclusionPath(version, found.treeSize, MERKLE_REQUEST_BUDGET_MS);
      const { hash: _hash, ...stored } = item;
      const previousHash =
        typeof item.previousHash === "string"
          ? item.previousHash
          : version === 1
            ? GENESIS_HASH
            : (await tree.chainHashes(version - 2, version - 1))[0]!;
      const proof: EventProof = {
        counterId: config.counterId,
        version,
        treeSize: found.treeSize,
        encoding: PROOF_HASH_ENCODING,
        // As stored: a changed field is not mended here, so the client's hash shows it.
        event: { ...stored, previousHash } as EventProof["event"],
        path: path.map(toHex),
        digest: found.digest,
      };
      return jsonResponse(200, proof);
    } catch (error) {
      return unavailable(error, requestId);
    }
  };
}

/** A head without a hash, or a tree not filled in this call's budget: come back later (503, Retry-After). */
function unavailable(error: unknown, requestId: string): Answer {
  if (error instanceof HeadNotChainedError) {
    return problemResponse("unavailable", {
      requestId,
      detail: "The ledger's head has no hash yet: no digest can be signed.",
    });
  }
  if (error instanceof MerkleIncompleteError) {
    return problemResponse("unavailable", {
      requestId,
      detail:
        "The ledger's Merkle tree is still being filled: retry shortly, it goes on from where it stopped.",
    });
  }
  throw error;
}
