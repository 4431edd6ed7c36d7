// Reads infra/*.tf the way Terraform does (HashiCorp's HCL parser, compiled to WASM in @cdktf/hcl2json) and
// gives the infra tests typed access to blocks, locals and IAM statements. It evaluates nothing: an
// expression stays the string Terraform would evaluate ("${aws_dynamodb_table.ledger.arn}"), and the tests
// compare against those strings. It must never fall back to a default when a block is missing: a missing
// block is a failed test, not an empty one. A `module` block with a local source (infra/modules/…) is followed:
// its directory is parsed the same way, and the tests read the module's real resources through
// `terraform.module(name)`, beside the arguments of the call (`terraform.moduleCall(name)`).

import { convertFiles } from "@cdktf/hcl2json";
import { join, resolve } from "node:path";
import { REPOSITORY_ROOT } from "../../scripts/build";

export const INFRA_DIRECTORY = join(REPOSITORY_ROOT, "infra");

export type HclBlock = Readonly<Record<string, unknown>>;

export function isBlock(value: unknown): value is HclBlock {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asBlock(value: unknown, what: string): HclBlock {
  if (!isBlock(value)) throw new Error(`${what} is not a block: ${JSON.stringify(value)}`);
  return value;
}

export function asArray(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list: ${JSON.stringify(value)}`);
  return value as readonly unknown[];
}

export function asString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new Error(`${what} is not a string: ${JSON.stringify(value)}`);
  return value;
}

export function asStrings(value: unknown, what: string): string[] {
  return asArray(value, what).map((item, index) => asString(item, `${what}[${index}]`));
}

/** A nested block written once (`point_in_time_recovery { … }`): hcl2json gives a list of one. */
export function single(value: unknown, what: string): HclBlock {
  const list = asArray(value, what);
  if (list.length !== 1) throw new Error(`${what} must be written exactly once (found ${list.length})`);
  return asBlock(list[0], what);
}

/** Nested blocks written any number of times (`attribute { … }`, `statement { … }`); none is an empty list. */
export function blocks(value: unknown, what: string): HclBlock[] {
  if (value === undefined) return [];
  return asArray(value, what).map((item, index) => asBlock(item, `${what}[${index}]`));
}

export interface IamStatement {
  readonly document: string;
  readonly sid: string;
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions: readonly { test: string; variable: string; values: readonly string[] }[];
  readonly principals: readonly { type: string; identifiers: readonly string[] }[];
}

export class Terraform {
  constructor(
    readonly root: HclBlock,
    private readonly modules: Readonly<Record<string, Terraform>> = {},
  ) {}

  /** The `module "<name>"` blocks of this directory, by name. */
  moduleNames(): string[] {
    return Object.keys(this.modules);
  }

  /** `module "<name>" { … }`: the call's arguments (source included), as written. */
  moduleCall(name: string): HclBlock {
    return single(asBlock(this.root.module, "modules")[name], `module ${name}`);
  }

  /** The module that `module "<name>"` calls, parsed from its source directory. */
  module(name: string): Terraform {
    const module = this.modules[name];
    if (module === undefined) throw new Error(`module ${name} is not called here`);
    return module;
  }

  /** `resource "<type>" "<name>"`: the block, or a thrown error naming what is missing. */
  resource(type: string, name: string): HclBlock {
    const ofType = asBlock(asBlock(this.root.resource, "resources")[type], `resource type ${type}`);
    return single(ofType[name], `resource ${type}.${name}`);
  }

  resourcesOfType(type: string): Record<string, HclBlock> {
    const ofType = asBlock(this.root.resource, "resources")[type];
    if (ofType === undefined) return {};
    return Object.fromEntries(
      Object.entries(asBlock(ofType, `resource type ${type}`)).map(([name, value]) => [
        name,
        single(value, `resource ${type}.${name}`),
      ]),
    );
  }

  data(type: string, name: string): HclBlock {
    const ofType = asBlock(asBlock(this.root.data, "data sources")[type], `data type ${type}`);
    return single(ofType[name], `data ${type}.${name}`);
  }

  /** Every `locals` block merged into one, as Terraform sees them. */
  locals(): HclBlock {
    return Object.assign({}, ...blocks(this.root.locals, "locals")) as HclBlock;
  }

  local(name: string): unknown {
    const value = this.locals()[name];
    if (value === undefined) throw new Error(`local.${name} is not defined`);
    return value;
  }

  variable(name: string): HclBlock {
    return single(asBlock(this.root.variable, "variables")[name], `variable ${name}`);
  }

  output(name: string): HclBlock {
    return single(asBlock(this.root.output, "outputs")[name], `output ${name}`);
  }

  /** What one policy document allows, as sorted `action resource` pairs. */
  allowedGrants(documentName: string): string[] {
    return this.policyStatements(documentName)
      .filter((statement) => statement.effect === "Allow")
      .flatMap((statement) =>
        statement.actions.flatMap((action) => statement.resources.map((resource) => `${action} ${resource}`)),
      )
      .sort();
  }

  /** The statements of one `data "aws_iam_policy_document"`. */
  policyStatements(documentName: string): IamStatement[] {
    const document = this.data("aws_iam_policy_document", documentName);
    return blocks(document.statement, `policy ${documentName}`).map((statement, index) => {
      const what = `policy ${documentName} statement ${index}`;
      const effect = asString(statement.effect, `${what} effect`);
      if (effect !== "Allow" && effect !== "Deny") throw new Error(`${what}: effect must be Allow or Deny`);
      return {
        document: documentName,
        sid: asString(statement.sid, `${what} sid`),
        effect,
        actions: asStrings(statement.actions, `${what} actions`),
        resources:
          statement.resources === undefined ? [] : asStrings(statement.resources, `${what} resources`),
        conditions: blocks(statement.condition, `${what} condition`).map((condition) => ({
          test: asString(condition.test, `${what} condition test`),
          variable: asString(condition.variable, `${what} condition variable`),
          values: asStrings(condition.values, `${what} condition values`),
        })),
        principals: blocks(statement.principals, `${what} principals`).map((principal) => ({
          type: asString(principal.type, `${what} principal type`),
          identifiers: asStrings(principal.identifiers, `${what} principal identifiers`),
        })),
      };
    });
  }

  policyDocumentNames(): string[] {
    return Object.keys(asBlock(asBlock(this.root.data, "data sources").aws_iam_policy_document, "policies"));
  }
}

/** A directory of .tf files and, followed, the local modules its `module` blocks call. */
export async function parseTerraform(directory: string): Promise<Terraform> {
  const root = asBlock(await convertFiles(directory), directory);
  const modules: Record<string, Terraform> = {};
  for (const [name, value] of Object.entries(
    root.module === undefined ? {} : asBlock(root.module, "modules"),
  )) {
    const source = asString(single(value, `module ${name}`).source, `module ${name} source`);
    // Only local modules are part of this configuration; a registry module would be a dependency to pin.
    if (!source.startsWith("./") && !source.startsWith("../"))
      throw new Error(`module ${name}: only local sources are followed, not ${source}`);
    modules[name] = await parseTerraform(resolve(directory, source));
  }
  return new Terraform(root, modules);
}

let parsed: Promise<Terraform> | undefined;

/** Parses infra/ (and the modules it calls) once per test file. */
export function loadTerraform(): Promise<Terraform> {
  parsed ??= parseTerraform(INFRA_DIRECTORY);
  return parsed;
}

/** `"${expression}"` → `expression`, for comparing references. */
export function expressionOf(value: unknown, what: string): string {
  const text = asString(value, what);
  const match = /^\$\{(.*)\}$/s.exec(text);
  if (match?.[1] === undefined) throw new Error(`${what} is not a single expression: ${text}`);
  return match[1];
}
