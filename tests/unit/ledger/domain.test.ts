// The pure decider: decide, evolve and fold, by example and by fast-check property.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  breachesOf,
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

describe("initialState", () => {
  it("is version 0 at the lower bound: a counter bounded to [5, 8] starts at 5", () => {
    expect(initialState({ min: 5, max: 8 })).toEqual({ value: 5, version: 0 });
    expect(decide("decrement", initialState({ min: 5, max: 8 }), { min: 5, max: 8 })).toEqual({
      kind: "outOfBounds",
      value: 5,
      bound: 5,
    });
  });
});

describe("breachesOf and evolve: I2 and I3 for one recorded change", () => {
  const state = { value: 5, version: 3 };
  const sound = { version: 4, action: "increment", delta: 1, valueBefore: 5, valueAfter: 6 };

  it("finds nothing in a change that follows, and evolve moves to it", () => {
    expect(breachesOf(state, sound, { min: 5, max: 8 })).toEqual([]);
    expect(evolve(state, sound)).toEqual({ value: 6, version: 4 });
  });

  it.each([
    [{ version: 3 }, "versionRepeated"],
    [{ version: 2 }, "versionBehind"],
    [{ version: 6 }, "versionSkipped"],
    [{ delta: -1, valueAfter: 4 }, "deltaInvalid"],
    [{ action: "double", delta: 2, valueAfter: 7 }, "deltaInvalid"],
    [{ valueAfter: 7 }, "valueAfterWrong"],
    [{ valueBefore: 6, valueAfter: 7 }, "chainBroken"],
  ])("names %o as %s, and evolve refuses it", (fault, breach) => {
    const change = { ...sound, ...fault };
    expect(breachesOf(state, change)).toEqual([breach]);
    expect(() => evolve(state, change)).toThrow(breach.startsWith("version") ? /I2/ : /I3/);
  });

  it("checks the bounds only when given them (they are decide's and the database's to keep)", () => {
    const past = { value: 8, version: 3 };
    const change = { ...sound, valueBefore: 8, valueAfter: 9 };
    expect(breachesOf(past, change, { min: 5, max: 8 })).toEqual(["outOfBounds"]);
    expect(evolve(past, change)).toEqual({ value: 9, version: 4 });
  });

  it("defines the action set once", () => {
    expect(ACTIONS).toEqual(["increment", "decrement"]);
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

  it("from any bounds' initial state, decided changes never leave [min, max] and always follow (I2, I3)", () => {
    const bounds = fc
      .tuple(fc.integer({ min: VALUE_MIN, max: VALUE_MAX - 1 }), fc.integer({ min: 1, max: 5 }))
      .map(([min, width]) => ({ min, max: Math.min(VALUE_MAX, min + width) }));
    fc.assert(
      fc.property(bounds, fc.array(action, { maxLength: 50 }), (range, actions) => {
        let state = initialState(range);
        expect(state.value).toBe(range.min);
        for (const next of actions) {
          const decision = decide(next, state, range);
          if (decision.kind === "outOfBounds") continue;
          expect(breachesOf(state, decision.change, range)).toEqual([]);
          state = evolve(state, decision.change);
          expect(state.value >= range.min && state.value <= range.max).toBe(true);
        }
      }),
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
