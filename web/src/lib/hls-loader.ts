/**
 * The player engine's code (hls.js light, the biggest download of the watch page). Fetched once;
 * the watch route asks for it at startup, in parallel with the page's API calls, so that on a slow
 * link it is not queued behind them — except where the browser's own HLS plays, which needs none.
 * Its own module, so that the app's entry can start it without pulling in the player's code.
 */
let hlsModule: Promise<typeof import("hls.js/light")> | null = null;
export const loadHls = () => (hlsModule ??= import("hls.js/light"));

/**
 * Safari (macOS, iOS) plays HLS itself. Chromium also answers `canPlayType` for HLS now (156 plays
 * our ladder natively, from the lowest tier), but measured at 1 Mbit/s + 80 ms its own player came
 * later to the first frame than hls.js: it reads the start of the first segment, drops it and
 * reads it again, and buffers the second segment before it starts. So Safari is asked for by name.
 */
export function prefersNativeHls(video: HTMLVideoElement = document.createElement("video")): boolean {
  const ua = navigator.userAgent;
  const safari = /safari/i.test(ua) && !/chrome|chromium|crios|fxios|android|edg/i.test(ua);
  return safari && video.canPlayType("application/vnd.apple.mpegurl") !== "";
}
