// The history cursor of an escrow-sharded counter (services/query/history.ts): a position per shard, read back
// exactly as issued, up to 64 shards of any safe version within the cursor limit; anything else is refused.

import { describe, expect, it } from "vitest";
import { HISTORY_CURSOR_CHARACTERS_MAX } from "../../../contract/limits";
import { decodeCursor, encodeCursor, readHistoryRequest } from "../../../services/query/history";

describe("the sharded history cursor", () => {
  it("reads back the positions it was issued with", () => {
    const cursor = encodeCursor({ order: "desc", positions: "7.0.12.3" });
    expect(readHistoryRequest({ cursor })).toEqual({
      kind: "valid",
      request: { limit: 20, order: "desc", afterVersion: undefined, positions: [7, 0, 12, 3] },
    });
  });

  it("fits 64 shards of the largest safe version within the limit", () => {
    const positions = Array.from({ length: 64 }, () => String(Number.MAX_SAFE_INTEGER)).join(".");
    const cursor = encodeCursor({ order: "asc", positions });
    expect(cursor.length).toBeLessThanOrEqual(HISTORY_CURSOR_CHARACTERS_MAX);
    expect(decodeCursor(cursor)).toEqual({ format: 2, order: "asc", positions });
  });

  it("refuses positions that are not dot-separated numbers of 2 to 64 shards", () => {
    for (const positions of ["7", "1..2", "-1.2", "1.2.", Array(65).fill("1").join(".")]) {
      const cursor = Buffer.from(JSON.stringify({ format: 2, order: "asc", positions })).toString(
        "base64url",
      );
      expect(readHistoryRequest({ cursor }).kind).toBe("invalid");
    }
  });
});
