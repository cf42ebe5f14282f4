/**
 * The key the Worker proves itself with to the transcoder's control routes (POST /jobs, DELETE
 * /jobs/:id): HMAC-SHA256 of a fixed label under JWT_SECRET, hex. Derived, not configured, so the
 * transcoder is given it (TRANSCODER_CONTROL_KEY) by whoever starts it from the same secret — the
 * Worker for its Container, workers/dev/stack.ts locally — and the secret itself never leaves the Worker.
 * Web Crypto only, so the Worker and Node compute it alike.
 */
const LABEL = "edge-video:transcoder-control:v1";

export async function transcoderControlKey(jwtSecret: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(jwtSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(LABEL)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}
