// The whole page against a fake API (fake-api.ts): each state a person can see — loading, unreachable,
// pending, applied, refused, at a bound, history and its chart, verify — and the retries behind a click,
// which must reuse the click's one key and never apply it twice — and, with identity (issue 11), what a person
// signed out, a reader, a writer and an auditor each see, the token each request carries, and a session that
// ends. These tests run the page with AUTH=off unless they say otherwise: the default `auth` of <App>.

import "@testing-library/jest-dom/vitest";
import { act, cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { createCounterApi } from "../../../web/src/api";
import { App } from "../../../web/src/app";
import { authUnavailable, type Auth } from "../../../web/src/auth";
import type { CommandOptions } from "../../../web/src/command";
import { FakeCounterApi, type FakeCaller } from "./fake-api";
import { AUDITOR, FAKE_SESSION_ENDED, FakeAuth, READER, WRITER } from "./fake-auth";

/**
 * Polls every 40 ms instead of every second, backing off to 160 ms instead of 15 s, so a test follows changes
 * in well under waitFor's second. The policy's own numbers are pinned in polling.test.tsx.
 */
const TEST_POLL_POLICY = {
  intervalMs: 40,
  quietReadsBeforeBackoff: 5,
  intervalMaxMs: 160,
  retryAfterMsMax: 160,
};
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

afterEach(cleanup);

/** Backoff of the settling that goes on after a click's own retries: real timers, kept short for tests. */
const TEST_SETTLE_POLICY = { backoffBaseMs: 20, backoffCapMs: 40, retryAfterMsMax: 40 };

function renderApp(
  fake: FakeCounterApi = new FakeCounterApi(),
  fetch: typeof globalThis.fetch = fake.fetch,
  auth?: Auth,
) {
  const delaysMs: number[] = [];
  const commandOptions: CommandOptions = {
    // Backoff is recorded, not waited for: the policy's numbers are pinned in retry.test.ts.
    sleep: (milliseconds) => {
      delaysMs.push(milliseconds);
      return Promise.resolve();
    },
    random: () => 1,
    settlePolicy: TEST_SETTLE_POLICY,
  };
  const user = userEvent.setup();
  render(
    <App
      api={createCounterApi({ baseUrl: "", fetch, ...(auth === undefined ? {} : { credentials: auth }) })}
      {...(auth === undefined ? {} : { auth })}
      pollPolicy={TEST_POLL_POLICY}
      commandOptions={commandOptions}
    />,
  );
  return { fake, user, delaysMs };
}

/**
 * A network that goes down with the first POST /number: the command reaches the counter first (the answer
 * is lost) or not at all (the request is lost), and from then on nothing answers until the test says so
 * with `fake.unreachable = false`: the server stopped, then started again.
 */
function downOnFirstCommand(fake: FakeCounterApi, reachesTheCounter: boolean): typeof globalThis.fetch {
  let down = false;
  return async (input, init) => {
    if (!down && init?.method === "POST") {
      down = true;
      if (reachesTheCounter) await fake.fetch(input, init);
      fake.unreachable = true;
      throw new TypeError("Failed to fetch");
    }
    return fake.fetch(input, init);
  };
}

const numberShown = () => screen.getByTestId("number-value");
const incrementButton = () => screen.getByRole("button", { name: "Increment" });
const decrementButton = () => screen.getByRole("button", { name: "Decrement" });
const commandStatus = () => screen.getByTestId("command-status");
const historyRows = () => screen.queryAllByTestId("history-row");
const verifyButton = () => screen.getByRole("button", { name: "Verify the ledger" });
/** What an exception or the browser says: never meant for a person, never on screen. */
const NOT_FOR_PEOPLE = /Failed to fetch|TypeError|aggregateValue|undefined|\[object/;

async function seeNumber(text: string): Promise<void> {
  await waitFor(() => expect(numberShown()).toHaveTextContent(text));
}

describe("the number", () => {
  it("shows a placeholder and disabled buttons while the first read is on its way", async () => {
    const fake = new FakeCounterApi();
    fake.value = 42;
    fake.version = 42;
    fake.hold(/^\/number$/);
    renderApp(fake);
    expect(within(numberShown()).getByLabelText("Loading")).toBeInTheDocument();
    expect(incrementButton()).toBeDisabled();
    expect(decrementButton()).toBeDisabled();
    fake.release();
    await seeNumber("42");
    expect(screen.getByTestId("number-version")).toHaveTextContent("42");
    expect(incrementButton()).toBeEnabled();
  });

  it("says clearly when the API cannot be reached, and recovers by itself when it answers again", async () => {
    const fake = new FakeCounterApi();
    fake.unreachable = true;
    renderApp(fake);
    const banner = await screen.findByTestId("unreachable-banner");
    expect(banner).toHaveTextContent("The API cannot be reached.");
    expect(banner.closest("[role=alert]")).not.toBeNull();
    expect(screen.getByText("Offline")).toBeInTheDocument();
    expect(document.body.textContent).not.toMatch(NOT_FOR_PEOPLE);
    expect(incrementButton()).toBeDisabled();
    expect(incrementButton()).toHaveAccessibleDescription(
      "Paused while the API cannot be reached: the number cannot change from this page until it answers.",
    );
    fake.unreachable = false;
    await seeNumber("0");
    await waitFor(() => expect(screen.queryByTestId("unreachable-banner")).toBeNull());
    expect(screen.getByText("Live")).toBeInTheDocument();
    expect(incrementButton()).toBeEnabled();
  });

  it("follows a change made elsewhere within a poll, asking with If-None-Match in between", async () => {
    const { fake } = renderApp();
    await seeNumber("0");
    await waitFor(() =>
      expect(fake.requests.some((request) => request.headers.get("If-None-Match") === '"0"')).toBe(true),
    );
    fake.applyElsewhere("increment");
    fake.applyElsewhere("increment");
    await seeNumber("2");
    await waitFor(() => expect(historyRows()).toHaveLength(2));
  });
});

describe("increment and decrement", () => {
  it("a click sends one POST with a fresh UUID key, and shows the new value and a new history row", async () => {
    const { fake, user } = renderApp();
    await seeNumber("0");
    await user.click(incrementButton());
    await seeNumber("1");
    const posts = fake.commandRequests();
    expect(posts).toHaveLength(1);
    expect(posts[0]?.headers.get("Idempotency-Key")).toMatch(UUID_PATTERN);
    expect(commandStatus()).toHaveTextContent("Incremented: 0 → 1 (version 1).");
    await waitFor(() => expect(historyRows()).toHaveLength(1));
    expect(historyRows()[0]).toHaveTextContent(posts[0]?.headers.get("Idempotency-Key") ?? "missing");
  });

  it("two clicks are two commands with two different keys", async () => {
    const { fake, user } = renderApp();
    await seeNumber("0");
    await user.click(incrementButton());
    await seeNumber("1");
    await user.click(incrementButton());
    await seeNumber("2");
    const keys = fake.commandRequests().map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it("I4: a dropped answer is retried with the same key and backoff, and applied once", async () => {
    const { fake, user, delaysMs } = renderApp();
    await seeNumber("0");
    fake.commandFaults.push({ kind: "lostAnswer" }, { kind: "lostRequest" });
    await user.click(incrementButton());
    await waitFor(() => expect(commandStatus()).toHaveTextContent("Incremented: 0 → 1"));
    const keys = fake.commandRequests().map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(delaysMs).toEqual([250, 500]);
    expect(fake.events).toHaveLength(1);
    expect(commandStatus()).toHaveTextContent("applied only once");
    await seeNumber("1");
  });

  it("503 and 429 are retried with the same key after their Retry-After, never with a second key", async () => {
    const { fake, user, delaysMs } = renderApp();
    await seeNumber("0");
    fake.commandFaults.push(
      { kind: "status", status: 503, retryAfterSeconds: 1 },
      { kind: "status", status: 429, retryAfterSeconds: 1 },
    );
    await user.click(incrementButton());
    await seeNumber("1");
    const keys = fake.commandRequests().map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(delaysMs).toEqual([1000, 1000]);
    expect(fake.value).toBe(1);
  });

  it("a 429 whose Retry-After is longer than a click waits (WAF's minute) is sent again only after it, same key", async () => {
    const { fake, user, delaysMs } = renderApp();
    await seeNumber("0");
    fake.commandFaults.push({ kind: "status", status: 429, retryAfterSeconds: 60 });
    await user.click(incrementButton());
    // Not retried within the click, and no lookup either: the page says it is not confirmed yet.
    await waitFor(() => expect(commandStatus()).toHaveTextContent("Not confirmed yet"));
    expect(delaysMs).toEqual([]);
    // Then settled in the background after the Retry-After (cut to TEST_SETTLE_POLICY's 40 ms here; a minute
    // with the real policy), under the click's own key, and applied once.
    await waitFor(() =>
      expect(commandStatus()).toHaveTextContent("The increment was applied: 0 → 1 (version 1)."),
    );
    const keys = fake.commandRequests().map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(1);
    expect(fake.events).toHaveLength(1);
    await seeNumber("1");
  });

  it("shows a pending state while the command is on its way, and ignores further clicks meanwhile", async () => {
    const { fake, user } = renderApp();
    await seeNumber("0");
    fake.hold(/^\/number$/);
    await user.click(incrementButton());
    await waitFor(() => expect(commandStatus()).toHaveTextContent("Incrementing…"));
    expect(incrementButton()).toHaveAttribute("aria-disabled", "true");
    expect(screen.getByRole("region", { name: "The number" })).toHaveAttribute("aria-busy", "true");
    await user.click(incrementButton());
    await user.click(decrementButton());
    fake.release();
    await waitFor(() => expect(commandStatus()).toHaveTextContent("Incremented: 0 → 1"));
    expect(fake.commandRequests()).toHaveLength(1);
    expect(incrementButton()).not.toHaveAttribute("aria-disabled");
  });

  it("disables decrement at 0 and increment at 1 000 000 000, and says why", async () => {
    const fake = new FakeCounterApi();
    const { user } = renderApp(fake);
    await seeNumber("0");
    expect(decrementButton()).toBeDisabled();
    expect(decrementButton()).toHaveAccessibleDescription("At the lower bound, 0: it cannot go lower.");
    expect(incrementButton()).toBeEnabled();
    await user.click(decrementButton());
    expect(fake.commandRequests()).toHaveLength(0);

    fake.value = 1_000_000_000;
    fake.version = 7;
    await seeNumber("1,000,000,000");
    expect(incrementButton()).toBeDisabled();
    expect(incrementButton()).toHaveAccessibleDescription(
      "At the upper bound, 1,000,000,000: it cannot go higher.",
    );
    expect(decrementButton()).toBeEnabled();
  });

  it("shows a refusal in the plain words of the problem's detail", async () => {
    const fake = new FakeCounterApi();
    fake.value = 1;
    fake.version = 1;
    const { user } = renderApp(fake);
    await seeNumber("1");
    // Someone else took it to 0 a moment ago, and this page has not seen it yet.
    fake.value = 0;
    await user.click(decrementButton());
    await waitFor(() =>
      expect(commandStatus()).toHaveTextContent("Not decremented: The number is 0 and cannot go past 0."),
    );
    expect(fake.commandRequests()).toHaveLength(1);
  });
});

describe("the bounds the API tells (COUNTER_MIN, COUNTER_MAX)", () => {
  it("says them and disables Increment at the configured maximum, so no click earns a 409", async () => {
    const fake = new FakeCounterApi();
    fake.bounds = { min: 0, max: 3 };
    fake.applyElsewhere("increment");
    fake.applyElsewhere("increment");
    const { user } = renderApp(fake);
    await seeNumber("2");
    expect(screen.getByText("Stays between 0 and 3.")).toBeInTheDocument();
    expect(incrementButton()).toBeEnabled();
    await user.click(incrementButton());
    await seeNumber("3");
    expect(incrementButton()).toBeDisabled();
    expect(incrementButton()).toHaveAccessibleDescription("At the upper bound, 3: it cannot go higher.");
    await user.click(incrementButton());
    expect(fake.commandRequests()).toHaveLength(1);
    expect(commandStatus()).not.toHaveTextContent("Not incremented");
    expect(document.body).not.toHaveTextContent("1,000,000,000");
  });

  it("disables Decrement at a minimum above 0", async () => {
    const fake = new FakeCounterApi();
    fake.bounds = { min: 5, max: 10 };
    fake.value = 5;
    fake.version = 5;
    renderApp(fake);
    await seeNumber("5");
    expect(decrementButton()).toBeDisabled();
    expect(decrementButton()).toHaveAccessibleDescription("At the lower bound, 5: it cannot go lower.");
    expect(incrementButton()).toBeEnabled();
  });
});

describe("a command whose answer is lost while the API is down", () => {
  async function clickIncrementAsTheApiGoesDown(fake: FakeCounterApi, reachesTheCounter: boolean) {
    const { user } = renderApp(fake, downOnFirstCommand(fake, reachesTheCounter));
    await seeNumber(String(fake.value));
    await user.click(incrementButton());
    await waitFor(() => expect(commandStatus()).toHaveTextContent("Not confirmed yet"));
    await screen.findByTestId("unreachable-banner");
    // The API cannot be reached: nothing can be sent, so nothing invites a click.
    await waitFor(() => expect(incrementButton()).toBeDisabled());
    expect(decrementButton()).toBeDisabled();
    expect(verifyButton()).toBeDisabled();
    expect(commandStatus()).toHaveTextContent(
      "Not confirmed yet: the API did not answer. The increment is applied once or not at all, never twice;",
    );
    expect(document.body.textContent).not.toMatch(NOT_FOR_PEOPLE);
  }

  function keysSent(fake: FakeCounterApi): Set<string | null> {
    return new Set(fake.commandRequests().map((request) => request.headers.get("Idempotency-Key")));
  }

  it("applied before the answer was lost: once the API is back, it asks for the event and says applied", async () => {
    const fake = new FakeCounterApi();
    await clickIncrementAsTheApiGoesDown(fake, true);
    const [key] = [...keysSent(fake)];
    fake.unreachable = false;
    await waitFor(() =>
      expect(commandStatus()).toHaveTextContent(
        "The increment was applied: 0 → 1 (version 1). Its answer had been lost; the API has confirmed it.",
      ),
    );
    await seeNumber("1");
    expect(fake.events).toHaveLength(1);
    expect(keysSent(fake).size).toBe(1);
    const lookups = fake.requests.filter((request) => request.path === `/number/events/${key}`);
    expect(lookups.length).toBeGreaterThan(0);
    await waitFor(() => expect(incrementButton()).toBeEnabled());
    expect(incrementButton()).not.toHaveAttribute("aria-disabled");
    expect(document.body.textContent).not.toMatch(NOT_FOR_PEOPLE);
  });

  it("never reached the counter: once the API is back, it resends under the same key and says applied", async () => {
    const fake = new FakeCounterApi();
    await clickIncrementAsTheApiGoesDown(fake, false);
    expect(fake.events).toHaveLength(0);
    fake.unreachable = false;
    await waitFor(() =>
      expect(commandStatus()).toHaveTextContent("The increment was applied: 0 → 1 (version 1)."),
    );
    expect(fake.events).toHaveLength(1);
    expect(keysSent(fake).size).toBe(1);
    await seeNumber("1");
  });

  it("says not applied, in the API's words, when the resend is refused: the bound was reached meanwhile", async () => {
    const fake = new FakeCounterApi();
    fake.bounds = { min: 0, max: 1 };
    await clickIncrementAsTheApiGoesDown(fake, false);
    fake.applyElsewhere("increment");
    fake.unreachable = false;
    await waitFor(() =>
      expect(commandStatus()).toHaveTextContent(
        "The increment was not applied: The number is 1 and cannot go past 1. Nothing was changed.",
      ),
    );
    expect(fake.events.map((event) => event.id)).toEqual(["elsewhere-1"]);
    await seeNumber("1");
  });

  it("a new click waits until the pending one is settled: one key at a time", async () => {
    const fake = new FakeCounterApi();
    await clickIncrementAsTheApiGoesDown(fake, false);
    const user = userEvent.setup();
    await user.click(incrementButton());
    await user.click(decrementButton());
    expect(keysSent(fake).size).toBe(1);
  });
});

describe("history", () => {
  function fakeWithEvents(count: number): FakeCounterApi {
    const fake = new FakeCounterApi();
    for (let index = 0; index < count; index += 1)
      fake.applyElsewhere(index % 4 === 3 ? "decrement" : "increment");
    return fake;
  }

  it("shows the audit trail newest first with version, time, action, before → after, actor and key", async () => {
    const fake = fakeWithEvents(3);
    fake.applyElsewhere("increment", "by-audrey", AUDITOR);
    renderApp(fake);
    await waitFor(() => expect(historyRows()).toHaveLength(4));
    const cells = within(historyRows()[0]!).getAllByRole("cell");
    expect(cells.map((cell) => cell.textContent)).toEqual([
      "4",
      expect.any(String),
      "+1 increment",
      "3 → 4",
      "audrey",
      "by-audrey",
    ]);
    // An event recorded without a signed-in user names nobody.
    expect(within(historyRows()[1]!).getByTestId("history-actor")).toHaveTextContent("—");
    expect(within(cells[1]!).getByText(/./, { selector: "time" })).toHaveAttribute(
      "datetime",
      "2025-03-01T12:00:04.000Z",
    );
    expect(screen.getByText("Audit trail up to version 4")).toBeInTheDocument();
  });

  it("pages with the API's cursor, older and back to newer", async () => {
    const { user, fake } = renderApp(fakeWithEvents(12));
    await waitFor(() => expect(historyRows()).toHaveLength(10));
    expect(screen.getByRole("button", { name: "← Newer" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "Older →" }));
    await waitFor(() => expect(historyRows()).toHaveLength(2));
    expect(fake.requests.some((request) => request.path.includes("cursor=3"))).toBe(true);
    expect(historyRows()[0]).toHaveTextContent(/^2/);
    expect(screen.getByRole("button", { name: "Older →" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "← Newer" }));
    await waitFor(() => expect(historyRows()).toHaveLength(10));
    expect(historyRows()[0]).toHaveTextContent(/^12/);
  });

  it("draws the value after each event shown as a line chart, described in words", async () => {
    renderApp(fakeWithEvents(5));
    const chart = await screen.findByRole("img", { name: /^Value from/ });
    expect(chart).toHaveAccessibleName("Value from 1 at version 1 to 3 at version 5, between 1 and 3.");
    expect(chart.querySelector("polyline")?.getAttribute("points")?.split(" ")).toHaveLength(5);
  });

  it("says so when the projector is behind the number, and shows the event once it catches up", async () => {
    const fake = fakeWithEvents(2);
    fake.projectedVersionLimit = 1;
    renderApp(fake);
    await screen.findByText("Audit trail catching up: version 1 of 2");
    expect(historyRows()).toHaveLength(1);
    fake.projectedVersionLimit = null;
    await waitFor(() => expect(historyRows()).toHaveLength(2));
    expect(screen.getByText("Audit trail up to version 2")).toBeInTheDocument();
  });

  it("says plainly when the history cannot be loaded, never the browser's words", async () => {
    const fake = new FakeCounterApi();
    fake.hold(/^\/number\/history$/);
    renderApp(fake);
    await seeNumber("0");
    fake.unreachable = true;
    fake.release();
    await screen.findByText("The history could not be loaded: the API did not answer.");
    expect(document.body.textContent).not.toMatch(NOT_FOR_PEOPLE);
  });

  it("invites the first event when there is none yet", async () => {
    renderApp();
    await screen.findByText("No events yet. Increment the number to write the first.");
  });
});

describe("verify", () => {
  it("shows ok with the totals of the replay", async () => {
    const fake = new FakeCounterApi();
    fake.applyElsewhere("increment");
    fake.applyElsewhere("increment");
    fake.applyElsewhere("decrement");
    const { user } = renderApp(fake);
    await user.click(screen.getByRole("button", { name: "Verify the ledger" }));
    const result = screen.getByTestId("verify-result");
    await waitFor(() => expect(result).toHaveTextContent("Verified: the ledger proves the number."));
    const totals = within(result)
      .getAllByRole("definition")
      .map((total) => total.textContent);
    expect(totals).toEqual(["3", "1", "1 at version 3", "1 at version 3", "3 ms"]);
  });

  it("tells a projector that is merely behind apart from a fault: lag, with ok still true", async () => {
    const fake = new FakeCounterApi();
    fake.verificationReport = {
      ok: true,
      events: 5,
      ledgerSum: 5,
      aggregate: { value: 5, version: 5 },
      readModel: { value: 3, version: 3 },
      lag: { versions: 2, auditEntries: 2 },
      problems: [],
      durationMs: 4,
    };
    const { user } = renderApp(fake);
    await user.click(screen.getByRole("button", { name: "Verify the ledger" }));
    const result = screen.getByTestId("verify-result");
    await waitFor(() => expect(result).toHaveTextContent("Verified: the ledger proves the number."));
    expect(result).toHaveTextContent("The audit trail is 2 versions behind the ledger");
  });

  it("lists each problem with its version when the ledger does not prove the number", async () => {
    const fake = new FakeCounterApi();
    fake.verificationReport = {
      ok: false,
      events: 4,
      ledgerSum: 2,
      aggregate: { value: 3, version: 4 },
      readModel: { value: 2, version: 4 },
      problems: [
        { kind: "aggregateValue", detail: "The ledger adds up to 2 but the number is 3." },
        { kind: "versionGap", version: 3, detail: "Version 3 is missing from the ledger." },
      ],
      durationMs: 5,
    };
    const { user } = renderApp(fake);
    await user.click(screen.getByRole("button", { name: "Verify the ledger" }));
    const problems = await screen.findByRole("list", { name: "Problems" });
    expect(screen.getByTestId("verify-result")).toHaveTextContent("Not verified: 2 problems found.");
    expect(
      within(problems)
        .getAllByRole("listitem")
        .map((item) => item.textContent),
    ).toEqual([
      "The ledger adds up to 2 but the number is 3.",
      "At version 3: Version 3 is missing from the ledger.",
    ]);
    expect(document.body.textContent).not.toMatch(/aggregateValue|versionGap/);
  });

  it("says plainly when the verification itself could not run, never the browser's words", async () => {
    const fake = new FakeCounterApi();
    const { user } = renderApp(fake);
    await seeNumber("0");
    fake.hold(/^\/number\/verify$/);
    await user.click(verifyButton());
    fake.unreachable = true;
    fake.release();
    await waitFor(() =>
      expect(screen.getByTestId("verify-result")).toHaveTextContent(
        "Could not verify: the API did not answer.",
      ),
    );
    expect(document.body.textContent).not.toMatch(NOT_FOR_PEOPLE);
  });

  it("is disabled while the API cannot be reached", async () => {
    const fake = new FakeCounterApi();
    fake.unreachable = true;
    renderApp(fake);
    await screen.findByTestId("unreachable-banner");
    expect(verifyButton()).toBeDisabled();
    fake.unreachable = false;
    await waitFor(() => expect(verifyButton()).toBeEnabled());
  });
});

describe("signing in (AUTH on)", () => {
  /** The API of AUTH=on with PUBLIC_READ (the defaults), and the page's sign-in, signed out. */
  function signedOutPage() {
    const fake = new FakeCounterApi();
    fake.requireTokens = true;
    fake.uiConfig = {
      auth: { authority: "http://issuer.test/oidc", clientId: "counter-ledger-web", scope: "openid" },
    };
    const auth = new FakeAuth(fake);
    const rendered = renderApp(fake, fake.fetch, auth);
    return { ...rendered, auth };
  }

  /** Signs the fake in as `caller`, inside act() since it changes what the page shows; returns the token. */
  function signInAs(auth: FakeAuth, caller: FakeCaller): string {
    let token = "";
    act(() => {
      token = auth.signInAs(caller);
    });
    return token;
  }

  const bearerOf = (request: { headers: Headers } | undefined) => request?.headers.get("Authorization");
  const pathsAsked = (fake: FakeCounterApi) =>
    new Set(fake.requests.map((request) => request.path.split("?")[0]));

  it("AUTH=off shows no sign-in at all, and offers everything", async () => {
    renderApp();
    await seeNumber("0");
    expect(screen.queryByRole("button", { name: "Sign in" })).not.toBeInTheDocument();
    expect(screen.queryByTestId("account")).not.toBeInTheDocument();
    expect(incrementButton()).toBeEnabled();
    expect(verifyButton()).toBeEnabled();
    expect(screen.getByRole("heading", { name: "History" })).toBeInTheDocument();
  });

  it("without its settings (config.json unreadable) the page offers no sign-in, says why, and still shows the number", async () => {
    const fake = new FakeCounterApi();
    const reason = "Signing in is unavailable: this page's settings (config.json) could not be read.";
    renderApp(fake, fake.fetch, authUnavailable(reason));
    await seeNumber("0");
    expect(screen.getByTestId("account")).toHaveTextContent(reason);
    expect(screen.queryByRole("button", { name: "Sign in" })).not.toBeInTheDocument();
    expect(incrementButton()).toBeDisabled();
    expect(incrementButton()).toHaveAccessibleDescription(reason);
    expect(screen.queryByRole("heading", { name: "History" })).not.toBeInTheDocument();
  });

  it("signed out: the number is followed without a token; the commands are disabled and say why", async () => {
    const { fake, auth, user } = signedOutPage();
    await seeNumber("0");
    fake.applyElsewhere("increment", "by-alice", WRITER);
    await seeNumber("1");
    expect(fake.requests.filter((request) => request.path === "/number").every((r) => !bearerOf(r))).toBe(
      true,
    );
    expect(incrementButton()).toBeDisabled();
    expect(decrementButton()).toBeDisabled();
    expect(incrementButton()).toHaveAccessibleDescription("Sign in to change the number.");
    expect(screen.getByTestId("access-note")).toHaveTextContent("Sign in to change the number.");
    // History and Verify need counter:audit: not shown, and never asked for.
    expect(screen.queryByRole("heading", { name: "History" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Verify the ledger" })).not.toBeInTheDocument();
    expect(pathsAsked(fake)).toEqual(new Set(["/number"]));

    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(auth.signInRequests).toBe(1);
  });

  it("a writer is named, may change the number with their token on every call, and sees no history", async () => {
    const { fake, auth, user } = signedOutPage();
    await seeNumber("0");
    const token = signInAs(auth, WRITER);
    expect(await screen.findByTestId("account-name")).toHaveTextContent("alice");
    await waitFor(() => expect(incrementButton()).toBeEnabled());
    expect(screen.queryByTestId("access-note")).not.toBeInTheDocument();
    await user.click(incrementButton());
    await waitFor(() => expect(commandStatus()).toHaveTextContent("Incremented: 0 → 1 (version 1)."));
    expect(bearerOf(fake.commandRequests()[0])).toBe(`Bearer ${token}`);
    expect(fake.events[0]?.actor).toEqual({ sub: WRITER.sub, name: "alice" });
    await waitFor(() => expect(bearerOf(fake.requests.at(-1))).toBe(`Bearer ${token}`));
    expect(screen.queryByRole("heading", { name: "History" })).not.toBeInTheDocument();
    expect(pathsAsked(fake).has("/number/history")).toBe(false);

    await user.click(screen.getByRole("button", { name: "Sign out" }));
    await screen.findByRole("button", { name: "Sign in" });
    expect(incrementButton()).toBeDisabled();
    expect(incrementButton()).toHaveAccessibleDescription("Sign in to change the number.");
  });

  it("an account without counter:write may only read: the commands are disabled and say so", async () => {
    const { auth } = signedOutPage();
    await seeNumber("0");
    signInAs(auth, READER);
    expect(await screen.findByTestId("account-name")).toHaveTextContent("rita");
    expect(incrementButton()).toBeDisabled();
    expect(incrementButton()).toHaveAccessibleDescription("Your account may only read the number.");
  });

  it("an auditor sees the history with who made each change, and Verify", async () => {
    const { fake, auth, user } = signedOutPage();
    fake.applyElsewhere("increment", "by-alice", WRITER);
    await seeNumber("1");
    const token = signInAs(auth, AUDITOR);
    await user.click(await screen.findByRole("button", { name: "Increment" }));
    await waitFor(() => expect(historyRows()).toHaveLength(2));
    const actors = screen.getAllByTestId("history-actor").map((cell) => cell.textContent);
    expect(actors).toEqual(["audrey", "alice"]);
    await user.click(verifyButton());
    await waitFor(() =>
      expect(screen.getByTestId("verify-result")).toHaveTextContent(
        "Verified: the ledger proves the number.",
      ),
    );
    const verify = fake.requests.find((request) => request.path === "/number/verify");
    expect(bearerOf(verify)).toBe(`Bearer ${token}`);
  });

  it("a 401 renews the session once, silently: the next click goes through with the new token", async () => {
    const { fake, auth, user } = signedOutPage();
    await seeNumber("0");
    const first = signInAs(auth, WRITER);
    await waitFor(() => expect(incrementButton()).toBeEnabled());
    fake.revokeToken(first);
    await user.click(incrementButton());
    await waitFor(() =>
      expect(commandStatus()).toHaveTextContent("Not incremented: Your sign-in has expired or was refused."),
    );
    expect(fake.events).toHaveLength(0);
    const renewed = auth.accessToken();
    expect(renewed).not.toBeNull();
    expect(renewed).not.toBe(first);
    expect(screen.getByTestId("account-name")).toHaveTextContent("alice");
    await user.click(incrementButton());
    await waitFor(() => expect(commandStatus()).toHaveTextContent("Incremented: 0 → 1 (version 1)."));
    expect(bearerOf(fake.commandRequests().at(-1))).toBe(`Bearer ${renewed}`);
  });

  it("a 401 whose renewal fails signs the page out and says so plainly", async () => {
    const { fake, auth, user } = signedOutPage();
    await seeNumber("0");
    const token = signInAs(auth, WRITER);
    await waitFor(() => expect(incrementButton()).toBeEnabled());
    auth.issuerSessionAlive = false;
    fake.revokeToken(token);
    await user.click(incrementButton());
    expect(await screen.findByText(FAKE_SESSION_ENDED)).toHaveAttribute("role", "alert");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeInTheDocument();
    expect(incrementButton()).toBeDisabled();
    expect(incrementButton()).toHaveAccessibleDescription("Sign in to change the number.");
    expect(fake.events).toHaveLength(0);
    expect(document.body.textContent).not.toMatch(NOT_FOR_PEOPLE);
  });

  it("a 403 says plainly that the account may not do this", async () => {
    const { fake, auth, user } = signedOutPage();
    await seeNumber("0");
    // The page believes it may write, but the API's token grants nothing: the API decides.
    const token = fake.issueToken(READER);
    act(() => {
      auth.set({ kind: "signedIn", user: { name: "rita", scopes: ["counter:write"], accessToken: token } });
    });
    await waitFor(() => expect(incrementButton()).toBeEnabled());
    await user.click(incrementButton());
    await waitFor(() =>
      expect(commandStatus()).toHaveTextContent("Not incremented: Your account may not do this."),
    );
    expect(fake.events).toHaveLength(0);
  });
});
