import { purgePlaybackSessions } from "../db/playback-stats.ts";

/**
 * How long a playback session is remembered after its last beacon. Every beacon is added to the
 * day's aggregates as it arrives, so by the daily cron the finished day is complete; the session
 * rows only let a repeated or late beacon be recognised. Two days is far beyond any retry of a
 * beacon (and a player's session ends with its page), while the table stays at about two days of
 * sessions instead of growing forever.
 */
export const SESSION_RETENTION_MS = 2 * 86_400_000;

/** Daily cron: forgets sessions silent for longer than the retention; returns how many. */
export async function purgeOldSessions(env: Env, now: number): Promise<number> {
  return purgePlaybackSessions(env.DB, now - SESSION_RETENTION_MS);
}
