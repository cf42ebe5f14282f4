/**
 * The token of a direct upload link: `<videoId>.<expiry seconds, base36>.<HMAC-SHA256(secret,
 * "direct-upload:<videoId>:<expiry>"), base64url>`. It names the one video the link may create and
 * cannot be altered without the secret; what the link allows (creator, caps) is in D1, read by id.
 * The purpose prefix keeps it from ever passing as a playback, share or job token.
 */
import { isVideoId } from "../videos/ids.ts";

const encoder = new TextEncoder();

async function hmac(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return btoa(String.fromCharCode(...sig))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

const message = (videoId: string, exp: string) => `direct-upload:${videoId}:${exp}`;

export async function signDirectUploadToken(secret: string, videoId: string, expSec: number): Promise<string> {
  const exp = expSec.toString(36);
  return `${videoId}.${exp}.${await hmac(secret, message(videoId, exp))}`;
}

export interface DirectUploadToken {
  videoId: string;
  expSec: number;
}

/** The token's video and expiry when its signature is right (expired or not), else null. */
export async function verifyDirectUploadToken(secret: string, token: string): Promise<DirectUploadToken | null> {
  const [videoId, exp, sig, ...rest] = token.split(".");
  if (!videoId || !exp || !sig || rest.length || !isVideoId(videoId) || !/^[0-9a-z]{1,10}$/.test(exp)) return null;
  const expected = await hmac(secret, message(videoId, exp));
  // Constant-time comparison.
  if (expected.length !== sig.length) return null;
  let diff = 0;
  for (let i = 0; i < sig.length; i++) diff |= expected.charCodeAt(i) ^ sig.charCodeAt(i);
  return diff === 0 ? { videoId, expSec: parseInt(exp, 36) } : null;
}
