import { Hono, type Context } from "hono";
import { notFound } from "../http/errors.ts";
import { isVideoId } from "../videos/ids.ts";
import { parseRange } from "../delivery/range.ts";
import { playbackState } from "../delivery/playback-state.ts";
import { contentDisposition, DOWNLOAD_PATH, mayDownload } from "../delivery/download.ts";
import { outputKey } from "../storage/keys.ts";
import { r2Media } from "../storage/media.ts";
import { count } from "../costs/meter.ts";

type DownloadEnv = { Bindings: Env };

/**
 * `GET /videos/:id/download.mp4` (anyone, when the video is public and downloadable) and
 * `GET /videos/:id/p/:token/download.mp4` (the owner's download token, or a private downloadable
 * video's playback token): "one MP4 of the top tier, faststart, with `Content-Disposition:
 * attachment` and Range support". Mounted before the HLS delivery (routes/playback.ts).
 *
 * Unlike segments, the MP4 is read from R2 on every request (ranged), never kept in the edge
 * cache: a download is fetched once by one person, not by every player of a video, and an edge copy
 * of a whole video would push out segments that many players share. So nothing cached can outlive
 * the rules: they are checked before every read.
 */
export const download = new Hono<DownloadEnv>();

download.get(`/:id/p/:token/${DOWNLOAD_PATH}`, (c) => serveDownload(c, c.req.param("id"), c.req.param("token")));
download.get(`/:id/${DOWNLOAD_PATH}`, (c) => serveDownload(c, c.req.param("id"), null));

async function serveDownload(c: Context<DownloadEnv>, id: string, token: string | null): Promise<Response> {
  if (!isVideoId(id)) throw notFound("File");
  const state = await playbackState(c.env, id);
  if (!state || !(await mayDownload(c.env.JWT_SECRET, state, token))) throw notFound("File");

  const media = r2Media(c.env.MEDIA);
  const key = outputKey(id, state.run, DOWNLOAD_PATH);
  // Metered like a segment read: each R2 read is a Class B operation (R2 has no egress fee).
  const head = await media.head(key);
  count(id, "r2_class_b");
  if (!head) throw notFound("File");

  const headers = new Headers({
    "Content-Type": "video/mp4",
    "Content-Disposition": contentDisposition(state.title, id),
    "Accept-Ranges": "bytes",
    ETag: head.httpEtag,
    // Not kept by browsers or proxies: turning downloads off, or a revoke, must not be outlived.
    "Cache-Control": "private, no-store",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, Content-Disposition",
  });
  // A Range for another version of the file (If-Range with an old ETag) gets the whole new file.
  const ifRange = c.req.header("If-Range");
  const rangeHeader = ifRange && ifRange !== head.httpEtag ? null : (c.req.header("Range") ?? null);
  const range = parseRange(rangeHeader, head.size);
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${head.size}`);
    return new Response(null, { status: 416, headers });
  }
  if (c.req.method === "HEAD") {
    headers.set("Content-Length", String(head.size));
    return new Response(null, { status: 200, headers });
  }
  const object = await media.get(key, range ? { offset: range.start, length: range.end - range.start + 1 } : undefined);
  count(id, "r2_class_b");
  if (!object) throw notFound("File"); // deleted between the two reads
  if (!range) {
    headers.set("Content-Length", String(object.size));
    return new Response(object.body, { status: 200, headers });
  }
  headers.set("Content-Range", `bytes ${range.start}-${range.end}/${object.size}`);
  headers.set("Content-Length", String(range.end - range.start + 1));
  return new Response(object.body, { status: 206, headers });
}
