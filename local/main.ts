// `npm start`: the whole system on one machine. Checks every setting and that PORT is free, then starts DynamoDB
// Local (persistent under DATA_DIR, or in memory with --in-memory / DYNAMODB_IN_MEMORY=true) unless
// DYNAMODB_ENDPOINT names one, creates missing tables, and serves the API, the web UI and (unless AUTH=off) the
// local OpenID Connect issuer under /oidc on PORT (--rotate-signing-key: a new signing key first).
//
// However it is stopped, it stops everything it started: SIGINT (Ctrl-C reaches the whole process group),
// SIGTERM, SIGHUP (the terminal closing), and the death of its parent — `npm start` runs `sh -c "node …"`, and
// a SIGTERM to npm alone ends npm and the shell but reaches no further, so this process watches for being
// orphaned. Java runs in a process group of its own with a watchdog (local/dynamodb-local.ts), so that even a
// SIGKILL of this process leaves no DynamoDB Local behind.

import "./quiet-sdk-notice";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { ensureTables } from "./bootstrap";
import { JavaMissingError, startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb-local";
import { startLocalSystem, type LocalSystem } from "./system";
import { METRICS_PATH } from "./metrics";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { ConfigurationError } from "../services/ledger/config";
import { createLogger } from "../services/ledger/log";
import { loadLocalConfig, type LocalConfig } from "./config";
import { IdentityKeysError } from "./identity/keys";
import { DEVELOPMENT_PASSWORD, DEVELOPMENT_USERS, scopesOf } from "./identity/users";

/** How often this process checks that its parent is still the one that started it. */
const PARENT_CHECK_INTERVAL_MS = 500;

/** A start-up failure the user can fix, said in one line without a stack trace. */
class StartupError extends Error {
  override readonly name = "StartupError";
}

/** The one line for a PORT or HOST this process cannot listen on, or undefined for any other error. */
function listenProblem(error: unknown, host: string, port: number): string | undefined {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case "EADDRINUSE":
      return `PORT ${port} is already in use: stop what uses it or set PORT to another port`;
    case "EACCES":
      return `PORT ${port} needs privileges this user does not have: set PORT to 1024 or above`;
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return `HOST ${host} is not an address of this machine: set HOST to one (default 127.0.0.1)`;
    default:
      return undefined;
  }
}

/** Fails with the one-line reason when host:port cannot be listened on, before anything is started. */
async function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolveFree, reject) => {
    const probe = createServer();
    probe.once("error", (error) =>
      reject(new StartupError(listenProblem(error, host, port) ?? String(error))),
    );
    probe.listen(port, host, () => probe.close(() => resolveFree()));
  });
}

interface Running {
  dynamoDb?: DynamoDbLocal;
  system?: LocalSystem;
}

/** Stops what runs, once, then exits; called by every signal and by the parent's death. */
function stopper(running: Running): (reason: string) => Promise<void> {
  let stopping: Promise<void> | undefined;
  return (reason) => {
    stopping ??= (async () => {
      console.log(JSON.stringify({ level: "info", message: `stopping on ${reason}` }));
      await running.system?.stop();
      await running.dynamoDb?.stop();
      process.exit(0);
    })();
    return stopping;
  };
}

function stopOnSignalsAndOrphaning(stop: (reason: string) => Promise<void>): void {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => void stop(signal));
  }
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop(`the end of its parent process ${parent}`);
  }, PARENT_CHECK_INTERVAL_MS).unref();
}

function announce(
  local: LocalConfig,
  system: LocalSystem,
  endpoint: string | undefined,
  created: unknown,
): void {
  createLogger("local")({
    level: "info",
    message: "counter-ledger is up",
    url: system.url,
    dynamoDbEndpoint: endpoint,
    dynamoDb:
      local.dynamoDbEndpoint !== undefined
        ? "external"
        : local.inMemory
          ? "DynamoDB Local, in memory"
          : `DynamoDB Local, data in ${local.dataDirectory}`,
    tablesCreated: created,
    issuer: system.issuer,
  });
  console.log(
    `\n  counter-ledger is serving ${system.url}  (API: ${system.url}/number, UI: ${system.url}/)` +
      `\n  DynamoDB: ${endpoint ?? "AWS"}  (npm run verify: DYNAMODB_ENDPOINT=${endpoint ?? ""})` +
      `\n  Metrics: ${system.url}${METRICS_PATH}  (Prometheus text format)` +
      `\n${signInLines(system)}\n`,
  );
}

/** The banner's lines about signing in: the issuer, the development users and `npm run token`. */
function signInLines(system: LocalSystem): string {
  if (system.issuer === undefined)
    return "  Sign-in: off (AUTH=off): anyone may call every route, as anonymous";
  const users = Object.values(DEVELOPMENT_USERS)
    .map((user) => `${user.username} (${[...scopesOf(user)].join(" ") || "no scope"})`)
    .join(", ");
  return (
    `  Sign-in: issuer ${system.issuer}; development users ${users}; password "${DEVELOPMENT_PASSWORD}"` +
    `\n  A token for curl: npm run --silent token -- --url ${system.url} --user alice | tail -1`
  );
}

async function main(running: Running): Promise<void> {
  const local = loadLocalConfig(process.env, process.argv.slice(2));
  stopOnSignalsAndOrphaning(stopper(running));
  await assertCanListen(local.host, local.port);

  const environment: Record<string, string | undefined> = { ...process.env };
  let config = local.ledger;
  if (local.dynamoDbEndpoint === undefined) {
    const dynamoDb = await startDynamoDbLocal({
      dataDirectory: local.inMemory ? undefined : join(local.dataDirectory, "dynamodb"),
    });
    running.dynamoDb = dynamoDb;
    environment.DYNAMODB_ENDPOINT = dynamoDb.endpoint;
    environment.AWS_REGION ??= "us-east-1";
    config = { ...config, endpoint: dynamoDb.endpoint };
  }
  const client = createDocumentClient(config);
  const created = await ensureTables(client, config.tables, config.counterId, config.bounds);
  client.destroy();

  const webRoot = resolve("web/dist");
  try {
    running.system = await startLocalSystem({
      environment,
      port: local.port,
      host: local.host,
      webRoot: existsSync(webRoot) ? webRoot : undefined,
      dataDirectory: local.dataDirectory,
      identity: { rotateSigningKey: local.rotateSigningKey },
    });
  } catch (error) {
    const problem = listenProblem(error, local.host, local.port);
    throw problem === undefined ? error : new StartupError(problem);
  }
  announce(local, running.system, config.endpoint, created);
}

const running: Running = {};
main(running).catch(async (error: unknown) => {
  const known =
    error instanceof JavaMissingError ||
    error instanceof ConfigurationError ||
    error instanceof StartupError ||
    error instanceof IdentityKeysError;
  console.error(known ? error.message : error);
  await running.dynamoDb?.stop();
  process.exit(1);
});
