import { defineConfig } from "vite";
import preact from "@preact/preset-vite";
import { viewerAssets } from "./viewer-assets.ts";

// Built into web/dist, which the Worker serves as static assets (wrangler.toml [assets]).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [preact(), viewerAssets()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
});
