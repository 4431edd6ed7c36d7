// The arguments of `npm run reproject` (scripts/reproject.ts), read strictly as scripts/verify.ts reads its
// own: an unknown flag, a positional argument, a missing or malformed --from-version is a usage error.

import { parseArgs } from "node:util";

export type Arguments =
  | { readonly kind: "help" }
  | { readonly kind: "usageError"; readonly message: string }
  | { readonly kind: "reproject"; readonly fromVersion: number; readonly checkpoint: string | undefined };

export function readArguments(argv: readonly string[]): Arguments {
  let values: { "from-version"?: string; checkpoint?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        "from-version": { type: "string" },
        checkpoint: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return {
      kind: "usageError",
      message: error instanceof Error ? (error.message.split("\n")[0] ?? "") : "",
    };
  }
  if (values.help === true) return { kind: "help" };
  const raw = values["from-version"];
  if (raw === undefined) return { kind: "usageError", message: "--from-version <N> is required" };
  if (!/^[1-9][0-9]{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    return {
      kind: "usageError",
      message: `--from-version must be a whole number of 1 or more (got "${raw}")`,
    };
  }
  if (values.checkpoint === "") return { kind: "usageError", message: "--checkpoint needs a file name" };
  return { kind: "reproject", fromVersion: Number(raw), checkpoint: values.checkpoint };
}
