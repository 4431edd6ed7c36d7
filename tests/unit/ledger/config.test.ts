// The environment as the handlers and the local runtime read it (services/ledger/config.ts, local/config.ts):
// defaults, the bounds rule, LOG_LEVEL's levels, and every refusal naming the variable, what it expects and
// what it got.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadLocalConfig, localEnvironment, readLocalEnvironment } from "../../../local/config";
import { ConfigurationError, loadLedgerConfig } from "../../../services/ledger/config";
import { createLogger } from "../../../services/ledger/log";

describe("COUNTER_MIN and COUNTER_MAX", () => {
  it("default to 0..1 000 000 000", () => {
    expect(loadLedgerConfig({}).bounds).toEqual({ min: 0, max: 1_000_000_000 });
  });

  it.each([
    ["5", "10"],
    ["0", "1"],
    ["999999999", "1000000000"],
  ])("accept any integer pair with min < max inside 0..1e9: %s..%s", (min, max) => {
    expect(loadLedgerConfig({ COUNTER_MIN: min, COUNTER_MAX: max }).bounds).toEqual({
      min: Number(min),
      max: Number(max),
    });
  });

  it.each([
    [{ COUNTER_MIN: "10", COUNTER_MAX: "10" }, 'COUNTER_MIN must be less than COUNTER_MAX (10) (got "10")'],
    [{ COUNTER_MIN: "11", COUNTER_MAX: "10" }, 'COUNTER_MIN must be less than COUNTER_MAX (10) (got "11")'],
    [{ COUNTER_MIN: "-1" }, 'COUNTER_MIN must be an integer from 0 to 1000000000 (got "-1")'],
    [{ COUNTER_MAX: "1000000001" }, 'COUNTER_MAX must be an integer from 0 to 1000000000 (got "1000000001")'],
    [{ COUNTER_MAX: "1e3" }, 'COUNTER_MAX must be an integer from 0 to 1000000000 (got "1e3")'],
    [
      { COUNTER_MIN: "1000000000" },
      'COUNTER_MIN must be less than COUNTER_MAX (1000000000) (got "1000000000")',
    ],
  ])("refuse %j", (environment, message) => {
    expect(() => loadLedgerConfig(environment)).toThrow(new ConfigurationError(message));
  });
});

describe("the handlers' variables", () => {
  it("take their defaults when unset or empty", () => {
    expect(loadLedgerConfig({ LEDGER_TABLE: "", AWS_REGION: "" })).toEqual({
      tables: {
        ledger: "counter-ledger-ledger",
        counters: "counter-ledger-counters",
        readModel: "counter-ledger-read-model",
        quotas: "counter-ledger-quotas",
      },
      counterId: "default",
      bounds: { min: 0, max: 1_000_000_000 },
      endpoint: undefined,
      region: "us-east-1",
      auth: { enabled: true, publicRead: true, actorNameClaim: "username" },
      quotaCommandsPerMinute: 600,
    });
  });

  it("read QUOTA_COMMANDS_PER_MINUTE: 600 when unset, 0 or off turn the quota off, else 1 to 1000000", () => {
    const quota = (value: string) => loadLedgerConfig({ QUOTA_COMMANDS_PER_MINUTE: value });
    expect(quota("").quotaCommandsPerMinute).toBe(600);
    expect(quota("1").quotaCommandsPerMinute).toBe(1);
    expect(quota("1000000").quotaCommandsPerMinute).toBe(1_000_000);
    for (const off of ["0", "off", "OFF"]) expect(quota(off).quotaCommandsPerMinute).toBeUndefined();
    for (const bad of ["-1", "1.5", "1000001", "none"]) {
      expect(() => quota(bad)).toThrow(
        new ConfigurationError(
          `QUOTA_COMMANDS_PER_MINUTE must be an integer from 1 to 1000000, or 0 or off (got "${bad}")`,
        ),
      );
    }
  });

  it("refuse AUTH=off where Lambda runs them, and allow it elsewhere", () => {
    expect(() =>
      loadLedgerConfig({ AUTH: "off", AWS_LAMBDA_FUNCTION_NAME: "counter-ledger-command" }),
    ).toThrow(ConfigurationError);
    expect(loadLedgerConfig({ AUTH: "off" }).auth.enabled).toBe(false);
    expect(loadLedgerConfig({ AWS_LAMBDA_FUNCTION_NAME: "counter-ledger-command" }).auth.enabled).toBe(true);
  });

  it("name every bad variable, one line each", () => {
    expect(() =>
      loadLedgerConfig({ COUNTER_ID: "a b", DYNAMODB_ENDPOINT: "ftp://host", LOG_LEVEL: "loud" }),
    ).toThrow(
      new ConfigurationError(
        [
          'COUNTER_ID must be 1-255 characters of A-Z a-z 0-9 _ . - (got "a b")',
          'DYNAMODB_ENDPOINT must be an http(s) URL (got "ftp://host")',
          'LOG_LEVEL must be one of debug, info, warn, error, silent (got "loud")',
        ].join("\n"),
      ),
    );
  });
});

describe("the local runtime's variables and arguments", () => {
  it("default as the README says", () => {
    expect(loadLocalConfig({}, [])).toMatchObject({
      port: 3000,
      host: "127.0.0.1",
      dataDirectory: ".data",
      inMemory: false,
      dynamoDbEndpoint: undefined,
      streamPoller: { batchSize: 100, retryAttemptsMax: 4 },
      throttle: { ratePerSecond: 10_000, burstRequests: 5_000 },
      corsOrigins: [],
      dynamoDbModel: undefined,
      lambdaConcurrency: undefined,
    });
  });

  it("read LAMBDA_CONCURRENCY: off, or environments per function from 1 to 256", () => {
    expect(loadLocalConfig({ LAMBDA_CONCURRENCY: "16" }, []).lambdaConcurrency).toBe(16);
    expect(loadLocalConfig({ LAMBDA_CONCURRENCY: "OFF" }, []).lambdaConcurrency).toBeUndefined();
    for (const bad of ["0", "257", "1.5", "many"]) {
      expect(() => loadLocalConfig({ LAMBDA_CONCURRENCY: bad }, [])).toThrow(
        new RegExp(`^LAMBDA_CONCURRENCY must be an integer from 1 to 256.* \\(got "${bad}"\\)$`),
      );
    }
  });

  it("read DYNAMODB_MODEL, its scale and its seed", () => {
    expect(loadLocalConfig({ DYNAMODB_MODEL: "aws", DYNAMODB_MODEL_SCALE: "0.1" }, []).dynamoDbModel).toEqual(
      {
        scale: 0.1,
        seed: "counter-ledger",
      },
    );
    expect(loadLocalConfig({ DYNAMODB_MODEL_SCALE: "0.1" }, []).dynamoDbModel).toBeUndefined();
  });

  it("read --in-memory, DYNAMODB_IN_MEMORY and CORS_ORIGINS", () => {
    expect(loadLocalConfig({}, ["--in-memory"]).inMemory).toBe(true);
    expect(loadLocalConfig({ DYNAMODB_IN_MEMORY: "true" }, []).inMemory).toBe(true);
    expect(
      loadLocalConfig({ CORS_ORIGINS: "http://localhost:5173, https://example.com" }, []).corsOrigins,
    ).toEqual(["http://localhost:5173", "https://example.com"]);
  });

  it.each([
    [["--in-memory", "--verbose"], /Unknown option '--verbose'\nusage: npm start \[-- --in-memory\]/],
    [["extra"], /Unexpected argument 'extra'/],
  ])("refuse the arguments %j with the usage", (argv, message) => {
    expect(() => loadLocalConfig({}, argv)).toThrow(ConfigurationError);
    expect(() => loadLocalConfig({}, argv)).toThrow(message);
  });

  it.each([
    ["PORT", "65536", 'PORT must be an integer from 0 to 65535 (got "65536")'],
    ["DYNAMODB_IN_MEMORY", "yes", 'DYNAMODB_IN_MEMORY must be one of true, false (got "yes")'],
    ["CORS_ORIGINS", "http://localhost:5173/", "CORS_ORIGINS must be comma-separated origins"],
    ["CORS_ORIGINS", "example.com", "CORS_ORIGINS must be comma-separated origins"],
    [
      "THROTTLE_RATE_PER_SECOND",
      "1.5",
      "THROTTLE_RATE_PER_SECOND must be an integer from 1 to 1000000, or 0 or off",
    ],
    ["DYNAMODB_MODEL", "on", 'DYNAMODB_MODEL must be one of off, aws (got "on")'],
    ["DYNAMODB_MODEL_SCALE", "2", "DYNAMODB_MODEL_SCALE must be a number from 0.001 to 1"],
    ["DYNAMODB_MODEL_SCALE", "0.0001", "DYNAMODB_MODEL_SCALE must be a number from 0.001 to 1"],
  ])("refuse %s=%s", (name, value, message) => {
    expect(() => loadLocalConfig({ [name]: value }, [])).toThrow(ConfigurationError);
    expect(() => loadLocalConfig({ [name]: value }, [])).toThrow(message);
  });
});

describe("LOG_LEVEL", () => {
  afterEach(() => vi.restoreAllMocks());

  function linesAt(level: string | undefined): string[] {
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void printed.push(line));
    vi.spyOn(console, "error").mockImplementation((line: string) => void printed.push(line));
    const log = createLogger("test", level === undefined ? {} : { LOG_LEVEL: level });
    for (const lineLevel of ["debug", "info", "warn", "error"] as const) {
      log({ level: lineLevel, message: lineLevel });
    }
    return printed.map((line) => (JSON.parse(line) as { message: string }).message);
  }

  it.each([
    [undefined, ["info", "warn", "error"]],
    ["debug", ["debug", "info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
    ["silent", []],
  ])("at %s prints %j", (level, printed) => {
    expect(linesAt(level)).toEqual(printed);
  });

  it.each(["verbose", "INFO", "trace"])("refuses %s", (level) => {
    expect(() => createLogger("test", { LOG_LEVEL: level })).toThrow(
      `LOG_LEVEL must be one of debug, info, warn, error, silent (got "${level}")`,
    );
  });
});

describe("the README's configuration table", () => {
  const readme = readFileSync(resolve(import.meta.dirname, "../../../README.md"), "utf8");
  const section = readme.slice(
    readme.indexOf("## Configuration"),
    readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1),
  );
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => line.split("|").map((cell) => cell.trim()));

  it("lists every variable the schema reads, and no other", () => {
    const listed = rows.flatMap(([, names]) =>
      [...(names ?? "").matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]),
    );
    expect(listed.sort()).toEqual(Object.keys(localEnvironment.shape).sort());
  });

  it("gives each variable of a row of its own the schema's default", () => {
    const defaults: Record<string, unknown> = readLocalEnvironment({});
    for (const [, names, fallback] of rows) {
      const name = /^`([A-Z_]+)`$/.exec(names ?? "")?.[1];
      if (name === undefined) continue;
      const documented = fallback === "—" ? undefined : /^`(.*)`$/.exec(fallback ?? "")?.[1];
      expect(documented, name).toBe(
        defaults[name] === undefined ? undefined : JSON.stringify(defaults[name]).replace(/^"|"$/g, ""),
      );
    }
  });
});
