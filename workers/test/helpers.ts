import { SELF, env } from "cloudflare:test";
import { signUserToken, type Role } from "../src/http/auth.ts";

export const BASE = "https://edge.test";
export const UPLOADS = `${BASE}/api/video/uploads`;

export async function tokenFor(userId: string, role: Role = "creator"): Promise<string> {
  return signUserToken(env.JWT_SECRET, { id: userId, role });
}

/** Tokens of the users most tests act as: two creators (alice, bob) and an admin (root). */
export async function usualUsers(): Promise<{ alice: string; bob: string; admin: string }> {
  return { alice: await tokenFor("alice"), bob: await tokenFor("bob"), admin: await tokenFor("root", "admin") };
}

const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
export const metadataHeader = (pairs: Record<string, string>) =>
  Object.entries(pairs)
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(",");

export const DEFAULT_METADATA = metadataHeader({ filename: "clip.mp4", filetype: "video/mp4" });

export function tus(token: string | null, headers: Record<string, string> = {}): Record<string, string> {
  return { "Tus-Resumable": "1.0.0", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers };
}

/** POST creation; returns the response and the upload URL. */
export async function createUpload(token: string, length: number | "defer", headers: Record<string, string> = {}) {
  const lengthHeader: Record<string, string> = length === "defer" ? { "Upload-Defer-Length": "1" } : { "Upload-Length": String(length) };
  const res = await SELF.fetch(UPLOADS, {
    method: "POST",
    headers: tus(token, { "Upload-Metadata": DEFAULT_METADATA, ...lengthHeader, ...headers }),
  });
  const location = res.headers.get("Location");
  return { res, url: location ?? "", id: location?.split("/").pop() ?? "" };
}

export function patch(token: string, url: string, offset: number, body: BodyInit | null, headers: Record<string, string> = {}) {
  return SELF.fetch(url, {
    method: "PATCH",
    headers: tus(token, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset), ...headers }),
    body,
  });
}

export const head = (token: string, url: string) => SELF.fetch(url, { method: "HEAD", headers: tus(token) });

export function randomBytes(size: number, seed = 1): Uint8Array {
  // Deterministic pseudo-random bytes (xorshift), so failures are reproducible.
  const out = new Uint8Array(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function digestBase64(algorithm: "SHA-1" | "SHA-256", bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(algorithm, bytes));
  return btoa(String.fromCharCode(...digest));
}

/** SHA-256 hex of bytes; large arrays are compared by digest (deep equality on MiBs exhausts the heap). */
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Size and SHA-256 of an R2 object, or null when it is absent. */
export async function r2Digest(key: string): Promise<{ size: number; sha256: string } | null> {
  const obj = await env.MEDIA.get(key);
  if (!obj) return null;
  const bytes = await obj.arrayBuffer();
  return { size: bytes.byteLength, sha256: await sha256Hex(bytes) };
}

export async function digestOf(bytes: Uint8Array) {
  return { size: bytes.byteLength, sha256: await sha256Hex(bytes) };
}
