// End to end through the real thing: the web UI built by Vite, served with the API by the local runtime
// over DynamoDB Local, driven in a real headless Chromium (Debian's `chromium`, through playwright-core; no
// browser download). It loads the page, sees the number, increments it, sees the value and the new history
// row, follows a change made by another client, runs verify and sees ok, and saves a screenshot as an
// artifact (artifacts/e2e-ui.png). It also runs a system with COUNTER_MAX=3 and sees the page keep to those
// bounds, and stops the system under a click, starts it again, and sees the page settle the click.
// It never skips: where Chromium is missing, every test fails saying how to install it (.ci/run does), since
// the UI is part of what `npm test` promises to check. It runs the system with AUTH=off: what it tests is the
// number, its commands and their retries, not who may use them (signing in is tests/e2e/sign-in.test.ts).

import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../local/system";
import { createTestStore } from "../support/store";
import { LEDGER_ONLY_ENVIRONMENT } from "../../testkit/claims";

const CHROMIUM_PATH = "/usr/bin/chromium";
const CHROMIUM_ARGUMENTS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SCREENSHOT_PATH = resolve("artifacts/e2e-ui.png");
/** The page at 360 px while a click's outcome is unknown and the API is away. */
const UNSETTLED_SCREENSHOT_PATH = resolve("artifacts/e2e-ui-unsettled.png");
/** Long enough for the projector to catch up and a poll to land; short enough to fail a stuck UI quickly. */
const UI_WAIT_MS = 15_000;

const chromiumMissing = !existsSync(CHROMIUM_PATH);

describe("the web UI in a real browser", () => {
  let webRoot = "";
  let browser: Browser | undefined;
  /** Every system a test started and has not stopped yet; afterAll stops what a failed test left. */
  const running = new Set<LocalSystem>();

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), "counter-ledger-web-"));
    // The local runtime serves the UI and the API on one origin, so this build must call its own origin.
    delete process.env.VITE_API_BASE_URL;
    await build({
      configFile: resolve("web/vite.config.ts"),
      build: { outDir: webRoot, emptyOutDir: true },
      logLevel: "warn",
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const system of running) await system.stop();
    if (webRoot !== "") rmSync(webRoot, { recursive: true, force: true });
  });

  async function start(environment: Record<string, string>, port = 0): Promise<LocalSystem> {
    // AUTH=off: anyone may change the number, from the page and from the test's own fetch (see above).
    const system = await startLocalSystem({ environment: { ...environment, AUTH: "off" }, port, webRoot });
    running.add(system);
    return system;
  }

  async function stop(system: LocalSystem): Promise<void> {
    running.delete(system);
    await system.stop();
  }

  /** A fresh page on the UI, with the uncaught errors it throws collected. */
  async function openPage(
    url: string,
    viewport = { width: 1280, height: 900 },
  ): Promise<{ page: Page; pageErrors: string[] }> {
    if (chromiumMissing) {
      throw new Error(
        `The browser test of the web UI needs Chromium at ${CHROMIUM_PATH}, and it is not there: ` +
          "install it with `sudo apt-get install -y chromium` (.ci/run does).",
      );
    }
    browser ??= await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGUMENTS });
    const page = await browser.newPage({ viewport });
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(url);
    await expectText(page, "number-value", "0");
    await expect.poll(() => page.getByText("Live").count(), { timeout: UI_WAIT_MS }).toBe(1);
    return { page, pageErrors };
  }

  function browserTest(name: string, test: () => Promise<void>): void {
    it(name, test, 120_000);
  }

  browserTest("loads, increments, shows history, follows others, verifies", async () => {
    const system = await start((await createTestStore(LEDGER_ONLY_ENVIRONMENT)).environment);
    const url = system.url;
    const { page, pageErrors } = await openPage(url);
    try {
      // One click: one command, the value moves, and the projector's audit entry appears as a row.
      await page.getByRole("button", { name: "Increment" }).click();
      await expectText(page, "number-value", "1");
      await expect
        .poll(() => page.getByTestId("command-status").textContent(), { timeout: UI_WAIT_MS })
        .toContain("Incremented: 0 → 1 (version 1).");
      await expect.poll(() => page.getByTestId("history-row").count(), { timeout: UI_WAIT_MS }).toBe(1);
      expect(await page.getByTestId("history-row").first().textContent()).toContain("0 → 1");

      // A change made by another client shows without a reload.
      const elsewhere = await fetch(`${url}/number`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": "e2e-elsewhere-1" },
        body: JSON.stringify({ action: "increment" }),
      });
      expect(elsewhere.status).toBe(200);
      await expectText(page, "number-value", "2");
      await expect.poll(() => page.getByTestId("history-row").count(), { timeout: UI_WAIT_MS }).toBe(2);
      expect(await page.getByTestId("history-row").first().textContent()).toContain("e2e-elsewhere-1");

      await page.getByRole("button", { name: "Verify the ledger" }).click();
      await expect
        .poll(() => page.getByTestId("verify-result").textContent(), { timeout: UI_WAIT_MS })
        .toContain("Verified: the ledger proves the number.");
      expect(pageErrors).toEqual([]);
    } finally {
      mkdirSync(resolve("artifacts"), { recursive: true });
      await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
      await page.close();
      await stop(system);
    }
  });

  browserTest("keeps to the bounds the API tells: COUNTER_MAX=3, Increment disabled at 3", async () => {
    const system = await start(
      (await createTestStore({ ...LEDGER_ONLY_ENVIRONMENT, COUNTER_MAX: "3" })).environment,
    );
    const { page, pageErrors } = await openPage(system.url);
    try {
      const boundNote = page.locator("#bound-note");
      const increment = page.getByRole("button", { name: "Increment" });
      for (const value of [1, 2, 3]) {
        await increment.click();
        await expect
          .poll(() => page.getByTestId("command-status").textContent(), { timeout: UI_WAIT_MS })
          .toContain(`Incremented: ${value - 1} → ${value} (version ${value}).`);
        await expectText(page, "number-value", String(value));
        if (value === 1) expect(await boundNote.textContent()).toBe("Stays between 0 and 3.");
      }
      await expect.poll(() => increment.isDisabled(), { timeout: UI_WAIT_MS }).toBe(true);
      expect(await boundNote.textContent()).toBe("At the upper bound, 3: it cannot go higher.");
      expect(await page.locator("body").innerText()).not.toContain("1,000,000,000");
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await stop(system);
    }
  });

  for (const { name, reachesTheServer } of [
    {
      name: "settles a click made while the API was stopped, once it is started again",
      reachesTheServer: false,
    },
    {
      name: "settles a click whose answer was lost as the API stopped, applied once",
      reachesTheServer: true,
    },
  ]) {
    browserTest(name, async () => {
      const store = await createTestStore(LEDGER_ONLY_ENVIRONMENT);
      const first = await start(store.environment);
      const port = Number(new URL(first.url).port);
      // At the narrowest width the UI supports, where the longer messages of this case must still fit.
      const { page, pageErrors } = await openPage(first.url, { width: 360, height: 800 });
      let again: LocalSystem | undefined;
      try {
        // The system stops the moment the click's command leaves the page — before it gets there, or after
        // it was applied and before its answer is back — and the click's every retry finds nobody.
        let stopped = false;
        await page.route(
          (url) => url.pathname === "/number",
          async (route) => {
            if (stopped || route.request().method() !== "POST") return route.fallback();
            stopped = true;
            if (reachesTheServer) expect((await route.fetch()).status()).toBe(200);
            await stop(first);
            await (reachesTheServer ? route.abort("connectionreset") : route.continue());
          },
        );
        await page.getByRole("button", { name: "Increment" }).click();
        const status = page.getByTestId("command-status");
        await expect
          .poll(() => status.textContent(), { timeout: 2 * UI_WAIT_MS })
          .toContain("Not confirmed yet");
        await expect
          .poll(() => page.getByTestId("unreachable-banner").count(), { timeout: UI_WAIT_MS })
          .toBe(1);
        expect(await page.getByRole("button", { name: "Increment" }).isDisabled()).toBe(true);
        expect(await page.getByRole("button", { name: "Decrement" }).isDisabled()).toBe(true);
        expect(await page.locator("body").innerText()).not.toMatch(NOT_FOR_PEOPLE);
        if (!reachesTheServer) {
          mkdirSync(resolve("artifacts"), { recursive: true });
          await page.screenshot({ path: UNSETTLED_SCREENSHOT_PATH, fullPage: true });
        }

        again = await start(store.environment, port);
        await expect
          .poll(() => status.textContent(), { timeout: 2 * UI_WAIT_MS })
          .toContain("The increment was applied: 0 → 1 (version 1).");
        await expectText(page, "number-value", "1");
        await expect
          .poll(() => page.getByTestId("unreachable-banner").count(), { timeout: UI_WAIT_MS })
          .toBe(0);
        expect(await page.locator("body").innerText()).not.toMatch(NOT_FOR_PEOPLE);
        // Applied once: one event in the ledger, under the click's one key.
        const number = (await (await fetch(`${again.url}/number`)).json()) as {
          value: number;
          version: number;
        };
        expect(number).toMatchObject({ value: 1, version: 1 });
        expect(pageErrors).toEqual([]);
      } finally {
        await page.close();
        if (again !== undefined) await stop(again);
      }
    });
  }
});

/** What the browser or an exception says, or a name inside the code: never meant for a person. */
const NOT_FOR_PEOPLE = /Failed to fetch|TypeError|aggregateValue|undefined/;

async function expectText(page: Page, testId: string, text: string): Promise<void> {
  await expect.poll(() => page.getByTestId(testId).textContent(), { timeout: UI_WAIT_MS }).toBe(text);
}
