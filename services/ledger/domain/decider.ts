// The pure domain of the counter, as a decider: initialState, decide, evolve, fold.
// It must never know about DynamoDB, HTTP or the clock: time and identity come in as arguments.

import { VALUE_MAX, VALUE_MIN } from "./limits";

export type Action = "increment" | "decrement";

export const ACTIONS: readonly Action[] = ["increment", "decrement"];

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

export const initialState: CounterState = { value: 0, version: 0 };

/** What the domain needs to know about a command; identity and time are decided by the caller. */
export interface Command {
  readonly action: Action;
  readonly counterId: string;
  readonly idempotencyKey: string;
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

export type Decision =
  | { readonly kind: "applied"; readonly change: Change }
  | { readonly kind: "outOfBounds"; readonly value: number; readonly bound: number };

export function deltaOf(action: Action): 1 | -1 {
  return action === "increment" ? 1 : -1;
}

export function assertWithinBounds(value: number, bounds: Bounds): void {
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
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

/** Moves the state forward by one change. Refuses a change that does not follow the state (I2, I3). */
export function evolve(state: CounterState, change: Change): CounterState {
  if (change.version !== state.version + 1) {
    throw new Error(`invariant I2 broken: version ${change.version} does not follow ${state.version}`);
  }
  if (change.valueBefore !== state.value || change.valueAfter !== state.value + change.delta) {
    throw new Error(`invariant I3 broken at version ${change.version}`);
  }
  return { value: change.valueAfter, version: change.version };
}

/** Replays changes in version order from the initial state. */
export function fold(changes: Iterable<Change>, state: CounterState = initialState): CounterState {
  let current = state;
  for (const change of changes) current = evolve(current, change);
  return current;
}
