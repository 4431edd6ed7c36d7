// The offline check of an event proof (docs/api.md#checking-a-proof): that the event a proof carries is
// version `version` of the ledger whose Merkle root a signed digest commits to. Pure: node:crypto (through the
// chain's and the tree's hashes) and jose (through verifyDigest); it never throws for any input.
//
// The algorithm, which a client in any language repeats:
//   1. verify the digest (ES256 compact JWS, a key of the service's JWKS, the proof's counter); its payload gives
//      version N and root R, and N must be the proof's treeSize;
//   2. the event's hash: SHA-256("counter-ledger/event/1" LF canonical-JSON(event)), the event as given (it
//      holds `previousHash` and no `hash`); the event's `counterId` and `version` must be the proof's;
//   3. the leaf hash: SHA-256(0x00 || the 32 bytes of that hash);
//   4. RFC 9162 §2.1.3.2 with leaf index version − 1, tree size N, the path's hashes, and root R.

import type { DigestHead, DigestPublicKey, EventProof, SignedDigest } from "../../../contract/schemas";
import { eventProofSchema } from "../../../contract/schemas";
import { chainedHashOf, HASH_ENCODING } from "./chain";
import { verifyDigest, type DigestRefusal } from "./digest";
import { leafHash, leafOfChainHash, verifyInclusion } from "./merkle";

/**
 * Why a proof was refused:
 * - `malformedProof`: not a proof this service answers;
 * - a DigestRefusal: the digest does not verify (`malformed`, `unknownKey`, `badSignature`, `otherCounter`);
 * - `otherTree`: the digest is of another version than the tree the proof is of;
 * - `notIncluded`: the event, hashed, does not lead through the path to the digest's root — it was changed, or
 *   the proof is of another event, ledger or tree.
 */
export type ProofRefusal = "malformedProof" | DigestRefusal | "otherTree" | "notIncluded";

export type ProofCheck =
  | { readonly ok: true; readonly head: DigestHead; readonly eventHash: string }
  | { readonly ok: false; readonly reason: ProofRefusal; readonly detail: string };

function refused(reason: ProofRefusal, detail: string): ProofCheck {
  return { ok: false, reason, detail };
}

/**
 * Checks `proof` (the body of GET /number/events/{key}/proof) against `digest` — a compact JWS or a
 * SignedDigest, by default the proof's own — and the service's public keys.
 */
export async function verifyEventProof(
  proof: unknown,
  digest: string | SignedDigest | undefined,
  publicKeys: readonly DigestPublicKey[],
): Promise<ProofCheck> {
  const parsed = eventProofSchema.safeParse(proof);
  if (!parsed.success) return refused("malformedProof", "The proof is not an event proof of this service.");
  const checked: EventProof = parsed.data;
  const given = digest ?? checked.digest ?? undefined;
  if (given === undefined) {
    return refused("malformedProof", "The proof carries no digest (it is of an older tree): give yours.");
  }
  const jws = typeof given === "string" ? given : given.digest;
  const verified = await verifyDigest(jws, publicKeys, { counterId: checked.counterId });
  if (!verified.ok) return refused(verified.reason, verified.detail);
  const { head } = verified;
  if (head.version !== checked.treeSize) {
    return refused(
      "otherTree",
      `The digest is of version ${head.version}, the proof of the tree of ${checked.treeSize} versions.`,
    );
  }
  const { event } = checked;
  if (
    checked.encoding !== HASH_ENCODING ||
    event.counterId !== checked.counterId ||
    event.version !== checked.version
  ) {
    return refused("notIncluded", "The event is not the proof's: its counter or version differs.");
  }
  let eventHash: string;
  try {
    eventHash = chainedHashOf(event, event.previousHash);
  } catch {
    return refused("malformedProof", "The event holds values the chain's encoding does not take.");
  }
  const included = verifyInclusion(
    checked.version - 1,
    checked.treeSize,
    leafHash(leafOfChainHash(eventHash)),
    checked.path.map(leafOfChainHash),
    leafOfChainHash(head.root),
  );
  if (!included) {
    return refused(
      "notIncluded",
      `The event does not lead to the digest's root: it was changed, or the proof is not of version ${checked.version} of this ledger.`,
    );
  }
  return { ok: true, head, eventHash };
}
