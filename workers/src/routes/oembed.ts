import { Hono } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { findVideo } from "../db/videos.ts";
import { VIDEO_ID_SOURCE } from "../../../contract/video.ts";
import type { ErrorResponse, OEmbedResponse } from "../../../contract/api.ts";
import { toViewerCard } from "../delivery/viewer-access.ts";
import { isServable } from "../delivery/playback-state.ts";
import { fitWithin, posterSize, videoSize } from "../delivery/embed-size.ts";
import { escapeHtml } from "../delivery/html.ts";
import { PROVIDER_NAME, embedUrl } from "../delivery/viewer-page.ts";

/**
 * oEmbed 1.0 (https://oembed.com): `GET /oembed?url=<watch URL>&format=json`, so that sites and
 * CMSs embed a pasted watch link by themselves. Public playable videos only: a private one (share
 * link or not), an unknown one or a URL that is not this origin's /watch/:id is 404.
 */
export const oembed = new Hono<AppEnv>();

// Consumers fetch it from scripts on any origin; errors (rendered by app.onError) carry it too.
oembed.use("*", cors({ origin: "*", allowMethods: ["GET", "HEAD", "OPTIONS"], maxAge: 86_400 }));

const WATCH_PATH = new RegExp(`^/watch/(${VIDEO_ID_SOURCE})/?$`);

oembed.get("/", async (c) => {
  // "501 Not Implemented: the provider cannot return a response in the requested format." An
  // answer, not a fault: returned rather than thrown, so the error renderer does not log it as one.
  const format = c.req.query("format") ?? "json";
  if (format !== "json") {
    return c.json<ErrorResponse>({ error: "format_not_implemented", message: "Only format=json is available; ask again with it." }, 501);
  }
  const origin = new URL(c.req.url).origin;
  const id = watchedVideoId(c.req.query("url"), origin);
  const row = id ? await findVideo(c.env.DB, id) : undefined;
  // "404 Not Found: the provider has no response for the requested url parameter."
  if (row?.visibility !== "public" || !isServable(row)) throw notFound();
  const card = toViewerCard(row, null);
  const video = videoSize(card.renditions);
  const { width, height } = fitWithin(video, c.req.query("maxwidth"), c.req.query("maxheight"));
  const poster = posterSize(video);
  const html =
    `<iframe src="${escapeHtml(embedUrl(origin, row.id))}" width="${width}" height="${height}" title="${escapeHtml(card.title)}"` +
    ` frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen loading="lazy"></iframe>`;
  return c.json<OEmbedResponse>({
    version: "1.0",
    type: "video",
    title: card.title,
    provider_name: PROVIDER_NAME,
    html,
    width,
    height,
    thumbnail_url: new URL(card.posterUrl ?? `/videos/${row.id}/poster.jpg`, origin).toString(),
    thumbnail_width: poster.width,
    thumbnail_height: poster.height,
  });
});

/** The video id of this origin's watch URL (`/watch/<id>`, any query), else null. */
function watchedVideoId(value: string | undefined, origin: string): string | null {
  if (!value || !URL.canParse(value)) return null;
  const url = new URL(value);
  return url.origin === origin ? (WATCH_PATH.exec(url.pathname)?.[1] ?? null) : null;
}
