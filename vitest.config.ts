// One test run: a single DynamoDB Local for every file (global setup), Node tests and the web UI's
// component tests (jsdom) as two projects.

import { defineConfig } from "vitest/config";

// The SDK warns once per process that Node 20 support ends in 2027; the README says so, tests need not.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export default defineConfig({
  test: {
    globalSetup: ["tests/support/global-setup.ts"],
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
          name: "node",
          environment: "node",
          include: ["tests/**/*.test.ts"],
          exclude: ["tests/web/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "web",
          environment: "jsdom",
          include: ["tests/web/**/*.test.{ts,tsx}"],
        },
      },
    ],
  },
});
