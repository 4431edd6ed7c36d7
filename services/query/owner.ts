// Whose events a caller may read by key (docs/api.md#get-numbereventskey): GET /number/events/{key} and its
// proof. Keys are per actor, so the key names the caller's own event; an auditor may name another actor.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { SCOPES } from "../../contract/auth";
import { actorSubSchema } from "../../contract/schemas";
import { hasScope, type Caller } from "../ledger/http/caller";
import { auditScopeNeeded, ownsKeys, unrecordableSubject } from "../ledger/http/identity";
import { echo, problemResponse } from "../ledger/http/problem";
import { ACTOR_SUB_CHARACTERS_MAX } from "../ledger/domain/limits";

/**
 * Whose events GET /number/events/{key} reads: the caller's own, or with `?actor=<sub>` any actor's, which
 * needs scope counter:audit (403 without it, before the value is even looked at; 400 for a value no actor
 * can have).
 */
export function ownerOf(
  event: APIGatewayProxyEventV2,
  caller: Caller,
  requestId: string,
):
  | { readonly kind: "owner"; readonly sub: string }
  | { readonly kind: "refused"; readonly result: APIGatewayProxyStructuredResultV2 } {
  const requested = event.queryStringParameters?.actor;
  if (requested === undefined) {
    return ownsKeys(caller)
      ? { kind: "owner", sub: caller.actor.sub }
      : { kind: "refused", result: unrecordableSubject(requestId) };
  }
  if (!hasScope(caller, SCOPES.audit)) return { kind: "refused", result: auditScopeNeeded(requestId) };
  if (!actorSubSchema.safeParse(requested).success) {
    return {
      kind: "refused",
      result: problemResponse("badRequest", {
        requestId,
        detail: `actor must be an actor's subject: 1-${ACTOR_SUB_CHARACTERS_MAX} printable characters (got ${echo(requested)}).`,
      }),
    };
  }
  return { kind: "owner", sub: requested };
}
