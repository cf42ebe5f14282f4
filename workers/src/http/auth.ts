import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { sign, verify } from "hono/jwt";
import { decodeProtectedHeader } from "jose";
import { ApiError } from "./errors.ts";
import type { Scope } from "../../../contract/scopes.ts";
import { authenticateApiKey, looksLikeApiKey } from "./api-keys.ts";
import { checkKeyRoute } from "./key-routes.ts";
import { identityProviderEnabled, verifyProviderToken } from "./identity-provider.ts";

export type Role = "creator" | "admin";
export const ROLES: readonly Role[] = ["creator", "admin"];

export interface AuthUser {
  id: string;
  role: Role;
  /** Set for a server API key: what it may do. User tokens carry none (their role decides). */
  scopes?: readonly Scope[];
}

/**
 * `unattributed`: the route answered (2xx) about no video it may show, though one is named in the path (metering).
 * `meteredVideo`: the video a request is about when its path does not name it (a playback beacon names it in its body).
 */
export type AppEnv = { Bindings: Env; Variables: { user: AuthUser; unattributed: boolean; meteredVideo: string } };

/** User tokens carry this audience, so a per-job token can never pass as a user and vice versa. */
const USER_AUDIENCE = "edge-video:user";
export const USER_TOKEN_TTL_SEC = 12 * 60 * 60;

export async function signUserToken(secret: string, user: AuthUser, nowSec = Math.floor(Date.now() / 1000)): Promise<string> {
  return sign({ sub: user.id, role: user.role, aud: USER_AUDIENCE, iat: nowSec, exp: nowSec + USER_TOKEN_TTL_SEC }, secret, "HS256");
}

async function verifyUserToken(secret: string, token: string): Promise<AuthUser | null> {
  try {
    const claims = await verify(token, secret, { alg: "HS256", aud: USER_AUDIENCE });
    // The verifier checks `exp` and `iat` only when present: a token without them would never expire.
    if (!isTimestamp(claims.exp) || !isTimestamp(claims.iat)) return null;
    if (typeof claims.sub !== "string" || !ROLES.includes(claims.role as Role)) return null;
    return { id: claims.sub, role: claims.role as Role };
  } catch {
    return null;
  }
}

const isTimestamp = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value > 0;

/**
 * One authentication layer for every bearer credential:
 *  - `evk_…`: a server API key (found by its hash; revoked keys are refused at once), which may
 *    call only the routes its scopes open (key-routes.ts);
 *  - an HS256 JWT signed with JWT_SECRET (dev login; claims sub, role, exp and iat required);
 *  - any other JWT: the identity provider's (JWKS), when one is configured.
 */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!token) throw new ApiError(401, "unauthenticated", "Sign in first: send Authorization: Bearer <token>.");
  if (looksLikeApiKey(token)) {
    const key = await authenticateApiKey(c.env, token, (work) => c.executionCtx.waitUntil(work));
    if (!key) throw new ApiError(401, "invalid_api_key", "This API key is not valid: it is mistyped, unknown or revoked.");
    checkKeyRoute(c.req.method, c.req.path, key.scopes ?? []);
    c.set("user", key);
    return next();
  }
  const user = algorithmOf(token) === "HS256" ? await verifyUserToken(c.env.JWT_SECRET, token) : await verifyOtherToken(c.env, token);
  if (!user) throw new ApiError(401, "invalid_token", "Your session is invalid or has expired; sign in again.");
  c.set("user", user);
  await next();
});

function algorithmOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}

const verifyOtherToken = (env: Env, token: string): Promise<AuthUser | null> =>
  identityProviderEnabled(env) ? verifyProviderToken(env, token) : Promise.resolve(null);

/**
 * For the routes a viewer may call signed out: no Authorization header means no user; a header
 * that is there is checked as on every other route (an invalid or expired token is still 401).
 */
export const optionalUser = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.header("Authorization") === undefined) return next();
  return requireUser(c, next);
});

/** The user behind `optionalUser` (or `requireUser`), null when signed out. */
export const signedInUser = (c: Context<AppEnv>): AuthUser | null => (c.get("user") as AuthUser | undefined) ?? null;

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("user").role !== "admin") throw new ApiError(403, "forbidden", "This needs the admin role.");
  await next();
});

/**
 * For routes a server key may call: a key needs `scope` ("a key with the wrong scope gets 403
 * with the scope it lacks"); a user token needs the admin role.
 */
export const requireScope = (scope: Scope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const user = c.get("user");
    if (user.scopes ? user.scopes.includes(scope) : user.role === "admin") return next();
    throw new ApiError(
      403,
      "forbidden",
      user.scopes ? `This API key lacks the ${scope} scope.` : `This needs the admin role or an API key with the ${scope} scope.`,
    );
  });
