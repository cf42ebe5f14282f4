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
import { findVideo, insertUploadingVideo } from "../db/videos.ts";
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
  const { maxBytes, expiryMs, maxOpenUploads, maxOpenBytes } = uploadLimits(c.env);
  const { length } = parseCreationLength(c.req.header("Upload-Length") ?? null, c.req.header("Upload-Defer-Length") ?? null, maxBytes);
  const metadataHeader = c.req.header("Upload-Metadata") ?? null;
  const meta = videoMetadata(parseMetadata(metadataHeader));
  const user = c.get("user");
  const id = newVideoId();
  const now = Date.now();
  const expiresAt = now + expiryMs;

  const quota = { maxUploads: maxOpenUploads, maxBytes: maxOpenBytes, deferredBytes: maxBytes };
  const inserted = await insertUploadingVideo(c.env.DB, { id, ownerId: user.id, meta, length, expiresAt, now }, quota);
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

  c.header("Location", new URL(`/api/video/uploads/${id}`, c.req.url).toString());
  setStateHeaders(c, info);
  if (body) c.header("Upload-Offset", String(info.offset));
  return c.body(null, 201);
});

/** HEAD (Hono routes HEAD through GET: `app.head()` never fires). */
uploads.get("/:id", async (c) => {
  if (c.req.method !== "HEAD") throw new TusError("METHOD_NOT_ALLOWED");
  const id = idParam(c.req.param("id"));
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
  const id = idParam(c.req.param("id"));
  const result = await unmeteredUploadSession(c.env, id).patch(patchRequest(c.req.raw, c.get("user").id, offset), c.req.raw.body);
  countSessionRequest(result, id);
  const info = unwrap(result, uploadLimits(c.env).maxBytes);
  c.header("Upload-Offset", String(info.offset));
  setStateHeaders(c, info);
  return c.body(null, 204);
});

/** Termination: the upload, and with it the video, is removed. */
uploads.delete("/:id", async (c) => {
  const id = idParam(c.req.param("id"));
  const row = await findVideo(c.env.DB, id);
  if (!row || row.ownerId !== c.get("user").id) throw new TusError("UPLOAD_NOT_FOUND");
  await removeVideo(c.env, row);
  return c.body(null, 204);
});

function idParam(id: string): string {
  if (!isVideoId(id)) throw new TusError("UPLOAD_NOT_FOUND");
  return id;
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
