// The number itself, large, with its version and last change, and the two commands that move it.
// One click is one command with a fresh Idempotency-Key (use-command.ts sees it through with that key).
// While a command is on its way or being settled the buttons refuse further clicks — they stay focusable,
// so a keyboard user keeps their place. At a bound the API tells (`GET /number`'s `bounds`), the button that
// would cross it is disabled outright, and so are both while the API cannot be reached, and while the person
// may not change the number (signed out, or granted no `counter:write`), with the reason beside them.

import type { CSSProperties } from "react";
import { problemName, type Action, type CounterApi, type NumberSnapshot } from "../api";
import type { CommandOptions } from "../command";
import { formatDateTime, formatInteger, refusalInWords } from "../format";
import { useCommand, type CommandState, type SettledResult } from "../use-command";
import type { Connection, NumberState } from "../use-number";

export interface NumberPanelProps {
  readonly api: CounterApi;
  readonly snapshot: NumberSnapshot | null;
  readonly connection: Connection;
  readonly acceptState: (state: NumberState) => void;
  readonly createKey: () => string;
  /** Told of each click that sends a command (use-number.ts: the polling reads about every second again). */
  readonly followClosely?: () => void;
  readonly commandOptions?: CommandOptions;
  /** Why the person may not change the number, shown beside the disabled buttons; null when they may. */
  readonly writeBlocked?: string | null;
}

const PAST_TENSE: Record<Action, string> = { increment: "Incremented", decrement: "Decremented" };
const PROGRESSIVE: Record<Action, string> = { increment: "Incrementing", decrement: "Decrementing" };

export function NumberPanel({
  api,
  snapshot,
  connection,
  acceptState,
  createKey,
  followClosely,
  commandOptions,
  writeBlocked = null,
}: NumberPanelProps) {
  const command = useCommand({
    api,
    connection,
    acceptState,
    createKey,
    options: commandOptions,
    onSend: followClosely,
  });
  const offline = connection.kind === "unreachable";
  const blocked = writeBlocked !== null;
  const shown = snapshot === null ? "" : formatInteger(snapshot.value);
  const atLowerBound = snapshot !== null && snapshot.value <= snapshot.bounds.min;
  const atUpperBound = snapshot !== null && snapshot.value >= snapshot.bounds.max;
  const send = (action: Action) => {
    if (snapshot !== null && !offline && !blocked) command.send(action);
  };
  const describedBy = (atBound: boolean) =>
    [blocked ? "access-note" : null, offline || atBound ? "bound-note" : null]
      .filter((id) => id !== null)
      .join(" ") || undefined;

  return (
    <section className="card number-card" aria-labelledby="number-heading" aria-busy={command.busy}>
      <div className="card-header">
        <h2 id="number-heading" className="card-title">
          The number
        </h2>
        <LiveIndicator connection={connection} />
      </div>
      <p
        className="number-value"
        data-testid="number-value"
        style={{ "--characters": shown.length } as CSSProperties}
      >
        {snapshot === null ? <span className="skeleton skeleton-number" aria-label="Loading" /> : shown}
      </p>
      <p className="number-meta">
        {snapshot === null ? (
          <span className="skeleton skeleton-text" />
        ) : (
          <>
            <span>
              Version <strong data-testid="number-version">{formatInteger(snapshot.version)}</strong>
            </span>
            <span aria-hidden="true"> · </span>
            <span>
              {snapshot.updatedAt === null ? (
                "Never changed"
              ) : (
                <>
                  Changed <time dateTime={snapshot.updatedAt}>{formatDateTime(snapshot.updatedAt)}</time>
                </>
              )}
            </span>
          </>
        )}
      </p>

      <div className="command-buttons">
        <CommandButton
          action="decrement"
          symbol="−"
          label="Decrement"
          disabled={snapshot === null || offline || blocked || atLowerBound}
          command={command.state}
          onClick={() => send("decrement")}
          describedBy={describedBy(atLowerBound)}
        />
        <CommandButton
          action="increment"
          symbol="+"
          label="Increment"
          disabled={snapshot === null || offline || blocked || atUpperBound}
          command={command.state}
          onClick={() => send("increment")}
          describedBy={describedBy(atUpperBound)}
        />
      </div>

      {blocked ? (
        <p className="access-note" id="access-note" data-testid="access-note">
          {writeBlocked}
        </p>
      ) : null}

      <p className="bound-note" id="bound-note">
        {offline
          ? "Paused while the API cannot be reached: the number cannot change from this page until it answers."
          : snapshot === null
            ? ""
            : atLowerBound
              ? `At the lower bound, ${formatInteger(snapshot.bounds.min)}: it cannot go lower.`
              : atUpperBound
                ? `At the upper bound, ${formatInteger(snapshot.bounds.max)}: it cannot go higher.`
                : `Stays between ${formatInteger(snapshot.bounds.min)} and ${formatInteger(snapshot.bounds.max)}.`}
      </p>

      <div className="command-status" role="status" aria-live="polite" data-testid="command-status">
        <CommandMessage command={command.state} />
      </div>
    </section>
  );
}

/** A small dot and word: whether the number on screen is following the API right now. */
function LiveIndicator({ connection }: { readonly connection: Connection }) {
  const words = { connecting: "Connecting…", online: "Live", unreachable: "Offline" }[connection.kind];
  return (
    <span
      className={`live live-${connection.kind}`}
      title="Whether the number follows changes made elsewhere"
    >
      {words}
    </span>
  );
}

interface CommandButtonProps {
  readonly action: Action;
  readonly symbol: string;
  readonly label: string;
  readonly disabled: boolean;
  readonly command: CommandState;
  readonly onClick: () => void;
  readonly describedBy: string | undefined;
}

function CommandButton({
  action,
  symbol,
  label,
  disabled,
  command,
  onClick,
  describedBy,
}: CommandButtonProps) {
  const busy = command.kind === "sending" || command.kind === "unsettled";
  const pendingHere = busy && command.action === action;
  return (
    <button
      type="button"
      className={`command-button command-${action}`}
      disabled={disabled}
      aria-disabled={busy || undefined}
      aria-describedby={describedBy}
      onClick={onClick}
    >
      <span className="command-symbol" aria-hidden="true">
        {pendingHere ? <span className="spinner" /> : symbol}
      </span>
      <span>{label}</span>
    </button>
  );
}

function CommandMessage({ command }: { readonly command: CommandState }) {
  switch (command.kind) {
    case "idle":
      return null;
    case "sending":
      return (
        <p className="message message-pending">
          {PROGRESSIVE[command.action]}…{command.retry === null ? "" : ` ${capitalize(command.retry)}`}
        </p>
      );
    case "unsettled":
      return (
        <p className="message message-pending">
          Not confirmed yet: {command.reason}. The {command.action} is applied once or not at all, never
          twice; this page keeps asking the API and will say which as soon as it answers.
        </p>
      );
    case "finished":
      return command.settledLater ? (
        <SettledLaterMessage action={command.action} result={command.result} />
      ) : (
        <FinishedMessage action={command.action} result={command.result} />
      );
  }
}

function FinishedMessage({ action, result }: { readonly action: Action; readonly result: SettledResult }) {
  if (result.kind === "refused") {
    return (
      <p className="message message-refused" data-problem={problemName(result.problem)}>
        Not {PAST_TENSE[action].toLowerCase()}: {refusalInWords(result.problem)}
      </p>
    );
  }
  const { event } = result.applied;
  const afterLostAnswer = result.attempts > 1 || result.settledByLookup;
  return (
    <p className="message message-success">
      {PAST_TENSE[action]}: {formatInteger(event.valueBefore)} → {formatInteger(event.valueAfter)} (version{" "}
      {formatInteger(event.version)}).
      {afterLostAnswer ? ` An answer was lost on the way; the ${action} was applied only once.` : ""}
    </p>
  );
}

/** The outcome of a command that stayed unknown while the API was away, in the words "applied" or "not applied". */
function SettledLaterMessage({
  action,
  result,
}: {
  readonly action: Action;
  readonly result: SettledResult;
}) {
  if (result.kind === "refused") {
    return (
      <p className="message message-refused" data-problem={problemName(result.problem)}>
        The {action} was not applied: {refusalInWords(result.problem)} Nothing was changed.
      </p>
    );
  }
  const { event } = result.applied;
  return (
    <p className="message message-success">
      The {action} was applied: {formatInteger(event.valueBefore)} → {formatInteger(event.valueAfter)}{" "}
      (version {formatInteger(event.version)}). Its answer had been lost; the API has confirmed it.
    </p>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
