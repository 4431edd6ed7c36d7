// Builds the web UI into web/dist as static files: served at / by the local runtime and uploaded to S3
// behind CloudFront. `base: "./"` makes every asset path relative, so the same build works at any path.
// The API's base URL comes from VITE_API_BASE_URL at build time (empty: the page's own origin). Two pages:
// the app (index.html) and silent-renew.html, where a silent sign-in's hidden iframe lands (oidc-auth.ts).

import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const webRoot = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: webRoot,
  base: "./",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL("./index.html", import.meta.url)),
        silentRenew: fileURLToPath(new URL("./silent-renew.html", import.meta.url)),
      },
    },
  },
  server: {
    // In `vite dev`, API routes go to the local runtime (npm start) so the page keeps one origin.
    proxy: {
      "/number": "http://localhost:3000",
      "/health": "http://localhost:3000",
      // The page's settings (config.json): AUTH=off or the issuer to sign in with.
      "/config.json": "http://localhost:3000",
    },
  },
});
