// Configuration shared by every handler, read once from the environment into a typed object. One zod schema
// says every variable, its default and its rule (local/config.ts extends it for the local runtime's own); a
// bad value stops start-up with a message naming the variable and what it expects; it never guesses. An unset
// or empty variable takes its default.

import { z } from "zod";
import type { Bounds } from "./domain/decider";
import {
  QUOTA_COMMANDS_PER_MINUTE_DEFAULT,
  QUOTA_COMMANDS_PER_MINUTE_MAX,
  VALUE_MAX,
  VALUE_MIN,
} from "./domain/limits";
import { SHARDS_MAX } from "./domain/escrow";
import { DEFAULT_TABLE_NAMES, type TableNames } from "./storage/tables";

export interface LedgerConfig {
  readonly tables: TableNames;
  readonly counterId: string;
  readonly bounds: Bounds;
  /** DynamoDB endpoint override (DynamoDB Local); undefined means the AWS endpoint of the region. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly auth: AuthConfig;
  /**
   * The secret header value CloudFront adds to every API request (ORIGIN_VERIFY, infra/web.tf); a request
   * without it is refused (http/origin.ts). Undefined: no such check (the local runtime by default).
   */
  readonly originSecret?: string | undefined;
  /**
   * Each user's commands per one-minute window (QUOTA_COMMANDS_PER_MINUTE, services/command/quota.ts);
   * undefined when it is 0 or off. Never applied to the anonymous actor of AUTH=off, which is no user.
   */
  readonly quotaCommandsPerMinute: number | undefined;
  /**
   * The counter's escrow shards (COUNTER_SHARDS, 2 to 64, docs/architecture.md#escrow-shards); undefined for
   * one shard, the unsharded counter and its group-commit committer.
   */
  readonly counterShards?: number | undefined;
}

/** Who may call the API (docs/api.md#access): checked by API Gateway (or the local gateway) and again here. */
export interface AuthConfig {
  /** False only with AUTH=off, which the local runtime allows for demos and Lambda refuses. */
  readonly enabled: boolean;
  /** Whether GET /number is open to anyone (PUBLIC_READ, default true) or needs a valid token. */
  readonly publicRead: boolean;
  /** The claim of a verified token that names its actor for people (ACTOR_NAME_CLAIM); `sub` when absent. */
  readonly actorNameClaim: string;
}

export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}

export type Environment = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const unsetIfEmpty = (value: unknown): unknown => (value === "" ? undefined : value);

/** A variable that takes `fallback` when unset or empty, else must pass `schema`. */
export function variable<Output>(schema: z.ZodType<Output, string>, fallback: Output) {
  return z.preprocess(unsetIfEmpty, schema.optional()).transform((value) => value ?? fallback);
}

/** An optional variable: undefined when unset or empty. */
export function optionalVariable<Output>(schema: z.ZodType<Output, string>) {
  return z.preprocess(unsetIfEmpty, schema.optional());
}

/** Decimal digits only (no sign unless `min` < 0, no exponent, no blank), within min..max. */
export function integer(min: number, max: number, rule = `must be an integer from ${min} to ${max}`) {
  return z
    .string()
    .regex(/^-?\d+$/, { error: rule })
    .transform(Number)
    .pipe(z.number().int().min(min, { error: rule }).max(max, { error: rule }));
}

export function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.enum(values, { error: `must be one of ${values.join(", ")}` });
}

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,255}$/, {
  error: "must be 1-255 characters of A-Z a-z 0-9 _ . -",
});

const httpUrl = z.string().refine(
  (raw) => {
    try {
      const { protocol } = new URL(raw);
      return protocol === "http:" || protocol === "https:";
    } catch {
      return false;
    }
  },
  { error: "must be an http(s) URL" },
);

/** `0` or `off` (any case): the quota is off (0 here, undefined in LedgerConfig); else an integer from 1 to max. */
const quotaRule = `must be an integer from 1 to ${QUOTA_COMMANDS_PER_MINUTE_MAX}, or 0 or off`;
const quotaVariable = variable(
  z.union(
    [
      z
        .string()
        .regex(/^(0|off)$/i)
        .transform(() => 0),
      integer(1, QUOTA_COMMANDS_PER_MINUTE_MAX, quotaRule),
    ],
    { error: quotaRule },
  ),
  QUOTA_COMMANDS_PER_MINUTE_DEFAULT,
);

/** Every variable the handlers read, on Lambda and locally. */
export const ledgerEnvironment = z.object({
  LEDGER_TABLE: variable(name, DEFAULT_TABLE_NAMES.ledger),
  COUNTERS_TABLE: variable(name, DEFAULT_TABLE_NAMES.counters),
  READ_MODEL_TABLE: variable(name, DEFAULT_TABLE_NAMES.readModel),
  QUOTAS_TABLE: variable(name, DEFAULT_TABLE_NAMES.quotas),
  COUNTER_ID: variable(name, "default"),
  COUNTER_MIN: variable(integer(VALUE_MIN, VALUE_MAX), VALUE_MIN),
  COUNTER_MAX: variable(integer(VALUE_MIN, VALUE_MAX), VALUE_MAX),
  DYNAMODB_ENDPOINT: optionalVariable(httpUrl),
  AWS_REGION: variable(name, "us-east-1"),
  LOG_LEVEL: variable(oneOf(LOG_LEVELS), "info"),
  AUTH: variable(oneOf(["on", "off"]), "on"),
  PUBLIC_READ: variable(oneOf(["true", "false"]), "true"),
  ACTOR_NAME_CLAIM: variable(
    z.string().regex(/^[\x21-\x7e]{1,128}$/, { error: "must be a claim name" }),
    "username",
  ),
  // Visible ASCII (a header value), long enough to be a secret: Terraform's is a UUID.
  ORIGIN_VERIFY: optionalVariable(
    z.string().regex(/^[\x21-\x7e]{32,256}$/, { error: "must be 32-256 visible ASCII characters" }),
  ),
  QUOTA_COMMANDS_PER_MINUTE: quotaVariable,
  COUNTER_SHARDS: variable(integer(1, SHARDS_MAX), 1),
});

/** The checks between variables, for ledgerEnvironment and any schema that extends it. */
export function checkBounds(
  variables: { COUNTER_MIN: number; COUNTER_MAX: number },
  context: z.RefinementCtx,
): void {
  if (variables.COUNTER_MIN >= variables.COUNTER_MAX) {
    context.addIssue({
      code: "custom",
      path: ["COUNTER_MIN"],
      message: `must be less than COUNTER_MAX (${variables.COUNTER_MAX})`,
    });
  }
}

/** Reads `env` through `schema`; every bad variable becomes one line of the ConfigurationError. */
export function readEnvironment<Output>(schema: z.ZodType<Output>, env: Environment): Output {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const variableName = String(issue.path[0] ?? "environment");
    const raw = env[variableName];
    return `${variableName} ${issue.message}${raw === undefined ? "" : ` (got "${raw}")`}`;
  });
  throw new ConfigurationError([...new Set(lines)].join("\n"));
}

export function ledgerConfigOf(variables: z.output<typeof ledgerEnvironment>): LedgerConfig {
  return {
    tables: {
      ledger: variables.LEDGER_TABLE,
      counters: variables.COUNTERS_TABLE,
      readModel: variables.READ_MODEL_TABLE,
      quotas: variables.QUOTAS_TABLE,
    },
    counterId: variables.COUNTER_ID,
    bounds: { min: variables.COUNTER_MIN, max: variables.COUNTER_MAX },
    endpoint: variables.DYNAMODB_ENDPOINT,
    region: variables.AWS_REGION,
    auth: {
      enabled: variables.AUTH === "on",
      publicRead: variables.PUBLIC_READ === "true",
      actorNameClaim: variables.ACTOR_NAME_CLAIM,
    },
    originSecret: variables.ORIGIN_VERIFY,
    quotaCommandsPerMinute:
      variables.QUOTA_COMMANDS_PER_MINUTE === 0 ? undefined : variables.QUOTA_COMMANDS_PER_MINUTE,
    ...(variables.COUNTER_SHARDS === 1 ? {} : { counterShards: variables.COUNTER_SHARDS }),
  };
}

/** The handlers' configuration on Lambda (and in tests): AUTH=off is refused where Lambda runs them. */
export function loadLedgerConfig(env: Environment = process.env): LedgerConfig {
  const config = ledgerConfigOf(readEnvironment(ledgerEnvironment.superRefine(checkBounds), env));
  // Lambda sets AWS_LAMBDA_FUNCTION_NAME in every execution environment.
  if (!config.auth.enabled && env.AWS_LAMBDA_FUNCTION_NAME !== undefined) {
    throw new ConfigurationError(
      'AUTH must not be "off" on AWS Lambda: anonymous mode is for the local runtime only',
    );
  }
  return config;
}

/** LOG_LEVEL alone (services/ledger/log.ts): the level below which log lines are dropped. */
export function logLevelFrom(env: Environment = process.env): LogLevel {
  return readEnvironment(ledgerEnvironment.pick({ LOG_LEVEL: true }), env).LOG_LEVEL;
}
