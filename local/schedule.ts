// A task that the local runtime runs on a timer, as an EventBridge schedule does on AWS: runs never overlap
// (a tick waits for the run in progress), a failed timed run is reported and the next one tries again, and
// stop waits for the run in progress. Used by the digest and verify schedules.

export interface Schedule<Outcome> {
  /** One run now, after any run in progress. */
  readonly tick: () => Promise<Outcome>;
  readonly stop: () => Promise<void>;
}

/** Runs `run` every `intervalMs` (never when undefined: `tick` still works), one run at a time. */
export function startSchedule<Outcome>(
  run: () => Promise<Outcome>,
  intervalMs: number | undefined,
  onFailure: (error: unknown) => void,
): Schedule<Outcome> {
  let running: Promise<unknown> = Promise.resolve();
  const tick = (): Promise<Outcome> => {
    const next = running.then(run);
    running = next.catch(() => undefined);
    return next;
  };
  const timer =
    intervalMs === undefined ? undefined : setInterval(() => void tick().catch(onFailure), intervalMs);
  timer?.unref();
  return {
    tick,
    stop: async () => {
      if (timer !== undefined) clearInterval(timer);
      await running;
    },
  };
}
