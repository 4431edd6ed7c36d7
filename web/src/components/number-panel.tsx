// The number itself, large, with its version and last change, and the two commands that move it.
// One click is one command with a fresh Idempotency-Key (command.ts retries it with that same key).
// While a command is on its way the buttons refuse further clicks — they stay focusable, so a keyboard
// user keeps their place — and at a bound the button that would cross it is disabled outright.

import { useState, type CSSProperties } from "react";
import { VALUE_MAX, VALUE_MIN } from "../../../contract/limits";
import { problemName, type Action, type CounterApi, type NumberSnapshot } from "../api";
import { runCommand, type CommandOptions, type CommandResult } from "../command";
import { formatDateTime, formatInteger } from "../format";
import type { Connection } from "../use-number";

type CommandState =
  | { readonly kind: "idle" }
  | { readonly kind: "pending"; readonly action: Action; readonly retry: string | null }
  | { readonly kind: "finished"; readonly action: Action; readonly result: CommandResult };

export interface NumberPanelProps {
  readonly api: CounterApi;
  readonly snapshot: NumberSnapshot | null;
  readonly connection: Connection;
  readonly acceptSnapshot: (snapshot: NumberSnapshot) => void;
  readonly createKey: () => string;
  readonly commandOptions?: CommandOptions;
}

const PAST_TENSE: Record<Action, string> = { increment: "Incremented", decrement: "Decremented" };
const PROGRESSIVE: Record<Action, string> = { increment: "Incrementing", decrement: "Decrementing" };

export function NumberPanel({
  api,
  snapshot,
  connection,
  acceptSnapshot,
  createKey,
  commandOptions,
}: NumberPanelProps) {
  const [command, setCommand] = useState<CommandState>({ kind: "idle" });
  const pending = command.kind === "pending";

  async function send(action: Action): Promise<void> {
    if (pending || snapshot === null) return;
    const idempotencyKey = createKey();
    setCommand({ kind: "pending", action, retry: null });
    const result = await runCommand(api, action, idempotencyKey, {
      ...commandOptions,
      onRetry: (notice) => {
        commandOptions?.onRetry?.(notice);
        const retry = `${notice.reason}; trying again (attempt ${notice.attempt} of ${notice.attemptsMax})…`;
        setCommand({ kind: "pending", action, retry });
      },
    });
    if (result.kind === "applied") {
      const { value, version, event } = result.applied;
      acceptSnapshot({ value, version, updatedAt: event.at, bounds: snapshot.bounds });
    }
    setCommand({ kind: "finished", action, result });
  }

  const shown = snapshot === null ? "" : formatInteger(snapshot.value);
  const atLowerBound = snapshot !== null && snapshot.value <= VALUE_MIN;
  const atUpperBound = snapshot !== null && snapshot.value >= VALUE_MAX;

  return (
    <section className="card number-card" aria-labelledby="number-heading" aria-busy={pending}>
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
          disabled={snapshot === null || atLowerBound}
          command={command}
          onClick={() => void send("decrement")}
          describedBy={atLowerBound ? "bound-note" : undefined}
        />
        <CommandButton
          action="increment"
          symbol="+"
          label="Increment"
          disabled={snapshot === null || atUpperBound}
          command={command}
          onClick={() => void send("increment")}
          describedBy={atUpperBound ? "bound-note" : undefined}
        />
      </div>

      <p className="bound-note" id="bound-note">
        {atLowerBound
          ? `At the lower bound, ${formatInteger(VALUE_MIN)}: it cannot go lower.`
          : atUpperBound
            ? `At the upper bound, ${formatInteger(VALUE_MAX)}: it cannot go higher.`
            : `Stays between ${formatInteger(VALUE_MIN)} and ${formatInteger(VALUE_MAX)}.`}
      </p>

      <div className="command-status" role="status" aria-live="polite" data-testid="command-status">
        <CommandMessage command={command} />
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
  const pendingHere = command.kind === "pending" && command.action === action;
  const busy = command.kind === "pending";
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
    case "pending":
      return (
        <p className="message message-pending">
          {PROGRESSIVE[command.action]}…{command.retry === null ? "" : ` ${capitalize(command.retry)}`}
        </p>
      );
    case "finished":
      return <FinishedMessage action={command.action} result={command.result} />;
  }
}

function FinishedMessage({ action, result }: { readonly action: Action; readonly result: CommandResult }) {
  switch (result.kind) {
    case "applied": {
      const { event } = result.applied;
      const afterLostAnswer = result.attempts > 1 || result.settledByLookup;
      return (
        <p className="message message-success">
          {PAST_TENSE[action]}: {formatInteger(event.valueBefore)} → {formatInteger(event.valueAfter)}{" "}
          (version {formatInteger(event.version)}).
          {afterLostAnswer ? " An answer was lost on the way and the retry was applied only once." : ""}
        </p>
      );
    }
    case "refused":
      return (
        <p className="message message-refused" data-problem={problemName(result.problem)}>
          Not {PAST_TENSE[action].toLowerCase()}: {result.problem.detail}
        </p>
      );
    case "notApplied":
      return (
        <p className="message message-refused">
          Not {PAST_TENSE[action].toLowerCase()}: {result.reason}, and nothing was changed. Try again.
        </p>
      );
    case "unconfirmed":
      return (
        <p className="message message-refused">
          Not confirmed yet: {result.reason}. The {action} is either applied once or not at all — never twice;
          the number will show which as soon as the API answers (key <code>{result.idempotencyKey}</code>).
        </p>
      );
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
