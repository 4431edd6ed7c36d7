// Tests sorted by kind (README, Tests), as three projects:
// - unit: pure code, no DynamoDB, no server, no child process but git (`npm run test:unit`, seconds);
// - web: the UI's component tests in jsdom, also no DynamoDB (part of `npm run test:unit`);
// - integration: everything that needs DynamoDB Local, the local runtime, a child process or a browser —
//   tests/integration, tests/property, tests/reliability (`npm run test:reliability`) and tests/e2e. Its
//   global setup starts one DynamoDB Local for the whole run and stops it afterwards; Vitest calls a
//   project's global setup only when that project has tests queued, so `test:unit` never starts Java.

import { defineConfig } from "vitest/config";

// The SDK warns once per process that Node 20 support ends in 2027; the README says so, tests need not.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export default defineConfig({
  test: {
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          environment: "node",
          include: ["tests/unit/**/*.test.ts"],
          exclude: ["tests/unit/web/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "web",
          environment: "jsdom",
          include: ["tests/unit/web/**/*.test.{ts,tsx}"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          environment: "node",
          globalSetup: ["tests/support/global-setup.ts"],
          include: [
            "tests/integration/**/*.test.ts",
            "tests/property/**/*.test.ts",
            "tests/reliability/**/*.test.ts",
            "tests/e2e/**/*.test.ts",
          ],
        },
      },
    ],
  },
});
