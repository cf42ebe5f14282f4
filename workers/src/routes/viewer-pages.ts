import { Hono, type Context } from "hono";
import type { AppEnv } from "../http/auth.ts";
import { findVideo } from "../db/videos.ts";
import { isVideoId } from "../videos/ids.ts";
import { toViewerCard, viewerGrant } from "../delivery/viewer-access.ts";
import { appShell, firstFilesOf, lowestTier, pageResponse, previewTags, viewerPreloads, watchUrl } from "../delivery/viewer-page.ts";
import { chooseEngine } from "../../../contract/player-engine.ts";
import { viewerAssets } from "../delivery/viewer-assets.ts";
import { readOutput } from "../delivery/output-files.ts";
import type { VideoRow } from "../db/schema.ts";
import { r2Media } from "../storage/media.ts";

/**
 * /watch/:id and /embed/:id: the web app's page (it routes both itself), with the video's link
 * preview tags written in by the Worker when a signed-out viewer may watch it — a public playable
 * video, or one opened with a valid `?share=` link — and preloads of what its player fetches first
 * (<link rel=preload> and a `Link:` header for 103 Early Hints). Any other video gets the plain shell: the page
 * then asks the API itself (with the owner's token, if any), and a preview shows nothing.
 */
export const viewerPages = new Hono<AppEnv>();

viewerPages.get("/watch/:id", (c) => page(c, c.req.param("id"), "watch"));
viewerPages.get("/embed/:id", (c) => page(c, c.req.param("id"), "embed"));
// Deeper or empty paths are the web app's own "not found".
viewerPages.get("/watch/*", (c) => page(c, null, "watch"));
viewerPages.get("/embed/*", (c) => page(c, null, "embed"));

async function page(c: Context<AppEnv>, id: string | null, kind: "watch" | "embed"): Promise<Response> {
  const url = new URL(c.req.url);
  const [shell, row, assets] = await Promise.all([
    appShell(c.env, url),
    id && isVideoId(id) ? findVideo(c.env.DB, id) : undefined,
    viewerAssets(c.env, url),
  ]);
  const share = c.req.query("share");
  const grant = row ? await viewerGrant(c.env, row, share) : null;
  if (!row || !grant) {
    // Answered, but about no video this caller may see: metered without one (see app.ts).
    c.set("unattributed", true);
    return pageResponse(shell, null);
  }
  const card = toViewerCard(row, grant.playbackToken);
  const lowest = lowestTier(card);
  // The first segment is preloaded for hls.js only: a browser playing HLS itself (the web app
  // makes the same choice) reads it with media requests, which never take a fetch preload.
  const hlsJs = chooseEngine(c.req.header("User-Agent"), url.search) === "hls.js";
  const firstFiles = lowest && hlsJs ? await firstFilesOfTier(c.env, row, lowest.name) : [];
  const pageUrl = new URL(watchUrl(url.origin, row.id));
  if (grant.share) pageUrl.searchParams.set("share", grant.share);
  return pageResponse(shell, {
    tags: previewTags(url.origin, card, pageUrl.toString()),
    title: card.title,
    // What the player fetches first starts with the HTML, alongside the page's own code.
    // The page's own code, and the engine where the watch page loads it at once (the embed loads it on press).
    preloads: viewerPreloads(card, grant.playbackToken, kind, firstFiles, [
      ...assets[kind],
      ...(kind === "watch" && hlsJs && assets.engine ? [assets.engine] : []),
    ]),
  });
}

/** The first files of a tier's playlist; none when it cannot be read (the page is served anyway). */
async function firstFilesOfTier(env: Env, row: VideoRow, tier: string): Promise<string[]> {
  try {
    const playlist = await readOutput(r2Media(env.MEDIA), row, `${tier}/index.m3u8`);
    return playlist ? firstFilesOf(await new Response(playlist.body).text()) : [];
  } catch (err) {
    console.error("a viewer page's first segment could not be read for its preload:", err);
    return [];
  }
}
