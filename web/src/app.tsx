// The whole page: the banner, who is signed in, the number with its commands, Verify, and History. It wires
// the hooks that follow the API to the panels that show it, and takes its API client, auth and timings as
// props so that tests can hand it a fake `fetch`, a fake sign-in and a quick clock. It holds no knowledge of
// HTTP itself. What it offers follows what the person was granted (auth.ts, accessOf): the commands need
// `counter:write`, History and Verify `counter:audit`; the number itself is for everyone.

import type { CounterApi } from "./api";
import { accessOf, authOff, type Auth } from "./auth";
import { createIdempotencyKey, type CommandOptions } from "./command";
import { AccountBar } from "./components/account-bar";
import { ConnectionBanner } from "./components/connection-banner";
import { HistoryPanel } from "./components/history-panel";
import { NumberPanel } from "./components/number-panel";
import { VerifyPanel } from "./components/verify-panel";
import { NUMBER_POLL_POLICY, type PollPolicy } from "./poll-policy";
import { useHistory } from "./use-history";
import { useAuthState } from "./use-auth";
import { useNumber } from "./use-number";
import { useInView, usePageVisible } from "./use-visibility";

export interface AppProps {
  readonly api: CounterApi;
  /** Who is signed in; the default is AUTH=off: nobody signs in and everything is offered. */
  readonly auth?: Auth;
  /** Shown in the unreachable banner; "" for the page's own origin. */
  readonly baseUrl?: string;
  /** How often the number is read (poll-policy.ts); the history looks again after its `intervalMs`. */
  readonly pollPolicy?: PollPolicy;
  readonly createKey?: () => string;
  readonly commandOptions?: CommandOptions;
}

export function App({
  api,
  auth = defaultAuth,
  baseUrl = "",
  pollPolicy = NUMBER_POLL_POLICY,
  createKey = createIdempotencyKey,
  commandOptions,
}: AppProps) {
  const authState = useAuthState(auth);
  const access = accessOf(authState);
  const number = useNumber(api, pollPolicy);
  const knownVersion = number.snapshot?.version ?? null;
  const pageVisible = usePageVisible();
  const [historyInView, historyRef] = useInView();
  // Only an auditor may read the audit trail: for anyone else it is neither asked for nor shown. It is read
  // only while it can be seen.
  const history = useHistory(
    api,
    access.audit ? knownVersion : null,
    pollPolicy.intervalMs,
    pageVisible && historyInView,
  );
  return (
    <div className="page">
      <header className="page-header">
        <div className="page-title">
          <h1>Counter ledger</h1>
          <p className="page-tagline">One number, every change an event in an append-only ledger.</p>
        </div>
        <AccountBar auth={auth} state={authState} />
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
            followClosely={number.followClosely}
            writeBlocked={access.writeBlocked}
            {...(commandOptions === undefined ? {} : { commandOptions })}
          />
          {access.audit ? <VerifyPanel api={api} connection={number.connection} /> : null}
        </div>
        {access.audit ? (
          <HistoryPanel history={history} knownVersion={knownVersion} sectionRef={historyRef} />
        ) : null}
      </main>
    </div>
  );
}

const defaultAuth = authOff();
