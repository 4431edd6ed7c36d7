// Types of what Vite puts into the build: its client types, and the variables this app reads at build time.

/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The API's base URL, e.g. the API Gateway stage URL; empty or unset means the page's own origin. */
  readonly VITE_API_BASE_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
