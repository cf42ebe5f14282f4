/**
 * Which player engine a viewer's browser gets: its own HLS ("native") or hls.js (light build,
 * ≈ 115 KB gzipped, the biggest download of a viewer page on a slow link). One rule for both sides:
 * the web app loads the engine, and the Worker decides from the same rule what the page's HTML
 * preloads (a native player's media requests never take a fetch preload from the preload cache).
 */
export type PlayerEngine = "hls.js" | "native";

/**
 * Not Chromium's own HLS player, although Chromium 156 answers `canPlayType` for HLS and plays our
 * MPEG-TS ladder: measured at 1 Mbit/s + 80 ms, it showed the first 240p picture at 1.28 s (no
 * engine to download) but then switched to 720p for the second segment (247 KB) and stood still
 * until 3.4 s; hls.js, with its own ~115 KB, played on from 2.1-2.4 s. Its bandwidth estimate
 * cannot be tuned from the page, so the slow links this product is for get hls.js.
 */
/** `?engine=hls.js` or `?engine=native` on a viewer page: a viewer's way around a player that fails, and the tests'. */
export function engineOverride(search: string): PlayerEngine | null {
  const asked = new URLSearchParams(search).get("engine");
  return asked === "hls.js" || asked === "native" ? asked : null;
}

/**
 * Whether this browser plays HLS itself and needs no hls.js: Safari and every iOS browser
 * (WebKit: native HLS is what it does best, and iOS before 17 has no Media Source for hls.js).
 * Everything else gets hls.js. (The web app also asks the media element, `canPlayType`.)
 */
export function playsHlsItself(userAgent: string | undefined): boolean {
  const ua = userAgent ?? "";
  if (/iPhone|iPad|iPod/.test(ua)) return true;
  return /Safari\//.test(ua) && !/Chrome|Chromium|Firefox|FxiOS|Android|Edg/.test(ua);
}

/** The engine for this page: the `?engine=` asked for, else what the browser plays best. */
export function chooseEngine(userAgent: string | undefined, search: string): PlayerEngine {
  return engineOverride(search) ?? (playsHlsItself(userAgent) ? "native" : "hls.js");
}

/**
 * The web build's code a viewer page runs before its first frame, written by the build (web/
 * viewer-assets.ts) for the Worker, which names these files in the page's HTML and `Link:` header so
 * that they download from the first byte of the page on, not once the entry script has run and
 * asked for them. Paths from the site's root.
 */
export interface ViewerAssets {
  /** The watch page's chunks beside the entry (the app, the watch page, the player). */
  watch: string[];
  /** The embed page's chunks beside the entry. */
  embed: string[];
  /** hls.js (light build): the engine, where the browser has no HLS of its own. */
  engine: string;
}

export const VIEWER_ASSETS_PATH = "/viewer-assets.json";
