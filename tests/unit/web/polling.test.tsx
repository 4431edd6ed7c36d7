// What an open page costs the API (issue 13): the number's polling on a fake clock — its schedule while the
// number is idle, its reset on a change and on a click, no reads at all while the tab is hidden and one at
// once when it is shown again — and the history, read only while its panel is open and on screen. The page
// runs against the fake API (fake-api.ts) with the real policy (poll-policy.ts), under vitest's fake timers.

import "@testing-library/jest-dom/vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createCounterApi } from "../../../web/src/api";
import { App } from "../../../web/src/app";
import { NUMBER_POLL_POLICY, nextReadDelayMs } from "../../../web/src/poll-policy";
import { FakeCounterApi } from "./fake-api";

describe("nextReadDelayMs", () => {
  it("reads every second for 5 quiet reads, then doubles the wait with each one, up to 15 s", () => {
    const delaysMs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000].map((quiet) =>
      nextReadDelayMs(NUMBER_POLL_POLICY, quiet),
    );
    expect(delaysMs).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });

  it("waits at least a throttled read's Retry-After, cut to a minute", () => {
    expect(nextReadDelayMs(NUMBER_POLL_POLICY, 0, 3)).toBe(3000);
    expect(nextReadDelayMs(NUMBER_POLL_POLICY, 9, 3)).toBe(15000);
    expect(nextReadDelayMs(NUMBER_POLL_POLICY, 0, 3600)).toBe(60000);
  });
});

let visibility: DocumentVisibilityState = "visible";

beforeEach(() => {
  vi.useFakeTimers();
  visibility = "visible";
  vi.spyOn(document, "visibilityState", "get").mockImplementation(() => visibility);
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** The page on the fake API, with each request's time on the fake clock, in ms since the page opened. */
function openPage(fake = new FakeCounterApi()) {
  const startMs = Date.now();
  const reads: number[] = [];
  const historyReads: number[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    const address = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const path = new URL(address, "http://ui.test").pathname;
    if (path === "/number" && (init?.method ?? "GET") === "GET") reads.push(Date.now() - startMs);
    if (path === "/number/history") historyReads.push(Date.now() - startMs);
    return fake.fetch(input, init);
  };
  render(<App api={createCounterApi({ baseUrl: "", fetch })} />);
  return { fake, reads, historyReads };
}

/**
 * Moves the fake clock on, letting every answer and render that falls due meanwhile happen. In steps: React
 * renders what a step changed (and runs the effects that follow, such as loading the history) as it ends.
 */
async function pass(milliseconds: number): Promise<void> {
  for (let leftMs = milliseconds; leftMs > 0; leftMs -= STEP_MS) {
    await act(() => vi.advanceTimersByTimeAsync(Math.min(STEP_MS, leftMs)));
  }
  if (milliseconds === 0) await act(() => vi.advanceTimersByTimeAsync(0));
}

const STEP_MS = 100;

async function setVisibility(state: DocumentVisibilityState): Promise<void> {
  visibility = state;
  await act(async () => {
    document.dispatchEvent(new Event("visibilitychange"));
    await vi.advanceTimersByTimeAsync(0);
  });
}

/** The reads that happened in the last `windowMs`, as times since the start of that window. */
function readsSince(reads: readonly number[], fromMs: number): number[] {
  return reads.filter((at) => at >= fromMs).map((at) => at - fromMs);
}

describe("the number's polling", () => {
  it("backs off while the number is idle: 11 reads in its first quiet minute, then one every 15 s", async () => {
    const { reads } = openPage();
    await pass(120_000);
    expect(reads.filter((at) => at < 60_000)).toEqual([
      0, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 12000, 20000, 35000, 50000,
    ]);
    expect(readsSince(reads, 60_000)).toEqual([5000, 20000, 35000, 50000]);
  });

  it("reads every second again after a change made elsewhere", async () => {
    const { fake, reads } = openPage();
    await pass(60_000);
    fake.applyElsewhere("increment");
    // The next read, 5 s later, brings the change; then every second again, and quiet, backing off anew.
    await pass(15_000);
    expect(screen.getByTestId("number-value")).toHaveTextContent("1");
    expect(readsSince(reads, 60_000)).toEqual([5000, 6000, 7000, 8000, 9000, 10000, 11000, 13000]);
  });

  it("reads every second again after the person's own command", async () => {
    const { fake, reads } = openPage();
    await pass(60_000); // idle: the next read is up to 15 s away
    fireEvent.click(screen.getByRole("button", { name: "Increment" }));
    await pass(0);
    expect(fake.commandRequests()).toHaveLength(1);
    expect(screen.getByTestId("number-value")).toHaveTextContent("1");
    await pass(3_000);
    expect(readsSince(reads, 60_000)).toEqual([1000, 2000, 3000]);
  });

  it("makes no request at all while the tab is hidden, and reads once at once when it is shown", async () => {
    const { fake, reads, historyReads } = openPage();
    await pass(3_000);
    await setVisibility("hidden");
    const requestsWhenHidden = fake.requests.length;
    fake.applyElsewhere("increment");
    await pass(300_000);
    expect(fake.requests.length).toBe(requestsWhenHidden);
    expect(screen.getByTestId("number-value")).toHaveTextContent("0");

    await setVisibility("visible");
    expect(readsSince(reads, 303_000)).toEqual([0]);
    expect(screen.getByTestId("number-value")).toHaveTextContent("1");
    expect(readsSince(historyReads, 303_000)).toEqual([0]);
    await pass(2_000);
    expect(readsSince(reads, 303_000)).toEqual([0, 1000, 2000]);
  });

  it("a page opened in a hidden tab reads nothing until it is shown", async () => {
    visibility = "hidden";
    const { fake, reads } = openPage();
    await pass(60_000);
    expect(fake.requests.filter((request) => request.path.startsWith("/number"))).toEqual([]);
    await setVisibility("visible");
    expect(reads).toEqual([60_000]);
    expect(screen.getByTestId("number-value")).toHaveTextContent("0");
  });

  it("reads at once, and every second again, when the window regains focus", async () => {
    const { reads } = openPage();
    await pass(60_000);
    await act(async () => {
      window.dispatchEvent(new Event("focus"));
      await vi.advanceTimersByTimeAsync(2_000);
    });
    expect(readsSince(reads, 60_000)).toEqual([0, 1000, 2000]);
  });
});

/** An IntersectionObserver the test moves: `setOnScreen` says whether the observed panel is on screen. */
function stubIntersectionObserver(): { setOnScreen: (onScreen: boolean) => Promise<void> } {
  const observers: { callback: IntersectionObserverCallback; observer: IntersectionObserver }[] = [];
  class TestIntersectionObserver {
    constructor(callback: IntersectionObserverCallback) {
      observers.push({ callback, observer: this as unknown as IntersectionObserver });
    }
    observe() {}
    disconnect() {}
  }
  vi.stubGlobal("IntersectionObserver", TestIntersectionObserver);
  return {
    async setOnScreen(onScreen) {
      await act(async () => {
        for (const { callback, observer } of observers) {
          callback([{ isIntersecting: onScreen } as IntersectionObserverEntry], observer);
        }
        await vi.advanceTimersByTimeAsync(0);
      });
    },
  };
}

describe("the history, on demand", () => {
  it("follows the number while it is shown: one read when the version moves, none while it does not", async () => {
    const { fake, historyReads } = openPage();
    await pass(10_000);
    expect(historyReads).toHaveLength(1);
    fake.applyElsewhere("increment");
    await pass(8_000);
    expect(historyReads).toHaveLength(2);
    expect(screen.getAllByTestId("history-row")).toHaveLength(1);
  });

  it("closed, it is not read when the version moves; opened, its newest page is read once", async () => {
    const { fake, reads, historyReads } = openPage();
    await pass(2_000);
    fireEvent.click(screen.getByRole("button", { name: "Hide history" }));
    expect(screen.queryByRole("table")).toBeNull();
    fake.applyElsewhere("increment");
    fake.applyElsewhere("increment");
    await pass(20_000);
    expect(screen.getByTestId("number-value")).toHaveTextContent("2");
    expect(reads.length).toBeGreaterThan(5);
    expect(historyReads).toHaveLength(1);

    fireEvent.click(screen.getByRole("button", { name: "Show history" }));
    expect(readsSince(historyReads, 22_000)).toEqual([0]);
    await pass(0);
    expect(screen.getAllByTestId("history-row")).toHaveLength(2);
    await pass(30_000);
    expect(historyReads).toHaveLength(2);
  });

  it("off screen, it is not read when the version moves; scrolled to, it is read once", async () => {
    const viewport = stubIntersectionObserver();
    const { fake, historyReads } = openPage();
    await pass(2_000);
    await viewport.setOnScreen(false);
    fake.applyElsewhere("increment");
    await pass(20_000);
    expect(screen.getByTestId("number-value")).toHaveTextContent("1");
    expect(historyReads).toHaveLength(1);
    await viewport.setOnScreen(true);
    expect(readsSince(historyReads, 22_000)).toEqual([0]);
    expect(screen.getAllByTestId("history-row")).toHaveLength(1);
  });

  it("an older page is read once: the number moving does not change it", async () => {
    const fake = new FakeCounterApi();
    for (let index = 0; index < 12; index += 1) fake.applyElsewhere("increment");
    const { historyReads } = openPage(fake);
    await pass(1_000);
    fireEvent.click(screen.getByRole("button", { name: "Older →" }));
    await pass(1_000);
    expect(historyReads).toHaveLength(2);
    expect(screen.getAllByTestId("history-row")).toHaveLength(2);
    fake.applyElsewhere("increment");
    await pass(20_000);
    expect(screen.getByTestId("number-value")).toHaveTextContent("13");
    expect(historyReads).toHaveLength(2);
    fireEvent.click(screen.getByRole("button", { name: "← Newer" }));
    await pass(0);
    expect(historyReads).toHaveLength(3);
    expect(screen.getAllByTestId("history-row")[0]).toHaveTextContent(/^13/);
  });
});
