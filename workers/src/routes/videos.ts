import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, signedInUser, type AuthUser } from "../http/auth.ts";
import { cancelJob, prioritizeJob, retryJob } from "../jobs/lifecycle.ts";
import { dispatchNext } from "../jobs/dispatch.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { bumpPlaybackVersion, findVideo, listVideos, toVideoResponse, updateVideo, type ListCursor } from "../db/videos.ts";
import { VISIBILITIES, type VideoRow } from "../db/schema.ts";
import { isVideoId } from "../videos/ids.ts";
import { playbackTotals } from "../db/playback-stats.ts";
import { removeVideo } from "../videos/remove.ts";
import { sanitizeText } from "../tus/protocol.ts";
import type { JobInfo, PlaybackResponse, ShareResponse, VideoListResponse, VideoResponse } from "../../../contract/api.ts";
import { allowedActions } from "../videos/lifecycle.ts";
import { forgetPlaybackState } from "../delivery/playback-state.ts";
import { SHARE_TTL_MAX_SEC, SHARE_TTL_MIN_SEC, signPlaybackToken, signShareToken } from "../delivery/playback-token.ts";
import { toViewerCard, viewerGrant } from "../delivery/viewer-access.ts";
import { ownerDownloadUrl } from "../delivery/download.ts";
import {
  BODY_ERRORS,
  ERRORS,
  SECURITY,
  errorResponse,
  jsonBody,
  jsonContent,
  jsonRequest,
  openApiRoutes,
  rejectInput,
  type InputErrors,
  type SameShape,
} from "../http/openapi.ts";
import { VideoIdParam, VideoListSchema, VideoSchema, ViewerCardSchema } from "../http/video-schemas.ts";

export const videos = openApiRoutes();

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;
const TITLE_ERROR = ["invalid_title", "title must be a non-empty text of at most 200 characters."] as const;
const VISIBILITY_ERROR = ["invalid_visibility", "visibility must be 'public' or 'private'."] as const;
const ShareQuery = z.object({
  share: z.string().optional().openapi({ description: "A share link's token (`/watch/<id>?share=<token>`)." }),
});
const PlaybackSchema = z
  .object({ url: z.string().openapi({ description: "Absolute master playlist URL; signed and expiring for a private video." }) })
  .openapi("Playback");
const ShareSchema = z.object({ url: z.string().openapi({ description: "`/watch/<id>?share=<token>`" }) }).openapi("Share");
const videoAnswer = jsonContent(VideoSchema, "The video, as its owner sees it.");

const listRoute = createRoute({
  method: "get",
  path: "/",
  summary: "List videos",
  description: "A page of the caller's videos, newest first (every creator's for admins and API keys).",
  security: SECURITY.userOrKey,
  "x-required-scope": "videos:read",
  request: {
    query: z.object({
      limit: z
        .string()
        .regex(/^\d{1,3}$/)
        .refine((v) => Number(v) >= 1 && Number(v) <= MAX_PAGE)
        .optional()
        .openapi({ description: `1 to ${MAX_PAGE}, default ${DEFAULT_PAGE}.`, example: "20" }),
      cursor: z.string().optional().openapi({ description: "The `nextCursor` of the previous page." }),
      include: z.enum(["job"]).optional().openapi({ description: "`job`: admins also get each video's job bookkeeping." }),
    }),
  },
  responses: { 200: jsonContent(VideoListSchema, "One page of videos."), 400: ERRORS[400], 401: ERRORS[401], 403: ERRORS[403] },
});

/** `?limit=N&cursor=C`: a page of videos, newest first; follow `nextCursor` until it is null. */
videos.openapi(
  listRoute,
  async (c) => {
    const user = c.get("user");
    const query = c.req.valid("query");
    const limit = query.limit === undefined ? DEFAULT_PAGE : Number(query.limit);
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    // Admins and server keys (videos:read, checked in auth) see every creator's videos.
    const rows = await listVideos(c.env.DB, user.role === "admin" || actsForApp(user) ? null : user.id, limit, after);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
    const withJob = user.role === "admin" && query.include === "job";
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
    return c.json({ videos: list, nextCursor }, 200);
  },
  rejectInput({ limit: ["invalid_limit", `limit must be a whole number from 1 to ${MAX_PAGE}.`] }),
);

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  summary: "Get a video",
  description:
    "Signed in or not: the owner, admins and API keys (videos:read) get the full video; anyone else the viewer card of a public playable video, or of one opened with a valid `?share=` token. Everything else is 404.",
  security: SECURITY.optional,
  "x-required-scope": "videos:read",
  request: { params: VideoIdParam, query: ShareQuery },
  responses: {
    200: {
      description: "The video, or its viewer card.",
      content: { "application/json": { schema: z.union([VideoSchema, ViewerCardSchema]) } },
    },
    401: ERRORS[401],
    404: ERRORS[404],
  },
});

/**
 * Signed in or not (app.ts makes the token optional here): the owner and admins get the full
 * response; anyone else the viewer card of a public playable video, or of one opened with a valid
 * `?share=` token; everything else is 404.
 */
videos.openapi(getRoute, async (c) => {
  const user = signedInUser(c);
  const row = await findById(c.env, c.req.valid("param").id);
  if (row && user && isMine(row, user)) return c.json(await videoResponse(c.env, row), 200);
  const grant = row ? await viewerGrant(c.env, row, c.req.valid("query").share) : null;
  if (!row || !grant) throw notFound();
  return c.json(toViewerCard(row, grant.playbackToken), 200);
});

const PATCH_ERRORS: InputErrors = {
  body: ["invalid_body", "Send a JSON object with title, visibility and/or downloadable."],
  title: TITLE_ERROR,
  visibility: VISIBILITY_ERROR,
  downloadable: ["invalid_downloadable", "downloadable must be true or false."],
};

const patchRoute = createRoute({
  method: "patch",
  path: "/{id}",
  summary: "Change a video",
  description: "The owner (or an API key with videos:write). A visibility change voids every signed URL and share link.",
  security: SECURITY.userOrKey,
  "x-required-scope": "videos:write",
  middleware: [jsonBody(PATCH_ERRORS)] as const,
  request: {
    params: VideoIdParam,
    body: jsonRequest(
      z.object({
        title: z
          .string()
          .refine((t) => sanitizeText(t, 200) !== "")
          .optional()
          .openapi({ description: "Non-empty; kept to its first 200 characters." }),
        visibility: z.enum(VISIBILITIES).optional(),
        downloadable: z.boolean().optional().openapi({ description: "Viewers get `downloadUrl` when true." }),
      }),
    ),
  },
  responses: { 200: videoAnswer, ...BODY_ERRORS },
});

videos.openapi(
  patchRoute,
  async (c) => {
    const row = await visibleVideo(c.env, c.get("user"), c.req.valid("param").id, { ownerOnly: true });
    const body = c.req.valid("json");
    const patch = { ...body, ...(body.title === undefined ? {} : { title: sanitizeText(body.title, 200) }) };
    // A visibility change bumps the playback version: every URL signed before stops working. Turning
    // downloads off needs no bump: every download request checks the flag (delivery/download.ts).
    const updated = await updateVideo(c.env.DB, row.id, patch, Date.now());
    forgetPlaybackState(row.id);
    if (!updated) throw notFound(); // deleted meanwhile
    return c.json(await videoResponse(c.env, updated), 200);
  },
  rejectInput(PATCH_ERRORS),
);

const revokeRoute = createRoute({
  method: "delete",
  path: "/{id}/share",
  summary: "Revoke every share link and signed playback URL",
  description: "The owner only.",
  security: SECURITY.user,
  request: { params: VideoIdParam },
  responses: { 204: { description: "Revoked." }, 401: ERRORS[401], 404: ERRORS[404] },
});

/**
 * "Revokes every share link and every signed playback URL of the video at once": the playback
 * version they were signed with is bumped. Here at once; in other isolates within the 5 s their
 * playback state is remembered (PLAYBACK_STATE_TTL_MS). The owner only, like PATCH.
 */
videos.openapi(revokeRoute, async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.valid("param").id, { ownerOnly: true });
  const version = await bumpPlaybackVersion(c.env.DB, row.id, Date.now());
  forgetPlaybackState(row.id);
  if (version === undefined) throw notFound(); // deleted meanwhile
  return c.body(null, 204);
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/{id}",
  summary: "Delete a video",
  description: "The owner, an admin, or an API key with videos:write. Removes the video and all its stored files.",
  security: SECURITY.userOrKey,
  "x-required-scope": "videos:write",
  request: { params: VideoIdParam },
  responses: { 204: { description: "Deleted." }, 401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404] },
});

videos.openapi(deleteRoute, async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.valid("param").id);
  await removeVideo(c.env, row);
  return c.body(null, 204);
});

const playbackRoute = createRoute({
  method: "get",
  path: "/{id}/playback",
  summary: "The master playlist URL a player should load",
  description:
    "Signed in or not, like GET /api/videos/{id}: a public playable video plays for anyone, a private one for its owner (and admins) and for whoever holds a valid share link.",
  security: SECURITY.optional,
  "x-required-scope": "videos:read",
  request: { params: VideoIdParam, query: ShareQuery },
  responses: {
    200: jsonContent(PlaybackSchema, "The URL to load."),
    401: ERRORS[401],
    404: ERRORS[404],
    409: errorResponse("Not playable yet (told to the owner only, with the reason)."),
  },
});

/**
 * The master playlist URL a player should load; private videos get a signed, expiring path.
 * Signed in or not, like GET /:id: a public playable video plays for anyone, a private one for its
 * owner (and admins) and for whoever holds a valid share link (until the link expires).
 */
videos.openapi(playbackRoute, async (c) => {
  const user = signedInUser(c);
  const row = await findById(c.env, c.req.valid("param").id);
  if (!row) throw notFound();
  const base = new URL(`/videos/${row.id}/`, c.req.url);
  if (!(user && isMine(row, user))) {
    // For anyone else a video that cannot play does not exist yet, as GET /api/videos/:id says
    // (404), and its status sentence stays private.
    const grant = await viewerGrant(c.env, row, c.req.valid("query").share);
    if (!grant) throw notFound();
    const path = grant.playbackToken ? `p/${grant.playbackToken}/index.m3u8` : "index.m3u8";
    return c.json({ url: new URL(path, base).toString() }, 200);
  }
  if (!(row.status === "READY" || (row.status === "PROCESSING" && row.playable))) {
    // Only the owner (or an admin) learns why.
    throw new ApiError(409, "not_playable_yet", row.message || "The video cannot be played yet.");
  }
  const path =
    row.visibility === "private" ? `p/${await signPlaybackToken(c.env.JWT_SECRET, row.id, row.playbackVersion)}/index.m3u8` : "index.m3u8";
  return c.json({ url: new URL(path, base).toString() }, 200);
});

const EXPIRY_ERROR = [
  "invalid_expiry",
  `expiresInSec must be a whole number of seconds from ${SHARE_TTL_MIN_SEC} (a minute) to ${SHARE_TTL_MAX_SEC} (30 days).`,
] as const;
const SHARE_ERRORS: InputErrors = { body: EXPIRY_ERROR, expiresInSec: EXPIRY_ERROR };

const shareRoute = createRoute({
  method: "post",
  path: "/{id}/share",
  summary: "Make an expiring share link",
  description: "The owner only. The link plays without an account until it expires (or DELETE /api/videos/{id}/share).",
  security: SECURITY.user,
  middleware: [jsonBody(SHARE_ERRORS)] as const,
  request: {
    params: VideoIdParam,
    body: jsonRequest(z.object({ expiresInSec: z.number().int().min(SHARE_TTL_MIN_SEC).max(SHARE_TTL_MAX_SEC) })),
  },
  responses: {
    201: jsonContent(ShareSchema, "The link."),
    ...BODY_ERRORS,
  },
});

/**
 * "The owner makes an expiring share link": `/watch/<id>?share=<token>` plays without an account
 * until it expires. The token is signed with the video's playback version, so DELETE /:id/share
 * (or a visibility change) voids every link at once. A link may be made before the video is
 * playable; it opens the video once it is.
 */
videos.openapi(
  shareRoute,
  async (c) => {
    const row = await visibleVideo(c.env, c.get("user"), c.req.valid("param").id, { ownerOnly: true });
    const token = await signShareToken(c.env.JWT_SECRET, row.id, row.playbackVersion, c.req.valid("json").expiresInSec);
    const url = new URL(`/watch/${row.id}`, c.req.url);
    url.searchParams.set("share", token);
    return c.json({ url: url.toString() }, 201);
  },
  rejectInput(SHARE_ERRORS),
);

/** POST /{id}/<action>: the job's lifecycle; each answers the video as it is now, or 409. */
const actionRoute = (action: "cancel" | "priority" | "retry", summary: string, who: string) =>
  createRoute({
    method: "post",
    path: `/{id}/${action}`,
    summary,
    description: who,
    security: action === "cancel" ? SECURITY.userOrKey : SECURITY.user,
    ...(action === "cancel" ? { "x-required-scope": "videos:write" } : { "x-required-role": "admin" }),
    middleware: action === "cancel" ? [] : [requireAdmin],
    request: { params: VideoIdParam },
    responses: {
      200: videoAnswer,
      401: ERRORS[401],
      403: ERRORS[403],
      404: ERRORS[404],
      409: errorResponse("The video's state does not allow it now."),
    },
  });

videos.openapi(
  actionRoute("cancel", "Cancel the upload or the job", "The owner, an admin, or an API key with videos:write."),
  async (c) => {
    const row = await visibleVideo(c.env, c.get("user"), c.req.valid("param").id);
    if (!(await cancelJob(c.env, row, c.executionCtx))) {
      throw new ApiError(409, "not_cancellable", `Nothing to cancel: the video is ${row.status}.`);
    }
    c.executionCtx.waitUntil(dispatchNext(c.env));
    return c.json(await videoResponse(c.env, (await findVideo(c.env.DB, row.id))!), 200);
  },
);

videos.openapi(actionRoute("priority", "Make a waiting job the next one", "Admins only."), async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.valid("param").id);
  if (!(await prioritizeJob(c.env, row.id, c.executionCtx))) {
    throw new ApiError(409, "not_waiting", `Only a waiting job can be made next; this video is ${row.status}.`);
  }
  c.executionCtx.waitUntil(dispatchNext(c.env));
  return c.json(await videoResponse(c.env, (await findVideo(c.env.DB, row.id))!), 200);
});

videos.openapi(actionRoute("retry", "Retry a failed or cancelled video", "Admins only."), async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.valid("param").id);
  if (!(await retryJob(c.env, row, c.executionCtx))) {
    throw new ApiError(
      409,
      "not_retryable",
      `Only a FAILED or CANCELLED video whose source is kept can be retried; this one is ${row.status}.`,
    );
  }
  c.executionCtx.waitUntil(dispatchNext(c.env));
  return c.json(await videoResponse(c.env, (await findVideo(c.env.DB, row.id))!), 200);
});

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

const samePlayback: SameShape<z.infer<typeof PlaybackSchema>, PlaybackResponse> = true;
const sameShare: SameShape<z.infer<typeof ShareSchema>, ShareResponse> = true;
const sameList: SameShape<z.infer<typeof VideoListSchema>, VideoListResponse> = true;
void [samePlayback, sameShare, sameList];
