import { API_KEY_PREFIX } from "../../../contract/api-keys.ts";
import { isScope, type Scope } from "../../../contract/scopes.ts";
import { activeKeyByHash, touchApiKey } from "../db/api-keys.ts";
import type { ApiKeyRow } from "../db/schema.ts";
import type { AuthUser } from "./auth.ts";

/**
 * Server API keys: `evk_` + 32 random bytes (base64url). Only the key's SHA-256 is stored.
 *
 * Why a fast hash is enough: a slow hash (bcrypt, scrypt) protects secrets people choose, which can
 * be guessed from a dictionary. A key is 256 random bits; knowing its SHA-256 does not help find it
 * any faster than trying 2^256 keys. And a fast hash lets a request find its key with one indexed
 * lookup instead of a deliberately slow computation per request.
 *
 * Why no constant-time compare: nothing here compares a secret with what was sent byte by byte.
 * The sent key is hashed and the hash looked up in an index; the time that takes can at most tell
 * an attacker something about the hash of their own guess, and learning a prefix of a SHA-256
 * does not get anyone closer to a key whose hash matches.
 */

const KEY_BYTES = 32;
/** "evk_" + 43 base64url characters. */
const KEY_SHAPE = /^evk_[A-Za-z0-9_-]{43}$/;
/** "Record when it was last used" without a D1 write per request: at most one write a minute per key. */
export const API_KEY_TOUCH_INTERVAL_MS = 60_000;

export const looksLikeApiKey = (token: string): boolean => token.startsWith(API_KEY_PREFIX);

export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  return (
    API_KEY_PREFIX +
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "")
  );
}

export async function hashApiKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The part of a key safe to show again: the prefix and 4 of its 43 random characters (24 of 256 bits). */
export const keyHint = (key: string): string => key.slice(0, API_KEY_PREFIX.length + 4);

export const scopesOf = (row: ApiKeyRow): Scope[] => (JSON.parse(row.scopes) as unknown[]).filter(isScope);

/** Per isolate: when each key was last written, so a burst of requests writes once. */
const touchedAt = new Map<string, number>();

/**
 * The key's identity, or null for a malformed, unknown or revoked key. No cache: the lookup runs on
 * every request, so a revoked key is refused on the very next one, in every isolate. `waitUntil`
 * records the use in the background, at most once per key and minute.
 */
export async function authenticateApiKey(
  env: Env,
  key: string,
  waitUntil: (work: Promise<unknown>) => void,
  now = Date.now(),
): Promise<AuthUser | null> {
  if (!KEY_SHAPE.test(key)) return null;
  const row = await activeKeyByHash(env.DB, await hashApiKey(key));
  if (!row) return null;
  const last = Math.max(row.lastUsedAt ?? 0, touchedAt.get(row.id) ?? 0);
  if (now - last >= API_KEY_TOUCH_INTERVAL_MS) {
    touchedAt.set(row.id, now);
    waitUntil(touchApiKey(env.DB, row.id, now).catch((error) => console.error(`Recording the use of API key ${row.id} failed:`, error)));
  }
  // A key acts for the app, never as a person: the creator role (so it never passes an admin
  // check) under an id no person's token can carry (see keyUserId).
  return { id: keyUserId(row.id), role: "creator", scopes: scopesOf(row) };
}

/** Person ids (dev login, identity provider `sub`) never start with "apikey:"; auth refuses such a `sub`. */
export const KEY_USER_PREFIX = "apikey:";
export const keyUserId = (keyId: string): string => `${KEY_USER_PREFIX}${keyId}`;
