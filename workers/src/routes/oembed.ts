import { createRoute, z } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { ERRORS, SECURITY, errorResponse, jsonContent, openApiRoutes, type SameShape } from "../http/openapi.ts";
import { notFound } from "../http/errors.ts";
import { findVideo } from "../db/videos.ts";
import { VIDEO_ID_SOURCE } from "../../../contract/video.ts";
import type { OEmbedResponse } from "../../../contract/api.ts";
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
export const oembed = openApiRoutes();

// Consumers fetch it from scripts on any origin; errors (rendered by app.onError) carry it too.
oembed.use("*", cors({ origin: "*", allowMethods: ["GET", "HEAD", "OPTIONS"], maxAge: 86_400 }));

const WATCH_PATH = new RegExp(`^/watch/(${VIDEO_ID_SOURCE})/?$`);

const OEmbedSchema = z
  .object({
    version: z.literal("1.0"),
    type: z.literal("video"),
    title: z.string(),
    provider_name: z.string(),
    html: z.string().openapi({ description: "An <iframe> of /embed/{id}." }),
    width: z.number().int(),
    height: z.number().int(),
    thumbnail_url: z.string(),
    thumbnail_width: z.number().int(),
    thumbnail_height: z.number().int(),
  })
  .openapi("OEmbed");

const oembedRoute = createRoute({
  method: "get",
  path: "/",
  summary: "oEmbed 1.0 of a watch URL",
  description: "Public playable videos only; anything else is 404. No credentials.",
  security: SECURITY.none,
  request: {
    query: z.object({
      url: z.string().optional().openapi({
        description: "A watch URL of this origin: `/watch/{id}`.",
        example: "https://example.com/watch/0b9a3c1e-5f2d-4c8a-9e7b-1d2c3b4a5f60",
      }),
      format: z.string().optional().openapi({ description: "`json` (the default); anything else is 501." }),
      maxwidth: z.string().optional().openapi({ description: "Fit the player within this width." }),
      maxheight: z.string().optional().openapi({ description: "Fit the player within this height." }),
    }),
  },
  responses: {
    200: jsonContent(OEmbedSchema, "The embed."),
    404: ERRORS[404],
    501: errorResponse("Only format=json is available."),
  },
});

oembed.openapi(oembedRoute, async (c) => {
  const query = c.req.valid("query");
  // "501 Not Implemented: the provider cannot return a response in the requested format." An
  // answer, not a fault: returned rather than thrown, so the error renderer does not log it as one.
  const format = query.format ?? "json";
  if (format !== "json") {
    return c.json({ error: "format_not_implemented", message: "Only format=json is available; ask again with it." }, 501);
  }
  const origin = new URL(c.req.url).origin;
  const id = watchedVideoId(query.url, origin);
  const row = id ? await findVideo(c.env.DB, id) : undefined;
  // "404 Not Found: the provider has no response for the requested url parameter."
  if (row?.visibility !== "public" || !isServable(row)) throw notFound();
  const card = toViewerCard(row, null);
  const video = videoSize(card.renditions);
  const { width, height } = fitWithin(video, query.maxwidth, query.maxheight);
  const poster = posterSize(video);
  const html =
    `<iframe src="${escapeHtml(embedUrl(origin, row.id))}" width="${width}" height="${height}" title="${escapeHtml(card.title)}"` +
    ` frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen loading="lazy"></iframe>`;
  return c.json(
    {
      version: "1.0" as const,
      type: "video" as const,
      title: card.title,
      provider_name: PROVIDER_NAME,
      html,
      width,
      height,
      thumbnail_url: new URL(card.posterUrl ?? `/videos/${row.id}/poster.jpg`, origin).toString(),
      thumbnail_width: poster.width,
      thumbnail_height: poster.height,
    },
    200,
  );
});

const sameEmbed: SameShape<z.infer<typeof OEmbedSchema>, OEmbedResponse> = true;
void sameEmbed;

/** The video id of this origin's watch URL (`/watch/<id>`, any query), else null. */
function watchedVideoId(value: string | undefined, origin: string): string | null {
  if (!value || !URL.canParse(value)) return null;
  const url = new URL(value);
  return url.origin === origin ? (WATCH_PATH.exec(url.pathname)?.[1] ?? null) : null;
}
