/**
 * The webhooks' rules, pure: which endpoint URLs are accepted, the retry schedule, and the
 * Standard Webhooks signature.
 */

/**
 * Attempts of one round (a resend starts another). With the default base of 30 s the waits are
 * 30 s, 2 min, 8 min, 32 min, 2 h 8 min, 8 h 32 min, 12 h: a receiver may be down for about
 * 23 hours before a delivery is given up.
 */
export const MAX_ATTEMPTS = 8;
export const DEFAULT_RETRY_BASE_SEC = 30;
/** Queues delay a message by at most 12 hours. */
export const MAX_DELAY_SEC = 12 * 60 * 60;
export const DEFAULT_TIMEOUT_SEC = 10;

/** Seconds to wait after failed attempt `attempt` (1-based) before the next: base × 4^(attempt−1), at most 12 h. */
export function retryDelaySec(attempt: number, baseSec = DEFAULT_RETRY_BASE_SEC): number {
  return Math.min(MAX_DELAY_SEC, baseSec * 4 ** Math.max(0, attempt - 1));
}

export interface WebhookTimings {
  retryBaseSec: number;
  timeoutMs: number;
}

/** WEBHOOK_RETRY_BASE_SECONDS and WEBHOOK_TIMEOUT_SECONDS (tests shorten them); empty: the defaults. */
export function webhookTimings(env: Pick<Env, "WEBHOOK_RETRY_BASE_SECONDS" | "WEBHOOK_TIMEOUT_SECONDS">): WebhookTimings {
  const positive = (raw: string | undefined, fallback: number) => {
    const n = Number(raw);
    return raw && Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return {
    retryBaseSec: positive(env.WEBHOOK_RETRY_BASE_SECONDS, DEFAULT_RETRY_BASE_SEC),
    timeoutMs: positive(env.WEBHOOK_TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SEC) * 1000,
  };
}

// ---- Endpoint URLs ----

const LOOPBACK_NAMES = /^(localhost|.*\.localhost)$/i;

/** IPv4 in dotted form → its four numbers, or null. */
function ipv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function ipv4Kind(p: number[]): "loopback" | "private" | "public" {
  const [a, b] = p as [number, number];
  if (a === 127) return "loopback";
  if (
    a === 0 ||
    a === 10 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && p[2] === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224 // multicast, reserved, broadcast
  )
    return "private";
  return "public";
}

function ipv6Kind(host: string): "loopback" | "private" | "public" | null {
  if (!host.startsWith("[")) return null;
  const addr = host.slice(1, -1).toLowerCase();
  if (addr === "::1") return "loopback";
  if (addr === "::") return "private";
  // IPv4-mapped (::ffff:a.b.c.d, which URL normalizes to ::ffff:xxxx:xxxx).
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(addr);
  if (mapped) {
    const hi = Number.parseInt(mapped[1] as string, 16);
    const lo = Number.parseInt(mapped[2] as string, 16);
    return ipv4Kind([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  if (/^f[cd]/.test(addr) || /^fe[89ab]/.test(addr) || addr.startsWith("ff")) return "private";
  return "public";
}

function hostKind(hostname: string): "loopback" | "private" | "public" {
  if (LOOPBACK_NAMES.test(hostname)) return "loopback";
  const v4 = ipv4(hostname);
  if (v4) return ipv4Kind(v4);
  return ipv6Kind(hostname) ?? (hostname.includes(".") ? "public" : "private");
}

/**
 * "Endpoint URLs must be https: in production (loopback allowed only when DEV_AUTH is on)":
 * the endpoint URL, or a sentence saying why it is refused. Private and loopback addresses,
 * single-label names and anything but http(s) are refused, as are URLs carrying credentials.
 * (A public name that resolves to a private address cannot be checked here; a Worker's fetch
 * does not reach private networks.)
 */
export function checkEndpointUrl(raw: unknown, devAuth: boolean): { ok: true; url: string } | { ok: false; message: string } {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 2048)
    return { ok: false, message: "url must be an https URL of at most 2048 characters." };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      ok: false,
      message: `${JSON.stringify(raw.slice(0, 100))} is not a URL; give an https URL such as https://example.com/hooks.`,
    };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, message: `Webhook URLs must use https; ${url.protocol.replace(/:$/, "")} is not accepted.` };
  if (url.username || url.password)
    return { ok: false, message: "Webhook URLs must not carry a user name or password; the signature authenticates each delivery." };
  const kind = hostKind(url.hostname);
  if (kind === "loopback") {
    if (devAuth) return { ok: true, url: url.href };
    return { ok: false, message: `${url.hostname} is a loopback address; webhooks are delivered to public https URLs only.` };
  }
  if (kind === "private")
    return { ok: false, message: `${url.hostname} is a private or reserved address; webhooks are delivered to public https URLs only.` };
  if (url.protocol !== "https:")
    return { ok: false, message: "Webhook URLs must use https (plain http is accepted only for loopback in local development)." };
  return { ok: true, url: url.href };
}

// ---- Signing (Standard Webhooks) ----

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

/** "whsec_" + base64 of 24 random bytes (the spec allows 24 to 64 bytes). */
export function newSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/** `msg_` + 26 random base32-ish characters: the `webhook-id` of a delivery. */
export function newMessageId(prefix = "msg"): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `${prefix}_${Array.from(bytes, (b) => alphabet[b % 36]).join("")}`;
}

/**
 * The headers of one attempt: "The signature is … HMAC-SHA256 … of `{msg_id}.{timestamp}.{payload}`
 * … base64 encoded, prefixed with a version identifier (`v1,`)", keyed by the base64-decoded part
 * of the secret after `whsec_`. `timestampSec` is the attempt's time (receivers refuse old ones).
 */
export async function signatureHeaders(secret: string, id: string, timestampSec: number, body: string): Promise<Record<string, string>> {
  const key = await crypto.subtle.importKey("raw", fromBase64(secret.replace(/^whsec_/, "")), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSec}.${body}`));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSec),
    "webhook-signature": `v1,${toBase64(new Uint8Array(mac))}`,
  };
}
