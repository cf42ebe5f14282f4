import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type VideoRow } from "../db/schema.ts";

/** What playback needs to know about a video before serving any of its files. */
export type PlaybackState = Pick<VideoRow, "id" | "visibility" | "status" | "playable" | "run">;

/**
 * Every file request checks its video's state, so a deleted, cancelled or privatised video stops
 * playing everywhere within PLAYBACK_STATE_TTL_MS — cached files included, since a cache hit is only
 * served after this check. The state is remembered per isolate for a few seconds so that a player
 * fetching segments does not cost a D1 read each.
 */
export const PLAYBACK_STATE_TTL_MS = 5_000;
const remembered = new Map<string, { state: PlaybackState | null; until: number }>();

export async function playbackState(env: Env, id: string, now = Date.now()): Promise<PlaybackState | null> {
  const hit = remembered.get(id);
  if (hit && hit.until > now) return hit.state;
  const state =
    (await drizzle(env.DB)
      .select({ id: videos.id, visibility: videos.visibility, status: videos.status, playable: videos.playable, run: videos.run })
      .from(videos)
      .where(eq(videos.id, id))
      .get()) ?? null;
  if (remembered.size > 10_000) remembered.clear();
  remembered.set(id, { state, until: now + PLAYBACK_STATE_TTL_MS });
  return state;
}

/** Called where this isolate changes a video's playability (delete, cancel, visibility). */
export function forgetPlaybackState(id: string): void {
  remembered.delete(id);
}

export const isServable = (s: PlaybackState): boolean => s.status === "READY" || (s.status === "PROCESSING" && s.playable);
