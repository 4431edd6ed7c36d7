// Configuration shared by every handler, read once from the environment into a typed object.
// A bad value stops start-up with a message naming the variable and what it expects; it never guesses.

import type { Bounds } from "./domain/decider";
import { VALUE_MAX, VALUE_MIN } from "./domain/limits";
import { DEFAULT_TABLE_NAMES, type TableNames } from "./storage/tables";

export interface LedgerConfig {
  readonly tables: TableNames;
  readonly counterId: string;
  readonly bounds: Bounds;
  /** DynamoDB endpoint override (DynamoDB Local); undefined means the AWS endpoint of the region. */
  readonly endpoint: string | undefined;
  readonly region: string;
}

export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}

type Environment = Readonly<Record<string, string | undefined>>;

function text(env: Environment, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[A-Za-z0-9_.-]{1,255}$/.test(raw)) {
    throw new ConfigurationError(`${name} must be 1-255 characters of A-Z a-z 0-9 _ . - (got "${raw}")`);
  }
  return raw;
}

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const parsed = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigurationError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return parsed;
}

export function endpointFrom(env: Environment): string | undefined {
  const raw = env.DYNAMODB_ENDPOINT;
  if (raw === undefined || raw === "") return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("protocol");
  } catch {
    throw new ConfigurationError(`DYNAMODB_ENDPOINT must be an http(s) URL (got "${raw}")`);
  }
  return raw;
}

export function loadLedgerConfig(env: Environment = process.env): LedgerConfig {
  const min = integer(env, "COUNTER_MIN", VALUE_MIN, VALUE_MIN, VALUE_MAX);
  const max = integer(env, "COUNTER_MAX", VALUE_MAX, VALUE_MIN, VALUE_MAX);
  if (min > max) throw new ConfigurationError(`COUNTER_MIN (${min}) must not exceed COUNTER_MAX (${max})`);
  if (min > 0) throw new ConfigurationError(`COUNTER_MIN must be 0 or less, since a new counter starts at 0`);
  return {
    tables: {
      ledger: text(env, "LEDGER_TABLE", DEFAULT_TABLE_NAMES.ledger),
      counters: text(env, "COUNTERS_TABLE", DEFAULT_TABLE_NAMES.counters),
      readModel: text(env, "READ_MODEL_TABLE", DEFAULT_TABLE_NAMES.readModel),
    },
    counterId: text(env, "COUNTER_ID", "default"),
    bounds: { min, max },
    endpoint: endpointFrom(env),
    region: text(env, "AWS_REGION", "us-east-1"),
  };
}
