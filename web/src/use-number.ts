// Follows the number: polls `GET /number` with If-None-Match, so an unchanged number costs a 304 and no body.
// About once a second while the number moves; ever more rarely while it does not (poll-policy.ts); not at all
// while the page's tab is hidden, and once at once when it is shown again or its window regains focus. It
// also knows whether the API can be reached. It must never move the number backwards: a stale answer loses
// to a newer version.

import { useCallback, useEffect, useRef, useState } from "react";
import type { CounterApi, NumberAnswer, NumberSnapshot } from "./api";
import { failureInWords } from "./format";
import { NUMBER_POLL_POLICY, nextReadDelayMs, type PollPolicy } from "./poll-policy";

export type Connection =
  /** No answer yet: the first read is on its way. */
  | { readonly kind: "connecting" }
  | { readonly kind: "online" }
  /**
   * The last read got no usable answer; polling goes on, the banner says so and the commands wait.
   * `reason` is in plain words when the API answered with an error, null when nothing answered at all.
   */
  | { readonly kind: "unreachable"; readonly reason: string | null };

const online: Connection = { kind: "online" };

export interface FollowedNumber {
  readonly snapshot: NumberSnapshot | null;
  readonly connection: Connection;
  /** Takes a state learnt elsewhere (a command's answer) if it is newer than the one shown. */
  readonly acceptState: (state: NumberState) => void;
  /** The person acted (a click): read about every second again, however long the number was idle. */
  readonly followClosely: () => void;
}

/** What a command's answer tells of the number: all of a snapshot but the bounds. */
export type NumberState = Omit<NumberSnapshot, "bounds">;

/** The polling loop's handle: `followClosely` drops the interval back to its shortest. */
interface Polling {
  readonly stop: () => void;
  readonly followClosely: () => void;
}

export function useNumber(api: CounterApi, policy: PollPolicy = NUMBER_POLL_POLICY): FollowedNumber {
  const [snapshot, setSnapshot] = useState<NumberSnapshot | null>(null);
  const [connection, setConnection] = useState<Connection>({ kind: "connecting" });
  const polling = useRef<Polling | null>(null);
  const { intervalMs, quietReadsBeforeBackoff, intervalMaxMs, retryAfterMsMax } = policy;

  /** A read of `GET /number` wins over an older version, and over the same one (it may bring new bounds). */
  const acceptSnapshot = useCallback((incoming: NumberSnapshot) => {
    setSnapshot((current) => (current !== null && current.version > incoming.version ? current : incoming));
  }, []);

  const acceptState = useCallback((incoming: NumberState) => {
    setSnapshot((current) =>
      current === null || current.version >= incoming.version
        ? current
        : { ...incoming, bounds: current.bounds },
    );
    polling.current?.followClosely();
  }, []);

  const followClosely = useCallback(() => polling.current?.followClosely(), []);

  useEffect(() => {
    const loop = startPolling(
      api,
      { intervalMs, quietReadsBeforeBackoff, intervalMaxMs, retryAfterMsMax },
      (answer) => {
        if (answer.kind === "current") acceptSnapshot(answer.snapshot);
        setConnection(connectionAfter(answer));
      },
    );
    polling.current = loop;
    return () => {
      loop.stop();
      if (polling.current === loop) polling.current = null;
    };
  }, [api, intervalMs, quietReadsBeforeBackoff, intervalMaxMs, retryAfterMsMax, acceptSnapshot]);

  return { snapshot, connection, acceptState, followClosely };
}

function connectionAfter(answer: NumberAnswer): Connection {
  switch (answer.kind) {
    case "current":
    case "notModified":
      return online;
    case "problem":
      return { kind: "unreachable", reason: failureInWords(answer) };
    case "unreachable":
      return { kind: "unreachable", reason: null };
  }
}

/** Whether the page's tab is hidden (another tab in front, the window minimised): then nobody sees it. */
function pageHidden(): boolean {
  return document.visibilityState === "hidden";
}

/**
 * Reads the number until stopped, one read at a time, each after the wait that `nextReadDelayMs` gives: it
 * counts the reads in a row that found nothing new, and starts again from 0 on a change, a failure, a click
 * (`followClosely`), and the page coming back into view. While the tab is hidden it does not read at all;
 * when the tab is shown again, or the window regains focus, it reads at once.
 */
function startPolling(
  api: CounterApi,
  policy: PollPolicy,
  onAnswer: (answer: NumberAnswer) => void,
): Polling {
  let stopped = false;
  let reading = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let quietReads = 0;
  let etag: string | null = null;

  function waitThenRead(delayMs: number): void {
    clearTimeout(timer);
    timer = setTimeout(() => void read(), delayMs);
  }

  async function read(): Promise<void> {
    timer = undefined;
    if (stopped || reading || pageHidden()) return;
    reading = true;
    const answer = await api.readNumber(etag);
    reading = false;
    if (stopped) return;
    // A failure forgets the ETag: the next answer may come from a server started again, with other bounds
    // but the same version, and must be read whole.
    etag = answer.kind === "current" ? answer.etag : answer.kind === "notModified" ? etag : null;
    quietReads = answer.kind === "notModified" ? quietReads + 1 : 0;
    onAnswer(answer);
    if (pageHidden()) return;
    const retryAfterSeconds = answer.kind === "problem" ? answer.retryAfterSeconds : null;
    waitThenRead(nextReadDelayMs(policy, quietReads, retryAfterSeconds));
  }

  /** Reads at once, unless a read is on its way (its answer is as fresh). */
  function readNow(): void {
    quietReads = 0;
    if (!reading) {
      clearTimeout(timer);
      void read();
    }
  }

  const onVisibilityChange = () => {
    if (!pageHidden()) return readNow();
    clearTimeout(timer);
    timer = undefined;
  };
  document.addEventListener("visibilitychange", onVisibilityChange);
  window.addEventListener("focus", readNow);
  void read();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibilityChange);
      window.removeEventListener("focus", readNow);
    },
    followClosely() {
      quietReads = 0;
      // A longer wait already under way is cut to the shortest; a read on its way schedules its own.
      if (timer !== undefined) waitThenRead(policy.intervalMs);
    },
  };
}
