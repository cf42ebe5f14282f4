/**
 * Signed, expiring playback tokens for private videos. The token sits in the URL path
 * (/videos/<id>/p/<token>/index.m3u8), so every relative URL a player follows inside the playlists
 * (240p/index.m3u8, seg_00000.ts) carries it too — a query string would be dropped.
 * Format: <expiry seconds, base36>.<HMAC-SHA256(secret, "play:<id>:<version>:<expiry>"), base64url>.
 *
 * <version> is the video's `playback_version`. It is not written in the token: the verifier signs
 * with the video's current version, so bumping it (a visibility change, or the owner revoking links)
 * voids every URL signed before, all at once, without a list of revoked tokens.
 */
export const PLAYBACK_TOKEN_TTL_SEC = 6 * 60 * 60;

const encoder = new TextEncoder();

async function hmac(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return btoa(String.fromCharCode(...sig))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * What a token opens: "play" a playlist path, "share" a watch link (the card and a playback URL),
 * "download" the owner's MP4 download (whether or not the video is downloadable).
 * The purpose is part of the signed message, so one kind never passes as the other.
 */
type Purpose = "play" | "share" | "download";

const message = (purpose: Purpose, videoId: string, version: number, exp: string) => `${purpose}:${videoId}:${version}:${exp}`;

async function sign(secret: string, purpose: Purpose, videoId: string, version: number, expSec: number): Promise<string> {
  const exp = expSec.toString(36);
  return `${exp}.${await hmac(secret, message(purpose, videoId, version, exp))}`;
}

/** The token's expiry in seconds when it is valid now, else null. */
async function verify(
  secret: string,
  purpose: Purpose,
  videoId: string,
  version: number,
  token: string,
  nowSec: number,
): Promise<number | null> {
  const [exp, sig, ...rest] = token.split(".");
  if (!exp || !sig || rest.length || !/^[0-9a-z]{1,10}$/.test(exp)) return null;
  const expSec = parseInt(exp, 36);
  if (expSec < nowSec) return null;
  const expected = await hmac(secret, message(purpose, videoId, version, exp));
  // Constant-time comparison.
  if (expected.length !== sig.length) return null;
  let diff = 0;
  for (let i = 0; i < sig.length; i++) diff |= expected.charCodeAt(i) ^ sig.charCodeAt(i);
  return diff === 0 ? expSec : null;
}

/** `ttlSec`: shorter than PLAYBACK_TOKEN_TTL_SEC for a share link's viewer, so the URL ends with the link. */
export async function signPlaybackToken(
  secret: string,
  videoId: string,
  version: number,
  nowSec = Math.floor(Date.now() / 1000),
  ttlSec = PLAYBACK_TOKEN_TTL_SEC,
): Promise<string> {
  return sign(secret, "play", videoId, version, nowSec + ttlSec);
}

/** `version`: the video's current `playback_version`; a token signed under another one is refused. */
export async function verifyPlaybackToken(
  secret: string,
  videoId: string,
  version: number,
  token: string,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  return (await verify(secret, "play", videoId, version, token, nowSec)) !== null;
}

/** A share link lives from a minute to 30 days (POST /api/videos/:id/share). */
export const SHARE_TTL_MIN_SEC = 60;
export const SHARE_TTL_MAX_SEC = 30 * 24 * 60 * 60;

/**
 * The token of a share link (`/watch/<id>?share=<token>`): the same format as a playback token,
 * signed with the same playback version, so revoking (or a visibility change) voids both at once.
 */
export async function signShareToken(
  secret: string,
  videoId: string,
  version: number,
  ttlSec: number,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<string> {
  return sign(secret, "share", videoId, version, nowSec + ttlSec);
}

/** The share link's expiry (seconds) when it is valid now under the video's current version, else null. */
export async function verifyShareToken(
  secret: string,
  videoId: string,
  version: number,
  token: string,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<number | null> {
  return verify(secret, "share", videoId, version, token, nowSec);
}

/**
 * The owner's download token (`/videos/<id>/p/<token>/download.mp4`): it opens the MP4 even when the
 * video is not downloadable, so only the owner's card carries one. Signed with the playback version
 * like the others (a revoke voids it too), for as long as a playback URL lives.
 */
export async function signDownloadToken(
  secret: string,
  videoId: string,
  version: number,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<string> {
  return sign(secret, "download", videoId, version, nowSec + PLAYBACK_TOKEN_TTL_SEC);
}

export async function verifyDownloadToken(
  secret: string,
  videoId: string,
  version: number,
  token: string,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  return (await verify(secret, "download", videoId, version, token, nowSec)) !== null;
}
