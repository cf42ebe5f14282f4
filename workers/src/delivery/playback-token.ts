/**
 * Signed, expiring playback tokens for private videos. The token sits in the URL path
 * (/videos/<id>/p/<token>/index.m3u8), so every relative URL a player follows inside the playlists
 * (240p/index.m3u8, seg_00000.ts) carries it too — a query string would be dropped.
 * Format: <expiry seconds, base36>.<HMAC-SHA256(secret, "play:<id>:<expiry>"), base64url>.
 */
export const PLAYBACK_TOKEN_TTL_SEC = 6 * 60 * 60;

const encoder = new TextEncoder();

async function hmac(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return btoa(String.fromCharCode(...sig)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function signPlaybackToken(secret: string, videoId: string, nowSec = Math.floor(Date.now() / 1000)): Promise<string> {
  const exp = (nowSec + PLAYBACK_TOKEN_TTL_SEC).toString(36);
  return `${exp}.${await hmac(secret, `play:${videoId}:${exp}`)}`;
}

export async function verifyPlaybackToken(secret: string, videoId: string, token: string, nowSec = Math.floor(Date.now() / 1000)): Promise<boolean> {
  const [exp, sig, ...rest] = token.split(".");
  if (!exp || !sig || rest.length || !/^[0-9a-z]{1,10}$/.test(exp)) return false;
  if (parseInt(exp, 36) < nowSec) return false;
  const expected = await hmac(secret, `play:${videoId}:${exp}`);
  // Constant-time comparison.
  if (expected.length !== sig.length) return false;
  let diff = 0;
  for (let i = 0; i < sig.length; i++) diff |= expected.charCodeAt(i) ^ sig.charCodeAt(i);
  return diff === 0;
}
