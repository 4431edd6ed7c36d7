// The Lambda entry point of Cognito's pre token generation trigger (infra/identity.tf, event version V2_0):
// the scope rewrite of ./pre-token-generation.ts, with one log line per token. It throws on nothing it can
// avoid; should it ever throw, Cognito refuses the sign-in (no token), which fails closed.

import type { PreTokenGenerationV2TriggerEvent } from "aws-lambda";
import { createLogger } from "../ledger/log";
import { preTokenGeneration } from "./pre-token-generation";

const log = createLogger("identity");

// Lambda's Node.js runtime awaits the returned promise; nothing here is asynchronous.
export const handler = (
  event: PreTokenGenerationV2TriggerEvent,
): Promise<PreTokenGenerationV2TriggerEvent> => {
  const answered = preTokenGeneration(event);
  const overrides = answered.response.claimsAndScopeOverrideDetails.accessTokenGeneration;
  // No user name, e-mail or token: the trigger source and the scope changes are enough to follow a sign-in.
  log({
    level: "info",
    message: "access token scopes",
    triggerSource: event.triggerSource,
    added: overrides?.scopesToAdd ?? [],
    suppressed: overrides?.scopesToSuppress ?? [],
  });
  return Promise.resolve(answered);
};
