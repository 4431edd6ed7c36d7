// The audit trail as a table, newest first and paged with the API's cursor, under a chart of the same
// events. It shows what the projector has written so far and says so when it is behind the number, and who
// made each change (the event's actor; "—" for changes recorded before identity, which name nobody). It can
// be closed, and then loads nothing (use-history.ts).

import { idempotencyKeyOf, type HistoryEntry } from "../api";
import { formatDateTime, formatDelta, formatEventTime, formatInteger } from "../format";
import { HISTORY_PAGE_SIZE, type FollowedHistory } from "../use-history";
import { HistoryChart } from "./history-chart";

/** Version, time, action, value, by, key. */
const COLUMNS = 6;

export interface HistoryPanelProps {
  readonly history: FollowedHistory;
  /** The aggregate's version as last seen, to tell when the audit trail lags behind it. */
  readonly knownVersion: number | null;
  /** Given the panel's element, to tell whether it is on screen (use-visibility.ts, useInView). */
  readonly sectionRef?: (element: Element | null) => void;
}

export function HistoryPanel({ history, knownVersion, sectionRef }: HistoryPanelProps) {
  const { page, open } = history;
  const lagging = page !== null && knownVersion !== null && page.projectedVersion < knownVersion;
  return (
    <section
      ref={sectionRef}
      className="card history-card"
      aria-labelledby="history-heading"
      aria-busy={open && history.loading}
    >
      <div className="card-header">
        <h2 id="history-heading" className="card-title">
          History
        </h2>
        <p className="card-note">
          {!open
            ? "Hidden: not loaded"
            : lagging
              ? `Audit trail catching up: version ${formatInteger(page.projectedVersion)} of ${formatInteger(knownVersion)}`
              : page === null
                ? ""
                : `Audit trail up to version ${formatInteger(page.projectedVersion)}`}
        </p>
        <button
          type="button"
          className="secondary-button history-toggle"
          aria-expanded={open}
          aria-controls="history-body"
          onClick={() => history.setOpen(!open)}
        >
          {open ? "Hide history" : "Show history"}
        </button>
      </div>
      {open ? <HistoryBody history={history} lagging={lagging} /> : null}
    </section>
  );
}

function HistoryBody({ history, lagging }: { readonly history: FollowedHistory; readonly lagging: boolean }) {
  const { page, pageNumber, failure } = history;
  return (
    <div id="history-body" className="history-body">
      {failure === null ? null : (
        <p className="message message-refused" role="alert">
          The history could not be loaded: {failure}.
        </p>
      )}

      {page === null ? (
        <div className="chart chart-loading skeleton" />
      ) : (
        <HistoryChart entries={page.items} />
      )}

      <div className="table-scroll" tabIndex={0} role="region" aria-label="History table">
        <table className="history-table">
          <caption className="visually-hidden">Audit trail, newest first, page {pageNumber}</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
              <th scope="col">Value</th>
              <th scope="col">By</th>
              <th scope="col">Key</th>
            </tr>
          </thead>
          <tbody>
            {page === null ? (
              <SkeletonRows />
            ) : page.items.length === 0 ? (
              <tr>
                <td colSpan={COLUMNS} className="history-empty">
                  {pageNumber > 1
                    ? "No older events."
                    : lagging
                      ? "The first events are on their way to the audit trail…"
                      : "No events yet. Increment the number to write the first."}
                </td>
              </tr>
            ) : (
              // With escrow shards versions repeat across shards (docs/api.md): the position keeps keys unique.
              page.items.map((entry, index) => <HistoryRow key={`${index}:${entry.version}`} entry={entry} />)
            )}
          </tbody>
        </table>
      </div>

      <nav className="pager" aria-label="History pages">
        <button
          type="button"
          className="secondary-button"
          disabled={history.showNewer === null}
          onClick={history.showNewer ?? undefined}
        >
          ← Newer
        </button>
        <span className="pager-page">Page {pageNumber}</span>
        <button
          type="button"
          className="secondary-button"
          disabled={history.showOlder === null}
          onClick={history.showOlder ?? undefined}
        >
          Older →
        </button>
      </nav>
    </div>
  );
}

function HistoryRow({ entry }: { readonly entry: HistoryEntry }) {
  const key = entry.eventId === undefined ? undefined : idempotencyKeyOf(entry.eventId);
  return (
    <tr data-testid="history-row">
      <td className="cell-number cell-version">{formatInteger(entry.version)}</td>
      <td className="cell-time">
        <time dateTime={entry.at} title={formatDateTime(entry.at)}>
          {formatEventTime(entry.at, new Date())}
        </time>
      </td>
      <td className="cell-action">
        <span className={`action action-${entry.action}`}>
          <span aria-hidden="true">{formatDelta(entry.delta)} </span>
          {entry.action}
        </span>
      </td>
      <td className="cell-number cell-value">
        {formatInteger(entry.valueBefore)} <span aria-label="to">→</span> {formatInteger(entry.valueAfter)}
      </td>
      <td className="cell-actor" data-testid="history-actor">
        {entry.actor ? (
          <span title={entry.actor.sub}>{entry.actor.name === "" ? entry.actor.sub : entry.actor.name}</span>
        ) : (
          <span title="Recorded without a signed-in user">—</span>
        )}
      </td>
      <td className="cell-key">
        {key === undefined ? (
          <span title="Keys are shown to auditors only">—</span>
        ) : (
          <code title={key}>{key}</code>
        )}
      </td>
    </tr>
  );
}

/** Placeholder rows of the final height, so the table does not jump when the first page arrives. */
function SkeletonRows() {
  return (
    <>
      {Array.from({ length: Math.min(HISTORY_PAGE_SIZE, 5) }, (_, index) => (
        <tr key={index} aria-hidden="true">
          <td colSpan={COLUMNS}>
            <span className="skeleton skeleton-text" />
          </td>
        </tr>
      ))}
    </>
  );
}
