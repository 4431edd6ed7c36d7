// Validation of POST /number, before any I/O (docs/api.md). Turns an API Gateway event into a command, or
// into the name and safe detail of the problem to answer. It must never throw on client input.

import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { commandBodySchema } from "../../contract/schemas";
import type { Action } from "../ledger/domain/decider";
import { requestFingerprint } from "../ledger/domain/fingerprint";
import { echo, type ProblemName } from "../ledger/http/problem";
import { headerOf } from "../ledger/http/response";
import {
  COMMAND_BODY_BYTES_MAX,
  IDEMPOTENCY_KEY_LENGTH_MAX,
  IDEMPOTENCY_KEY_PATTERN,
} from "../ledger/domain/limits";

export interface CommandRequest {
  readonly action: Action;
  readonly idempotencyKey: string;
  /** False when the server made the key: such a request is not deduplicated against anything. */
  readonly keyFromClient: boolean;
  readonly requestFingerprint: string;
}

export type ParsedCommandRequest =
  | { readonly kind: "valid"; readonly request: CommandRequest }
  | { readonly kind: "invalid"; readonly problem: ProblemName; readonly detail: string };

const JSON_MEDIA_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

function invalid(problem: ProblemName, detail: string): ParsedCommandRequest {
  return { kind: "invalid", problem, detail };
}

/**
 * Reads the Idempotency-Key header: a bare token or the quoted form of an RFC 8941 string. Returns the
 * key, `null` when absent, or `undefined` when present but malformed.
 */
export function parseIdempotencyKey(header: string | undefined): string | null | undefined {
  if (header === undefined) return null;
  const quoted = /^"(.*)"$/s.exec(header);
  const key = quoted?.[1] ?? header;
  return IDEMPOTENCY_KEY_PATTERN.test(key) ? key : undefined;
}

function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
}

export function parseCommandRequest(event: APIGatewayProxyEventV2): ParsedCommandRequest {
  const bytes = bodyBytes(event);
  if (bytes.length > COMMAND_BODY_BYTES_MAX) {
    return invalid("payloadTooLarge", `The body must be at most ${COMMAND_BODY_BYTES_MAX} bytes.`);
  }
  const contentType = headerOf(event, "content-type");
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType.trim())) {
    return invalid("unsupportedMediaType", "The body must be sent as Content-Type: application/json.");
  }
  const key = parseIdempotencyKey(headerOf(event, "idempotency-key"));
  if (key === undefined) {
    return invalid(
      "badRequest",
      `Idempotency-Key must be 1-${IDEMPOTENCY_KEY_LENGTH_MAX} characters of A-Z a-z 0-9 - _ . : (a UUID is recommended).`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return invalid("badRequest", "The body is not valid UTF-8.");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return invalid("badRequest", "The body is not valid JSON.");
  }
  const body = commandBodySchema.safeParse(json);
  if (!body.success) return invalid("badRequest", describeBodyError(json));
  if (memberNamesOf(text).length > 1) {
    // JSON.parse keeps the last of duplicate names; a proxy or firewall may read the first. Refuse (RFC 7493).
    return invalid("badRequest", 'The field "action" must appear once.');
  }
  return {
    kind: "valid",
    request: {
      action: body.data.action,
      idempotencyKey: key ?? randomUUID(),
      keyFromClient: key !== null,
      requestFingerprint: requestFingerprint(body.data.action),
    },
  };
}

/**
 * The member names written in a JSON text, decoded. Called only on a body that parsed into exactly
 * `{"action": "increment" | "decrement"}`, where every name token is a member name of the top object: a
 * second one can only be a duplicate of "action", however it is escaped.
 */
function memberNamesOf(text: string): string[] {
  return [...text.matchAll(/"(?:[^"\\]|\\.)*"\s*:/g)].map(
    (match) => JSON.parse(match[0].replace(/\s*:$/, "")) as string,
  );
}

/** One safe sentence about what is wrong with a parsed body that failed the schema. */
function describeBodyError(json: unknown): string {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return 'The body must be a JSON object like {"action": "increment"}.';
  }
  const unknownField = Object.keys(json).find((name) => name !== "action");
  if (unknownField !== undefined) return `Unknown field ${echo(unknownField)}: only "action" is allowed.`;
  if (!Object.hasOwn(json, "action")) return 'The field "action" is required.';
  return 'The field "action" must be "increment" or "decrement".';
}
