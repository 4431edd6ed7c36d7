// `npm run build`: the artifacts that infra/ deploys. Each Lambda is bundled by esbuild into one minified ESM
// file with its source map and packed as `dist/<name>.zip` (`index.mjs` + `index.mjs.map`, handler
// `index.handler`); the web UI is built by Vite into `web/dist` when `web/` exists. Each artifact's size is
// printed. `--only lambdas` or `--only web` builds one half: the deploy workflow bundles the Lambdas before
// `terraform apply` and builds the UI after it, with the API's URL in VITE_API_BASE_URL (web/vite.config.ts).
// The zips are byte-for-byte reproducible (fixed timestamps, fixed order), so Terraform's
// `source_code_hash` changes only when the code does. This script never deploys anything.
//
// The AWS SDK is bundled rather than left to the one the nodejs22.x runtime ships: bundling pins the exact
// version that the tests ran against (package-lock.json), and tree-shaking keeps the cost to a few hundred KiB.

import { existsSync } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, deflateRawSync } from "node:zlib";
import { build as esbuild } from "esbuild";

export type LambdaName = "command" | "query" | "projector";

export interface LambdaEntry {
  readonly name: LambdaName;
  /** Entry module, relative to the repository root; it exports `handler`. */
  readonly entryPath: string;
}

/** The three Lambdas that infra/lambda.tf deploys; their zips are named after them. */
export const LAMBDA_ENTRIES: readonly LambdaEntry[] = [
  { name: "command", entryPath: "services/command/handler.ts" },
  { name: "query", entryPath: "services/query/handler.ts" },
  { name: "projector", entryPath: "services/projector/handler.ts" },
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

// MS-DOS date of 1980-01-01 00:00, the earliest a zip can hold: every entry gets it, so the same input gives
// the same bytes (a reproducible artifact and a stable `source_code_hash`).
const DOS_TIME_FIXED = 0;
const DOS_DATE_FIXED = (1 << 5) | 1;
const ZIP_VERSION = 20; // 2.0: deflate, the minimum every unzip understands
const ZIP_METHOD_DEFLATE = 8;
const ZIP_FLAG_UTF8_NAMES = 0x0800;
const UNIX_HOST = 3 << 8; // "made by" Unix, so the external attributes below are read as a file mode
const FILE_MODE_READABLE = 0o100644;

/**
 * A minimal zip writer (APPNOTE 6.3: local headers, deflate, central directory, end record; no zip64, so each
 * file and the archive stay under 4 GiB, which a Lambda zip of at most 50 MiB always does).
 */
export function zipArchive(files: readonly ZipFile[]): Buffer {
  const localParts: Buffer[] = [];
  const centralParts: Buffer[] = [];
  let offsetBytes = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, "utf8");
    const compressed = deflateRawSync(file.data, { level: 9 });
    const checksum = crc32(file.data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(ZIP_VERSION, 4);
    local.writeUInt16LE(ZIP_FLAG_UTF8_NAMES, 6);
    local.writeUInt16LE(ZIP_METHOD_DEFLATE, 8);
    local.writeUInt16LE(DOS_TIME_FIXED, 10);
    local.writeUInt16LE(DOS_DATE_FIXED, 12);
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(UNIX_HOST | ZIP_VERSION, 4);
    central.writeUInt16LE(ZIP_VERSION, 6);
    central.writeUInt16LE(ZIP_FLAG_UTF8_NAMES, 8);
    central.writeUInt16LE(ZIP_METHOD_DEFLATE, 10);
    central.writeUInt16LE(DOS_TIME_FIXED, 12);
    central.writeUInt16LE(DOS_DATE_FIXED, 14);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra field length, comment length, disk number, internal attributes: all 0
    central.writeUInt32LE(FILE_MODE_READABLE * 0x10000, 38);
    central.writeUInt32LE(offsetBytes, 42);

    localParts.push(local, name, compressed);
    centralParts.push(central, name);
    offsetBytes += local.length + name.length + compressed.length;
  }
  const centralDirectory = Buffer.concat(centralParts);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offsetBytes, 16);
  return Buffer.concat([...localParts, centralDirectory, end]);
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

/** Reads `--only lambdas|web`; no flag means both. A bad flag stops the build with what it expects. */
function partsToBuild(argv: readonly string[]): ReadonlySet<BuildPart> {
  const onlyIndex = argv.indexOf("--only");
  if (onlyIndex === -1) return new Set(["lambdas", "web"]);
  const part = argv[onlyIndex + 1];
  if (part !== "lambdas" && part !== "web") {
    throw new Error(`--only takes "lambdas" or "web" (got ${part === undefined ? "nothing" : `"${part}"`})`);
  }
  return new Set([part]);
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
    console.error("infra/ deploys all three Lambdas, so this build cannot be deployed yet.");
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
