import { Hono } from "hono";
import { signUserToken, ROLES, type AppEnv, type Role } from "../http/auth.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { devAuthEnabled } from "../config.ts";
import type { DevLoginResponse } from "../../../contract/api.ts";

export const auth = new Hono<AppEnv>();

/** Local development sign-in: exists only when DEV_AUTH is "true", otherwise it is a 404 like any unknown route. */
auth.post("/dev-login", async (c) => {
  if (!devAuthEnabled(c.env)) throw notFound("Route");
  const body = await c.req.json().catch(() => null);
  const userId = typeof body?.userId === "string" ? body.userId.trim() : "";
  const role = (body?.role ?? "creator") as Role;
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(userId)) {
    throw new ApiError(400, "invalid_user", "userId must be 1–64 letters, digits or . _ @ -.");
  }
  if (!ROLES.includes(role)) throw new ApiError(400, "invalid_role", "role must be 'creator' or 'admin'.");
  return c.json<DevLoginResponse>({ token: await signUserToken(c.env.JWT_SECRET, { id: userId, role }) });
});
