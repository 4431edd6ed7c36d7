// The pure domain of the counter, as a decider: initialState, decide, evolve, fold. It is the one place where
// invariants I2 (versions follow each other) and I3 (each change is its action's delta, starts where the last
// one ended, and stays in bounds) are written: the committer, the transaction guard and the replay all move
// state with it. It must never know about DynamoDB, HTTP or the clock: time and identity come in as arguments.

import { ACTIONS, type Actor } from "../../../contract/schemas";
import { VALUE_MAX, VALUE_MIN } from "./limits";

/**
 * The action set is defined once, in the API contract (contract/schemas.ts): the request schema, the event
 * schema, openapi.json, the web UI and the replay all read it from there.
 */
export { ACTIONS };

export type Action = (typeof ACTIONS)[number];

export function isAction(value: unknown): value is Action {
  return (ACTIONS as readonly unknown[]).includes(value);
}

export interface Bounds {
  readonly min: number;
  readonly max: number;
}

export const DEFAULT_BOUNDS: Bounds = { min: VALUE_MIN, max: VALUE_MAX };

/** The aggregate: the counter's current value and how many events made it. */
export interface CounterState {
  readonly value: number;
  readonly version: number;
}

/** A new counter: version 0 at its lower bound (a counter whose bounds are [5, 8] cannot start at 0). */
export function initialState(bounds: Bounds): CounterState {
  return { value: bounds.min, version: 0 };
}

/** What the domain needs to know about a command; identity and time are decided by the caller. */
export interface Command {
  readonly action: Action;
  readonly counterId: string;
  /** Per actor: the same key from two actors names two commands (docs/architecture.md#i4). */
  readonly idempotencyKey: string;
  /** Who sends it: the verified caller, never anything the request says. */
  readonly actor: Actor;
  readonly requestFingerprint: string;
  readonly requestId: string;
}

/** The part of a ledger event that the domain decides; persistence adds identity and the schema version. */
export interface Change {
  readonly version: number;
  readonly action: Action;
  readonly delta: 1 | -1;
  readonly valueBefore: number;
  readonly valueAfter: number;
}

/** A change as it was recorded: read back from storage, it may be anything, so nothing is narrowed. */
export interface RecordedChange {
  readonly version: number;
  readonly action: string;
  readonly delta: number;
  readonly valueBefore: number;
  readonly valueAfter: number;
}

export type Decision =
  | { readonly kind: "applied"; readonly change: Change }
  | { readonly kind: "outOfBounds"; readonly value: number; readonly bound: number };

/**
 * The ways a recorded change can fail to follow a state. I2: `versionRepeated` (the version again),
 * `versionBehind` (an older one), `versionSkipped` (versions missing in between). I3: `deltaInvalid` (not the
 * action's delta), `valueAfterWrong` (not valueBefore + delta), `chainBroken` (valueBefore is not the state's
 * value), `outOfBounds` (valueBefore or valueAfter outside the bounds).
 */
export type Breach =
  | "versionRepeated"
  | "versionBehind"
  | "versionSkipped"
  | "deltaInvalid"
  | "valueAfterWrong"
  | "chainBroken"
  | "outOfBounds";

export function deltaOf(action: Action): 1 | -1 {
  return action === "increment" ? 1 : -1;
}

export function isWithinBounds(value: number, bounds: Bounds): boolean {
  return Number.isSafeInteger(value) && value >= bounds.min && value <= bounds.max;
}

export function assertWithinBounds(value: number, bounds: Bounds): void {
  if (!isWithinBounds(value, bounds)) {
    throw new Error(`invariant I3 broken: value ${value} outside [${bounds.min}, ${bounds.max}]`);
  }
}

/** Decides whether an action applies to the state, and what it changes. Pure. */
export function decide(action: Action, state: CounterState, bounds: Bounds = DEFAULT_BOUNDS): Decision {
  assertWithinBounds(state.value, bounds);
  const delta = deltaOf(action);
  const valueAfter = state.value + delta;
  if (valueAfter > bounds.max) return { kind: "outOfBounds", value: state.value, bound: bounds.max };
  if (valueAfter < bounds.min) return { kind: "outOfBounds", value: state.value, bound: bounds.min };
  const change: Change = {
    version: state.version + 1,
    action,
    delta,
    valueBefore: state.value,
    valueAfter,
  };
  assertWithinBounds(change.valueAfter, bounds);
  return { kind: "applied", change };
}

/**
 * Every invariant the change breaks when it follows the state (I2, I3), in a fixed order; empty when it
 * follows. Bounds are checked only when given: keeping them is `decide`'s job and the database's guard, and
 * the replay checks them with the bounds it is configured with.
 */
export function breachesOf(state: CounterState, change: RecordedChange, bounds?: Bounds): Breach[] {
  const breaches: Breach[] = [];
  if (change.version === state.version) breaches.push("versionRepeated");
  else if (change.version < state.version) breaches.push("versionBehind");
  else if (change.version > state.version + 1) breaches.push("versionSkipped");
  if (!isAction(change.action) || deltaOf(change.action) !== change.delta) breaches.push("deltaInvalid");
  if (change.valueAfter !== change.valueBefore + change.delta) breaches.push("valueAfterWrong");
  if (change.valueBefore !== state.value) breaches.push("chainBroken");
  if (
    bounds !== undefined &&
    !(isWithinBounds(change.valueBefore, bounds) && isWithinBounds(change.valueAfter, bounds))
  ) {
    breaches.push("outOfBounds");
  }
  return breaches;
}

/** One step of a replay: the state a recorded change leaves behind, and what it breaks on the way. */
export interface Step {
  readonly state: CounterState;
  readonly breaches: readonly Breach[];
}

/**
 * Moves the state by one recorded change and names what it breaks. The state moves to the change's own
 * version and valueAfter even when it breaks something, so that a replay reports each fault once and goes on.
 */
export function step(state: CounterState, change: RecordedChange, bounds?: Bounds): Step {
  return {
    state: { value: change.valueAfter, version: change.version },
    breaches: breachesOf(state, change, bounds),
  };
}

/** Moves the state forward by one change. Refuses (throws) a change that does not follow the state (I2, I3). */
export function evolve(state: CounterState, change: RecordedChange): CounterState {
  const { state: next, breaches } = step(state, change);
  if (breaches.length > 0) {
    const invariants = [...new Set(breaches.map((breach) => (breach.startsWith("version") ? "I2" : "I3")))];
    throw new Error(
      `invariant ${invariants.join("/")} broken at version ${change.version} after version ${state.version}: ` +
        breaches.join(", "),
    );
  }
  return next;
}

/** Replays changes in version order from a state (a new counter's is `initialState(bounds)`). */
export function fold(changes: Iterable<RecordedChange>, state: CounterState): CounterState {
  let current = state;
  for (const change of changes) current = evolve(current, change);
  return current;
}
