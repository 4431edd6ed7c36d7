// The request fingerprint: what makes two requests under one idempotency key "the same request" (I4).
// It covers the method, the route and the validated command, never headers that vary between retries.

import { createHash } from "node:crypto";
import type { Action } from "./decider";

const FINGERPRINT_FORMAT = "v1";

export function requestFingerprint(action: Action): string {
  return createHash("sha256").update(`${FINGERPRINT_FORMAT}\nPOST /number\n${action}`).digest("hex");
}
