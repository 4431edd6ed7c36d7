// GET /number/digest and GET /number/digest/keys (docs/api.md#digests): the signed digest of the current head,
// signed at most once per head in this execution environment (services/digest/digests.ts), and the public keys
// that verify it. A deployment without a signer answers 404; a head without a hash yet (a ledger written
// before the hash chain) answers 503, as does a Merkle tree not filled within the request's budget (the root
// goes on from where it stopped on the next request).

import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { DigestKeySet, SignedDigest } from "../../contract/schemas";
import { HeadNotChainedError, type DigestSource } from "../digest/digests";
import { problemResponse } from "../ledger/http/problem";
import { jsonResponse } from "../ledger/http/response";
import { MerkleIncompleteError } from "../ledger/storage/merkle";

type DigestQuery = (context: { readonly requestId: string }) => Promise<APIGatewayProxyStructuredResultV2>;

function notConfigured(requestId: string): APIGatewayProxyStructuredResultV2 {
  return problemResponse("notFound", { requestId, detail: "This deployment signs no digests." });
}

export function createDigestQueries(
  source: DigestSource | undefined,
): Record<"GET /number/digest" | "GET /number/digest/keys", DigestQuery> {
  return {
    "GET /number/digest": async ({ requestId }) => {
      if (source === undefined) return notConfigured(requestId);
      let body: SignedDigest;
      try {
        body = await source.current();
      } catch (error) {
        if (error instanceof MerkleIncompleteError) {
          return problemResponse("unavailable", {
            requestId,
            detail:
              "The ledger's Merkle tree is still being filled: retry shortly, it goes on from where it stopped.",
          });
        }
        if (!(error instanceof HeadNotChainedError)) throw error;
        return problemResponse("unavailable", {
          requestId,
          detail: "The ledger's head has no hash yet: no digest can be signed.",
        });
      }
      return jsonResponse(200, body);
    },
    "GET /number/digest/keys": async ({ requestId }) => {
      if (source === undefined) return notConfigured(requestId);
      const body: DigestKeySet = await source.keys();
      // Keys change only with a new key: verifiers may keep them a while.
      return jsonResponse(200, body, { "Cache-Control": "max-age=300" });
    },
  };
}
