import { Hono } from "hono";
import { requireAdmin, signedInUser, type AppEnv, type AuthUser } from "../http/auth.ts";
import { cancelJob, prioritizeJob, retryJob } from "../jobs/lifecycle.ts";
import { dispatchNext } from "../jobs/dispatch.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { bumpPlaybackVersion, findVideo, listVideos, toVideoResponse, updateVideo, type ListCursor } from "../db/videos.ts";
import { VISIBILITIES, type VideoRow, type Visibility } from "../db/schema.ts";
import { isVideoId } from "../videos/ids.ts";
import { playbackTotals } from "../db/playback-stats.ts";
import { removeVideo } from "../videos/remove.ts";
import { sanitizeText } from "../tus/protocol.ts";
import type {
  JobInfo,
  PlaybackResponse,
  ShareResponse,
  VideoListResponse,
  VideoResponse,
  ViewerCardResponse,
} from "../../../contract/api.ts";
import { allowedActions } from "../videos/lifecycle.ts";
import { forgetPlaybackState } from "../delivery/playback-state.ts";
import { SHARE_TTL_MAX_SEC, SHARE_TTL_MIN_SEC, signPlaybackToken, signShareToken } from "../delivery/playback-token.ts";
import { toViewerCard, viewerGrant } from "../delivery/viewer-access.ts";
import { ownerDownloadUrl } from "../delivery/download.ts";

export const videos = new Hono<AppEnv>();

/** `?limit=N&cursor=C`: a page of videos, newest first; follow `nextCursor` until it is null. */
videos.get("/", async (c) => {
  const user = c.get("user");
  const limit = pageLimit(c.req.query("limit"));
  const after = c.req.query("cursor") === undefined ? null : decodeCursor(c.req.query("cursor")!);
  // Admins and server keys (videos:read, checked in auth) see every creator's videos.
  const rows = await listVideos(c.env.DB, user.role === "admin" || actsForApp(user) ? null : user.id, limit, after);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
  const withJob = user.role === "admin" && c.req.query("include") === "job";
  const totals = await playbackTotals(
    c.env.DB,
    page.map((row) => row.id),
  );
  const list = await Promise.all(
    page.map(async (row) => ({
      ...(await videoResponse(c.env, row)),
      views: totals.get(row.id)?.views ?? 0,
      watchSeconds: Math.round((totals.get(row.id)?.watchMs ?? 0) / 1000),
      ...(withJob ? { job: jobInfo(row) } : {}),
    })),
  );
  return c.json<VideoListResponse>({ videos: list, nextCursor });
});

/**
 * Signed in or not (app.ts makes the token optional here): the owner and admins get the full
 * response; anyone else the viewer card of a public playable video, or of one opened with a valid
 * `?share=` token; everything else is 404.
 */
videos.get("/:id", async (c) => {
  const user = signedInUser(c);
  const row = await findById(c.env, c.req.param("id"));
  if (row && user && isMine(row, user)) return c.json<VideoResponse>(await videoResponse(c.env, row));
  const grant = row ? await viewerGrant(c.env, row, c.req.query("share")) : null;
  if (!row || !grant) throw notFound();
  return c.json<ViewerCardResponse>(toViewerCard(row, grant.playbackToken));
});

videos.patch("/:id", async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.param("id"), { ownerOnly: true });
  const body = await c.req.json().catch(() => null);
  if (!body || typeof body !== "object")
    throw new ApiError(400, "invalid_body", "Send a JSON object with title, visibility and/or downloadable.");
  const patch: { title?: string; visibility?: Visibility; downloadable?: boolean } = {};
  if ("title" in body) {
    const title = typeof body.title === "string" ? sanitizeText(body.title, 200) : "";
    if (!title) throw new ApiError(400, "invalid_title", "title must be a non-empty text of at most 200 characters.");
    patch.title = title;
  }
  if ("visibility" in body) {
    if (!VISIBILITIES.includes(body.visibility)) throw new ApiError(400, "invalid_visibility", "visibility must be 'public' or 'private'.");
    patch.visibility = body.visibility;
  }
  if ("downloadable" in body) {
    if (typeof body.downloadable !== "boolean") throw new ApiError(400, "invalid_downloadable", "downloadable must be true or false.");
    patch.downloadable = body.downloadable;
  }
  // A visibility change bumps the playback version: every URL signed before stops working. Turning
  // downloads off needs no bump: every download request checks the flag (delivery/download.ts).
  const updated = await updateVideo(c.env.DB, row.id, patch, Date.now());
  forgetPlaybackState(row.id);
  if (!updated) throw notFound(); // deleted meanwhile
  return c.json<VideoResponse>(await videoResponse(c.env, updated));
});

/**
 * "Revokes every share link and every signed playback URL of the video at once": the playback
 * version they were signed with is bumped. Here at once; in other isolates within the 5 s their
 * playback state is remembered (PLAYBACK_STATE_TTL_MS). The owner only, like PATCH.
 */
videos.delete("/:id/share", async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.param("id"), { ownerOnly: true });
  const version = await bumpPlaybackVersion(c.env.DB, row.id, Date.now());
  forgetPlaybackState(row.id);
  if (version === undefined) throw notFound(); // deleted meanwhile
  return c.body(null, 204);
});

videos.delete("/:id", async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.param("id"));
  await removeVideo(c.env, row);
  return c.body(null, 204);
});

/**
 * The master playlist URL a player should load; private videos get a signed, expiring path.
 * Signed in or not, like GET /:id: a public playable video plays for anyone, a private one for its
 * owner (and admins) and for whoever holds a valid share link (until the link expires).
 */
videos.get("/:id/playback", async (c) => {
  const user = signedInUser(c);
  const row = await findById(c.env, c.req.param("id"));
  if (!row) throw notFound();
  const base = new URL(`/videos/${row.id}/`, c.req.url);
  if (!(user && isMine(row, user))) {
    // For anyone else a video that cannot play does not exist yet, as GET /api/videos/:id says
    // (404), and its status sentence stays private.
    const grant = await viewerGrant(c.env, row, c.req.query("share"));
    if (!grant) throw notFound();
    const path = grant.playbackToken ? `p/${grant.playbackToken}/index.m3u8` : "index.m3u8";
    return c.json<PlaybackResponse>({ url: new URL(path, base).toString() });
  }
  if (!(row.status === "READY" || (row.status === "PROCESSING" && row.playable))) {
    // Only the owner (or an admin) learns why.
    throw new ApiError(409, "not_playable_yet", row.message || "The video cannot be played yet.");
  }
  const path =
    row.visibility === "private" ? `p/${await signPlaybackToken(c.env.JWT_SECRET, row.id, row.playbackVersion)}/index.m3u8` : "index.m3u8";
  return c.json<PlaybackResponse>({ url: new URL(path, base).toString() });
});

/**
 * "The owner makes an expiring share link": `/watch/<id>?share=<token>` plays without an account
 * until it expires. The token is signed with the video's playback version, so DELETE /:id/share
 * (or a visibility change) voids every link at once. A link may be made before the video is
 * playable; it opens the video once it is.
 */
videos.post("/:id/share", async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.param("id"), { ownerOnly: true });
  const body = await c.req.json().catch(() => null);
  const ttl = body && typeof body === "object" ? body.expiresInSec : undefined;
  if (!(Number.isInteger(ttl) && ttl >= SHARE_TTL_MIN_SEC && ttl <= SHARE_TTL_MAX_SEC)) {
    throw new ApiError(
      400,
      "invalid_expiry",
      `expiresInSec must be a whole number of seconds from ${SHARE_TTL_MIN_SEC} (a minute) to ${SHARE_TTL_MAX_SEC} (30 days).`,
    );
  }
  const token = await signShareToken(c.env.JWT_SECRET, row.id, row.playbackVersion, ttl);
  const url = new URL(`/watch/${row.id}`, c.req.url);
  url.searchParams.set("share", token);
  return c.json<ShareResponse>({ url: url.toString() }, 201);
});

videos.post("/:id/cancel", async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.param("id"));
  if (!(await cancelJob(c.env, row, c.executionCtx))) {
    throw new ApiError(409, "not_cancellable", `Nothing to cancel: the video is ${row.status}.`);
  }
  c.executionCtx.waitUntil(dispatchNext(c.env));
  return c.json<VideoResponse>(await videoResponse(c.env, (await findVideo(c.env.DB, row.id))!));
});

videos.post("/:id/priority", requireAdmin, async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.param("id"));
  if (!(await prioritizeJob(c.env, row.id, c.executionCtx))) {
    throw new ApiError(409, "not_waiting", `Only a waiting job can be made next; this video is ${row.status}.`);
  }
  c.executionCtx.waitUntil(dispatchNext(c.env));
  return c.json<VideoResponse>(await videoResponse(c.env, (await findVideo(c.env.DB, row.id))!));
});

videos.post("/:id/retry", requireAdmin, async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.param("id"));
  if (!(await retryJob(c.env, row, c.executionCtx))) {
    throw new ApiError(
      409,
      "not_retryable",
      `Only a FAILED or CANCELLED video whose source is kept can be retried; this one is ${row.status}.`,
    );
  }
  c.executionCtx.waitUntil(dispatchNext(c.env));
  return c.json<VideoResponse>(await videoResponse(c.env, (await findVideo(c.env.DB, row.id))!));
});

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

function pageLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PAGE;
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE)) throw new ApiError(400, "invalid_limit", `limit must be a whole number from 1 to ${MAX_PAGE}.`);
  return n;
}

/** The cursor is opaque to clients: base64url of "<createdAt>:<id>" of the last row they got. */
function encodeCursor(cursor: ListCursor): string {
  return btoa(`${cursor.createdAt}:${cursor.id}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(value: string): ListCursor {
  const invalid = new ApiError(400, "invalid_cursor", "cursor is not one this API gave out; start again without it.");
  let text: string;
  try {
    text = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    throw invalid;
  }
  const match = /^(\d{1,16}):([\w-]{1,64})$/.exec(text);
  if (!match) throw invalid;
  return { createdAt: Number(match[1]), id: match[2] };
}

/** The admin's job bookkeeping of a row, with what the lifecycle lets an admin do with it now. */
function jobInfo(row: VideoRow): JobInfo {
  return { attempts: row.attempts, priority: row.priority, lastError: row.lastError ?? null, actions: allowedActions(row) };
}

/** A row as the API shows it to its owner or an admin (private videos get signed URLs). */
async function videoResponse(env: Env, row: VideoRow): Promise<VideoResponse> {
  const token = row.visibility === "private" ? await signPlaybackToken(env.JWT_SECRET, row.id, row.playbackVersion) : null;
  return { ...toVideoResponse(row, token), downloadUrl: await ownerDownloadUrl(env, row) };
}

const findById = async (env: Env, id: string): Promise<VideoRow | undefined> => (isVideoId(id) ? findVideo(env.DB, id) : undefined);

/**
 * A server API key acts for the app across creators: no ownership applies to it, only its scopes
 * (which auth checks against the route before any handler runs; see http/key-routes.ts).
 */
const actsForApp = (user: AuthUser): boolean => user.scopes !== undefined;

/** The owner, admins and keys with videos:read see everything about a video (the full response, the 409 sentence). */
const isMine = (row: VideoRow, user: AuthUser): boolean =>
  actsForApp(user) ? user.scopes!.includes("videos:read") : row.ownerId === user.id || user.role === "admin";

/**
 * The video if the caller may see it: its owner, or an admin unless `ownerOnly`, or a key with
 * videos:write (it changes any video). Others get 404, never 403.
 */
export async function visibleVideo(env: Env, user: AuthUser, id: string, opts: { ownerOnly?: boolean } = {}): Promise<VideoRow> {
  const row = isVideoId(id) ? await findVideo(env.DB, id) : undefined;
  const allowed =
    row &&
    (actsForApp(user) ? user.scopes!.includes("videos:write") : row.ownerId === user.id || (!opts.ownerOnly && user.role === "admin"));
  if (!allowed) throw notFound();
  return row;
}
