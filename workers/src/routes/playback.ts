import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import { ApiError, notFound } from "../http/errors.ts";
import { isVideoId } from "../videos/ids.ts";
import { OUTPUT_FILE } from "../../../contract/transcode.ts";
import { contentTypeOf } from "../storage/content-types.ts";
import { cacheControlFor, edgeTtlFor, fileKind } from "../delivery/cache-policy.ts";
import { parseRange } from "../delivery/range.ts";
import { isServable, playbackState } from "../delivery/playback-state.ts";
import { readOutput } from "../delivery/output-files.ts";
import { r2Media } from "../storage/media.ts";
import { verifyPlaybackToken } from "../delivery/playback-token.ts";
import { DOWNLOAD_PATH } from "../delivery/download.ts";

type PlaybackEnv = { Bindings: Env };

/**
 * HLS delivery: /videos/<id>/<file> (public videos) and /videos/<id>/p/<token>/<file> (private).
 * The Worker runs in the colo nearest the viewer and answers from that colo's cache
 * (caches.default); a miss reads R2 and fills the cache in the background.
 */
export const playback = new Hono<PlaybackEnv>();

/**
 * Players on any origin fetch these files: the preflight (OPTIONS, for Range or If-None-Match) is
 * answered here, and every answer — 200/206/304/416 and the 403/404 errors rendered by app.onError
 * or app.notFound — carries Access-Control-Allow-Origin, so a player sees "not found" rather than
 * an opaque "status 0". The headers are set on the context before the handler runs; Hono keeps them
 * when the handler's response, or the error handler's, replaces it.
 */
playback.use(
  "*",
  cors({
    origin: "*", // No credentials: a private video's access is the token in its path.
    allowMethods: ["GET", "HEAD", "OPTIONS"],
    allowHeaders: ["Range", "If-None-Match"],
    exposeHeaders: ["Content-Length", "Content-Range", "ETag", "X-Cache", "X-Edge-Colo"],
    maxAge: 86_400,
  }),
);

playback.get("/:id/p/:token/*", (c) => serveFile(c, c.req.param("id"), filePath(c, `/p/${c.req.param("token")}/`), c.req.param("token")));
playback.get("/:id/*", (c) => serveFile(c, c.req.param("id"), filePath(c, "/"), null));

function filePath(c: Context<PlaybackEnv>, after: string): string {
  const path = c.req.path;
  const at = path.indexOf(after, "/videos/".length);
  return path.slice(at + after.length);
}

async function serveFile(c: Context<PlaybackEnv>, id: string, path: string, token: string | null): Promise<Response> {
  // Strict names: only the outputs of a job, never sources, temp parts or anything else in the bucket.
  // download.mp4 has its own rules (routes/download.ts, mounted first): never served from here.
  if (!isVideoId(id) || !OUTPUT_FILE.test(path) || path === DOWNLOAD_PATH) throw notFound("File");
  const state = await playbackState(c.env, id);
  if (!state || !isServable(state)) throw notFound("Video");
  // The token must be signed with the video's current playback version (revocation).
  if (state.visibility === "private" && !(token && (await verifyPlaybackToken(c.env.JWT_SECRET, id, state.playbackVersion, token)))) {
    throw new ApiError(403, "playback_token_required", "This video is private: ask its owner for a playback link.");
  }

  const finished = state.status === "READY";
  const kind = fileKind(path);
  // The run is part of the key (it only grows): a retried job's files never mix with an earlier run's.
  const cacheKey = new Request(`https://edge-cache.invalid/${id}/r${state.run}/${path}`);
  const cache = caches.default;
  let stored = await cache.match(cacheKey);
  const hit = stored !== undefined;
  if (!stored) {
    const object = await readOutput(r2Media(c.env.MEDIA), state, path);
    if (!object) throw notFound("File");
    const ttl = edgeTtlFor(kind, finished);
    stored = new Response(object.body, {
      headers: {
        "Content-Type": contentTypeOf(path),
        "Content-Length": String(object.size),
        ETag: object.httpEtag,
        "Cache-Control": `public, max-age=${ttl}`,
      },
    });
    if (ttl > 0) {
      const copy = stored.clone();
      c.executionCtx.waitUntil(cache.put(cacheKey, copy));
    }
  }
  return respond(c.req.raw, stored, {
    "Cache-Control": cacheControlFor(kind, finished),
    "X-Cache": hit ? "HIT" : "MISS",
    "X-Edge-Colo": String((c.req.raw.cf as { colo?: string } | undefined)?.colo ?? "local"),
    "Accept-Ranges": "bytes",
  });
}

/** 200, 206 (Range), 304 (If-None-Match) or 416 from a full stored response. */
async function respond(request: Request, stored: Response, extra: Record<string, string>): Promise<Response> {
  const headers = new Headers(stored.headers);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  const etag = headers.get("ETag");
  const ifNoneMatch = request.headers.get("If-None-Match");
  if (etag && ifNoneMatch?.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    await stored.body?.cancel();
    headers.delete("Content-Length");
    return new Response(null, { status: 304, headers });
  }
  const size = Number(headers.get("Content-Length"));
  const range = parseRange(request.headers.get("Range"), size);
  if (range === null) return new Response(stored.body, { status: 200, headers });
  if (range === "unsatisfiable") {
    await stored.body?.cancel();
    headers.set("Content-Range", `bytes */${size}`);
    headers.delete("Content-Length");
    return new Response(null, { status: 416, headers });
  }
  // Files are small (segments of a few seconds): slicing the stored bytes is simpler than ranged reads.
  return sliceOf(await stored.arrayBuffer(), range, headers);
}

function sliceOf(bytes: ArrayBuffer, range: { start: number; end: number }, headers: Headers): Response {
  headers.set("Content-Range", `bytes ${range.start}-${range.end}/${bytes.byteLength}`);
  headers.set("Content-Length", String(range.end - range.start + 1));
  return new Response(bytes.slice(range.start, range.end + 1), { status: 206, headers });
}
