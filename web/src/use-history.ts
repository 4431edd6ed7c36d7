// Pages through the audit trail (`GET /number/history`, newest first) and keeps the page shown fresh:
// it reloads when the number's version moves, and keeps looking while the projector is behind the
// aggregate, since the trail is eventually consistent. The page on screen stays until its successor
// arrives, so nothing jumps while loading. A stale answer (an older request finishing late) is dropped.

import { useCallback, useEffect, useState } from "react";
import type { CounterApi, HistoryPage } from "./api";
import { failureInWords } from "./format";

/** Rows per page: a screenful on a laptop, and well inside the API's limit of 100. */
export const HISTORY_PAGE_SIZE = 10;

export interface FollowedHistory {
  /** The page on screen; null until the first one arrives. */
  readonly page: HistoryPage | null;
  /** 1 for the newest page, 2 for the one after it, … */
  readonly pageNumber: number;
  readonly loading: boolean;
  /** Why the last load failed, in plain words without a full stop; null when it did not. */
  readonly failure: string | null;
  readonly showOlder: (() => void) | null;
  readonly showNewer: (() => void) | null;
}

export function useHistory(
  api: CounterApi,
  /** The aggregate's version as last seen; null while it is not known yet, and nothing is loaded then. */
  knownVersion: number | null,
  retryIntervalMs: number,
): FollowedHistory {
  // The cursors of the pages walked through, newest first: null is the first page.
  const [cursors, setCursors] = useState<readonly (string | null)[]>([null]);
  const [page, setPage] = useState<HistoryPage | null>(null);
  const [loading, setLoading] = useState(true);
  const [failure, setFailure] = useState<string | null>(null);
  const [reloadCount, setReloadCount] = useState(0);
  const cursor = cursors[cursors.length - 1] ?? null;

  useEffect(() => {
    if (knownVersion === null) return;
    let stale = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setLoading(true);
    void api.readHistory({ limit: HISTORY_PAGE_SIZE, cursor, order: "desc" }).then((answer) => {
      if (stale) return;
      setLoading(false);
      let lookAgain: boolean;
      if (answer.kind === "page") {
        setPage(answer.page);
        setFailure(null);
        lookAgain = answer.page.projectedVersion < knownVersion;
      } else {
        setFailure(failureInWords(answer));
        lookAgain = true;
      }
      if (lookAgain) timer = setTimeout(() => setReloadCount((count) => count + 1), retryIntervalMs);
    });
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [api, cursor, knownVersion, reloadCount, retryIntervalMs]);

  const nextCursor = page?.nextCursor ?? null;
  const showOlderPage = useCallback(() => {
    // A second click before the older page arrives must not walk the same step twice.
    if (nextCursor !== null) {
      setCursors((walked) => (walked[walked.length - 1] === nextCursor ? walked : [...walked, nextCursor]));
    }
  }, [nextCursor]);
  const showNewerPage = useCallback(() => setCursors((walked) => walked.slice(0, -1)), []);

  return {
    page,
    pageNumber: cursors.length,
    loading,
    failure,
    showOlder: nextCursor !== null ? showOlderPage : null,
    showNewer: cursors.length > 1 ? showNewerPage : null,
  };
}
