import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { sign, verify } from "hono/jwt";
import { ApiError } from "./errors.ts";

export type Role = "creator" | "admin";
export const ROLES: readonly Role[] = ["creator", "admin"];

export interface AuthUser {
  id: string;
  role: Role;
}

export type AppEnv = { Bindings: Env; Variables: { user: AuthUser } };

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

/** HS256 bearer JWT (claims sub, role, exp and iat required) on every route it guards. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!token) throw new ApiError(401, "unauthenticated", "Sign in first: send Authorization: Bearer <token>.");
  const user = await verifyUserToken(c.env.JWT_SECRET, token);
  if (!user) throw new ApiError(401, "invalid_token", "Your session is invalid or has expired; sign in again.");
  c.set("user", user);
  await next();
});

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("user").role !== "admin") throw new ApiError(403, "forbidden", "This needs the admin role.");
  await next();
});

/** The signed-in user on a route that anyone may call: null without a token, 401 for a bad one. */
export async function optionalUser(c: Context<AppEnv>): Promise<AuthUser | null> {
  const header = c.req.header("Authorization");
  if (header === undefined) return null;
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const user = token ? await verifyUserToken(c.env.JWT_SECRET, token) : null;
  if (!user) throw new ApiError(401, "invalid_token", "Your session is invalid or has expired; sign in again, or send no token.");
  return user;
}
