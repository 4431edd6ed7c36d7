// openapi.json is generated from the zod schemas of contract/ (`npm run openapi`): the committed document must
// be exactly what they generate, so that the handlers, the web UI and the document cannot drift apart.

import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { OPENAPI_PATH, openApiText } from "../../../scripts/openapi";

describe("openapi.json", () => {
  it("is what `npm run openapi` generates from contract/ (run it after changing a schema)", async () => {
    expect(await readFile(OPENAPI_PATH, "utf8")).toBe(await openApiText());
  });
});
