/**
 * Playback events: what a player reports about one viewing (`POST /api/playback-events`). The Worker
 * validates every beacon with `validatePlaybackEvent`; the web app's beacon module builds them with
 * the same rules, so a well-behaved player never sends one the Worker refuses.
 */
import { isVideoId } from "./video.ts";

export const PLAYBACK_EVENT_TYPES = ["start", "heartbeat", "end", "error"] as const;
export type PlaybackEventType = (typeof PLAYBACK_EVENT_TYPES)[number];

/**
 * One beacon. Totals are cumulative for the session (heartbeats repeat them, growing), so a lost
 * beacon loses nothing and a repeated one adds nothing.
 */
export interface PlaybackEvent {
  videoId: string;
  /** Random per page view; says nothing about the viewer. */
  sessionId: string;
  type: PlaybackEventType;
  /** Press (or autoplay) to first frame, on "start". */
  startupMs?: number;
  rebufferCount?: number;
  rebufferMs?: number;
  /** Time the video actually played, rebuffering excluded. */
  watchedMs?: number;
  /** The tier playing now, e.g. "480p": the watched time since the last beacon is counted for it. */
  tier?: string;
  /** A fatal error's description, on "error". */
  error?: string;
}

/** A video's all-time views and watch time, as each item of `GET /api/videos` carries them. */
export interface PlaybackTotals {
  /** Sessions that started playing. */
  views: number;
  /** Whole seconds actually played, rebuffering excluded. */
  watchSeconds: number;
}

/** "≤ 4 KB" (contract §3.1): a beacon is a handful of numbers. */
export const PLAYBACK_EVENT_MAX_BYTES = 4 * 1024;
/** Longer than anyone waits for a first frame; above it the number is not a measurement. */
export const MAX_STARTUP_MS = 10 * 60 * 1000;
/** One page view cannot play or stall for more than a day. */
export const MAX_SESSION_MS = 24 * 60 * 60 * 1000;
export const MAX_REBUFFER_COUNT = 100_000;
export const MAX_ERROR_CHARS = 200;
/** A short opaque id (a UUID fits): letters, digits, "-" and "_", 8 to 64 of them. */
const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** A tier is named by its height: "240p", "1080p". */
const TIER = /^[1-9][0-9]{1,3}p$/;

export const isSessionId = (value: unknown): value is string => typeof value === "string" && SESSION_ID.test(value);
export const isTier = (value: unknown): value is string => typeof value === "string" && TIER.test(value);

export type PlaybackEventCheck = { ok: true; event: PlaybackEvent } | { ok: false; message: string };

const FIELDS = new Set(["videoId", "sessionId", "type", "startupMs", "rebufferCount", "rebufferMs", "watchedMs", "tier", "error"]);

/** Checks a parsed beacon: types, ranges and unknown fields; the message is a sentence for people. */
export function validatePlaybackEvent(value: unknown): PlaybackEventCheck {
  const fail = (message: string): PlaybackEventCheck => ({ ok: false, message });
  if (!value || typeof value !== "object" || Array.isArray(value)) return fail("The body must be a JSON object.");
  const body = value as Record<string, unknown>;
  const unknown = Object.keys(body).find((key) => !FIELDS.has(key));
  if (unknown !== undefined) return fail(`Unknown field "${unknown.slice(0, 40)}": send only the fields of a playback event.`);
  if (typeof body.videoId !== "string" || !isVideoId(body.videoId)) return fail("videoId must be the id of a video.");
  if (!isSessionId(body.sessionId)) return fail("sessionId must be 8 to 64 letters, digits, '-' or '_'.");
  if (!PLAYBACK_EVENT_TYPES.includes(body.type as PlaybackEventType)) {
    return fail(`type must be one of ${PLAYBACK_EVENT_TYPES.map((t) => `"${t}"`).join(", ")}.`);
  }
  const event: PlaybackEvent = { videoId: body.videoId, sessionId: body.sessionId, type: body.type as PlaybackEventType };
  const counts: [keyof PlaybackEvent & ("startupMs" | "rebufferCount" | "rebufferMs" | "watchedMs"), number][] = [
    ["startupMs", MAX_STARTUP_MS],
    ["rebufferCount", MAX_REBUFFER_COUNT],
    ["rebufferMs", MAX_SESSION_MS],
    ["watchedMs", MAX_SESSION_MS],
  ];
  for (const [field, max] of counts) {
    const n = body[field];
    if (n === undefined) continue;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) {
      return fail(`${field} must be a whole number from 0 to ${max}.`);
    }
    event[field] = n;
  }
  if (body.tier !== undefined) {
    if (!isTier(body.tier)) return fail('tier must name a tier by its height, like "480p".');
    event.tier = body.tier;
  }
  if (body.error !== undefined) {
    if (typeof body.error !== "string" || body.error.length > MAX_ERROR_CHARS) {
      return fail(`error must be a text of at most ${MAX_ERROR_CHARS} characters.`);
    }
    event.error = body.error;
  }
  return { ok: true, event };
}
