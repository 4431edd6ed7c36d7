// Follows the number: polls `GET /number` about once a second with If-None-Match, so an unchanged number
// costs a 304 and no body, and a change made elsewhere shows within about a second. It also knows whether
// the API can be reached. It must never move the number backwards: a stale answer loses to a newer version.

import { useCallback, useEffect, useRef, useState } from "react";
import type { CounterApi, NumberSnapshot } from "./api";
import { failureInWords } from "./format";

/** "about every second" (issue 4): quick enough to feel live, and a 304 costs the API almost nothing. */
export const NUMBER_POLL_INTERVAL_MS = 1_000;

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
}

/** What a command's answer tells of the number: all of a snapshot but the bounds. */
export type NumberState = Omit<NumberSnapshot, "bounds">;

export function useNumber(api: CounterApi, pollIntervalMs: number = NUMBER_POLL_INTERVAL_MS): FollowedNumber {
  const [snapshot, setSnapshot] = useState<NumberSnapshot | null>(null);
  const [connection, setConnection] = useState<Connection>({ kind: "connecting" });
  const etag = useRef<string | null>(null);

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
  }, []);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    etag.current = null;

    async function poll(): Promise<void> {
      const answer = await api.readNumber(etag.current);
      if (stopped) return;
      switch (answer.kind) {
        case "current":
          etag.current = answer.etag;
          acceptSnapshot(answer.snapshot);
          setConnection(online);
          break;
        case "notModified":
          setConnection(online);
          break;
        case "problem":
          etag.current = null;
          setConnection({ kind: "unreachable", reason: failureInWords(answer) });
          break;
        case "unreachable":
          // The next answer may come from a server started again, with other bounds but the same version:
          // read it whole.
          etag.current = null;
          setConnection({ kind: "unreachable", reason: null });
          break;
      }
      timer = setTimeout(() => void poll(), pollIntervalMs);
    }

    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, pollIntervalMs, acceptSnapshot]);

  return { snapshot, connection, acceptState };
}
