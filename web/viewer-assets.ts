import type { Plugin, Rollup } from "vite";
import { VIEWER_ASSETS_PATH, type ViewerAssets } from "../contract/player-engine.ts";

/**
 * Writes VIEWER_ASSETS_PATH into the build: the chunks the watch and embed pages load before their
 * first frame (the module that is their page and every chunk it imports statically), and the hls.js
 * chunk. Names are content-hashed, so only the build knows them.
 */
export function viewerAssets(): Plugin {
  return {
    name: "viewer-assets",
    apply: "build",
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).filter((f): f is Rollup.OutputChunk => f.type === "chunk");
      const find = (test: (id: string) => boolean, what: string): Rollup.OutputChunk => {
        const chunk = chunks.find((c) => c.facadeModuleId !== null && test(c.facadeModuleId.replaceAll("\\", "/")));
        if (!chunk) throw new Error(`viewer-assets: no chunk for ${what} in the build.`);
        return chunk;
      };
      const assets: ViewerAssets = {
        watch: closure(
          bundle,
          find((id) => id.endsWith("/src/App.tsx"), "the app"),
        ),
        embed: closure(
          bundle,
          find((id) => id.endsWith("/src/embed/Embed.tsx"), "the embed page"),
        ),
        engine: `/${find((id) => /\/hls\.js\/dist\/hls\.light/.test(id), "hls.js").fileName}`,
      };
      this.emitFile({ type: "asset", fileName: VIEWER_ASSETS_PATH.slice(1), source: `${JSON.stringify(assets, null, 2)}\n` });
    },
  };
}

/** A chunk and every chunk it imports statically, as root paths, the entry's own chunks left out. */
function closure(bundle: Rollup.OutputBundle, start: Rollup.OutputChunk): string[] {
  const seen = new Set<string>();
  const visit = (chunk: Rollup.OutputChunk) => {
    if (seen.has(chunk.fileName) || chunk.isEntry) return;
    seen.add(chunk.fileName);
    for (const name of chunk.imports) {
      const next = bundle[name];
      if (next?.type === "chunk") visit(next);
    }
  };
  visit(start);
  return [...seen].map((f) => `/${f}`);
}
