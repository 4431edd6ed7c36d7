// Pages through the audit trail (`GET /number/history`, newest first), only while someone can see it: the
// History panel open, on screen, in a tab in front (issue 13: history on demand). The newest page follows the
// number — it is loaded again when the version moves, and looked at again while the projector is behind the
// aggregate, since the trail is eventually consistent — but only while it is seen: a version change while it
// is not costs nothing, and the page is brought up to date once, when it is seen again. An older page never
// changes as the number moves (it holds only events below its cursor), so it is loaded once. The page on
// screen stays until its successor arrives, so nothing jumps while loading. A stale answer (an older request
// finishing late) is dropped.

import { useCallback, useEffect, useRef, useState } from "react";
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
  /** Whether the History panel is open; closed, nothing is loaded. It opens on the newest page. */
  readonly open: boolean;
  readonly setOpen: (open: boolean) => void;
}

export function useHistory(
  api: CounterApi,
  /** The aggregate's version as last seen; null while it is not known yet, and nothing is loaded then. */
  knownVersion: number | null,
  retryIntervalMs: number,
  /** Whether the panel could be seen if open: on screen, in a tab in front. */
  seen = true,
): FollowedHistory {
  // The cursors of the pages walked through, newest first: null is the first page.
  const [cursors, setCursors] = useState<readonly (string | null)[]>([null]);
  const [page, setPage] = useState<HistoryPage | null>(null);
  const [loading, setLoading] = useState(true);
  const [failure, setFailure] = useState<string | null>(null);
  const [reloadCount, setReloadCount] = useState(0);
  const [open, setOpenState] = useState(true);
  /** What the page on screen is complete for: its cursor and, for the newest page, the version it follows. */
  const loadedFor = useRef<string | null>(null);
  const cursor = cursors[cursors.length - 1] ?? null;
  const shown = open && seen;

  useEffect(() => {
    if (!shown || knownVersion === null) return;
    const wanted = `${cursor ?? "newest"}@${cursor === null ? knownVersion : "any"}`;
    if (loadedFor.current === wanted) return;
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
        lookAgain = cursor === null && answer.page.projectedVersion < knownVersion;
        if (!lookAgain) loadedFor.current = wanted;
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
  }, [api, cursor, knownVersion, reloadCount, retryIntervalMs, shown]);

  const nextCursor = page?.nextCursor ?? null;
  const showOlderPage = useCallback(() => {
    // A second click before the older page arrives must not walk the same step twice.
    if (nextCursor !== null) {
      setCursors((walked) => (walked[walked.length - 1] === nextCursor ? walked : [...walked, nextCursor]));
    }
  }, [nextCursor]);
  const showNewerPage = useCallback(() => setCursors((walked) => walked.slice(0, -1)), []);
  const setOpen = useCallback(
    (opening: boolean) => {
      setOpenState(opening);
      // Closed, it forgets an older page: it opens again on the newest, brought up to date.
      if (!opening && cursors.length > 1) {
        setCursors([null]);
        setPage(null);
        loadedFor.current = null;
      }
    },
    [cursors.length],
  );

  return {
    page,
    pageNumber: cursors.length,
    loading,
    failure,
    showOlder: nextCursor !== null ? showOlderPage : null,
    showNewer: cursors.length > 1 ? showNewerPage : null,
    open,
    setOpen,
  };
}
