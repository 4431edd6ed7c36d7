// openapi.json made executable for tests: finds the documented response for a real HTTP exchange and
// lists every way the exchange departs from it (status, media type, body schema, headers). It only reads
// the document; it never edits it, and it knows nothing about how the handlers work.

import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import openapiDocument from "../../../openapi.json";

export type JsonObject = { readonly [name: string]: unknown };

/** The document as plain JSON, for walking; typed loosely on purpose since tests probe its shape. */
export const document: JsonObject = openapiDocument;

/** The id under which ajv knows the document; `#/components/...` references resolve against it. */
const DOCUMENT_ID = "https://counter-ledger.dev/openapi.json";

/** The methods an OpenAPI Path Item may hold (OpenAPI 3.1 §4.8.9). */
export const OPERATION_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function escapePointerSegment(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** A JSON pointer (RFC 6901) from its unescaped segments. */
export function pointerOf(...segments: readonly string[]): string {
  return segments.map((segment) => `/${escapePointerSegment(segment)}`).join("");
}

/** The value at a JSON pointer into the document, or undefined when nothing is there. */
export function valueAt(pointer: string): unknown {
  if (pointer === "") return document;
  let value: unknown = document;
  for (const segment of pointer.slice(1).split("/")) {
    if (!isJsonObject(value) && !Array.isArray(value)) return undefined;
    const name = segment.replaceAll("~1", "/").replaceAll("~0", "~");
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** References followed before a cycle is assumed; the document's chains are one or two long. */
const REFERENCE_HOPS_MAX = 8;

/** Follows OpenAPI Reference Objects (`{"$ref": "#/…"}`) to the pointer of the object they name. */
export function resolvedPointer(pointer: string): string {
  let current = pointer;
  for (let hop = 0; hop < REFERENCE_HOPS_MAX; hop += 1) {
    const value = valueAt(current);
    if (!isJsonObject(value) || typeof value.$ref !== "string") return current;
    if (!value.$ref.startsWith("#")) throw new Error(`${current}: $ref ${value.$ref} leaves the document`);
    current = value.$ref.slice(1);
  }
  throw new Error(`${pointer}: more than ${REFERENCE_HOPS_MAX} $ref hops`);
}

function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  // Ajv compiles the document's root before any schema inside it; its OpenAPI fields (`openapi`, `paths`…)
  // are declared as inert keywords there, so strict mode still refuses unknown keywords in real schemas.
  ajv.addVocabulary(Object.keys(document));
  ajv.addSchema({ ...document, $id: DOCUMENT_ID });
  return ajv;
}

const ajv = createAjv();
const validators = new Map<string, ValidateFunction>();

/** The compiled JSON Schema at a pointer into the document; throws when it does not compile. */
export function schemaValidator(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (validate === undefined) {
    const fragment = pointer.split("/").map(encodeURIComponent).join("/");
    validate = ajv.getSchema(`${DOCUMENT_ID}#${fragment}`);
    if (validate === undefined) throw new Error(`no schema at ${pointer}`);
    validators.set(pointer, validate);
  }
  return validate;
}

/** The ajv errors of validating a value against the schema at a pointer, as one line each. */
export function schemaErrors(pointer: string, value: unknown): string[] {
  const validate = schemaValidator(pointer);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || "(root)"} ${error.message ?? ""}`);
}

/** Turns a path template like `/number/events/{key}` into a pattern that matches a request path. */
function pathPattern(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped.replace(/\{\w+\}/g, "[^/]+")}$`);
}

export interface DocumentedResponse {
  /** Where the response object is, after following references. */
  readonly pointer: string;
  readonly response: JsonObject;
}

/**
 * The response the document gives for a request and a status: from the operation when the path and
 * method are documented, else from `x-unrouted-responses` (404 unknown path, 405 wrong method).
 */
export function documentedResponse(
  method: string,
  path: string,
  status: number,
): DocumentedResponse | undefined {
  const paths = isJsonObject(document.paths) ? document.paths : {};
  const pathOnly = path.split("?")[0] ?? path;
  const template = Object.keys(paths).find((candidate) => pathPattern(candidate).test(pathOnly));
  const operationPointer =
    template === undefined ? undefined : pointerOf("paths", template, method.toLowerCase());
  const responsesPointer =
    operationPointer !== undefined && valueAt(operationPointer) !== undefined
      ? `${operationPointer}/responses`
      : pointerOf("x-unrouted-responses");
  const statusPointer = `${responsesPointer}${pointerOf(String(status))}`;
  if (valueAt(statusPointer) === undefined) return undefined;
  const pointer = resolvedPointer(statusPointer);
  const response = valueAt(pointer);
  return isJsonObject(response) ? { pointer, response } : undefined;
}

/** One request and the answer the server gave, body read as text. */
export interface Exchange {
  readonly method: string;
  /** The request's path, with its query string if it had one. */
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly bodyText: string;
}

function headerViolations(documented: DocumentedResponse, exchange: Exchange): string[] {
  const violations: string[] = [];
  const headers = isJsonObject(documented.response.headers) ? documented.response.headers : {};
  for (const name of Object.keys(headers)) {
    const headerPointer = resolvedPointer(`${documented.pointer}${pointerOf("headers", name)}`);
    const header = valueAt(headerPointer);
    const value = exchange.headers.get(name);
    if (value === null) {
      if (isJsonObject(header) && header.required === true) violations.push(`header ${name} is missing`);
      continue;
    }
    for (const error of schemaErrors(`${headerPointer}/schema`, value)) {
      violations.push(`header ${name}: ${JSON.stringify(value)} ${error}`);
    }
  }
  return violations;
}

function bodyViolations(documented: DocumentedResponse, exchange: Exchange): string[] {
  const content = documented.response.content;
  if (!isJsonObject(content)) {
    return exchange.bodyText === "" ? [] : ["a body where the document allows none"];
  }
  const mediaType = (exchange.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (content[mediaType] === undefined) {
    return [`Content-Type ${JSON.stringify(mediaType)} is not one of ${Object.keys(content).join(", ")}`];
  }
  let body: unknown;
  try {
    body = JSON.parse(exchange.bodyText);
  } catch {
    return ["the body is not JSON"];
  }
  const violations = schemaErrors(
    `${documented.pointer}${pointerOf("content", mediaType, "schema")}`,
    body,
  ).map((error) => `body ${error}`);
  if (mediaType === "application/problem+json" && isJsonObject(body)) {
    if (body.status !== exchange.status)
      violations.push(`problem status ${String(body.status)} is not the HTTP status`);
    if (body.requestId !== exchange.headers.get("x-request-id")) {
      violations.push("problem requestId is not the X-Request-Id header");
    }
  }
  return violations;
}

/** Every way an exchange departs from the document; empty when it conforms. */
export function contractViolations(exchange: Exchange): string[] {
  const documented = documentedResponse(exchange.method, exchange.path, exchange.status);
  if (documented === undefined) {
    return [`${exchange.method} ${exchange.path} → ${exchange.status} is not documented`];
  }
  return [...headerViolations(documented, exchange), ...bodyViolations(documented, exchange)];
}
