// Typed errors of the shared kernel. Expected outcomes (replay, reuse, out of bounds) are values, not errors;
// these are failures that end in a safe 5xx at the edge.

/** The store could not be reached or refused the request (throttled, unavailable, network). Safe to retry. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}
