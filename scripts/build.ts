// `npm run build`: the artifacts that infra/ deploys. Each Lambda is bundled by esbuild into one minified ESM
// file with its source map and packed as `dist/<name>.zip` (`index.mjs` + `index.mjs.map`, handler
// `index.handler`); the web UI is built by Vite into `web/dist` when `web/` exists. Each artifact's size is
// printed. `--only lambdas` or `--only web` builds one half: the deploy workflow bundles the Lambdas before
// `terraform apply` and builds the UI beside it, with VITE_API_BASE_URL empty: on AWS the site's CloudFront
// distribution serves the API on the UI's own origin (web/vite.config.ts, infra/web.tf).
// The zips are byte-for-byte reproducible (fixed timestamps, modes and order), so Terraform's
// `source_code_hash` changes only when the code does. This script never deploys anything.
//
// The AWS SDK is bundled rather than left to the one the nodejs22.x runtime ships: bundling pins the exact
// version that the tests ran against (package-lock.json), and tree-shaking keeps the cost to a few hundred KiB.

import { existsSync } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build as esbuild } from "esbuild";
import { zipSync, type Zippable } from "fflate";

export type LambdaName = "command" | "query" | "audit" | "projector" | "identity" | "digest";

export interface LambdaEntry {
  readonly name: LambdaName;
  /** Entry module, relative to the repository root; it exports `handler`. */
  readonly entryPath: string;
}

/** The Lambdas that infra/lambda.tf deploys; their zips are named after them. */
export const LAMBDA_ENTRIES: readonly LambdaEntry[] = [
  { name: "command", entryPath: "services/command/handler.ts" },
  { name: "query", entryPath: "services/query/handler.ts" },
  // The audit routes (verify, event proofs, the digest) on their own function (infra/lambda.tf).
  { name: "audit", entryPath: "services/audit/handler.ts" },
  { name: "projector", entryPath: "services/projector/handler.ts" },
  // Cognito's pre token generation trigger (infra/identity.tf).
  { name: "identity", entryPath: "services/identity/handler.ts" },
  // The scheduled digest (infra/digest.tf): signs the ledger's head and archives it in the Object Lock bucket.
  { name: "digest", entryPath: "services/digest/handler.ts" },
];

export const REPOSITORY_ROOT = resolve(fileURLToPath(import.meta.url), "../..");

/** The file name inside each zip; infra/lambda.tf sets `handler = "index.handler"` to match. */
export const BUNDLE_FILE_NAME = "index.mjs";

/** The Lambda runtime infra/lambda.tf deploys to (nodejs22.x); esbuild lowers syntax for it. */
const BUNDLE_TARGET = "node22";

/**
 * Bundled CommonJS dependencies may call `require` for Node built-ins, which an ES module does not have;
 * this banner gives them one, so the bundle does not fail at load time with "Dynamic require … not supported".
 */
const REQUIRE_SHIM_BANNER =
  'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);';

export class MissingEntryError extends Error {
  override readonly name = "MissingEntryError";
}

export interface ZipFile {
  readonly name: string;
  readonly data: Uint8Array;
}

/**
 * Every entry's modification time: 1980-01-01 00:00, the earliest a zip can hold. fflate writes the MS-DOS
 * date and time from the local calendar, so the date is made in local time: the same fields in every time
 * zone, hence the same bytes on every machine (a reproducible artifact and a stable `source_code_hash`).
 */
const fixedModificationTime = (): Date => new Date(1980, 0, 1, 0, 0, 0);
/** APPNOTE 4.4.2: "made by" Unix, so that the external attributes are read as a Unix file mode. */
const ZIP_OS_UNIX = 3;
/** A regular file readable by everyone (Lambda runs the code as another user than the one that unzips). */
const FILE_MODE_READABLE = 0o100644;
const DEFLATE_LEVEL_MAX = 9;

/**
 * A reproducible zip (fflate): entries sorted by name, each deflated at the highest level with a fixed time and
 * a fixed mode, so that the same files give the same bytes whatever their order, the clock or the time zone.
 */
export function zipArchive(files: readonly ZipFile[]): Buffer {
  const names = files.map((file) => file.name);
  if (new Set(names).size !== names.length)
    throw new Error(`a zip cannot hold one name twice: ${names.join(", ")}`);
  const sorted = [...files].sort((left, right) =>
    left.name < right.name ? -1 : left.name > right.name ? 1 : 0,
  );
  const entries: Zippable = {};
  for (const file of sorted) {
    entries[file.name] = [
      file.data,
      {
        level: DEFLATE_LEVEL_MAX,
        mtime: fixedModificationTime(),
        os: ZIP_OS_UNIX,
        attrs: FILE_MODE_READABLE * 0x10000,
      },
    ];
  }
  return Buffer.from(zipSync(entries));
}

export interface LambdaArtifact {
  readonly name: LambdaName;
  readonly zipPath: string;
  readonly zipBytes: number;
  readonly bundleBytes: number;
}

/** Bundles one Lambda and writes `<outDirectory>/<name>.zip`. */
export async function buildLambda(entry: LambdaEntry, outDirectory: string): Promise<LambdaArtifact> {
  const entryPath = join(REPOSITORY_ROOT, entry.entryPath);
  if (!existsSync(entryPath)) {
    throw new MissingEntryError(`the ${entry.name} Lambda has no entry: ${entry.entryPath} does not exist`);
  }
  const result = await esbuild({
    entryPoints: [entryPath],
    absWorkingDir: REPOSITORY_ROOT,
    bundle: true,
    platform: "node",
    format: "esm",
    target: BUNDLE_TARGET,
    // Prefer the ES module builds of dependencies: the AWS SDK tree-shakes far better that way.
    mainFields: ["module", "main"],
    minify: true,
    sourcemap: true,
    // The map only has to turn stack traces into file:line (NODE_OPTIONS=--enable-source-maps in lambda.tf);
    // leaving the sources out keeps the zip small.
    sourcesContent: false,
    banner: { js: REQUIRE_SHIM_BANNER },
    outfile: join(outDirectory, BUNDLE_FILE_NAME),
    write: false,
    logLevel: "warning",
  });
  const bundle = result.outputFiles.find((file) => file.path.endsWith(BUNDLE_FILE_NAME));
  const map = result.outputFiles.find((file) => file.path.endsWith(`${BUNDLE_FILE_NAME}.map`));
  if (bundle === undefined || map === undefined) {
    throw new Error(`esbuild produced no ${BUNDLE_FILE_NAME} and map for ${entry.name}`);
  }
  const zip = zipArchive([
    { name: BUNDLE_FILE_NAME, data: bundle.contents },
    { name: `${BUNDLE_FILE_NAME}.map`, data: map.contents },
  ]);
  await mkdir(outDirectory, { recursive: true });
  const zipPath = join(outDirectory, `${entry.name}.zip`);
  await writeFile(zipPath, zip);
  return { name: entry.name, zipPath, zipBytes: zip.length, bundleBytes: bundle.contents.length };
}

export interface WebArtifact {
  readonly outDirectory: string;
  readonly files: number;
  readonly bytes: number;
}

async function directorySize(directory: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const dirent of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!dirent.isFile()) continue;
    files += 1;
    bytes += (await stat(join(dirent.parentPath, dirent.name))).size;
  }
  return { files, bytes };
}

/** `vite build web`: the UI into web/dist, or undefined when the repository has no web UI (no Vite config) yet. */
export async function buildWeb(): Promise<WebArtifact | undefined> {
  const webRoot = join(REPOSITORY_ROOT, "web");
  if (!existsSync(join(webRoot, "vite.config.ts"))) return undefined;
  // Imported only here so that bundling the Lambdas never loads Vite.
  const { build: viteBuild } = await import("vite");
  await viteBuild({ root: webRoot, logLevel: "warn" });
  const outDirectory = join(webRoot, "dist");
  return { outDirectory, ...(await directorySize(outDirectory)) };
}

function kibibytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

type BuildPart = "lambdas" | "web";

/** Reads `--only lambdas|web` (or `--only=…`); no flag means both. Anything else stops the build, saying why. */
export function partsToBuild(argv: readonly string[]): ReadonlySet<BuildPart> {
  const { values } = parseArgs({ args: [...argv], options: { only: { type: "string" } } });
  if (values.only === undefined) return new Set(["lambdas", "web"]);
  if (values.only !== "lambdas" && values.only !== "web") {
    throw new Error(`--only takes "lambdas" or "web" (got "${values.only}")`);
  }
  return new Set([values.only]);
}

async function main(argv: readonly string[]): Promise<number> {
  const parts = partsToBuild(argv);
  const outDirectory = join(REPOSITORY_ROOT, "dist");
  const missing: string[] = [];
  for (const entry of parts.has("lambdas") ? LAMBDA_ENTRIES : []) {
    try {
      const artifact = await buildLambda(entry, outDirectory);
      console.log(
        `${relative(REPOSITORY_ROOT, artifact.zipPath).padEnd(22)} ${kibibytes(artifact.zipBytes).padStart(10)}` +
          `  (${BUNDLE_FILE_NAME} ${kibibytes(artifact.bundleBytes)})`,
      );
    } catch (error) {
      if (!(error instanceof MissingEntryError)) throw error;
      missing.push(error.message);
    }
  }
  const web = parts.has("web") ? await buildWeb() : undefined;
  if (!parts.has("web")) {
    // --only lambdas: nothing to say about the UI.
  } else if (web === undefined) {
    console.log("web/vite.config.ts does not exist: no web UI built");
  } else {
    console.log(
      `${relative(REPOSITORY_ROOT, web.outDirectory).padEnd(22)} ${kibibytes(web.bytes).padStart(10)}` +
        `  (${web.files} files)`,
    );
  }
  if (missing.length > 0) {
    for (const message of missing) console.error(`build incomplete: ${message}`);
    console.error("infra/ deploys every one of these Lambdas, so this build cannot be deployed yet.");
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    // A failed bundle or UI build: esbuild and Vite have already printed where; say what stopped.
    console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
