// `npm run bench:ui`: what one open page of the web UI costs the API while nobody touches it (issue 13). It
// builds the UI with Vite, starts the local system (AUTH=off) on a fresh in-memory DynamoDB Local, opens the
// page in the system's Chromium (playwright-core, as the e2e tests do), waits until it shows the number, and
// counts the requests the page sends to the API (paths under /number) in three phases: the tab in front for
// a minute, and another, both with the number idle; then the tab hidden for a minute; then how many reads
// follow within half a second of the tab being shown again. Headless Chromium keeps every page visible whatever is in
// front, so "hidden" is set inside the page: `document.visibilityState` made to answer "hidden" and a
// `visibilitychange` event dispatched, which is what a browser does when a tab goes to the background — a
// browser's own throttling of background timers is not part of the figure. It prints figures and never
// asserts them. Options: --seconds N (each phase, default 60); --web-root DIR, a UI already built (`vite build
// web --outDir DIR`, e.g. in a checkout of an older commit, to measure it the same way) instead of this one.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Page } from "playwright-core";
import { build } from "vite";
import "../local/quiet-sdk-notice";
import { ensureTables } from "../local/bootstrap";
import { startDynamoDbLocal } from "../local/dynamodb-local";
import { startLocalSystem } from "../local/system";
import { loadLedgerConfig } from "../services/ledger/config";
import { createDocumentClient } from "../services/ledger/storage/clients";
import { benchEnvironment } from "./environment";

const CHROMIUM_PATH = "/usr/bin/chromium";
const CHROMIUM_ARGUMENTS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];
/** How long after the tab is shown again the reads it makes are counted: the one at once, and no more. */
const SHOWN_AGAIN_WINDOW_MS = 500;

/** The API requests the page made, as "METHOD /path" without the query, in order. */
type RequestLog = string[];

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "60" }, "web-root": { type: "string" } },
});
const phaseMs = Number(values.seconds) * 1000;
if (!(phaseMs > 0)) {
  process.stderr.write("usage: npm run bench:ui -- [--seconds N] [--web-root DIR]\n");
  process.exit(2);
}

/** Builds the UI as the local runtime serves it: calling its own origin. */
async function buildWeb(): Promise<string> {
  const webRoot = mkdtempSync(join(tmpdir(), "counter-ledger-bench-ui-"));
  delete process.env.VITE_API_BASE_URL;
  await build({
    configFile: resolve("web/vite.config.ts"),
    build: { outDir: webRoot, emptyOutDir: true },
    logLevel: "warn",
  });
  return webRoot;
}

async function startSystem(endpoint: string, webRoot: string) {
  const environment = benchEnvironment(endpoint, "bench-ui");
  const config = loadLedgerConfig(environment);
  const client = createDocumentClient(config);
  await ensureTables(client, config.tables, config.counterId, config.bounds);
  client.destroy();
  return startLocalSystem({ environment, port: 0, webRoot, dataDirectory: environment.DATA_DIR });
}

/**
 * What the browser tells a page whose tab goes to the background, or comes back to the front. A script in
 * words, not a function: tsx would wrap a function's inner functions in a helper the page does not have.
 */
async function setTabHidden(page: Page, hidden: boolean): Promise<void> {
  const state = hidden ? "hidden" : "visible";
  await page.evaluate(`
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "${state}" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => ${hidden} });
    document.dispatchEvent(new Event("visibilitychange"));
  `);
}

/** The requests logged while `during` runs. */
async function countDuring(log: RequestLog, during: () => Promise<void>): Promise<RequestLog> {
  const from = log.length;
  await during();
  return log.slice(from);
}

const sleep = (milliseconds: number) =>
  new Promise<void>((resolveSleep) => setTimeout(resolveSleep, milliseconds));

async function measure(url: string) {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGUMENTS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const log: RequestLog = [];
    page.on("request", (request) => {
      const path = new URL(request.url()).pathname;
      if (path === "/number" || path.startsWith("/number/")) log.push(`${request.method()} ${path}`);
    });
    await page.goto(url);
    await page.getByText("Live").waitFor({ timeout: 30_000 });
    await sleep(1_000); // the first read and the history's first page are the page's loading, not its idling
    const firstMinute = await countDuring(log, () => sleep(phaseMs));
    const secondMinute = await countDuring(log, () => sleep(phaseMs));
    await setTabHidden(page, true);
    const hidden = await countDuring(log, () => sleep(phaseMs));
    const shownAgain = await countDuring(log, async () => {
      await setTabHidden(page, false);
      await sleep(SHOWN_AGAIN_WINDOW_MS);
    });
    return { firstMinute, secondMinute, hidden, shownAgain };
  } finally {
    await browser.close();
  }
}

function describeRequests(requests: RequestLog): string {
  const byRoute = new Map<string, number>();
  for (const request of requests) byRoute.set(request, (byRoute.get(request) ?? 0) + 1);
  return [...byRoute].map(([route, count]) => `${count} × ${route}`).join(", ") || "none";
}

function report(phases: Awaited<ReturnType<typeof measure>>): void {
  const perMinute = (requests: RequestLog) => ((requests.length * 60_000) / phaseMs).toFixed(1);
  const rows = [
    ["visible, idle, first period", phases.firstMinute],
    ["visible, idle, second period", phases.secondMinute],
    ["hidden", phases.hidden],
  ] as const;
  process.stdout.write(`API requests of one open page, each period ${phaseMs / 1000} s:\n`);
  for (const [name, requests] of rows) {
    process.stdout.write(`  ${name}: ${perMinute(requests)} per minute (${describeRequests(requests)})\n`);
  }
  process.stdout.write(
    `  shown again: ${phases.shownAgain.length} within ${SHOWN_AGAIN_WINDOW_MS / 1000} s (${describeRequests(phases.shownAgain)})\n`,
  );
}

const builtElsewhere = values["web-root"];
const webRoot = builtElsewhere === undefined ? await buildWeb() : resolve(builtElsewhere);
const dynamoDb = await startDynamoDbLocal();
try {
  const system = await startSystem(dynamoDb.endpoint, webRoot);
  try {
    report(await measure(system.url));
  } finally {
    await system.stop();
  }
} finally {
  await dynamoDb.stop();
  if (builtElsewhere === undefined) rmSync(webRoot, { recursive: true, force: true });
}
