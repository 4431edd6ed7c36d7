// What the handlers do with the caller that `authorize` (caller.ts) let in: the actor an event records, the
// refusals that belong to a route's own rules rather than to its scope table (a writer asking for another
// actor's event), and the outcome a refusal is logged as. The actor comes from verified claims only
// (docs/api.md#access).

import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { SCOPES } from "../../../contract/auth";
import { actorSubSchema, type Actor } from "../../../contract/schemas";
import { ANONYMOUS_SUB } from "../domain/event";
import { ACTOR_NAME_CHARACTERS_MAX } from "../domain/limits";
import { AUTH_REALM, type Caller } from "./caller";
import { problemResponse } from "./problem";

// eslint-disable-next-line no-control-regex -- naming the control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Cuts text to `max` UTF-16 units without splitting a character (a lone surrogate is not valid UTF-8). */
function cut(text: string, max: number): string {
  let kept = "";
  for (const character of text) {
    if (kept.length + character.length > max) break;
    kept += character;
  }
  return kept;
}

/**
 * Whether a caller's subject may own ledger keys: any subject but a token's that claims to be the anonymous
 * actor, whose keys are the ones AUTH=off and events before actors wrote (services/ledger/domain/event.ts).
 */
export function ownsKeys(caller: Caller): boolean {
  return caller.anonymous || caller.actor.sub !== ANONYMOUS_SUB;
}

/**
 * The actor as the caller's event records it, or undefined when the token's subject cannot be recorded (too
 * long, or control characters: no conforming issuer makes one; or `anonymous`, see ownsKeys). The display
 * name is a claim meant for people: control characters are dropped and it is cut to ACTOR_NAME_CHARACTERS_MAX;
 * an empty one falls back to the subject.
 */
export function recordableActor(caller: Caller): Actor | undefined {
  const { actor } = caller;
  if (!ownsKeys(caller) || !actorSubSchema.safeParse(actor.sub).success) return undefined;
  const name = cut(actor.name.replace(CONTROL_CHARACTERS, "").trim(), ACTOR_NAME_CHARACTERS_MAX);
  return { sub: actor.sub, name: name.length > 0 ? name : cut(actor.sub, ACTOR_NAME_CHARACTERS_MAX) };
}

/** 401 for a verified token whose subject cannot be recorded (RFC 6750 `invalid_token`). */
export function unrecordableSubject(requestId: string): APIGatewayProxyStructuredResultV2 {
  return problemResponse("unauthorized", {
    requestId,
    detail: "The access token's subject cannot be recorded as an actor.",
    headers: { "WWW-Authenticate": `Bearer realm="${AUTH_REALM}", error="invalid_token"` },
  });
}

/** 403 for a caller who asks for another actor's event without scope counter:audit. */
export function auditScopeNeeded(requestId: string): APIGatewayProxyStructuredResultV2 {
  return problemResponse("forbidden", {
    requestId,
    detail: `Reading another actor's events needs the scope ${SCOPES.audit}.`,
    headers: {
      "WWW-Authenticate": `Bearer realm="${AUTH_REALM}", error="insufficient_scope", scope="${SCOPES.audit}"`,
    },
  });
}

/** The outcome a refusal of `authorize` is logged as. */
export function refusalOutcome(result: APIGatewayProxyStructuredResultV2): string {
  return result.statusCode === 401 ? "unauthorized" : "forbidden";
}
