// The Lambda handler of POST /number: a thin adapter. It checks the caller (docs/api.md#access) before
// anything else, parses the API Gateway event, asks the committer with the caller's actor, and maps the
// outcome to a response through one table. It must never let an exception or an internal name reach the
// client, and never takes the actor from the request.

import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { CommandApplied } from "../../contract/schemas";
import { createDocumentClient } from "../ledger/storage/clients";
import { loadLedgerConfig, type LedgerConfig } from "../ledger/config";
import { viewOfEvent, type LedgerEvent } from "../ledger/domain/event";
import { authorize } from "../ledger/http/caller";
import { recordableActor, refusalOutcome, unrecordableSubject } from "../ledger/http/identity";
import { problemResponse } from "../ledger/http/problem";
import { createHttpHandler, type HttpHandler } from "../ledger/http/handler";
import { jsonResponse } from "../ledger/http/response";
import { createLogger, type Logger } from "../ledger/log";
import { instrumented, NO_METRICS, type MetricsRecorder } from "../ledger/telemetry";
import type { Committer, CommitOutcome } from "./committer";
import { createCommitter } from "./sharded-committer";
import { parseCommandRequest, type CommandRequest } from "./request";

export type CommandHandler = HttpHandler;

export interface CommandHandlerDependencies {
  readonly committer: Pick<Committer, "commit">;
  readonly config: LedgerConfig;
  readonly log?: Logger;
  /** Where commands by outcome and commit latency go (services/ledger/telemetry.ts); none by default. */
  readonly metrics?: MetricsRecorder;
}

/** The body of an applied command; a replay answers the very same body, rebuilt from the stored event. */
function appliedBody(event: LedgerEvent): CommandApplied {
  return { value: event.valueAfter, version: event.version, event: viewOfEvent(event) };
}

function eventHeaders(request: CommandRequest): Record<string, string> {
  return {
    "Idempotency-Key": request.idempotencyKey,
    Location: `/number/events/${request.idempotencyKey}`,
  };
}

function responseOf(
  outcome: CommitOutcome,
  request: CommandRequest,
  requestId: string,
): APIGatewayProxyStructuredResultV2 {
  switch (outcome.kind) {
    case "applied":
      return jsonResponse(200, appliedBody(outcome.event), eventHeaders(request));
    case "replayed":
      return jsonResponse(200, appliedBody(outcome.event), {
        ...eventHeaders(request),
        "Idempotent-Replayed": "true",
      });
    case "keyReused":
      return problemResponse("idempotencyKeyReused", {
        requestId,
        detail: "This Idempotency-Key was already used for a different request.",
        headers: { "Idempotency-Key": request.idempotencyKey },
      });
    case "outOfBounds":
      return problemResponse("outOfBounds", {
        requestId,
        detail: `The ${request.action} would take the value past its bound of ${outcome.bound}.`,
        extensions: { value: outcome.value, bound: outcome.bound },
        headers: { "Idempotency-Key": request.idempotencyKey },
      });
    case "contention":
      return problemResponse("contention", {
        requestId,
        detail: "The counter is too busy right now; retry with the same Idempotency-Key.",
        headers: { "Idempotency-Key": request.idempotencyKey },
      });
    case "quotaExceeded":
      return problemResponse("quotaExceeded", {
        requestId,
        detail: `You may change the number at most ${outcome.limit} times a minute; retry with the same Idempotency-Key after Retry-After.`,
        extensions: { limit: outcome.limit },
        headers: {
          "Idempotency-Key": request.idempotencyKey,
          "Retry-After": String(outcome.retryAfterSeconds),
        },
      });
  }
}

export function createCommandHandler(dependencies: CommandHandlerDependencies): CommandHandler {
  const { committer, config } = dependencies;
  const options = {
    log: dependencies.log ?? createLogger("command"),
    metrics: dependencies.metrics,
    outcomeMetric: "commands" as const,
    routeOf: () => "POST /number",
    failureMessage: "command failed",
    unavailableDetail: "The store is unavailable right now; retry with the same Idempotency-Key.",
    originSecret: config.originSecret,
  };
  return createHttpHandler(options, async (event, requestId) => {
    // Nothing is read or written for a caller the route refuses.
    const access = authorize(event, "POST /number", config.auth, requestId);
    if (access.kind === "refused") {
      return { result: access.result, fields: { outcome: refusalOutcome(access.result) } };
    }
    const actor = recordableActor(access.caller);
    if (actor === undefined) {
      return { result: unrecordableSubject(requestId), fields: { outcome: "unauthorized" } };
    }
    const parsed = parseCommandRequest(event);
    if (parsed.kind === "invalid") {
      return {
        result: problemResponse(parsed.problem, { requestId, detail: parsed.detail }),
        fields: { outcome: "invalid" },
      };
    }
    const { request } = parsed;
    const committingAtMs = Date.now();
    const outcome = await committer.commit({
      action: request.action,
      counterId: config.counterId,
      idempotencyKey: request.idempotencyKey,
      actor,
      requestFingerprint: request.requestFingerprint,
      requestId,
    });
    const metrics = dependencies.metrics ?? NO_METRICS;
    metrics.record("commitLatency", Date.now() - committingAtMs);
    if (outcome.kind === "quotaExceeded") metrics.record("throttles", 1, "quota");
    return { result: responseOf(outcome, request, requestId), fields: { outcome: outcome.kind } };
  });
}

/** The Lambda entry point: configuration, clients and metrics are made once per execution environment. */
export const handler: CommandHandler = instrumented("command", (metrics) => {
  const config = loadLedgerConfig();
  const committer = createCommitter({ client: createDocumentClient(config), config, metrics });
  return createCommandHandler({ committer, config, metrics });
});
