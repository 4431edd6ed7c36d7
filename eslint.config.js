// Lint rules: the recommended sets of ESLint and typescript-eslint, type-aware, and the allowed import
// directions between the parts of the repository (docs/architecture.md, "Layout and boundaries").
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Relative-import patterns (gitignore syntax) that reach into a folder, from any depth. */
const into = (...folders) => folders.map((folder) => `**/${folder}/**`);

/**
 * One rule per part: what it may not import (gitignore patterns, or a regex of the refused import names).
 * A file gets the rule of the most specific part it is in.
 */
const restrictions = [
  {
    files: ["services/**"],
    message: "services/ run on Lambda: they never import the local runtime, test code, scripts or the UI.",
    patterns: into("local", "testkit", "tests", "scripts", "bench", "web"),
  },
  {
    files: ["services/ledger/domain/**"],
    message: "The domain is pure: no AWS SDK, no Lambda types, no storage or HTTP, no I/O.",
    patterns: [
      ...into("local", "testkit", "tests", "scripts", "bench", "web", "storage", "http", "command", "query"),
      "@aws-sdk/*",
      "aws-lambda",
      "node:fs",
      "node:http",
      "node:net",
    ],
  },
  {
    files: ["common/**"],
    message: "common/ holds pure helpers that every part imports, the web UI included: it imports nothing.",
    // Every module specifier: a package, a node: built-in, a relative or an absolute path.
    patterns: ["*"],
  },
  {
    files: ["contract/**"],
    message:
      "contract/ is the API's pure definition, shared by services, web and tests: it imports only zod.",
    regex: "^(?!zod$|\\./)",
  },
  {
    files: ["web/**"],
    message: "The web UI talks to the API over HTTP and shares only contract/ with it.",
    patterns: into("services", "local", "testkit", "scripts"),
  },
  {
    files: ["local/**", "testkit/**", "scripts/**", "bench/**"],
    message: "Only tests import from tests/; shared test tooling lives in testkit/.",
    patterns: into("tests", "web/src"),
  },
];

const boundaries = restrictions.map(({ files, message, patterns, regex }) => ({
  files,
  rules: {
    "no-restricted-imports": [
      "error",
      { patterns: [patterns === undefined ? { regex, message } : { group: patterns, message }] },
    ],
  },
}));

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "web/dist/", ".data/", "coverage/", "artifacts/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "*.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked },
  ...boundaries,
  {
    // TIGER_STYLE's limit: a function that does not fit on a screen does more than one thing (docs/style.md).
    files: ["services/**", "local/**", "scripts/**", "bench/**", "testkit/**", "common/**", "contract/**"],
    rules: {
      "max-lines-per-function": ["error", { max: 70, skipBlankLines: true, skipComments: true }],
    },
  },
);
