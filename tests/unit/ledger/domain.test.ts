// The pure decider: decide, evolve and fold, by example and by fast-check property.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decide,
  DEFAULT_BOUNDS,
  evolve,
  fold,
  initialState,
  type Action,
  type Change,
  type CounterState,
} from "../../../services/ledger/domain/decider";
import { VALUE_MAX, VALUE_MIN } from "../../../services/ledger/domain/limits";

const action = fc.constantFrom<Action>("increment", "decrement");

describe("decide", () => {
  it("applies an increment from the initial state as version 1", () => {
    expect(decide("increment", initialState(DEFAULT_BOUNDS))).toEqual({
      kind: "applied",
      change: { version: 1, action: "increment", delta: 1, valueBefore: 0, valueAfter: 1 },
    });
  });

  it("refuses a decrement at the lower bound, naming the bound", () => {
    expect(decide("decrement", { value: VALUE_MIN, version: 4 })).toEqual({
      kind: "outOfBounds",
      value: VALUE_MIN,
      bound: VALUE_MIN,
    });
  });

  it("refuses an increment at the upper bound, naming the bound", () => {
    expect(decide("increment", { value: VALUE_MAX, version: 9 })).toEqual({
      kind: "outOfBounds",
      value: VALUE_MAX,
      bound: VALUE_MAX,
    });
  });

  it("allows reaching each bound exactly", () => {
    expect(decide("increment", { value: VALUE_MAX - 1, version: 1 }).kind).toBe("applied");
    expect(decide("decrement", { value: VALUE_MIN + 1, version: 1 }).kind).toBe("applied");
  });

  it("honours configured bounds", () => {
    expect(decide("increment", { value: 5, version: 5 }, { min: 0, max: 5 }).kind).toBe("outOfBounds");
  });

  it("treats a state outside the bounds as a bug, not a decision", () => {
    expect(() => decide("increment", { value: VALUE_MAX + 1, version: 1 })).toThrow(/I3/);
  });
});

describe("evolve", () => {
  it("refuses a change whose version does not follow (I2)", () => {
    const change: Change = { version: 3, action: "increment", delta: 1, valueBefore: 0, valueAfter: 1 };
    expect(() => evolve(initialState(DEFAULT_BOUNDS), change)).toThrow(/I2/);
  });

  it("refuses a change that does not start from the current value (I3)", () => {
    const change: Change = { version: 1, action: "increment", delta: 1, valueBefore: 7, valueAfter: 8 };
    expect(() => evolve(initialState(DEFAULT_BOUNDS), change)).toThrow(/I3/);
  });
});

describe("properties of the decider", () => {
  it("I1–I3: folding the decided changes of any action sequence gives the decided state, always in bounds", () => {
    fc.assert(
      fc.property(
        fc.array(action, { maxLength: 200 }),
        fc.integer({ min: 0, max: 20 }),
        fc.boolean(),
        (actions, distance, nearTop) => {
          const bounds = DEFAULT_BOUNDS;
          const start: CounterState = { value: nearTop ? bounds.max - distance : distance, version: 0 };
          let state = start;
          const changes: Change[] = [];
          let sum = 0;
          for (const next of actions) {
            const decision = decide(next, state, bounds);
            if (decision.kind === "outOfBounds") {
              const expectedBound = next === "increment" ? bounds.max : bounds.min;
              expect(decision).toEqual({ kind: "outOfBounds", value: expectedBound, bound: expectedBound });
              continue;
            }
            changes.push(decision.change);
            sum += decision.change.delta;
            state = evolve(state, decision.change);
            expect(state.value).toBeGreaterThanOrEqual(bounds.min);
            expect(state.value).toBeLessThanOrEqual(bounds.max);
          }
          expect(fold(changes, start)).toEqual(state);
          expect(state.value).toBe(start.value + sum);
          expect(state.version).toBe(changes.length);
          expect(changes.map((change) => change.version)).toEqual(changes.map((_, index) => index + 1));
        },
      ),
    );
  });

  it("refuses only what would leave the bounds", () => {
    fc.assert(
      fc.property(action, fc.integer({ min: VALUE_MIN, max: VALUE_MAX }), (next, value) => {
        const decision = decide(next, { value, version: 1 });
        const after = value + (next === "increment" ? 1 : -1);
        expect(decision.kind === "applied").toBe(after >= VALUE_MIN && after <= VALUE_MAX);
      }),
    );
  });
});
