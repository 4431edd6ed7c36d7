// Cognito's pre token generation trigger (event version V2_0): the API's scopes in an access token, and the
// `auditors` group as the only way to `counter:audit` (docs/decisions.md#cognito-and-the-auditors-group-mapped-to-counteraudit).
//
// Cognito names a resource server's scopes `<identifier>/<scope name>` in tokens (here `counter/write` and
// `counter/audit`), never `counter:write`; and any app client allowed a scope grants it to every user who asks.
// So this trigger rewrites the scopes of every access token Cognito issues to a person:
//   - `counter/write` becomes `counter:write` (contract/auth.ts SCOPES), for any user of the pool;
//   - `counter/audit` becomes `counter:audit` for members of `auditors` only, and is dropped for anyone else;
//   - a `counter:audit` already present (a refreshed token) is dropped unless the user is still an auditor.
// The Cognito-form scopes are always suppressed, so a token without this trigger's rewrite carries no scope
// that API Gateway's routes accept: removing the trigger fails closed. Pure: no I/O.

import type { PreTokenGenerationV2TriggerEvent } from "aws-lambda";
import { SCOPES, type Scope } from "../../contract/auth";

/** The resource server identifier of infra/identity.tf (`local.resource_server_identifier`). */
export const RESOURCE_SERVER_IDENTIFIER = "counter";

/** The group whose members may hold `counter:audit` (infra/identity.tf `aws_cognito_user_group.auditors`). */
export const AUDITORS_GROUP = "auditors";

/** Each API scope, by the name Cognito gives it in tokens (`<identifier>/<scope name>`). */
export const COGNITO_SCOPE_OF: Readonly<Record<Scope, string>> = {
  [SCOPES.write]: `${RESOURCE_SERVER_IDENTIFIER}/write`,
  [SCOPES.audit]: `${RESOURCE_SERVER_IDENTIFIER}/audit`,
};

export interface ScopeOverrides {
  readonly scopesToAdd: string[];
  readonly scopesToSuppress: string[];
}

/** Which scopes to add to and suppress from an access token, given the scopes Cognito would grant and the groups. */
export function scopeOverrides(grantedScopes: readonly string[], groups: readonly string[]): ScopeOverrides {
  const granted = new Set(grantedScopes);
  const auditor = groups.includes(AUDITORS_GROUP);
  const scopesToAdd: string[] = [];
  const scopesToSuppress: string[] = [];
  for (const scope of [SCOPES.write, SCOPES.audit] as const) {
    const cognitoScope = COGNITO_SCOPE_OF[scope];
    const asked = granted.has(cognitoScope) || granted.has(scope);
    const allowed = scope === SCOPES.audit ? auditor : true;
    if (granted.has(cognitoScope)) scopesToSuppress.push(cognitoScope);
    if (asked && allowed && !granted.has(scope)) scopesToAdd.push(scope);
    if (!allowed && granted.has(scope)) scopesToSuppress.push(scope);
  }
  return { scopesToAdd, scopesToSuppress };
}

/**
 * The event with its response filled in. The groups are handed back unchanged: Cognito replaces the groups of
 * both tokens with `groupOverrideDetails`, and an absent one would drop `cognito:groups`.
 */
export function preTokenGeneration<Event extends PreTokenGenerationV2TriggerEvent>(event: Event): Event {
  const groups = event.request.groupConfiguration?.groupsToOverride ?? [];
  const overrides = scopeOverrides(event.request.scopes ?? [], groups);
  event.response = {
    claimsAndScopeOverrideDetails: {
      accessTokenGeneration: overrides,
      groupOverrideDetails: event.request.groupConfiguration,
    },
  };
  return event;
}
