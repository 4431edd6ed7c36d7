// Configuration of the local runtime (npm start), read once from the environment and the command line: the
// handlers' variables (services/ledger/config.ts) and the local runtime's own, in one zod schema, so that
// `npm start` refuses any bad value before it starts Java.

import { parseArgs } from "node:util";
import { z } from "zod";
import {
  ConfigurationError,
  checkBounds,
  integer,
  ledgerConfigOf,
  ledgerEnvironment,
  oneOf,
  optionalVariable,
  readEnvironment,
  variable,
  type Environment,
  type LedgerConfig,
} from "../services/ledger/config";
import {
  STREAM_BATCH_RECORDS_DEFAULT,
  STREAM_BATCH_RECORDS_MAX,
  STREAM_RETRY_ATTEMPTS_DEFAULT,
  STREAM_RETRY_ATTEMPTS_MAX,
  THROTTLE_BURST_REQUESTS_DEFAULT,
  THROTTLE_BURST_REQUESTS_MAX,
  THROTTLE_RATE_PER_SECOND_DEFAULT,
  THROTTLE_RATE_PER_SECOND_MAX,
  LAMBDA_CONCURRENCY_MAX,
} from "./limits";
import type { StreamPollerSettings } from "./poller";
import type { ThrottleSettings } from "./throttle";

/** `0` or `off` (any case) turns throttling off; anything else must be an integer from 1 to max. */
function throttleVariable(max: number, fallback: number) {
  const off = z
    .string()
    .regex(/^(0|off)$/i)
    .transform(() => "off" as const);
  const on = integer(1, max);
  return variable(
    z.union([off, on], { error: `must be an integer from 1 to ${max}, or 0 or off` }),
    fallback,
  );
}

/** Comma-separated origins, each exactly as a browser sends it in `Origin` (scheme://host[:port]). */
const origins = z
  .string()
  .transform((raw) =>
    raw
      .split(",")
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ""),
  )
  .refine((list) => list.every((origin) => URL.canParse(origin) && new URL(origin).origin === origin), {
    error: "must be comma-separated origins such as http://localhost:5173 (scheme://host[:port], no path)",
  });

/** Minutes between a schedule's runs (1–1440), or `off` (any case). */
const minutesOrOff = z.union(
  [
    z
      .string()
      .regex(/^off$/i)
      .transform(() => "off" as const),
    integer(1, 1440),
  ],
  { error: "must be an integer from 1 to 1440, or off" },
);

/** DYNAMODB_MODEL_SCALE: every modelled capacity times this factor, from 0.001 to 1. */
const modelScale = z
  .string()
  .regex(/^(0|1)?(\.\d+)?$/, { error: "must be a number from 0.001 to 1" })
  .transform(Number)
  .pipe(
    z
      .number()
      .min(0.001, { error: "must be a number from 0.001 to 1" })
      .max(1, { error: "must be a number from 0.001 to 1" }),
  );

/** LAMBDA_CONCURRENCY: `off` (any case), or the environments per function, 1 to LAMBDA_CONCURRENCY_MAX. */
const lambdaConcurrency = z.union(
  [
    z
      .string()
      .regex(/^off$/i)
      .transform(() => "off" as const),
    integer(1, LAMBDA_CONCURRENCY_MAX),
  ],
  { error: `must be an integer from 1 to ${LAMBDA_CONCURRENCY_MAX}, or off` },
);

/** Every variable `npm start` reads: the handlers' and the local runtime's. */
export const localEnvironment = ledgerEnvironment.extend({
  PORT: variable(integer(0, 65_535), 3000),
  HOST: variable(
    z.string().regex(/^[A-Za-z0-9.:-]+$/, { error: "must be a host name or address" }),
    "127.0.0.1",
  ),
  DATA_DIR: variable(z.string(), ".data"),
  DYNAMODB_IN_MEMORY: variable(oneOf(["true", "false"]), "false"),
  STREAM_BATCH_SIZE: variable(integer(1, STREAM_BATCH_RECORDS_MAX), STREAM_BATCH_RECORDS_DEFAULT),
  STREAM_MAX_RETRY_ATTEMPTS: variable(integer(0, STREAM_RETRY_ATTEMPTS_MAX), STREAM_RETRY_ATTEMPTS_DEFAULT),
  THROTTLE_RATE_PER_SECOND: throttleVariable(THROTTLE_RATE_PER_SECOND_MAX, THROTTLE_RATE_PER_SECOND_DEFAULT),
  THROTTLE_BURST: throttleVariable(THROTTLE_BURST_REQUESTS_MAX, THROTTLE_BURST_REQUESTS_DEFAULT),
  CORS_ORIGINS: optionalVariable(origins),
  // The AWS model of DynamoDB between the SDK and DynamoDB Local (docs/dynamodb-model.md): off, or aws.
  DYNAMODB_MODEL: variable(oneOf(["off", "aws"]), "off"),
  DYNAMODB_MODEL_SCALE: variable(modelScale, 1),
  DYNAMODB_MODEL_SEED: variable(
    z.string().regex(/^[\x21-\x7e]{1,64}$/, { error: "must be 1-64 printable characters" }),
    "counter-ledger",
  ),
  // Execution environments per function of the command and query Lambdas (local/lambda/pool.ts), or `off`.
  LAMBDA_CONCURRENCY: variable(lambdaConcurrency, "off"),
  // Minutes between scheduled digests (local/digests.ts), or `off`.
  DIGEST_INTERVAL_MINUTES: variable(minutesOrOff, 5),
  // Minutes between scheduled verifications (local/verify-schedule.ts), or `off`.
  VERIFY_INTERVAL_MINUTES: variable(minutesOrOff, 60),
});

type LocalVariables = z.output<typeof localEnvironment>;

/** What the local system (local/system.ts) needs besides the handlers' configuration. */
export interface LocalSettings {
  readonly ledger: LedgerConfig;
  readonly dataDirectory: string;
  readonly streamPoller: StreamPollerSettings;
  /** Undefined when throttling is off. */
  readonly throttle: ThrottleSettings | undefined;
  readonly corsOrigins: readonly string[];
  /** Milliseconds between scheduled digests; undefined when DIGEST_INTERVAL_MINUTES is off. */
  readonly digestIntervalMs: number | undefined;
  /** Milliseconds between scheduled verifications; undefined when VERIFY_INTERVAL_MINUTES is off. */
  readonly verifyIntervalMs: number | undefined;
  /** The AWS model of DynamoDB's limits; undefined when DYNAMODB_MODEL is off. */
  readonly dynamoDbModel: DynamoDbModelSettings | undefined;
  /**
   * LAMBDA_CONCURRENCY: the command and query functions each run as up to this many isolated execution
   * environments (worker threads, local/lambda/pool.ts); undefined runs them in this thread (group commit).
   */
  readonly lambdaConcurrency: number | undefined;
}

export interface DynamoDbModelSettings {
  readonly scale: number;
  readonly seed: string;
}

export interface LocalConfig extends LocalSettings {
  readonly port: number;
  readonly host: string;
  readonly inMemory: boolean;
  /** --rotate-signing-key: the local issuer retires its signing key and makes a new one at start. */
  readonly rotateSigningKey: boolean;
  /** DYNAMODB_ENDPOINT: a DynamoDB to use instead of starting DynamoDB Local. */
  readonly dynamoDbEndpoint: string | undefined;
}

/** STREAM_BATCH_SIZE and STREAM_MAX_RETRY_ATTEMPTS alone (local/poller.ts). */
export function loadStreamPollerSettings(env: Environment): StreamPollerSettings {
  return streamPollerSettingsOf(
    readEnvironment(localEnvironment.pick({ STREAM_BATCH_SIZE: true, STREAM_MAX_RETRY_ATTEMPTS: true }), env),
  );
}

/**
 * THROTTLE_RATE_PER_SECOND and THROTTLE_BURST alone (local/throttle.ts). Either one set to `0` or `off` turns
 * throttling off (undefined); unset, they default to API Gateway's account-level quota (local/limits.ts).
 */
export function loadThrottleSettings(env: Environment): ThrottleSettings | undefined {
  return throttleSettingsOf(
    readEnvironment(localEnvironment.pick({ THROTTLE_RATE_PER_SECOND: true, THROTTLE_BURST: true }), env),
  );
}

function streamPollerSettingsOf(
  variables: Pick<LocalVariables, "STREAM_BATCH_SIZE" | "STREAM_MAX_RETRY_ATTEMPTS">,
): StreamPollerSettings {
  return { batchSize: variables.STREAM_BATCH_SIZE, retryAttemptsMax: variables.STREAM_MAX_RETRY_ATTEMPTS };
}

function throttleSettingsOf(
  variables: Pick<LocalVariables, "THROTTLE_RATE_PER_SECOND" | "THROTTLE_BURST">,
): ThrottleSettings | undefined {
  const { THROTTLE_RATE_PER_SECOND: ratePerSecond, THROTTLE_BURST: burstRequests } = variables;
  if (ratePerSecond === "off" || burstRequests === "off") return undefined;
  return { ratePerSecond, burstRequests };
}

export function readLocalEnvironment(env: Environment): LocalVariables {
  return readEnvironment(localEnvironment.superRefine(checkBounds), env);
}

export function localSettingsOf(variables: LocalVariables): LocalSettings {
  return {
    ledger: ledgerConfigOf(variables),
    dataDirectory: variables.DATA_DIR,
    streamPoller: streamPollerSettingsOf(variables),
    throttle: throttleSettingsOf(variables),
    corsOrigins: variables.CORS_ORIGINS ?? [],
    digestIntervalMs:
      variables.DIGEST_INTERVAL_MINUTES === "off" ? undefined : variables.DIGEST_INTERVAL_MINUTES * 60_000,
    dynamoDbModel:
      variables.DYNAMODB_MODEL === "aws"
        ? { scale: variables.DYNAMODB_MODEL_SCALE, seed: variables.DYNAMODB_MODEL_SEED }
        : undefined,
    verifyIntervalMs:
      variables.VERIFY_INTERVAL_MINUTES === "off" ? undefined : variables.VERIFY_INTERVAL_MINUTES * 60_000,
    lambdaConcurrency: variables.LAMBDA_CONCURRENCY === "off" ? undefined : variables.LAMBDA_CONCURRENCY,
  };
}

export const USAGE = "usage: npm start [-- --in-memory] [--rotate-signing-key]";

function parseArguments(argv: readonly string[]): { inMemory: boolean; rotateSigningKey: boolean } {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        "in-memory": { type: "boolean", default: false },
        "rotate-signing-key": { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    return { inMemory: values["in-memory"], rotateSigningKey: values["rotate-signing-key"] };
  } catch (error) {
    throw new ConfigurationError(`${(error as Error).message}\n${USAGE}`);
  }
}

export function loadLocalConfig(env: Environment, argv: readonly string[]): LocalConfig {
  const { inMemory, rotateSigningKey } = parseArguments(argv);
  const variables = readLocalEnvironment(env);
  return {
    ...localSettingsOf(variables),
    port: variables.PORT,
    host: variables.HOST,
    inMemory: inMemory || variables.DYNAMODB_IN_MEMORY === "true",
    rotateSigningKey,
    dynamoDbEndpoint: variables.DYNAMODB_ENDPOINT,
  };
}
