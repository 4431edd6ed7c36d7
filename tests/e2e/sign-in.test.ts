// Signing in from the web UI, end to end: the UI built by Vite, served by the local runtime with AUTH on (the
// default) and its local OpenID Connect issuer, driven in a real headless Chromium (Debian's `chromium`, through
// playwright-core). The browser goes to the issuer's own sign-in page, comes back with a code, and the page
// exchanges it with its PKCE verifier through the real oidc-client-ts — nothing here is faked.
// Like ui.test.ts it never skips: without Chromium every test fails saying how to install it.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalSystem, type LocalSystem } from "../../local/system";
import { createTestStore } from "../support/store";

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
/** The password of every development user of the local issuer (README, "Signing in"). */
const DEVELOPMENT_PASSWORD = "counter-ledger";
const UI_WAIT_MS = 15_000;

describe("signing in from the web UI, through the local issuer, in a real browser", () => {
  let webRoot = "";
  let browser: Browser | undefined;
  let system: LocalSystem | undefined;

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), "counter-ledger-web-"));
    delete process.env.VITE_API_BASE_URL;
    await build({
      configFile: resolve("web/vite.config.ts"),
      build: { outDir: webRoot, emptyOutDir: true },
      logLevel: "warn",
    });
    // AUTH is on by default: stated here so that the test says what it runs against.
    system = await startLocalSystem({
      environment: { ...(await createTestStore()).environment, AUTH: "on" },
      port: 0,
      webRoot,
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    if (webRoot !== "") rmSync(webRoot, { recursive: true, force: true });
  });

  /** A fresh browser context (no issuer cookie) on the UI; collects uncaught errors and the API's bearer tokens. */
  async function openPage(): Promise<{ page: Page; pageErrors: string[]; bearers: Map<string, string[]> }> {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `The browser test of the web UI needs Chromium at ${CHROMIUM_PATH}, and it is not there: ` +
          "install it with `sudo apt-get install -y chromium` (.ci/run does).",
      );
    }
    browser ??= await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGUMENTS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    // What each API request carried, by "METHOD /path": the Authorization header, or "" for none.
    const bearers = new Map<string, string[]>();
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (!url.pathname.startsWith("/number")) return;
      const key = `${request.method()} ${url.pathname}`;
      bearers.set(key, [...(bearers.get(key) ?? []), request.headers()["authorization"] ?? ""]);
    });
    await page.goto(url());
    await expectText(page.getByTestId("number-value"), /^\d/);
    return { page, pageErrors, bearers };
  }

  function url(): string {
    if (system === undefined) throw new Error("the system did not start");
    return system.url;
  }

  /** From the UI's Sign in button through the issuer's sign-in page, and back to the UI signed in. */
  async function signIn(page: Page, user: string): Promise<void> {
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((address) => address.pathname.startsWith("/oidc/"), { timeout: UI_WAIT_MS });
    await page.locator('input[name="username"]').fill(user);
    await page.locator('input[name="password"]').fill(DEVELOPMENT_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((address) => address.href === `${url()}/`, { timeout: UI_WAIT_MS });
    await expectText(page.getByTestId("account-name"), user);
  }

  function browserTest(name: string, test: () => Promise<void>): void {
    it(name, test, 120_000);
  }

  browserTest(
    "signs in as a development user, changes the number, signs out, and the buttons say why they are disabled",
    async () => {
      const { page, pageErrors, bearers } = await openPage();
      try {
        const increment = page.getByRole("button", { name: "Increment" });
        // Signed out: the number is shown, polled without a token; the commands wait for a sign-in.
        await page.getByRole("button", { name: "Sign in" }).waitFor({ timeout: UI_WAIT_MS });
        expect(await increment.isDisabled()).toBe(true);
        expect(await page.getByTestId("access-note").textContent()).toBe("Sign in to change the number.");
        expect(await page.getByRole("heading", { name: "History" }).count()).toBe(0);
        expect(bearers.get("GET /number")?.every((header) => header === "")).toBe(true);

        await signIn(page, "audrey");
        expect(new URL(page.url()).search).toBe("");
        await expect.poll(() => increment.isEnabled(), { timeout: UI_WAIT_MS }).toBe(true);
        const before = Number((await page.getByTestId("number-value").textContent())?.replace(/,/g, ""));
        await increment.click();
        await expect
          .poll(() => page.getByTestId("command-status").textContent(), { timeout: UI_WAIT_MS })
          .toContain(`Incremented: ${before} → ${before + 1}`);
        const [sent] = bearers.get("POST /number") ?? [];
        expect(sent).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
        const accessToken = sent?.slice("Bearer ".length) ?? "";

        // Tokens live in memory only: nothing token-like in localStorage or sessionStorage.
        const stored = await page.evaluate(() =>
          [localStorage, sessionStorage]
            .flatMap((storage) => Object.keys(storage).map((key) => `${key}=${storage.getItem(key)}`))
            .join("\n"),
        );
        expect(stored).not.toContain(accessToken);
        expect(stored).not.toMatch(/eyJ|access_token|id_token|code_verifier/);

        // An auditor sees the History and Verify, and asks for them with the token.
        await page.getByRole("heading", { name: "History" }).waitFor({ timeout: UI_WAIT_MS });
        await page.getByRole("button", { name: "Verify the ledger" }).click();
        await expect
          .poll(() => page.getByTestId("verify-result").textContent(), { timeout: UI_WAIT_MS })
          .toContain("Verified: the ledger proves the number.");
        expect(bearers.get("GET /number/verify")).toEqual([`Bearer ${accessToken}`]);

        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByRole("button", { name: "Sign in" }).waitFor({ timeout: UI_WAIT_MS });
        expect(new URL(page.url()).href).toBe(`${url()}/`);
        expect(await increment.isDisabled()).toBe(true);
        expect(await page.getByTestId("access-note").textContent()).toBe("Sign in to change the number.");
        expect(await page.getByRole("heading", { name: "History" }).count()).toBe(0);
        // The issuer's session ended with it: a reload's silent sign-in finds none.
        await page.reload();
        await page.getByRole("button", { name: "Sign in" }).waitFor({ timeout: UI_WAIT_MS });
        expect(await page.getByTestId("account-name").count()).toBe(0);
        expect(pageErrors).toEqual([]);
      } finally {
        await page.context().close();
      }
    },
  );

  browserTest(
    "keeps the session across a reload by asking the issuer silently, and a reader may only read",
    async () => {
      const { page, pageErrors } = await openPage();
      try {
        await signIn(page, "rita");
        const increment = page.getByRole("button", { name: "Increment" });
        expect(await increment.isDisabled()).toBe(true);
        expect(await page.getByTestId("access-note").textContent()).toBe(
          "Your account may only read the number.",
        );
        expect(await page.getByRole("heading", { name: "History" }).count()).toBe(0);

        // A reload forgets the tokens (they were in memory); the issuer's session signs the page in again.
        await page.reload();
        await expectText(page.getByTestId("account-name"), "rita");
        expect(pageErrors).toEqual([]);
      } finally {
        await page.context().close();
      }
    },
  );

  browserTest("the history names who made the change: the signed-in user", async () => {
    const { page, pageErrors } = await openPage();
    try {
      await signIn(page, "audrey");
      const increment = page.getByRole("button", { name: "Increment" });
      await expect.poll(() => increment.isEnabled(), { timeout: UI_WAIT_MS }).toBe(true);
      const rowsBefore = await page.getByTestId("history-row").count();
      await increment.click();
      await expect
        .poll(() => page.getByTestId("command-status").textContent(), { timeout: UI_WAIT_MS })
        .toContain("Incremented:");
      await expect
        .poll(() => page.getByTestId("history-row").count(), { timeout: UI_WAIT_MS })
        .toBeGreaterThan(rowsBefore);
      await expectText(page.getByTestId("history-actor").first(), "audrey");
      expect(pageErrors).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});

async function expectText(
  locator: { textContent: () => Promise<string | null> },
  expected: string | RegExp,
): Promise<void> {
  const poll = expect.poll(() => locator.textContent(), { timeout: UI_WAIT_MS });
  await (typeof expected === "string" ? poll.toBe(expected) : poll.toMatch(expected));
}
