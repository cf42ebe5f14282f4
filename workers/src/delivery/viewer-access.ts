import type { VideoRow } from "../db/schema.ts";
import { toVideoResponse } from "../db/videos.ts";
import type { RenditionSummary, ViewerCardResponse } from "../../../contract/api.ts";
import { isServable } from "./playback-state.ts";
import { PLAYBACK_TOKEN_TTL_SEC, signPlaybackToken, verifyShareToken } from "./playback-token.ts";

/**
 * What someone who is neither the owner nor an admin may see of a video — signed in or not:
 * "a `public` video that is `playable`", or any playable video opened with a valid share link.
 * `playbackToken` is what its URLs carry (a private video's signed path), null for public paths.
 * Anything else is null, which every caller answers as 404: private, not playable yet, a share
 * token that expired, was revoked (playback version bumped) or is forged.
 */
export interface ViewerGrant {
  playbackToken: string | null;
  /** The share token that opened it, when that is why it may be seen (public videos need none). */
  share: string | null;
}

export async function viewerGrant(
  env: Env,
  row: VideoRow,
  share: string | undefined,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<ViewerGrant | null> {
  if (!isServable(row)) return null;
  // A public video needs no link: a stale or foreign share token never hides what anyone may see.
  if (row.visibility === "public") return { playbackToken: null, share: null };
  const expSec = share ? await verifyShareToken(env.JWT_SECRET, row.id, row.playbackVersion, share, nowSec) : null;
  if (expSec === null) return null;
  // The playback URL ends with the link: never later than the share token's own expiry.
  const ttl = Math.min(PLAYBACK_TOKEN_TTL_SEC, expSec - nowSec);
  return { playbackToken: await signPlaybackToken(env.JWT_SECRET, row.id, row.playbackVersion, nowSec, ttl), share: share ?? null };
}

/** "The fields of §3 minus `sourceBytes`, `sourceSha256`, `error`, `message`, `job`." */
export function toViewerCard(row: VideoRow, playbackToken: string | null): ViewerCardResponse {
  const { sourceBytes: _bytes, sourceSha256: _sha, error: _error, message: _message, ...card } = toVideoResponse(row, playbackToken);
  return card;
}

/** The largest rendition (the player's top tier), or null before the transcoder reported any. */
export function topRendition(renditions: RenditionSummary[]): RenditionSummary | null {
  return renditions.reduce<RenditionSummary | null>((top, r) => (top && top.height >= r.height ? top : r), null);
}
