import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./auth.ts";
import { TusError } from "../tus/protocol.ts";
import { verifyDirectUploadToken } from "../tus/direct-link.ts";
import { findDirectUpload } from "../db/direct-uploads.ts";
import type { DirectUploadRow } from "../db/schema.ts";
import { DIRECT_UPLOAD_PARAM } from "../../../contract/direct-uploads.ts";

/**
 * A tus request made through a direct upload link carries no credentials of its own: the link's
 * token (`?direct=`) stands in for them. It acts as the link's creator, and only on the one upload
 * the link names (the tus routes check that with `directUploadLink`).
 */
const links = new WeakMap<Request, DirectUploadRow>();

export const isDirectUploadRequest = (c: Context<AppEnv>): boolean =>
  c.req.path.startsWith("/api/video/uploads") && c.req.query(DIRECT_UPLOAD_PARAM) !== undefined;

/** The link a tus request came through, null for a signed-in user's own upload. */
export const directUploadLink = (c: Context<AppEnv>): DirectUploadRow | null => links.get(c.req.raw) ?? null;

/**
 * Checks the signature only: whether the link may still start an upload (expiry, one use) is the
 * creation's business; the upload it started stays reachable through it until it completes.
 */
export const requireDirectUploadLink = createMiddleware<AppEnv>(async (c, next) => {
  const token = await verifyDirectUploadToken(c.env.JWT_SECRET, c.req.query(DIRECT_UPLOAD_PARAM) ?? "");
  const row = token ? await findDirectUpload(c.env.DB, token.videoId) : undefined;
  if (!token || !row || row.expiresAt !== token.expSec * 1000) throw new TusError("UPLOAD_LINK_INVALID");
  links.set(c.req.raw, row);
  c.set("user", { id: row.creatorId, role: "creator" });
  await next();
});
