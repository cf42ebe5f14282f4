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

/** A file the page will need before its first frame, fetched from the HTML on (or its 103 Early Hints). */
export interface Preload {
  href: string;
  /**
   * `fetch`: what hls.js reads with XHR (playlists, first segment); `image`: the poster; `script`:
   * a module of the web app (a `modulepreload`, which the page's `import()` then takes).
   */
  as: "fetch" | "image" | "script";
}

/**
 * What a viewer's page needs first, in the order a player asks for it: the master playlist, the
 * lowest tier's playlist (the player starts there) and, for the embed, whose first paint is the
 * poster, the poster. Same-origin paths (a share link's carry its signed token, as /playback
 * would answer). The watch page's poster is left out: it only shares the slow link with the
 * player's code and the first segment, and the first frame came later with it (see the bench).
 */
export function viewerPreloads(
  card: ViewerCardResponse,
  playbackToken: string | null,
  page: "watch" | "embed",
  firstFiles: string[] = [],
  code: string[] = [],
): Preload[] {
  const base = `/videos/${card.id}/${playbackToken ? `p/${playbackToken}/` : ""}`;
  const lowest = lowestTier(card);
  const tier = lowest ? `${base}${encodeURIComponent(lowest.name)}/` : null;
  return [
    { href: `${base}index.m3u8`, as: "fetch" as const },
    ...(tier ? [{ href: `${tier}index.m3u8`, as: "fetch" as const }] : []),
    ...(tier ? firstFiles.map((name) => ({ href: `${tier}${name}`, as: "fetch" as const })) : []),
    ...(page === "embed" && card.posterUrl ? [{ href: `${base}poster.jpg`, as: "image" as const }] : []),
    ...code.map((href) => ({ href, as: "script" as const })),
  ];
}

/** The tier a player starts on: the lowest bandwidth. */
export function lowestTier(card: ViewerCardResponse): ViewerCardResponse["renditions"][number] | null {
  return card.renditions.reduce<ViewerCardResponse["renditions"][number] | null>(
    (low, r) => (low && low.bandwidth <= r.bandwidth ? low : r),
    null,
  );
}

/**
 * The files a player reads first from a media playlist: its init section (fMP4), if any, and its
 * first segment. Plain relative names only (ours): anything else is not preloaded.
 */
export function firstFilesOf(playlist: string): string[] {
  const files: string[] = [];
  for (const raw of playlist.split(/\r?\n/)) {
    const line = raw.trim();
    const map = /^#EXT-X-MAP:.*\bURI="([^"]+)"/.exec(line);
    if (map) files.push(map[1]);
    else if (line && !line.startsWith("#")) {
      files.push(line);
      break;
    }
  }
  return files.filter((f) => /^[\w.-]+$/.test(f));
}

/**
 * The preloads as <link> tags. The master's carries `data-playback`: the page starts its player on
 * that URL at once instead of waiting for /playback (for a share link the two would differ: each
 * signing is a new token, and a preload is used only by a request for the same URL).
 * `crossorigin` on playlists: hls.js's requests are CORS-mode, which a preload must match.
 */
export function preloadTags(preloads: Preload[]): string {
  return preloads
    .map((p, i) =>
      p.as === "script"
        ? `<link rel="modulepreload" href="${escapeHtml(p.href)}" />`
        : `<link rel="preload" href="${escapeHtml(p.href)}" as="${p.as}"${p.as === "fetch" ? ' crossorigin="anonymous"' : ""}${i === 0 ? " data-playback" : ""} />`,
    )
    .join("\n    ");
}

/** The same preloads as a `Link:` header, which the edge turns into 103 Early Hints. */
export function preloadHeader(preloads: Preload[]): string {
  return preloads
    .map((p) =>
      p.as === "script"
        ? `<${p.href}>; rel=modulepreload`
        : `<${p.href}>; rel=preload; as=${p.as}${p.as === "fetch" ? "; crossorigin=anonymous" : ""}`,
    )
    .join(", ");
}

/**
 * The shell as a page: with `preview`, its tags first in <head> (before the shell's own scripts)
 * and the video's title as the document title (escaped by the rewriter); without, the plain shell.
 */
export function pageResponse(shell: Response, preview: { tags: string; title: string; preloads?: Preload[] } | null): Response {
  const headers = new Headers({
    "Content-Type": "text/html; charset=utf-8",
    // The tags follow the video's visibility and title: revalidate every time, like index.html.
    "Cache-Control": "no-cache",
  });
  if (preview?.preloads?.length) headers.set("Link", preloadHeader(preview.preloads));
  const page = new Response(shell.body, { status: 200, headers });
  if (!preview) return page;
  const head = preview.preloads?.length ? `${preloadTags(preview.preloads)}\n    ${preview.tags}` : preview.tags;
  return new HTMLRewriter()
    .on("head", {
      element(element) {
        element.prepend(`\n    ${head}`, { html: true });
      },
    })
    .on("title", {
      element(title) {
        title.setInnerContent(preview.title, { html: false });
      },
    })
    .transform(page);
}
