// The pre token generation trigger (services/identity), on the event Cognito sends with trigger version V2_0
// (version "2", the request's `scopes` and `groupConfiguration`, a null response to fill in), as in Cognito's
// developer guide and the aws-lambda-go test data. What counts is the access token's scopes after Cognito applies
// the answer: `counter:audit` only for members of `auditors`, `counter:write` for whoever asked for it, and never
// a Cognito-form `counter/…` scope (which no route accepts).

import type { PreTokenGenerationV2TriggerEvent } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ALL_SCOPES, SCOPES } from "../../../contract/auth";
import {
  AUDITORS_GROUP,
  COGNITO_SCOPE_OF,
  RESOURCE_SERVER_IDENTIFIER,
  preTokenGeneration,
} from "../../../services/identity/pre-token-generation";
import { handler } from "../../../services/identity/handler";

type TriggerSource = PreTokenGenerationV2TriggerEvent["triggerSource"];

/** An event as Cognito delivers it to a V2_0 trigger after a managed-login sign-in. */
function cognitoEvent(
  scopes: string[] | undefined,
  groups: string[],
  triggerSource: TriggerSource = "TokenGeneration_HostedAuth",
): PreTokenGenerationV2TriggerEvent {
  return JSON.parse(
    JSON.stringify({
      version: "2",
      triggerSource,
      region: "us-east-1",
      userPoolId: "us-east-1_EXAMPLE",
      userName: "audrey",
      callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "1example23456789" },
      request: {
        userAttributes: {
          sub: "a36036a8-9061-424d-a737-56d57dae7bc6",
          "cognito:user_status": "CONFIRMED",
          email_verified: "true",
          email: "audrey@example.com",
        },
        groupConfiguration: { groupsToOverride: groups, iamRolesToOverride: [], preferredRole: null },
        scopes,
      },
      response: { claimsAndScopeOverrideDetails: null },
    }),
  ) as PreTokenGenerationV2TriggerEvent;
}

/** The access token's scopes once Cognito applies the answer (a suppressed scope wins over an added one). */
function tokenScopes(event: PreTokenGenerationV2TriggerEvent, granted: readonly string[]): string[] {
  const access = event.response.claimsAndScopeOverrideDetails.accessTokenGeneration ?? {};
  const suppressed = new Set(access.scopesToSuppress ?? []);
  const all = new Set([...granted, ...(access.scopesToAdd ?? [])]);
  return [...all].filter((scope) => !suppressed.has(scope)).sort();
}

const COGNITO_WRITE = COGNITO_SCOPE_OF[SCOPES.write];
const COGNITO_AUDIT = COGNITO_SCOPE_OF[SCOPES.audit];

describe("pre token generation (services/identity), event version V2_0", () => {
  it("Cognito's names of the API scopes are `<resource server identifier>/<scope name>`, one per scope of contract/auth.ts", () => {
    expect(Object.keys(COGNITO_SCOPE_OF).sort()).toEqual([...ALL_SCOPES].sort());
    for (const cognitoScope of Object.values(COGNITO_SCOPE_OF)) {
      expect(cognitoScope).toMatch(new RegExp(`^${RESOURCE_SERVER_IDENTIFIER}/[a-z]+$`));
    }
  });

  it("an auditor who signs in asking for both scopes gets counter:write and counter:audit, in contract/auth.ts's names", () => {
    const granted = ["openid", COGNITO_WRITE, COGNITO_AUDIT];
    const answered = preTokenGeneration(cognitoEvent(granted, [AUDITORS_GROUP]));
    expect(tokenScopes(answered, granted)).toEqual(["counter:audit", "counter:write", "openid"]);
  });

  it("a user outside `auditors` asking for both gets counter:write only: the audit scope is suppressed", () => {
    const granted = ["openid", COGNITO_WRITE, COGNITO_AUDIT];
    const answered = preTokenGeneration(cognitoEvent(granted, ["writers"]));
    expect(tokenScopes(answered, granted)).toEqual(["counter:write", "openid"]);
  });

  it("a user in no group asking only for openid gets no API scope", () => {
    const answered = preTokenGeneration(cognitoEvent(["openid"], []));
    expect(tokenScopes(answered, ["openid"])).toEqual(["openid"]);
  });

  it("a refresh after the user left `auditors` drops counter:audit, whichever form the refresh carries", () => {
    for (const granted of [
      ["openid", "counter:write", "counter:audit"],
      ["openid", COGNITO_WRITE, COGNITO_AUDIT],
    ]) {
      const answered = preTokenGeneration(cognitoEvent(granted, [], "TokenGeneration_RefreshTokens"));
      expect(tokenScopes(answered, granted), granted.join(" ")).toEqual(["counter:write", "openid"]);
    }
  });

  it("hands the groups back unchanged, so the tokens keep cognito:groups", () => {
    const event = cognitoEvent(["openid"], [AUDITORS_GROUP, "writers"]);
    const answered = preTokenGeneration(event);
    expect(answered.response.claimsAndScopeOverrideDetails.groupOverrideDetails).toEqual({
      groupsToOverride: [AUDITORS_GROUP, "writers"],
      iamRolesToOverride: [],
      preferredRole: null,
    });
  });

  it("an event without scopes (a token from the user pools API, not the OAuth endpoints) is answered with no change", () => {
    const answered = preTokenGeneration(cognitoEvent(undefined, [AUDITORS_GROUP]));
    expect(answered.response.claimsAndScopeOverrideDetails.accessTokenGeneration).toEqual({
      scopesToAdd: [],
      scopesToSuppress: [],
    });
  });

  it("for any granted scopes and groups: counter:audit exactly for an auditor who asked, never a Cognito-form API scope, never one scope both added and suppressed", () => {
    const scopeArbitrary = fc.constantFrom("openid", "email", COGNITO_WRITE, COGNITO_AUDIT, ...ALL_SCOPES);
    const groupArbitrary = fc.constantFrom(AUDITORS_GROUP, "writers", "Auditors", "auditors ");
    fc.assert(
      fc.property(fc.uniqueArray(scopeArbitrary), fc.uniqueArray(groupArbitrary), (granted, groups) => {
        const answered = preTokenGeneration(cognitoEvent(granted, groups));
        const access = answered.response.claimsAndScopeOverrideDetails.accessTokenGeneration!;
        const both = (access.scopesToAdd ?? []).filter((scope) => access.scopesToSuppress?.includes(scope));
        expect(both).toEqual([]);
        const scopes = tokenScopes(answered, granted);
        const askedAudit = granted.includes(COGNITO_AUDIT) || granted.includes(SCOPES.audit);
        const askedWrite = granted.includes(COGNITO_WRITE) || granted.includes(SCOPES.write);
        expect(scopes.includes(SCOPES.audit)).toBe(askedAudit && groups.includes(AUDITORS_GROUP));
        expect(scopes.includes(SCOPES.write)).toBe(askedWrite);
        expect(scopes.filter((scope) => scope.startsWith(`${RESOURCE_SERVER_IDENTIFIER}/`))).toEqual([]);
        // Nothing else is touched.
        const others = granted.filter((scope) => !scope.startsWith("counter")).sort();
        expect(scopes.filter((scope) => !scope.startsWith("counter"))).toEqual(others);
      }),
    );
  });

  it("the Lambda entry point answers the same event, returning it with the response filled in", async () => {
    const granted = ["openid", COGNITO_WRITE, COGNITO_AUDIT];
    const answered = await handler(cognitoEvent(granted, []));
    expect(answered.userName).toBe("audrey");
    expect(tokenScopes(answered, granted)).toEqual(["counter:write", "openid"]);
  });
});
