// Follows the number: polls `GET /number` about once a second with If-None-Match, so an unchanged number
// costs a 304 and no body, and a change made elsewhere shows within about a second. It also knows whether
// the API can be reached. It must never move the number backwards: a stale answer loses to a newer version.

import { useCallback, useEffect, useRef, useState } from "react";
import type { CounterApi, NumberSnapshot } from "./api";

/** "about every second" (issue 4): quick enough to feel live, and a 304 costs the API almost nothing. */
export const NUMBER_POLL_INTERVAL_MS = 1_000;

export type Connection =
  /** No answer yet: the first read is on its way. */
  | { readonly kind: "connecting" }
  | { readonly kind: "online" }
  /** The last read got no usable answer; polling goes on and the banner says so. */
  | { readonly kind: "unreachable"; readonly reason: string };

const online: Connection = { kind: "online" };

export interface FollowedNumber {
  readonly snapshot: NumberSnapshot | null;
  readonly connection: Connection;
  /** Takes a state learnt elsewhere (a command's answer) if it is newer than the one shown. */
  readonly acceptSnapshot: (snapshot: NumberSnapshot) => void;
}

export function useNumber(api: CounterApi, pollIntervalMs: number = NUMBER_POLL_INTERVAL_MS): FollowedNumber {
  const [snapshot, setSnapshot] = useState<NumberSnapshot | null>(null);
  const [connection, setConnection] = useState<Connection>({ kind: "connecting" });
  const etag = useRef<string | null>(null);

  const acceptSnapshot = useCallback((incoming: NumberSnapshot) => {
    setSnapshot((current) => (current !== null && current.version >= incoming.version ? current : incoming));
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
          setConnection({ kind: "unreachable", reason: answer.problem.detail });
          break;
        case "unreachable":
          setConnection({ kind: "unreachable", reason: answer.reason });
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

  return { snapshot, connection, acceptSnapshot };
}
