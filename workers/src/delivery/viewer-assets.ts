import { VIEWER_ASSETS_PATH, type ViewerAssets } from "../../../contract/player-engine.ts";

/**
 * The web build's list of what viewer pages load first (VIEWER_ASSETS_PATH, written by the build).
 * Read once per static-assets binding: the assets change only with a deployment, which starts new
 * isolates. None (empty lists) where the build has no such file (a test runtime without the web
 * build): the pages then load their code as the entry script asks for it, as before.
 */
const cache = new WeakMap<Fetcher, Promise<ViewerAssets>>();

const NONE: ViewerAssets = { watch: [], embed: [], engine: "" };

export function viewerAssets(env: Env, url: URL): Promise<ViewerAssets> {
  const assets = env.ASSETS;
  if (!assets) return Promise.resolve(NONE);
  let found = cache.get(assets);
  if (!found) {
    found = read(assets, url).then((list) => {
      // Not kept when missing: a later request may find it (a local build may come later).
      if (list === NONE) cache.delete(assets);
      return list;
    });
    cache.set(assets, found);
  }
  return found;
}

async function read(assets: Fetcher, url: URL): Promise<ViewerAssets> {
  try {
    const res = await assets.fetch(new Request(new URL(VIEWER_ASSETS_PATH, url)));
    if (!res.ok || !/json/i.test(res.headers.get("Content-Type") ?? "")) {
      await res.body?.cancel();
      return NONE;
    }
    const body = (await res.json()) as Partial<ViewerAssets>;
    const paths = (list: unknown) =>
      Array.isArray(list) ? list.filter((p): p is string => typeof p === "string" && p.startsWith("/assets/")) : [];
    return { watch: paths(body.watch), embed: paths(body.embed), engine: paths([body.engine])[0] ?? "" };
  } catch (err) {
    console.error("the viewer pages' asset list could not be read:", err);
    return NONE;
  }
}
