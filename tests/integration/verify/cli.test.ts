// `npm run verify -- --url …` as a user types it (scripts/verify.ts run as a child process): the base URL's
// path is kept, `--url=…` is accepted, a missing or schemeless URL is a one-line usage error with exit 2, a
// single violation is "1 violation", and on a terminal a progress line shows while the server replays. The API
// here is a plain node:http server answering a fixed report, so that only the script is under test.

import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const tsx = resolve("node_modules/.bin/tsx");

/** One violation, as GET /number/verify reports it. */
const REPORT = {
  ok: false,
  events: 3,
  ledgerSum: 3,
  aggregate: { value: 4, version: 3 },
  readModel: { value: 3, version: 3 },
  lag: { versions: 0, auditEntries: 0 },
  problems: [{ kind: "aggregateValue", version: 3, detail: "The aggregate's value is 4." }],
  problemsOmitted: 0,
  durationMs: 1,
};

let server: Server;
let origin: string;
const paths: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    paths.push(request.url ?? "");
    if (request.url !== "/prefix/number/verify") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(REPORT));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function verify(args: readonly string[]): Promise<Outcome> {
  const environment = { ...process.env, LOG_LEVEL: "silent" };
  try {
    const { stdout, stderr } = await run(tsx, ["scripts/verify.ts", ...args], { env: environment });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** The lines of a usage error: exactly one, naming --url. */
function expectOneLineUsageError(outcome: Outcome, mentions: RegExp): void {
  expect(outcome.code).toBe(2);
  expect(outcome.stdout).toBe("");
  const lines = outcome.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^usage error: /);
  expect(lines[0]).toMatch(mentions);
}

describe("npm run verify -- --url", () => {
  it("keeps the base URL's path, with or without a trailing slash, and says 1 violation in the singular", async () => {
    for (const base of [`${origin}/prefix`, `${origin}/prefix/`]) {
      paths.length = 0;
      const outcome = await verify(["--url", base]);
      expect(paths).toEqual(["/prefix/number/verify"]);
      expect(outcome.code).toBe(1);
      expect(outcome.stdout).toContain("NOT OK: 1 violation.");
      expect(outcome.stdout).not.toContain("1 violations");
    }
  });

  it("accepts --url=<base>", async () => {
    paths.length = 0;
    const outcome = await verify(["--json", `--url=${origin}/prefix`]);
    expect(paths).toEqual(["/prefix/number/verify"]);
    expect(outcome.code).toBe(1);
    expect(JSON.parse(outcome.stdout)).toEqual(REPORT);
  });

  it("refuses a missing URL with one line and exit 2", async () => {
    expectOneLineUsageError(await verify(["--url"]), /--url/);
    expectOneLineUsageError(await verify(["--url="]), /--url/);
    expectOneLineUsageError(await verify(["--url", "--json"]), /--url/);
    expectOneLineUsageError(await verify(["--token", "abc"]), /--token goes with --url/);
  });

  it("refuses a URL without its scheme with one line and exit 2", async () => {
    const port = new URL(origin).port;
    expectOneLineUsageError(await verify(["--url", `localhost:${port}`]), /http/);
    expectOneLineUsageError(await verify([`--url=127.0.0.1:${port}/prefix`]), /http/);
  });

  it("refuses an unknown argument with one line and exit 2", async () => {
    expectOneLineUsageError(await verify(["--ur", origin]), /--ur/);
  });

  it("shows a progress line on a terminal while the server replays", async () => {
    // `script` gives the child a pseudo-terminal, as a person's shell would; its output is the terminal's.
    const command = `${tsx} scripts/verify.ts --url ${origin}/prefix`;
    const outcome = await run("script", ["-qefc", command, "/dev/null"], {
      env: { ...process.env, LOG_LEVEL: "silent" },
    }).catch((error: { code: number; stdout: string }) => error);
    expect("code" in outcome ? outcome.code : 0).toBe(1);
    expect(outcome.stdout).toContain("waiting for the server's replay");
    expect(outcome.stdout).toContain("NOT OK: 1 violation.");
  });
});
