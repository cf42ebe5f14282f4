/**
 * What a viewer lived through, reported to `POST /api/playback-events` (contract §3.1): startup time,
 * rebuffers, time watched per tier, fatal errors. One random session id per page view and no
 * personal data: no user id, no URL, no user agent. Beacons carry cumulative totals, so a lost one
 * loses nothing and a repeated one adds nothing (the Worker counts the difference).
 *
 * The player calls the methods below from its media events; `attach()` sends the last beacon when
 * the page is hidden or left (`pagehide`, `visibilitychange`), the moments a phone browser may kill
 * the page without another chance.
 */
import {
  MAX_ERROR_CHARS,
  MAX_SESSION_MS,
  MAX_STARTUP_MS,
  type PlaybackEvent,
  type PlaybackEventType,
  isTier,
  validatePlaybackEvent,
} from "../../../contract/playback-events.ts";

export const PLAYBACK_EVENTS_PATH = "/api/playback-events";
/** "every ~30 s" (issue): often enough that leaving without a last beacon loses little. */
export const HEARTBEAT_MS = 30_000;

export interface BeaconOptions {
  videoId: string;
  endpoint?: string;
  /** Defaults to a new random UUID: one per page view. */
  sessionId?: string;
  /** Milliseconds from any fixed origin (default `performance.now()`). */
  now?: () => number;
  /** Delivers one JSON body (default `sendBeacon`, then `fetch` with keepalive). */
  send?: (url: string, body: string) => void;
  /** Starts the heartbeat; returns how to stop it (default `setInterval`). */
  every?: (ms: number, fn: () => void) => () => void;
}

/**
 * Time watched and time rebuffering as two stopwatches, and the watched time per tier: pure
 * bookkeeping with an injected clock, so it is tested without a browser.
 */
export class PlaybackTotals {
  watchedMs = 0;
  rebufferMs = 0;
  rebufferCount = 0;
  tier: string | undefined;
  private playingSince: number | null = null;
  private stalledSince: number | null = null;

  constructor(private readonly now: () => number) {}

  /** Frames are advancing (`playing`, or the end of a stall). */
  playing(): void {
    this.settle();
    this.endStall();
    this.playingSince ??= this.now();
  }

  /** Paused, ended, or seeking: the clock stops, nothing is counted as a stall. */
  paused(): void {
    this.settle();
    this.playingSince = null;
    this.stalledSince = null;
  }

  /** Playback stopped to wait for data (`waiting` while not seeking). */
  stalled(): void {
    this.settle();
    this.playingSince = null;
    if (this.stalledSince === null) {
      this.stalledSince = this.now();
      this.rebufferCount++;
    }
  }

  /** The tier now playing; the time before the switch stays with the old one (the caller reports it first). */
  setTier(tier: string): void {
    this.settle();
    if (isTier(tier)) this.tier = tier;
  }

  /** Adds the running stopwatches into the totals (called before every beacon). */
  settle(): void {
    const t = this.now();
    if (this.playingSince !== null) {
      this.watchedMs += Math.max(0, t - this.playingSince);
      this.playingSince = t;
    }
    if (this.stalledSince !== null) {
      this.rebufferMs += Math.max(0, t - this.stalledSince);
      this.stalledSince = t;
    }
  }

  private endStall(): void {
    this.stalledSince = null;
  }
}

/**
 * A beacon as the Worker accepts it: whole milliseconds within the contract's ranges, an error
 * message cut to its length limit, checked by the same validator the Worker runs.
 */
export function buildEvent(
  base: { videoId: string; sessionId: string },
  type: PlaybackEventType,
  totals: Pick<PlaybackTotals, "watchedMs" | "rebufferMs" | "rebufferCount" | "tier">,
  extra: { startupMs?: number; error?: string } = {},
): PlaybackEvent | null {
  const ms = (n: number, max: number) => Math.min(max, Math.max(0, Math.round(n)));
  const event: PlaybackEvent = {
    ...base,
    type,
    watchedMs: ms(totals.watchedMs, MAX_SESSION_MS),
    rebufferMs: ms(totals.rebufferMs, MAX_SESSION_MS),
    rebufferCount: totals.rebufferCount,
    ...(totals.tier ? { tier: totals.tier } : {}),
    ...(extra.startupMs !== undefined ? { startupMs: ms(extra.startupMs, MAX_STARTUP_MS) } : {}),
    ...(extra.error !== undefined ? { error: extra.error.slice(0, MAX_ERROR_CHARS) } : {}),
  };
  return validatePlaybackEvent(event).ok ? event : null;
}

/** `sendBeacon` survives the page being closed; where it is missing or refuses, `fetch` with keepalive. */
export function sendBeaconOrFetch(url: string, body: string): void {
  if (typeof navigator !== "undefined" && typeof navigator.sendBeacon === "function" && navigator.sendBeacon(url, body)) return;
  // text/plain, as sendBeacon sends it: a simple request, no CORS preflight.
  void fetch(url, { method: "POST", body, keepalive: true, headers: { "Content-Type": "text/plain;charset=UTF-8" } }).catch(() => {});
}

/**
 * For the owner (or an admin) watching a private video without a share link: only their token lets
 * the Worker count the viewing, and `sendBeacon` cannot carry an Authorization header. `fetch` with
 * keepalive can, and also outlives the page.
 */
export const sendWithToken =
  (token: string) =>
  (url: string, body: string): void => {
    void fetch(url, {
      method: "POST",
      body,
      keepalive: true,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    }).catch(() => {});
  };

export class PlaybackBeacon {
  readonly sessionId: string;
  readonly totals: PlaybackTotals;
  private readonly endpoint: string;
  private readonly send: (url: string, body: string) => void;
  private readonly every: (ms: number, fn: () => void) => () => void;
  private stopHeartbeat: (() => void) | null = null;
  private started = false;
  private lastSentWatchedMs = -1;
  private lastSentRebufferMs = -1;

  constructor(private readonly opts: BeaconOptions) {
    this.sessionId = opts.sessionId ?? crypto.randomUUID();
    this.totals = new PlaybackTotals(opts.now ?? (() => performance.now()));
    this.endpoint = opts.endpoint ?? PLAYBACK_EVENTS_PATH;
    this.send = opts.send ?? sendBeaconOrFetch;
    this.every =
      opts.every ??
      ((ms, fn) => {
        const timer = setInterval(fn, ms);
        return () => clearInterval(timer);
      });
  }

  /** The first frame is shown, `startupMs` after the press (or autoplay). Once per session. */
  start(startupMs: number): void {
    if (this.started) return;
    this.started = true;
    this.totals.playing();
    this.emit("start", { startupMs });
    this.stopHeartbeat = this.every(HEARTBEAT_MS, () => this.heartbeat());
  }

  /** Sends the totals if they changed since the last beacon (a paused player sends nothing). */
  heartbeat(): void {
    if (!this.started) return;
    this.totals.settle();
    if (this.totals.watchedMs === this.lastSentWatchedMs && this.totals.rebufferMs === this.lastSentRebufferMs) return;
    this.emit("heartbeat");
  }

  /** A new tier plays: the time so far is reported for the old one first. */
  setTier(tier: string): void {
    if (tier === this.totals.tier) return;
    if (this.started && this.totals.tier) this.heartbeat();
    this.totals.setTier(tier);
  }

  /** The page is hidden or left: the last totals. Playback may resume later; heartbeats go on then. */
  end(): void {
    if (!this.started) return;
    this.totals.settle();
    this.emit("end");
  }

  /** A fatal error (the player gave up). Reported even before the first frame: that is when most happen. */
  error(message: string): void {
    this.totals.settle();
    this.emit("error", { error: message });
  }

  /** Sends `end` on `pagehide` and when the page is hidden; returns how to stop (also stops heartbeats). */
  attach(
    win: Pick<Window, "addEventListener" | "removeEventListener"> & {
      document: Pick<Document, "visibilityState" | "addEventListener" | "removeEventListener">;
    },
  ): () => void {
    const onHide = () => this.end();
    const onVisibility = () => {
      if (win.document.visibilityState === "hidden") this.end();
    };
    win.addEventListener("pagehide", onHide);
    win.document.addEventListener("visibilitychange", onVisibility);
    return () => {
      win.removeEventListener("pagehide", onHide);
      win.document.removeEventListener("visibilitychange", onVisibility);
      this.stopHeartbeat?.();
      this.stopHeartbeat = null;
    };
  }

  private emit(type: PlaybackEventType, extra: { startupMs?: number; error?: string } = {}): void {
    const event = buildEvent({ videoId: this.opts.videoId, sessionId: this.sessionId }, type, this.totals, extra);
    if (!event) return;
    this.lastSentWatchedMs = this.totals.watchedMs;
    this.lastSentRebufferMs = this.totals.rebufferMs;
    this.send(this.endpoint, JSON.stringify(event));
  }
}
