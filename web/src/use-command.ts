// One command at a time, seen through to an outcome a person can trust: a click gets a fresh
// Idempotency-Key and the click's own retries (command.ts); if its outcome is still unknown after them —
// the API went away — the key is kept and the outcome settled in the background, with backoff, for as
// long as the page is open, and at once when the API answers the number's polling again. Only then may
// another command start, so a click never turns into two commands (invariant I4).

import { useCallback, useEffect, useRef, useState } from "react";
import type { Action, CounterApi } from "./api";
import { runCommand, settleCommand, type CommandOptions, type CommandResult } from "./command";
import { SETTLE_RETRY_POLICY, retryDelayMs } from "./retry";
import type { Connection, NumberState } from "./use-number";

export type SettledResult = Exclude<CommandResult, { readonly kind: "unsettled" }>;

export type CommandState =
  | { readonly kind: "idle" }
  /** The click's own attempts are on their way; `retry` says why another one is needed, if it is. */
  | { readonly kind: "sending"; readonly action: Action; readonly retry: string | null }
  /** Applied once or not at all, not known which yet: being settled under `idempotencyKey`. */
  | {
      readonly kind: "unsettled";
      readonly action: Action;
      readonly idempotencyKey: string;
      readonly attempts: number;
      readonly reason: string;
      readonly retryAfterSeconds: number | null;
    }
  | {
      readonly kind: "finished";
      readonly action: Action;
      readonly result: SettledResult;
      /** True when the outcome was settled after the click's own attempts, once the API was back. */
      readonly settledLater: boolean;
    };

export interface FollowedCommand {
  readonly state: CommandState;
  /** True while a command is being sent or settled: a further click is ignored. */
  readonly busy: boolean;
  readonly send: (action: Action) => void;
}

export interface CommandDependencies {
  readonly api: CounterApi;
  readonly connection: Connection;
  readonly acceptState: (state: NumberState) => void;
  readonly createKey: () => string;
  readonly options?: CommandOptions | undefined;
  /** Told of each click that sends a command: the number's polling then reads about every second again. */
  readonly onSend?: (() => void) | undefined;
}

export function useCommand({
  api,
  connection,
  acceptState,
  createKey,
  options,
  onSend,
}: CommandDependencies): FollowedCommand {
  const [state, setState] = useState<CommandState>({ kind: "idle" });
  const busy = state.kind === "sending" || state.kind === "unsettled";
  const optionsRef = useRef(options);
  optionsRef.current = options;

  const finish = useCallback(
    (action: Action, result: SettledResult, settledLater: boolean) => {
      if (result.kind === "applied") {
        const { value, version, event } = result.applied;
        acceptState({ value, version, updatedAt: event.at });
      }
      setState({ kind: "finished", action, result, settledLater });
    },
    [acceptState],
  );

  const send = useCallback(
    (action: Action) => {
      if (busy) return;
      const idempotencyKey = createKey();
      onSend?.();
      setState({ kind: "sending", action, retry: null });
      void runCommand(api, action, idempotencyKey, {
        ...optionsRef.current,
        onRetry: (notice) => {
          optionsRef.current?.onRetry?.(notice);
          const retry = `${notice.reason}; trying again (attempt ${notice.attempt} of ${notice.attemptsMax})…`;
          setState({ kind: "sending", action, retry });
        },
      }).then((result) => {
        if (result.kind !== "unsettled") finish(action, result, false);
        else setState({ ...result, action, idempotencyKey });
      });
    },
    [api, busy, createKey, finish, onSend],
  );

  // Settling in the background. `wake` cuts the current wait short when the API answers again.
  const wake = useRef<(() => void) | null>(null);
  useEffect(() => {
    if (connection.kind === "online") wake.current?.();
  }, [connection.kind]);

  const unsettled = state.kind === "unsettled" ? state : null;
  const unsettledKey = unsettled?.idempotencyKey ?? null;
  const unsettledAction = unsettled?.action ?? null;
  const unsettledRef = useRef(unsettled);
  unsettledRef.current = unsettled;
  useEffect(() => {
    if (unsettledKey === null || unsettledAction === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pause = (milliseconds: number) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake.current = null;
          resolve();
        };
        timer = setTimeout(done, milliseconds);
        wake.current = done;
      });
    async function settle(key: string, action: Action): Promise<void> {
      for (let round = 1; ; round += 1) {
        const policy = optionsRef.current?.settlePolicy ?? SETTLE_RETRY_POLICY;
        const retryAfterSeconds = unsettledRef.current?.retryAfterSeconds ?? null;
        await pause(retryDelayMs(policy, round, retryAfterSeconds, optionsRef.current?.random));
        if (stopped) return;
        const result = await settleCommand(api, action, key, unsettledRef.current?.attempts ?? 0);
        if (stopped) return;
        if (result.kind !== "unsettled") return finish(action, result, true);
        setState((current) =>
          current.kind === "unsettled" && current.idempotencyKey === key
            ? { ...current, ...result }
            : current,
        );
      }
    }
    void settle(unsettledKey, unsettledAction);
    return () => {
      stopped = true;
      wake.current?.();
    };
  }, [api, unsettledKey, unsettledAction, finish]);

  return { state, busy, send };
}
