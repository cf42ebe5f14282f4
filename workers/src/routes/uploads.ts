import { Hono, type Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/auth.ts";
import { renderError } from "../http/errors.ts";
import {
  OFFSET_CONTENT_TYPE,
  TUS_VERSION,
  TusError,
  assertTusVersion,
  discoveryHeaders,
  httpDate,
  parseChecksum,
  parseCreationLength,
  parseMetadata,
  parseNonNegativeInteger,
  tooLargeMessage,
  videoMetadata,
} from "../tus/protocol.ts";
import { partSizeFor } from "../tus/part-layout.ts";
import { countSessionRequest, unmeteredUploadSession, uploadSession } from "../tus/session-stub.ts";
import type { SessionResult, UploadInfo } from "../tus/upload-session.ts";
import { findVideo, insertUploadingVideo, updateVideo } from "../db/videos.ts";
import { claimDirectUpload, releaseDirectUpload } from "../db/direct-uploads.ts";
import { directUploadLink } from "../http/direct-upload-auth.ts";
import { DIRECT_UPLOAD_PARAM } from "../../../contract/direct-uploads.ts";
import { isVideoId, newVideoId } from "../videos/ids.ts";
import { removeVideo } from "../videos/remove.ts";
import { uploadLimits } from "../config.ts";

/** tus 1.0.0 at /api/video/uploads: one small handler per method. The upload id is the video id. */
export const uploads = new Hono<AppEnv>();

/** Discovery (OPTIONS) answers without auth; CORS preflights pass through here too. */
export const tusDiscovery = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "OPTIONS") return;
  for (const [name, value] of Object.entries(discoveryHeaders(uploadLimits(c.env).maxBytes))) c.res.headers.set(name, value);
});

/**
 * "The Tus-Resumable header MUST be included in every request and response except for OPTIONS requests."
 */
export const tusVersion = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === "OPTIONS") return next();
  try {
    assertTusVersion(c.req.header("Tus-Resumable") ?? null);
  } catch (error) {
    const res = renderError(error as Error, c);
    // "If the version specified by the Client is not supported by the Server, it MUST respond with the
    // 412 Precondition Failed status and MUST include the Tus-Version header into the response."
    res.headers.set("Tus-Version", TUS_VERSION);
    return res;
  }
  await next();
  c.res.headers.set("Tus-Resumable", TUS_VERSION);
});

uploads.options("/", (c) => c.body(null, 204));
uploads.options("/:id", (c) => c.body(null, 204));

/** Creation (+ creation-with-upload, creation-defer-length). */
uploads.post("/", async (c) => {
  const { expiryMs, maxOpenUploads, maxOpenBytes } = uploadLimits(c.env);
  const link = directUploadLink(c);
  const maxBytes = maxBytesFor(c);
  const now = Date.now();
  // A direct upload link starts its one upload until it expires ("Upload-Expires" semantics: 410).
  if (link && link.expiresAt <= now) {
    throw new TusError("UPLOAD_LINK_EXPIRED", `This upload link expired at ${httpDate(link.expiresAt)}; ask the app for a new one.`);
  }
  const { length } = parseCreationLength(c.req.header("Upload-Length") ?? null, c.req.header("Upload-Defer-Length") ?? null, maxBytes);
  const metadataHeader = c.req.header("Upload-Metadata") ?? null;
  const pairs = parseMetadata(metadataHeader);
  if (link) {
    // The server that made the link chose the title; a bare tus client may send no file name.
    if (link.title) pairs.set("title", link.title);
    if (!pairs.has("filename") && !pairs.has("name")) pairs.set("filename", "video");
  }
  const meta = videoMetadata(pairs);
  const user = c.get("user");
  // "The upload id is the video id": a link's upload gets the id the link announced.
  const id = link ? link.videoId : newVideoId();
  const expiresAt = now + expiryMs;
  if (link && !(await claimDirectUpload(c.env.DB, id, now))) throw new TusError("UPLOAD_LINK_USED");

  const quota = { maxUploads: maxOpenUploads, maxBytes: maxOpenBytes, deferredBytes: maxBytes };
  const inserted = await insertUploadingVideo(c.env.DB, { id, ownerId: user.id, meta, length, expiresAt, now }, quota);
  // Refused by the creator's quota: the link stays unused, so it may try again once there is room.
  if (inserted !== "inserted" && link) await releaseDirectUpload(c.env.DB, id);
  if (inserted === "too_many_uploads") {
    throw new TusError(
      "TOO_MANY_OPEN_UPLOADS",
      `You have ${maxOpenUploads} unfinished uploads, the most allowed; finish or delete one of them before starting another.`,
    );
  }
  if (inserted === "too_many_bytes") {
    const gib = (maxOpenBytes / 1024 ** 3).toFixed(1).replace(/\.0$/, "");
    throw new TusError(
      "OPEN_UPLOAD_BYTES",
      `Your unfinished uploads may declare ${gib} GiB together (an upload of unknown length counts as the largest file allowed); finish or delete one of them, or upload a smaller file.`,
    );
  }
  if (link?.visibility) await updateVideo(c.env.DB, id, { visibility: link.visibility }, now);
  const session = uploadSession(c.env, id);
  let info = await session.create({
    videoId: id,
    ownerId: user.id,
    length,
    metadataHeader,
    maxBytes,
    partSize: partSizeFor(maxBytes),
    expiresAt,
  });

  // creation-with-upload: a body sent with the creation request is the upload's first bytes.
  const body = c.req.raw.body;
  if (body && c.req.header("Content-Type") === OFFSET_CONTENT_TYPE) {
    const result = await session.patch(patchRequest(c.req.raw, user.id, 0), body);
    // The upload exists either way; a failed first chunk keeps what was stored, and the client
    // resumes from the offset we report — which must be the real one, not the creation's 0.
    const current = result.ok ? result : await session.info(user.id);
    if (current.ok) info = current.value;
  }

  const location = new URL(`/api/video/uploads/${id}`, c.req.url);
  // Through a link, the upload's own URL carries the link too: HEAD, PATCH and DELETE need no credentials either.
  if (link) location.searchParams.set(DIRECT_UPLOAD_PARAM, c.req.query(DIRECT_UPLOAD_PARAM)!);
  c.header("Location", location.toString());
  setStateHeaders(c, info);
  if (body) c.header("Upload-Offset", String(info.offset));
  return c.body(null, 201);
});

/** HEAD (Hono routes HEAD through GET: `app.head()` never fires). */
uploads.get("/:id", async (c) => {
  if (c.req.method !== "HEAD") throw new TusError("METHOD_NOT_ALLOWED");
  const id = idParam(c, c.req.param("id"));
  const result = await unmeteredUploadSession(c.env, id).info(c.get("user").id);
  countSessionRequest(result, id);
  const info = unwrap(result);
  // "The Server MUST prevent the client and/or proxies from caching the response by adding the Cache-Control: no-store header."
  c.header("Cache-Control", "no-store");
  c.header("Upload-Offset", String(info.offset));
  setStateHeaders(c, info);
  // "If an upload contains additional metadata … the Server MUST include the Upload-Metadata header."
  if (info.metadataHeader) c.header("Upload-Metadata", info.metadataHeader);
  return c.body(null, 200);
});

uploads.patch("/:id", async (c) => {
  // "All PATCH requests MUST use Content-Type: application/offset+octet-stream, otherwise the server SHOULD return a 415."
  if (c.req.header("Content-Type") !== OFFSET_CONTENT_TYPE) throw new TusError("INVALID_CONTENT_TYPE");
  const offset = parseNonNegativeInteger(c.req.header("Upload-Offset") ?? null);
  if (offset === null) throw new TusError("MISSING_OFFSET");
  const id = idParam(c, c.req.param("id"));
  const result = await unmeteredUploadSession(c.env, id).patch(patchRequest(c.req.raw, c.get("user").id, offset), c.req.raw.body);
  countSessionRequest(result, id);
  const info = unwrap(result, maxBytesFor(c));
  c.header("Upload-Offset", String(info.offset));
  setStateHeaders(c, info);
  return c.body(null, 204);
});

/** Termination: the upload, and with it the video, is removed. */
uploads.delete("/:id", async (c) => {
  const id = idParam(c, c.req.param("id"));
  const row = await findVideo(c.env.DB, id);
  if (!row || row.ownerId !== c.get("user").id) throw new TusError("UPLOAD_NOT_FOUND");
  await removeVideo(c.env, row);
  return c.body(null, 204);
});

/** A direct upload link reaches only the upload it created. */
function idParam(c: Context<AppEnv>, id: string): string {
  const link = directUploadLink(c);
  if (!isVideoId(id) || (link && link.videoId !== id)) throw new TusError("UPLOAD_NOT_FOUND");
  return id;
}

/** The largest upload: the server's limit, or a direct upload link's smaller cap. */
function maxBytesFor(c: Context<AppEnv>): number {
  const limit = uploadLimits(c.env).maxBytes;
  const link = directUploadLink(c);
  return link ? Math.min(link.maxBytes, limit) : limit;
}

function patchRequest(req: Request, ownerId: string, offset: number) {
  const length = req.headers.get("Upload-Length");
  const parsedLength = length === null ? null : parseNonNegativeInteger(length);
  if (length !== null && parsedLength === null) throw new TusError("INVALID_LENGTH");
  return {
    ownerId,
    offset,
    length: parsedLength,
    contentLength: parseNonNegativeInteger(req.headers.get("Content-Length")),
    checksum: parseChecksum(req.headers.get("Upload-Checksum")),
  };
}

function unwrap<T>(result: SessionResult<T>, maxBytes?: number): T {
  if (result.ok) return result.value;
  const detail = result.code === "TOO_LARGE" && maxBytes ? tooLargeMessage(maxBytes) : result.detail;
  throw new TusError(result.code, detail);
}

function setStateHeaders(c: Context<AppEnv>, info: UploadInfo): void {
  if (info.length === null) c.header("Upload-Defer-Length", "1");
  else c.header("Upload-Length", String(info.length));
  // "The Upload-Expires response header indicates the time after which the unfinished upload expires."
  if (info.state === "receiving") c.header("Upload-Expires", httpDate(info.expiresAt));
}
