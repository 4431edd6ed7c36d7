// The whole page: the banner, the number with its commands, Verify, and History. It wires the hooks that
// follow the API to the panels that show it, and takes its API client and timings as props so that tests
// can hand it a fake `fetch` and a quick clock. It holds no knowledge of HTTP itself.

import type { CounterApi } from "./api";
import { createIdempotencyKey, type CommandOptions } from "./command";
import { ConnectionBanner } from "./components/connection-banner";
import { HistoryPanel } from "./components/history-panel";
import { NumberPanel } from "./components/number-panel";
import { VerifyPanel } from "./components/verify-panel";
import { useHistory } from "./use-history";
import { NUMBER_POLL_INTERVAL_MS, useNumber } from "./use-number";

export interface AppProps {
  readonly api: CounterApi;
  /** Shown in the unreachable banner; "" for the page's own origin. */
  readonly baseUrl?: string;
  readonly pollIntervalMs?: number;
  readonly createKey?: () => string;
  readonly commandOptions?: CommandOptions;
}

export function App({
  api,
  baseUrl = "",
  pollIntervalMs = NUMBER_POLL_INTERVAL_MS,
  createKey = createIdempotencyKey,
  commandOptions,
}: AppProps) {
  const number = useNumber(api, pollIntervalMs);
  const knownVersion = number.snapshot?.version ?? null;
  const history = useHistory(api, knownVersion, pollIntervalMs);
  return (
    <div className="page">
      <header className="page-header">
        <h1>Counter ledger</h1>
        <p className="page-tagline">One number, every change an event in an append-only ledger.</p>
      </header>
      <ConnectionBanner connection={number.connection} baseUrl={baseUrl} />
      <main className="layout">
        <div className="layout-side">
          <NumberPanel
            api={api}
            snapshot={number.snapshot}
            connection={number.connection}
            acceptState={number.acceptState}
            createKey={createKey}
            {...(commandOptions === undefined ? {} : { commandOptions })}
          />
          <VerifyPanel api={api} connection={number.connection} />
        </div>
        <HistoryPanel history={history} knownVersion={knownVersion} />
      </main>
    </div>
  );
}
