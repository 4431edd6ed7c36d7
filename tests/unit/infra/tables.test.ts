// The DynamoDB tables in infra/dynamodb.tf are the ones services/ledger/storage/tables.ts defines — names, keys,
// attribute types, the byVersion index, the stream — and each is protected the way the issue asks.
// tables.ts is the one definition (docs/style.md#limits); Terraform is the copy that cannot import it.

import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { loadLedgerConfig } from "../../../services/ledger/config";
import {
  tableDefinitions,
  tableNamesWithPrefix,
  timeToLiveAttributes,
  type TableNames,
} from "../../../services/ledger/storage/tables";
import {
  asBlock,
  asString,
  blocks,
  expressionOf,
  loadTerraform,
  single,
  type HclBlock,
  type Terraform,
} from "../../support/terraform";

/** Terraform resource name of each table, keyed like TableNames. */
const RESOURCE_OF_TABLE: Record<keyof TableNames, string> = {
  ledger: "ledger",
  counters: "counters",
  readModel: "read_model",
  quotas: "quotas",
};

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

/** The table name Terraform gives, with `${local.table_names.x}` looked up in the locals. */
function tableNameOf(table: HclBlock): string {
  const reference = /^local\.table_names\.(\w+)$/.exec(expressionOf(table.name, "table name"))?.[1];
  if (reference === undefined) throw new Error("a table name must come from local.table_names");
  return asString(asBlock(terraform.local("table_names"), "local.table_names")[reference], reference);
}

/** A table's definition as CreateTable input, rebuilt from its HCL, for a field-for-field comparison. */
function definitionOf(table: HclBlock): CreateTableCommandInput {
  const keySchema = (hashKey: unknown, rangeKey: unknown) => [
    { AttributeName: asString(hashKey, "hash_key"), KeyType: "HASH" as const },
    ...(rangeKey === undefined
      ? []
      : [{ AttributeName: asString(rangeKey, "range_key"), KeyType: "RANGE" as const }]),
  ];
  const indexes = blocks(table.global_secondary_index, "global_secondary_index").map((index) => ({
    IndexName: asString(index.name, "index name"),
    KeySchema: keySchema(index.hash_key, index.range_key),
    Projection: { ProjectionType: asString(index.projection_type, "projection_type") as "ALL" },
  }));
  return {
    TableName: tableNameOf(table),
    BillingMode: asString(table.billing_mode, "billing_mode") as "PAY_PER_REQUEST",
    AttributeDefinitions: blocks(table.attribute, "attribute").map((attribute) => ({
      AttributeName: asString(attribute.name, "attribute name"),
      AttributeType: asString(attribute.type, "attribute type") as "S" | "N" | "B",
    })),
    KeySchema: keySchema(table.hash_key, table.range_key),
    ...(indexes.length === 0 ? {} : { GlobalSecondaryIndexes: indexes }),
    ...(table.stream_enabled === true
      ? {
          StreamSpecification: {
            StreamEnabled: true,
            StreamViewType: asString(table.stream_view_type, "stream_view_type") as "NEW_IMAGE",
          },
        }
      : {}),
  };
}

describe("DynamoDB tables (infra/dynamodb.tf)", () => {
  it("the table names are tableNamesWithPrefix(var.project), and the project's default gives the local defaults", () => {
    const names = tableNamesWithPrefix("${var.project}");
    expect(asBlock(terraform.local("table_names"), "table_names")).toEqual({
      ledger: names.ledger,
      counters: names.counters,
      read_model: names.readModel,
      quotas: names.quotas,
    });
    const project = asString(terraform.variable("project").default, "var.project default");
    expect(tableNamesWithPrefix(project)).toEqual(loadLedgerConfig({}).tables);
  });

  it("each table matches tableDefinitions() exactly: keys, attribute types, the byVersion index, the stream", () => {
    const expected = tableDefinitions(tableNamesWithPrefix("${var.project}"));
    const byName = new Map(expected.map((definition) => [definition.TableName, definition]));
    const tables = terraform.resourcesOfType("aws_dynamodb_table");
    expect(Object.keys(tables).sort()).toEqual(Object.values(RESOURCE_OF_TABLE).sort());
    for (const table of Object.values(tables)) {
      const actual = definitionOf(table);
      const definition = byName.get(actual.TableName);
      expect(definition, `no definition in tables.ts for ${actual.TableName}`).toBeDefined();
      // Attribute definitions are a set in DynamoDB: compare them sorted.
      const sortAttributes = (input: CreateTableCommandInput) => ({
        ...input,
        AttributeDefinitions: [...(input.AttributeDefinitions ?? [])].sort((a, b) =>
          (a.AttributeName ?? "").localeCompare(b.AttributeName ?? ""),
        ),
      });
      expect(sortAttributes(actual)).toEqual(sortAttributes(definition!));
    }
  });

  it("TTL is on exactly where timeToLiveAttributes() says, on the attribute it names (the quotas' expiresAt)", () => {
    const expected = timeToLiveAttributes(tableNamesWithPrefix("${var.project}"));
    const actual = new Map<string, string>();
    for (const table of Object.values(terraform.resourcesOfType("aws_dynamodb_table"))) {
      if (table.ttl === undefined) continue;
      const ttl = single(table.ttl, "ttl");
      expect(ttl.enabled).toBe(true);
      actual.set(tableNameOf(table), asString(ttl.attribute_name, "ttl attribute_name"));
    }
    expect(actual).toEqual(expected);
    expect([...expected.values()]).toEqual(["expiresAt"]);
  });

  it("every table has point-in-time recovery, deletion protection and encryption at rest", () => {
    for (const [name, table] of Object.entries(terraform.resourcesOfType("aws_dynamodb_table"))) {
      expect(single(table.point_in_time_recovery, `${name} PITR`).enabled, name).toBe(true);
      expect(table.deletion_protection_enabled, name).toBe(true);
      expect(single(table.server_side_encryption, `${name} SSE`).enabled, name).toBe(true);
    }
  });

  it("the ledger's table class is var.ledger_table_class: STANDARD by default, Standard-IA the one alternative", () => {
    expect(terraform.resource("aws_dynamodb_table", "ledger").table_class).toBe("${var.ledger_table_class}");
    const variable = terraform.variable("ledger_table_class");
    expect(variable.default).toBe("STANDARD");
    const validation = single(variable.validation, "ledger_table_class validation");
    expect(validation.condition).toBe(
      '${contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], var.ledger_table_class)}',
    );
    // The other tables are small and busy: Standard, the default, with no class set.
    expect(terraform.resource("aws_dynamodb_table", "counters").table_class).toBeUndefined();
    expect(terraform.resource("aws_dynamodb_table", "read_model").table_class).toBeUndefined();
  });

  it("the initial aggregate is counterId = var.counter_id, value var.counter_min, version 0 in counters, never reset nor destroyed", () => {
    const item = terraform.resource("aws_dynamodb_table_item", "initial_aggregate");
    expect(item.table_name).toBe("${aws_dynamodb_table.counters.name}");
    expect(item.hash_key).toBe("${aws_dynamodb_table.counters.hash_key}");
    const body = expressionOf(item.item, "item").replace(/\s+/g, " ");
    expect(body).toMatch(/^jsonencode\(\{ .* \}\)$/);
    expect(body).toContain("counterId = { S = var.counter_id }");
    // A new counter starts at its lower bound (the decider's initial state), the one the handlers are given.
    expect(body).toContain("value = { N = tostring(var.counter_min) }");
    expect(body).toContain('version = { N = "0" }');
    // Otherwise the next plan would write value 0 over the live aggregate.
    const lifecycle = single(item.lifecycle, "initial_aggregate lifecycle");
    expect(lifecycle.ignore_changes).toEqual(["${item}"]);
    expect(lifecycle.prevent_destroy).toBe(true);
    // The handlers' default counter is the one Terraform seeds, at the handlers' default lower bound.
    expect(terraform.variable("counter_id").default).toBe(loadLedgerConfig({}).counterId);
    expect(terraform.variable("counter_min").default).toBe(loadLedgerConfig({}).bounds.min);
    expect(terraform.variable("counter_max").default).toBe(loadLedgerConfig({}).bounds.max);
    // A bound pair Terraform accepts is one the handlers accept: min < max, both in 0..1e9.
    const preconditions = blocks(single(item.lifecycle, "lifecycle").precondition, "precondition");
    expect(preconditions.map((block) => block.condition)).toContain("${var.counter_min < var.counter_max}");
  });
});
