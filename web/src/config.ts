// The page's runtime configuration, `/config.json` beside index.html (contract/schemas.ts, uiConfigSchema):
// where to sign in, or that the API runs with AUTH=off. Read once at start, so one build of the UI serves any
// deployment: the local gateway writes it for `npm start`, Terraform for AWS.

import { uiConfigSchema, type UiConfig } from "../../contract/schemas";

export type ConfigAnswer =
  | { readonly kind: "config"; readonly config: UiConfig }
  /** `reason` is a sentence for people, shown where the sign-in button would be. */
  | { readonly kind: "unavailable"; readonly reason: string };

const UNREADABLE = "Signing in is unavailable: this page's settings (config.json) could not be read.";

export async function loadUiConfig(
  pageUrl: string,
  fetchFunction: typeof fetch = fetch,
): Promise<ConfigAnswer> {
  try {
    const response = await fetchFunction(new URL("config.json", pageUrl).href, { cache: "no-store" });
    if (!response.ok) return { kind: "unavailable", reason: UNREADABLE };
    const parsed = uiConfigSchema.safeParse(await response.json());
    return parsed.success
      ? { kind: "config", config: parsed.data }
      : { kind: "unavailable", reason: UNREADABLE };
  } catch {
    return { kind: "unavailable", reason: UNREADABLE };
  }
}
