import type { VideoRow } from "../db/schema.ts";
import { findPlaybackState } from "../db/videos.ts";

/** What playback needs to know about a video before serving any of its files. */
export type PlaybackState = Pick<
  VideoRow,
  "id" | "visibility" | "status" | "playable" | "run" | "playbackVersion" | "downloadable" | "title"
>;

/**
 * Every file request checks its video's state, so a deleted, cancelled or privatised video stops
 * playing everywhere within PLAYBACK_STATE_TTL_MS — cached files included, since a cache hit is only
 * served after this check. The state is remembered per isolate for a few seconds so that a player
 * fetching segments does not cost a D1 read each.
 *
 * The state carries `playbackVersion`, against which signed URLs are verified: after a visibility
 * change or a revoke, a URL signed before stops working at once in the isolate that made the change
 * (it calls forgetPlaybackState) and within PLAYBACK_STATE_TTL_MS (5 s) at most everywhere else,
 * when each isolate's remembered state expires and is read again from D1 (a read already under way
 * during the change may remember the old version: still 5 s from that read at most).
 */
export const PLAYBACK_STATE_TTL_MS = 5_000;
const remembered = new Map<string, { state: PlaybackState | null; until: number }>();

export async function playbackState(env: Env, id: string, now = Date.now()): Promise<PlaybackState | null> {
  const hit = remembered.get(id);
  if (hit && hit.until > now) return hit.state;
  const state = (await findPlaybackState(env.DB, id)) ?? null;
  if (remembered.size > 10_000) remembered.clear();
  remembered.set(id, { state, until: now + PLAYBACK_STATE_TTL_MS });
  return state;
}

/** Called where this isolate changes a video's playability (delete, cancel, visibility) or its playback version (revoke). */
export function forgetPlaybackState(id: string): void {
  remembered.delete(id);
}

export const isServable = (s: PlaybackState): boolean => s.status === "READY" || (s.status === "PROCESSING" && s.playable);
