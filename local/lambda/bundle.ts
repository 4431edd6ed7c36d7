// The code of LAMBDA_CONCURRENCY's execution environments, bundled once when the runtime starts as `npm run
// build` bundles each Lambda (scripts/build.ts: esbuild, one minified ES module, the SDK's ES module builds): a
// worker then loads one JavaScript file, and its cold start costs what loading the deployed artifact costs, not
// what compiling the TypeScript sources again in every worker would. (A worker does not inherit tsx's hooks:
// with `--import tsx` in its execArgv, Node 20 still refuses its `.ts` entry point.)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

/** esbuild's ES module output of CommonJS dependencies calls `require`: give it Node's, as the Lambda bundles do. */
const REQUIRE_SHIM_BANNER =
  'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);';

export interface EnvironmentBundle {
  /** The bundle's file, a worker's entry point. */
  readonly entry: URL;
  /** Deletes the bundle's temporary directory. */
  readonly remove: () => void;
}

export async function bundleEnvironment(): Promise<EnvironmentBundle> {
  const directory = mkdtempSync(join(tmpdir(), "counter-ledger-lambda-"));
  const outfile = join(directory, "environment.mjs");
  try {
    await build({
      entryPoints: [fileURLToPath(new URL("./environment.ts", import.meta.url))],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      mainFields: ["module", "main"],
      minify: true,
      banner: { js: REQUIRE_SHIM_BANNER },
      outfile,
      logLevel: "silent",
    });
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return { entry: pathToFileURL(outfile), remove: () => rmSync(directory, { recursive: true, force: true }) };
}
