// Structured logs: one JSON line per request or batch (docs/style.md). Never a secret, never a body.
// LOG_LEVEL=silent turns them off (tests); anything else logs.

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly [field: string]: unknown;
}

export type Logger = (line: LogLine) => void;

export function createLogger(
  service: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Logger {
  if (env.LOG_LEVEL === "silent") return () => undefined;
  const debug = env.LOG_LEVEL === "debug";
  return (line) => {
    if (line.level === "debug" && !debug) return;
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
