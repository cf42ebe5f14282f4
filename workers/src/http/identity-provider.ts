import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { ApiError } from "./errors.ts";
import type { AuthUser } from "./auth.ts";
import { KEY_USER_PREFIX } from "./api-keys.ts";

/**
 * Tokens of the app's own identity provider: RS256/ES256 (and the other asymmetric algorithms),
 * checked against the provider's published JWKS, its issuer and our audience. Off unless
 * JWT_ISSUER, JWT_AUDIENCE and JWT_JWKS_URL are all set.
 */

/** Asymmetric only: a JWKS never lends its public key to an HMAC check (no algorithm confusion). */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
const DEFAULT_ROLE_CLAIM = "role";
/** Unknown `kid`s refetch the JWKS, but at most once per this many seconds (unless JWT_JWKS_COOLDOWN_SECONDS says otherwise). */
const DEFAULT_COOLDOWN_SEC = 30;
/** Keys are refetched after this long even when every `kid` is known, so a removed key stops working. */
const CACHE_MAX_AGE_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_SUB_LENGTH = 255;

export const identityProviderEnabled = (env: Env): boolean => Boolean(env.JWT_ISSUER && env.JWT_AUDIENCE && env.JWT_JWKS_URL);

/**
 * One key set per isolate, kept across requests: jose caches the fetched keys, refetches when a
 * token names a `kid` it does not hold (key rotation), and never more often than the cooldown.
 */
let keySet: { url: string; cooldownMs: number; get: JWTVerifyGetKey } | null = null;

function jwksOf(env: Env): JWTVerifyGetKey {
  const cooldown = Number(env.JWT_JWKS_COOLDOWN_SECONDS);
  const cooldownMs =
    (env.JWT_JWKS_COOLDOWN_SECONDS !== "" && Number.isFinite(cooldown) && cooldown >= 0 ? cooldown : DEFAULT_COOLDOWN_SEC) * 1000;
  if (!keySet || keySet.url !== env.JWT_JWKS_URL || keySet.cooldownMs !== cooldownMs) {
    const get = createRemoteJWKSet(new URL(env.JWT_JWKS_URL), {
      cooldownDuration: cooldownMs,
      cacheMaxAge: CACHE_MAX_AGE_MS,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
    keySet = { url: env.JWT_JWKS_URL, cooldownMs, get };
  }
  return keySet.get;
}

/**
 * The person behind a provider token, or null when it is not valid (signature, issuer, audience,
 * `exp` required and not past, `sub` present). The role comes from the claim JWT_ROLE_CLAIM
 * (default `role`): "admin" is an admin, anything else (or nothing) a creator. When the provider's
 * keys cannot be fetched, 503: the token may well be good.
 */
export async function verifyProviderToken(env: Env, token: string): Promise<AuthUser | null> {
  try {
    const { payload } = await jwtVerify(token, jwksOf(env), {
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      algorithms: ALGORITHMS,
      requiredClaims: ["exp", "sub"],
    });
    const sub = payload.sub;
    // "apikey:" ids are the server keys' own: no person may act as one.
    if (typeof sub !== "string" || !sub || sub.length > MAX_SUB_LENGTH || sub.startsWith(KEY_USER_PREFIX)) return null;
    const role = payload[env.JWT_ROLE_CLAIM || DEFAULT_ROLE_CLAIM] === "admin" ? "admin" : "creator";
    return { id: sub, role };
  } catch (error) {
    if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
      console.error("Fetching the identity provider's keys failed:", error);
      throw new ApiError(503, "identity_provider_unavailable", "Your sign-in could not be checked right now; try again in a moment.");
    }
    return null;
  }
}
