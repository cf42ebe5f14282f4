/**
 * One viewing, from the media element's events to the playback beacon: when the play request was
 * made and when the first frame followed (startup time), stalls after that (rebuffers), and the
 * element's own fatal errors. hls.js's tier switches and fatal errors are reported by the player
 * (`beacon.setTier`, `beacon.error`), which knows them.
 */
import { PLAYBACK_EVENTS_PATH, PlaybackBeacon, type BeaconOptions } from "./playback-beacon.ts";
import { withShare } from "./viewer.ts";

/** The part of an HTMLVideoElement this needs (an EventTarget in tests). */
export interface MediaLike extends EventTarget {
  readonly seeking: boolean;
  readonly error: { code: number; message?: string } | null;
}

export interface SessionOptions extends Pick<BeaconOptions, "send" | "every" | "now" | "sessionId"> {
  videoId: string;
  /** A private video's share token: "the player sends `?share=` along" so the Worker lets it count. */
  share?: string | null;
  /**
   * When the viewer asked to play before the media element existed (the embed's poster button,
   * whose press also loads the player): the startup time counts from there, not from `play`.
   */
  requestedAt?: number;
}

const MEDIA_ERRORS: Record<number, string> = {
  1: "media aborted",
  2: "media network error",
  3: "media decode error",
  4: "media source not supported",
};

/**
 * Listens to `media` and reports to a new beacon (one session id per page view). Returns the
 * beacon, `fail` for the player's fatal errors (sent once), and how to stop listening (also stops
 * the heartbeats and the page-hide listeners).
 */
export function trackPlayback(
  media: MediaLike,
  opts: SessionOptions,
  win: Parameters<PlaybackBeacon["attach"]>[0] | null = typeof window === "undefined" ? null : window,
): { beacon: PlaybackBeacon; fail: (message: string) => void; stop: () => void } {
  const now = opts.now ?? (() => performance.now());
  const beacon = new PlaybackBeacon({ ...opts, now, endpoint: withShare(PLAYBACK_EVENTS_PATH, opts.share ?? null) });
  // "startup time = press or autoplay to first frame (first `playing` after the play request)".
  let requestedAt: number | null = opts.requestedAt ?? null;
  let started = false;
  // The Worker counts a session's first error only: later ones (a retry loop) would be sent for nothing.
  let failed = false;
  const fail = (message: string) => {
    if (failed) return;
    failed = true;
    beacon.error(message);
  };

  const on: Record<string, () => void> = {
    play: () => {
      if (!started) requestedAt ??= now();
    },
    playing: () => {
      if (!started && requestedAt !== null) {
        started = true;
        beacon.start(now() - requestedAt);
      } else if (started) beacon.totals.playing();
    },
    // A stall is `waiting` during playback; waiting for a seek's data is the viewer's choice, not one.
    waiting: () => {
      if (started && !media.seeking) beacon.totals.stalled();
    },
    pause: () => started && beacon.totals.paused(),
    ended: () => started && beacon.totals.paused(),
    seeking: () => started && beacon.totals.paused(),
    error: () => {
      const code = media.error?.code ?? 0;
      fail(media.error?.message || MEDIA_ERRORS[code] || "media error");
    },
  };
  for (const [type, fn] of Object.entries(on)) media.addEventListener(type, fn);
  const detach = win ? beacon.attach(win) : () => {};
  return {
    beacon,
    fail,
    stop: () => {
      for (const [type, fn] of Object.entries(on)) media.removeEventListener(type, fn);
      detach();
    },
  };
}
