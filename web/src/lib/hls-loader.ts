import { chooseEngine } from "../../../contract/player-engine.ts";

/**
 * The player engine's code (hls.js light, the biggest download of the watch page). Fetched once;
 * the watch route asks for it at startup, in parallel with the page's API calls, so that on a slow
 * link it is not queued behind them — except where the browser's own HLS plays, which needs none.
 * Its own module, so that the app's entry can start it without pulling in the player's code.
 */
let hlsModule: Promise<typeof import("hls.js/light")> | null = null;
export const loadHls = () =>
  (hlsModule ??= import("hls.js/light").catch((err: unknown) => {
    // A download that failed (a dropped link) is tried again by the next caller.
    hlsModule = null;
    throw err;
  }));

/**
 * Whether this page plays with the browser's own HLS and needs no hls.js: the shared rule (Safari,
 * iOS, Chromium from 156; `?engine=` overrides), and only if the media element agrees it can.
 */
export function prefersNativeHls(video: HTMLVideoElement = document.createElement("video")): boolean {
  return chooseEngine(navigator.userAgent, location.search) === "native" && video.canPlayType("application/vnd.apple.mpegurl") !== "";
}
