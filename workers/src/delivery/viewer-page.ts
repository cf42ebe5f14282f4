import type { ViewerCardResponse } from "../../../contract/api.ts";
import { escapeHtml } from "./html.ts";
import { videoSize } from "./embed-size.ts";

/** The product's name as link previews and oEmbed show it (the web app's <title>). */
export const PROVIDER_NAME = "Edge Video";

export const watchUrl = (origin: string, id: string): string => `${origin}/watch/${id}`;
export const embedUrl = (origin: string, id: string): string => `${origin}/embed/${id}`;
export const oembedUrl = (origin: string, id: string): string =>
  `${origin}/oembed?url=${encodeURIComponent(watchUrl(origin, id))}&format=json`;

/**
 * Served when the static assets have no shell (a test runtime without the web build): a page that
 * still carries the preview tags. The real shell is the web app's index.html.
 */
const FALLBACK_SHELL = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${PROVIDER_NAME}</title>
  </head>
  <body>
    <div id="app"></div>
  </body>
</html>
`;

/**
 * The web app's HTML (the single-page app's index.html, from the static assets), which routes
 * /watch/:id and /embed/:id itself. Never a conditional request: the page differs per video.
 */
export async function appShell(env: Env, url: URL): Promise<Response> {
  try {
    const res = await env.ASSETS?.fetch(new Request(new URL("/", url)));
    if (res?.ok && /^text\/html/i.test(res.headers.get("Content-Type") ?? "")) return res;
    await res?.body?.cancel();
  } catch (err) {
    console.error("the app shell could not be read from the static assets:", err);
  }
  return new Response(FALLBACK_SHELL, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

/**
 * "Before any script runs — chat apps do not run JavaScript": Open Graph and Twitter tags of a
 * video a signed-out viewer may watch. `pageUrl` is where the link leads (a share link keeps its
 * token, a public video its plain watch URL); every value goes through escapeHtml.
 */
export function previewTags(origin: string, card: ViewerCardResponse, pageUrl: string): string {
  const meta = (key: "property" | "name", name: string, content: string | number) =>
    `<meta ${key}="${name}" content="${escapeHtml(String(content))}" />`;
  const poster = card.posterUrl ? new URL(card.posterUrl, origin).toString() : null;
  const isPublic = card.visibility === "public";
  const size = videoSize(card.renditions);
  const tags = [
    meta("property", "og:site_name", PROVIDER_NAME),
    meta("property", "og:title", card.title),
    meta("property", "og:type", "video.other"),
    meta("property", "og:url", pageUrl),
    ...(poster ? [meta("property", "og:image", poster)] : []),
    // A public video plays inside the chat app or tweet (the bare embed page); a shared private
    // one only links to its page, whose token must not leak into a third party's player.
    meta("name", "twitter:card", isPublic ? "player" : "summary_large_image"),
    meta("name", "twitter:title", card.title),
    ...(poster ? [meta("name", "twitter:image", poster)] : []),
    ...(isPublic
      ? [
          meta("name", "twitter:player", embedUrl(origin, card.id)),
          meta("name", "twitter:player:width", size.width),
          meta("name", "twitter:player:height", size.height),
          // oEmbed answers for public videos only, so only they are discoverable.
          `<link rel="alternate" type="application/json+oembed" href="${escapeHtml(oembedUrl(origin, card.id))}" title="${escapeHtml(card.title)}" />`,
        ]
      : [meta("name", "robots", "noindex")]),
  ];
  return tags.join("\n    ");
}

/**
 * The shell as a page: with `preview`, its tags first in <head> (before the shell's own scripts)
 * and the video's title as the document title (escaped by the rewriter); without, the plain shell.
 */
export function pageResponse(shell: Response, preview: { tags: string; title: string } | null): Response {
  const headers = new Headers({
    "Content-Type": "text/html; charset=utf-8",
    // The tags follow the video's visibility and title: revalidate every time, like index.html.
    "Cache-Control": "no-cache",
  });
  const page = new Response(shell.body, { status: 200, headers });
  if (!preview) return page;
  return new HTMLRewriter()
    .on("head", {
      element(head) {
        head.prepend(`\n    ${preview.tags}`, { html: true });
      },
    })
    .on("title", {
      element(title) {
        title.setInnerContent(preview.title, { html: false });
      },
    })
    .transform(page);
}
