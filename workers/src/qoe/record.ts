import type { PlaybackEvent } from "../../../contract/playback-events.ts";
import { recordPlaybackEvent } from "../db/playback-stats.ts";
import { startupBucket } from "./histogram.ts";
import { SessionRateLimiter } from "./rate-limit.ts";

/** Beacons one session may send in all: ~30 s heartbeats for well over an hour, then nothing counts. */
export const MAX_EVENTS_PER_SESSION = 200;

const limiter = new SessionRateLimiter();

/** For tests: forget the per-isolate rate windows. */
export const resetPlaybackRateLimit = () => limiter.clear();

export type RecordOutcome = "recorded" | "rate_limited" | "capped";

/**
 * Counts one validated beacon of a video the sender may watch: the per-isolate burst limit first
 * (no D1 work for a flood), then the D1 aggregates (idempotent, capped per session), and, where
 * the binding exists (production), one Analytics Engine data point per accepted beacon.
 */
export async function recordPlayback(env: Env, event: PlaybackEvent, country: string, now: number): Promise<RecordOutcome> {
  // By session id alone: a player's session plays one video, so a session id spraying beacons over
  // many videos is a flood too (the D1 cap below is per video and session).
  if (!limiter.allow(event.sessionId, now)) return "rate_limited";
  const outcome = await recordPlaybackEvent(env.DB, {
    event,
    day: new Date(now).toISOString().slice(0, 10),
    country,
    startupBucket: event.type === "start" && event.startupMs !== undefined ? startupBucket(event.startupMs) : null,
    maxEvents: MAX_EVENTS_PER_SESSION,
    now,
  });
  if (outcome === "recorded") writeDataPoint(env, event, country);
  return outcome;
}

/** Raw events for ad-hoc queries; no session id (it would only link a viewer's beacons together). */
function writeDataPoint(env: Env, e: PlaybackEvent, country: string): void {
  env.PLAYBACK_EVENTS?.writeDataPoint({
    indexes: [e.videoId],
    blobs: [e.type, country, e.tier ?? "", e.error ?? ""],
    doubles: [e.startupMs ?? -1, e.watchedMs ?? -1, e.rebufferMs ?? -1, e.rebufferCount ?? -1],
  });
}
