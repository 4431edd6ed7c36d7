// The Verify panel: one button that replays the whole ledger on the API (`GET /number/verify`) and shows
// the report — ok with its totals, or every problem with the version where it happens. It only reports
// what the API found; it never judges the ledger itself.

import { useState } from "react";
import type { CounterApi, VerificationReport } from "../api";
import { failureInWords, formatInteger } from "../format";
import type { Connection } from "../use-number";

type Verification =
  | { readonly kind: "idle" }
  | { readonly kind: "running" }
  | { readonly kind: "report"; readonly report: VerificationReport }
  | { readonly kind: "failed"; readonly reason: string };

export function VerifyPanel({
  api,
  connection,
}: {
  readonly api: CounterApi;
  readonly connection: Connection;
}) {
  const [verification, setVerification] = useState<Verification>({ kind: "idle" });
  const running = verification.kind === "running";

  async function verify(): Promise<void> {
    if (running) return;
    setVerification({ kind: "running" });
    const answer = await api.verify();
    setVerification(
      answer.kind === "report"
        ? { kind: "report", report: answer.report }
        : { kind: "failed", reason: failureInWords(answer) },
    );
  }

  return (
    <section className="card verify-card" aria-labelledby="verify-heading" aria-busy={running}>
      <div className="card-header">
        <h2 id="verify-heading" className="card-title">
          Verify
        </h2>
        <button
          type="button"
          className="secondary-button"
          disabled={connection.kind === "unreachable"}
          aria-disabled={running || undefined}
          onClick={() => void verify()}
        >
          {running ? <span className="spinner" aria-hidden="true" /> : null}
          {running ? "Verifying…" : "Verify the ledger"}
        </button>
      </div>
      <p className="card-hint">
        Replays every event of the ledger and checks that it adds up to the number, version by version, and
        that the audit trail matches it.
      </p>
      <div role="status" aria-live="polite" data-testid="verify-result">
        <VerificationResult verification={verification} />
      </div>
    </section>
  );
}

function VerificationResult({ verification }: { readonly verification: Verification }) {
  switch (verification.kind) {
    case "idle":
    case "running":
      return null;
    case "failed":
      return <p className="message message-refused">Could not verify: {verification.reason}.</p>;
    case "report":
      return <ReportView report={verification.report} />;
  }
}

function ReportView({ report }: { readonly report: VerificationReport }) {
  const problemCount = report.problems.length + (report.problemsOmitted ?? 0);
  return (
    <div className={`report ${report.ok ? "report-ok" : "report-failed"}`}>
      <p className="report-verdict">
        <span className="report-mark" aria-hidden="true">
          {report.ok ? "✓" : "✗"}
        </span>
        {report.ok
          ? "Verified: the ledger proves the number."
          : `Not verified: ${problemCount} ${problemCount === 1 ? "problem" : "problems"} found.`}
      </p>
      <dl className="report-totals">
        <div>
          <dt>Events</dt>
          <dd>{formatInteger(report.events)}</dd>
        </div>
        <div>
          <dt>Ledger sum</dt>
          <dd>{formatInteger(report.ledgerSum)}</dd>
        </div>
        <div>
          <dt>Number</dt>
          <dd>
            {formatInteger(report.aggregate.value)}{" "}
            <small>at version {formatInteger(report.aggregate.version)}</small>
          </dd>
        </div>
        <div>
          <dt>Audit trail</dt>
          <dd>
            {formatInteger(report.readModel.value)}{" "}
            <small>at version {formatInteger(report.readModel.version)}</small>
          </dd>
        </div>
        <div>
          <dt>Took</dt>
          <dd>{formatInteger(Math.round(report.durationMs))} ms</dd>
        </div>
      </dl>
      {report.lag !== undefined && report.lag.versions > 0 ? (
        <p className="report-note">
          The audit trail is {formatInteger(report.lag.versions)}{" "}
          {report.lag.versions === 1 ? "version" : "versions"} behind the ledger: the projector is catching
          up, which is lag, not a fault.
        </p>
      ) : null}
      {report.problems.length > 0 ? (
        <ul className="report-problems" aria-label={report.ok ? "Notes" : "Problems"}>
          {report.problems.map((problem, index) => (
            <li key={index}>
              {/* The detail is the API's sentence for people; the kind is a name for programs. */}
              {problem.version === undefined ? "" : `At version ${formatInteger(problem.version)}: `}
              {problem.detail}
            </li>
          ))}
        </ul>
      ) : null}
      {(report.problemsOmitted ?? 0) > 0 ? (
        <p className="report-note">
          …and {formatInteger(report.problemsOmitted ?? 0)} more problems not listed.
        </p>
      ) : null}
    </div>
  );
}
