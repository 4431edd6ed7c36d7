// Structured logs: one JSON line per request or batch (docs/style.md). Never a secret, never a body.
// LOG_LEVEL (services/ledger/config.ts) drops every line below it: `debug` shows everything, `info` (the
// default) drops routine lines such as a UI tab's polls, `silent` drops all (tests).

import { logLevelFrom, type Environment, type LogLevel } from "./config";

export interface LogLine {
  readonly level: Exclude<LogLevel, "silent">;
  readonly message: string;
  readonly [field: string]: unknown;
}

export type Logger = (line: LogLine) => void;

const SEVERITY: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

export function createLogger(service: string, env: Environment = process.env): Logger {
  const threshold = SEVERITY[logLevelFrom(env)];
  if (threshold === SEVERITY.silent) return () => undefined;
  return (line) => {
    if (SEVERITY[line.level] < threshold) return;
    const text = JSON.stringify({ time: new Date().toISOString(), service, ...line });
    if (line.level === "error") console.error(text);
    else console.log(text);
  };
}

/** What may be logged of an error: its name and message, never the request that caused it. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : "";
    return { errorName: error.name, errorMessage: error.message + cause };
  }
  return { errorName: "unknown", errorMessage: String(error) };
}
