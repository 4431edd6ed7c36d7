// The repository's copy of the AWS event fixtures must stay the very shapes the team keeps in shared/:
// a drift here would let handlers be tested against an envelope AWS does not send.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES_DIRECTORY, SHARED_FIXTURES_DIRECTORY } from "../support/fixtures";

describe("AWS event fixtures", () => {
  // shared/ sits beside every session's and CI's clone; a clone elsewhere (GitHub) has only the copy.
  it.runIf(existsSync(SHARED_FIXTURES_DIRECTORY))(
    "the repository's copy equals shared/fixtures/aws-events",
    () => {
      const shared = readdirSync(SHARED_FIXTURES_DIRECTORY)
        .filter((name) => name.endsWith(".json"))
        .sort();
      const copied = readdirSync(FIXTURES_DIRECTORY)
        .filter((name) => name.endsWith(".json"))
        .sort();
      expect(copied).toEqual(shared);
      for (const name of shared) {
        expect(readFileSync(join(FIXTURES_DIRECTORY, name), "utf8"), name).toBe(
          readFileSync(join(SHARED_FIXTURES_DIRECTORY, name), "utf8"),
        );
      }
    },
  );
});
