// Terraform's own checks of infra/ (tests/terraform), run by `npm run test:terraform` and by .ci/run after
// `npm test`, never by `npm test` itself: they need the terraform CLI and an offline AWS provider, which neither
// npm nor Debian provides (README, Tests).

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "terraform",
    environment: "node",
    include: ["tests/terraform/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
