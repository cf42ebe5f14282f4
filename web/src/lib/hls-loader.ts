/**
 * The player engine's code (hls.js light, the biggest download of the watch page). Fetched once;
 * the watch route asks for it at startup, in parallel with the page's API calls, so that on a slow
 * link it is not queued behind them. Its own module, so that the app's entry can start it without
 * pulling in the player's component code.
 */
let hlsModule: Promise<typeof import("hls.js/light")> | null = null;
export const loadHls = () => (hlsModule ??= import("hls.js/light"));
