// Structured logs: one JSON line per request or batch (docs/style.md). Never a secret, never a body.
// LOG_LEVEL (services/ledger/config.ts) drops every line below it: `debug` shows everything, `info` (the
// default) drops routine lines such as a UI tab's polls, `silent` drops all (tests). On Lambda the lines are
// written by Powertools' Logger, which adds the X-Ray trace id and Lambda's log level conventions
// (docs/runbook.md#reading-the-logs); elsewhere by the few lines below, in the same fields.

import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { logLevelFrom, type Environment, type LogLevel } from "./config";
import { onLambda } from "./telemetry";

export interface LogLine {
  readonly level: Exclude<LogLevel, "silent">;
  readonly message: string;
  readonly [field: string]: unknown;
}

export type Logger = (line: LogLine) => void;

const SEVERITY: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

export function createLogger(service: string, env: Environment = process.env): Logger {
  const level = logLevelFrom(env);
  const threshold = SEVERITY[level];
  if (level === "silent") return () => undefined;
  if (onLambda(env)) return powertoolsLogger(service, level);
  return (line) => {
    if (SEVERITY[line.level] < threshold) return;
    const text = JSON.stringify({ time: new Date().toISOString(), service, ...line });
    if (line.level === "error") console.error(text);
    else console.log(text);
  };
}

/** A Lambda's lines: Powertools' JSON (`level`, `message`, `timestamp`, `service`, `xray_trace_id`, the fields). */
function powertoolsLogger(service: string, level: Exclude<LogLevel, "silent">): Logger {
  const logger = new PowertoolsLogger({ serviceName: service, logLevel: POWERTOOLS_LEVELS[level] });
  return ({ level: lineLevel, message, ...fields }) => logger[lineLevel](message, fields);
}

const POWERTOOLS_LEVELS = { debug: "DEBUG", info: "INFO", warn: "WARN", error: "ERROR" } as const;

/** What may be logged of an error: its name and message, never the request that caused it. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : "";
    return { errorName: error.name, errorMessage: error.message + cause };
  }
  return { errorName: "unknown", errorMessage: String(error) };
}
