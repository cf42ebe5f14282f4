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

const message = (videoId: string, version: number, exp: string) => `play:${videoId}:${version}:${exp}`;

export async function signPlaybackToken(
  secret: string,
  videoId: string,
  version: number,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<string> {
  const exp = (nowSec + PLAYBACK_TOKEN_TTL_SEC).toString(36);
  return `${exp}.${await hmac(secret, message(videoId, version, exp))}`;
}

/** `version`: the video's current `playback_version`; a token signed under another one is refused. */
export async function verifyPlaybackToken(
  secret: string,
  videoId: string,
  version: number,
  token: string,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  const [exp, sig, ...rest] = token.split(".");
  if (!exp || !sig || rest.length || !/^[0-9a-z]{1,10}$/.test(exp)) return false;
  if (parseInt(exp, 36) < nowSec) return false;
  const expected = await hmac(secret, message(videoId, version, exp));
  // Constant-time comparison.
  if (expected.length !== sig.length) return false;
  let diff = 0;
  for (let i = 0; i < sig.length; i++) diff |= expected.charCodeAt(i) ^ sig.charCodeAt(i);
  return diff === 0;
}
