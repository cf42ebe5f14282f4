import { SELF, createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../src/index.ts";
import { describe, expect, it } from "vitest";
import { BASE, usualUsers } from "./helpers.ts";
import type { OEmbedResponse, ShareResponse, VideoResponse, ViewerCardResponse } from "../../contract/api.ts";
import { signShareToken } from "../src/delivery/playback-token.ts";
import { firstFilesOf } from "../src/delivery/viewer-page.ts";
import { rollUpDay } from "../src/costs/ledger.ts";
import { utcDay } from "../src/costs/meter.ts";

const { alice, bob, admin } = await usualUsers();

const RENDITIONS = [
  { name: "240p", width: 426, height: 240, videoBitrate: 300_000, bandwidth: 400_000 },
  { name: "720p", width: 1280, height: 720, videoBitrate: 2_500_000, bandwidth: 2_800_000 },
];

/** A transcoded video of alice's: its row in D1 and its HLS files in R2. */
async function video(
  opts: { status?: string; playable?: boolean; visibility?: "public" | "private"; title?: string; renditions?: unknown[] } = {},
): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, renditions,
       source_bytes, source_sha256, error, upload_expires_at, created_at, updated_at)
     VALUES (?, 'alice', ?, 't.mp4', 'video/mp4', ?, ?, ?, 1, 1, ?, 1234, 'abc123', NULL, ?, ?, ?)`,
  )
    .bind(
      id,
      opts.title ?? "Cairo at night",
      opts.status ?? "READY",
      (opts.playable ?? true) ? 1 : 0,
      opts.visibility ?? "public",
      JSON.stringify(opts.renditions ?? RENDITIONS),
      now + 1e9,
      now,
      now,
    )
    .run();
  await env.MEDIA.put(`videos/${id}/r1/index.m3u8`, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\n240p/index.m3u8\n");
  await env.MEDIA.put(`videos/${id}/r1/poster.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
  return id;
}

const call = (token: string | null, path: string, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}${path}`, {
    ...init,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), "Content-Type": "application/json", ...init.headers },
  });

const statusOf = async (res: Promise<Response>) => {
  const r = await res;
  await r.body?.cancel();
  return r.status;
};

const CARD_FIELDS = [
  "id",
  "ownerId",
  "title",
  "visibility",
  "status",
  "progress",
  "playable",
  "hlsUrl",
  "posterUrl",
  "storyboardUrl",
  "durationSec",
  "renditions",
  "createdAt",
  "readyAt",
  // The MP4 download (§3.2).
  "downloadable",
  "downloadUrl",
].sort();

async function share(id: string, expiresInSec = 3600): Promise<string> {
  const res = await call(alice, `/api/videos/${id}/share`, { method: "POST", body: JSON.stringify({ expiresInSec }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as ShareResponse).url;
}

const shareToken = (url: string) => new URL(url).searchParams.get("share") ?? "";

describe("watching without an account", () => {
  it("answers the viewer card of a public playable video, signed out or signed in as anyone", async () => {
    const id = await video();
    for (const token of [null, bob]) {
      const res = await call(token, `/api/videos/${id}`);
      expect(res.status).toBe(200);
      const card = (await res.json()) as ViewerCardResponse;
      expect(Object.keys(card).sort()).toEqual(CARD_FIELDS);
      expect(card).toMatchObject({
        id,
        title: "Cairo at night",
        hlsUrl: `/videos/${id}/index.m3u8`,
        posterUrl: `/videos/${id}/poster.jpg`,
      });
      const playback = await call(token, `/api/videos/${id}/playback`);
      expect(playback.status).toBe(200);
      expect(await playback.json()).toEqual({ url: `${BASE}/videos/${id}/index.m3u8` });
    }
  });

  it("keeps the full response for the owner and admins", async () => {
    const id = await video();
    for (const token of [alice, admin]) {
      const full = (await (await call(token, `/api/videos/${id}`)).json()) as VideoResponse;
      expect(full).toMatchObject({ sourceBytes: 1234, sourceSha256: "abc123", message: expect.any(String) });
    }
  });

  it("is 404 for a private, not yet playable, deleted or malformed video; a bad token is still 401", async () => {
    const privateId = await video({ visibility: "private" });
    const processing = await video({ status: "PROCESSING", playable: false });
    const failed = await video({ status: "FAILED", playable: false });
    const deleted = await video();
    expect(await statusOf(call(alice, `/api/videos/${deleted}`, { method: "DELETE" }))).toBe(204);
    for (const id of [privateId, processing, failed, deleted, crypto.randomUUID(), "not-an-id"]) {
      for (const token of [null, bob]) {
        expect([id, await statusOf(call(token, `/api/videos/${id}`))]).toEqual([id, 404]);
        expect([id, await statusOf(call(token, `/api/videos/${id}/playback`))]).toEqual([id, 404]);
      }
    }
    const id = await video();
    expect(await statusOf(call("garbage", `/api/videos/${id}`))).toBe(401);
    expect(await statusOf(call("garbage", `/api/videos/${id}/playback`))).toBe(401);
    // Only these two routes are open: the list, a change and the rest still need a user.
    expect(await statusOf(call(null, "/api/videos"))).toBe(401);
    expect(await statusOf(call(null, `/api/videos/${id}`, { method: "PATCH", body: "{}" }))).toBe(401);
    expect(await statusOf(call(null, `/api/videos/${id}/share`, { method: "POST", body: "{}" }))).toBe(401);
  });
});

describe("share links", () => {
  it("lets anyone signed out see the card and play a private video until the owner revokes", async () => {
    const id = await video({ visibility: "private" });
    const url = await share(id);
    expect(url).toMatch(new RegExp(`^${BASE}/watch/${id}\\?share=[0-9a-z]+\\.[\\w-]+$`));
    const token = shareToken(url);
    const card = (await (await call(null, `/api/videos/${id}?share=${token}`)).json()) as ViewerCardResponse;
    expect(Object.keys(card).sort()).toEqual(CARD_FIELDS);
    expect(card.hlsUrl).toMatch(new RegExp(`^/videos/${id}/p/[^/]+/index\\.m3u8$`));
    expect(await statusOf(SELF.fetch(`${BASE}${card.posterUrl}`))).toBe(200);
    const { url: playlist } = (await (await call(null, `/api/videos/${id}/playback?share=${token}`)).json()) as { url: string };
    expect(playlist).toMatch(new RegExp(`^${BASE}/videos/${id}/p/[^/]+/index\\.m3u8$`));
    expect(await statusOf(SELF.fetch(playlist))).toBe(200);

    expect(await statusOf(call(alice, `/api/videos/${id}/share`, { method: "DELETE" }))).toBe(204);
    expect(await statusOf(call(null, `/api/videos/${id}?share=${token}`))).toBe(404);
    expect(await statusOf(call(null, `/api/videos/${id}/playback?share=${token}`))).toBe(404);
    expect(await statusOf(SELF.fetch(playlist))).toBe(403);
    // A new link works again.
    expect(await statusOf(call(null, `/api/videos/${id}?share=${shareToken(await share(id))}`))).toBe(200);
  });

  it("refuses an expired, forged or other video's link with 404", async () => {
    const id = await video({ visibility: "private" });
    const nowSec = Math.floor(Date.now() / 1000);
    const expired = await signShareToken(env.JWT_SECRET, id, 0, 60, nowSec - 120);
    const forged = shareToken(await share(id)).replace(/\.[\w-]+$/, ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    const otherVideo = shareToken(await share(await video({ visibility: "private" })));
    for (const token of [expired, forged, otherVideo, "", "garbage"]) {
      expect(await statusOf(call(null, `/api/videos/${id}?share=${encodeURIComponent(token)}`))).toBe(404);
      expect(await statusOf(call(bob, `/api/videos/${id}/playback?share=${encodeURIComponent(token)}`))).toBe(404);
    }
  });

  it("gives no access to a video that cannot play yet, and lets only the owner make links, with 400 for bad lifetimes", async () => {
    const processing = await video({ visibility: "private", status: "PROCESSING", playable: false });
    expect(await statusOf(call(null, `/api/videos/${processing}?share=${shareToken(await share(processing))}`))).toBe(404);
    const id = await video({ visibility: "private" });
    const post = (token: string, body: unknown) =>
      call(token, `/api/videos/${id}/share`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
    expect(await statusOf(post(bob, { expiresInSec: 3600 }))).toBe(404);
    expect(await statusOf(post(admin, { expiresInSec: 3600 }))).toBe(404);
    for (const body of [
      { expiresInSec: 59 },
      { expiresInSec: 30 * 86400 + 1 },
      { expiresInSec: 90.5 },
      { expiresInSec: "3600" },
      {},
      "{nope",
    ]) {
      const res = await post(alice, body);
      expect([body, res.status]).toEqual([body, 400]);
      expect(((await res.json()) as { message: string }).message).toMatch(/30 days/);
    }
    expect(await statusOf(post(alice, { expiresInSec: 60 }))).toBe(201);
    expect(await statusOf(post(alice, { expiresInSec: 30 * 86400 }))).toBe(201);
  });
});

/** The <meta>/<link> tags of a page, from its raw HTML (no script runs). */
function headTags(html: string): { meta: Map<string, string>; oembed: string | null } {
  const meta = new Map<string, string>();
  for (const [, key, content] of html.matchAll(/<meta (?:property|name)="([^"]+)" content="([^"]*)"/g)) meta.set(key, decodeHtml(content));
  const link = /<link rel="alternate" type="application\/json\+oembed" href="([^"]+)"/.exec(html);
  return { meta, oembed: link ? decodeHtml(link[1]) : null };
}
const decodeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

describe("watch and embed pages", () => {
  it("carry the link preview tags of a public video in the raw HTML, before any script", async () => {
    const id = await video();
    for (const path of [`/watch/${id}`, `/embed/${id}`]) {
      const res = await SELF.fetch(`${BASE}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
      const html = await res.text();
      const { meta, oembed } = headTags(html);
      expect(meta.get("og:title")).toBe("Cairo at night");
      expect(meta.get("og:type")).toBe("video.other");
      expect(meta.get("og:url")).toBe(`${BASE}/watch/${id}`);
      expect(meta.get("og:image")).toBe(`${BASE}/videos/${id}/poster.jpg`);
      expect(meta.get("twitter:card")).toBe("player");
      expect(meta.get("twitter:player")).toBe(`${BASE}/embed/${id}`);
      expect(oembed).toBe(`${BASE}/oembed?url=${encodeURIComponent(`${BASE}/watch/${id}`)}&format=json`);
      // In <head>, ahead of every script of the shell.
      const firstTag = html.indexOf('property="og:title"');
      expect(firstTag).toBeGreaterThan(html.indexOf("<head"));
      expect(firstTag).toBeLessThan(html.indexOf("</head>"));
      const firstScript = html.indexOf("<script");
      if (firstScript >= 0) expect(firstTag).toBeLessThan(firstScript);
      expect(html).toContain(`<title>Cairo at night</title>`);
      // Still the web app's page.
      expect(html).toContain('<div id="app">');
    }
  });

  it("writes them into the web app's own shell from the static assets, ahead of its scripts", async () => {
    const id = await video();
    const shell = `<!doctype html><html><head><meta charset="utf-8" /><title>Edge Video</title><script>window.early = 1;</script></head><body><div id="app"></div><script type="module" src="/assets/main.js"></script></body></html>`;
    const list = {
      watch: ["/assets/App-1.js", "/assets/Player-1.js"],
      embed: ["/assets/Embed-1.js", "/assets/Player-1.js"],
      engine: "/assets/hls.light-1.js",
    };
    const asked: string[] = [];
    const ASSETS = {
      fetch: async (input: RequestInfo | URL) => {
        const url = new Request(input).url;
        asked.push(url);
        if (url.endsWith("/viewer-assets.json")) return Response.json(list);
        return new Response(shell, { headers: { "Content-Type": "text/html; charset=utf-8", ETag: '"shell"' } });
      },
    } as unknown as Fetcher;
    const page = async (path: string, headers: Record<string, string> = {}) => {
      const ctx = createExecutionContext();
      const req = new Request(`${BASE}${path}`, { headers }) as Request<unknown, IncomingRequestCfProperties>;
      const res = await worker.fetch(req, { ...env, ASSETS }, ctx);
      await waitOnExecutionContext(ctx);
      return { res, html: await res.text() };
    };
    const { res, html } = await page(`/watch/${id}`);
    expect(asked.sort()).toEqual([`${BASE}/`, `${BASE}/viewer-assets.json`]);
    expect(res.headers.get("ETag")).toBeNull();
    expect(html).toContain('<script type="module" src="/assets/main.js"></script>');
    expect(headTags(html).meta.get("og:title")).toBe("Cairo at night");
    expect(html.indexOf("og:title")).toBeLessThan(html.indexOf("window.early"));
    expect(html).toContain("<title>Cairo at night</title>");
    // The page's code and the engine download from the HTML's first bytes (and its Early Hints),
    // ahead of the entry script that would ask for them.
    const code = [...list.watch, list.engine];
    expect(modulePreloads(html)).toEqual(code);
    expect(html.indexOf('rel="modulepreload"')).toBeLessThan(html.indexOf("window.early"));
    expect(linkEntries(res).filter((l) => l.params.includes("rel=modulepreload"))).toEqual(
      code.map((href) => ({ href, params: ["rel=modulepreload"] })),
    );
    // The list is read once, not per page.
    await page(`/watch/${id}`);
    expect(asked.filter((u) => u.endsWith("/viewer-assets.json"))).toHaveLength(1);
    // The embed loads the engine itself, after its poster; a browser with HLS of its own, none.
    expect(modulePreloads((await page(`/embed/${id}`)).html)).toEqual(list.embed);
    const safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
    expect(modulePreloads((await page(`/watch/${id}`, { "User-Agent": safari })).html)).toEqual(list.watch);
    expect(modulePreloads((await page(`/watch/${id}?engine=hls.js`, { "User-Agent": safari })).html)).toEqual(code);
  });

  it("escapes a hostile title", async () => {
    const title = `"><script>alert('x')</script><b a="`;
    const id = await video({ title });
    const html = await (await SELF.fetch(`${BASE}/watch/${id}`)).text();
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain(`"><b a="`);
    expect(headTags(html).meta.get("og:title")).toBe(title);
    expect(html).toContain("&lt;script&gt;alert(");
  });

  it("gives a private, unknown or not yet playable video the plain shell, without tags", async () => {
    const ids = [await video({ visibility: "private" }), await video({ status: "PROCESSING", playable: false }), crypto.randomUUID()];
    for (const path of [...ids.map((id) => `/watch/${id}`), `/embed/${ids[0]}`, "/watch/not-an-id", "/watch/a/b"]) {
      const res = await SELF.fetch(`${BASE}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      const html = await res.text();
      expect(html).toContain('<div id="app">');
      expect(html).not.toMatch(/og:|twitter:|oembed/);
    }
  });

  it("carries the tags of a private video opened with its share link (no oEmbed), and none once revoked", async () => {
    const id = await video({ visibility: "private", title: "Family only" });
    const url = await share(id);
    const { meta, oembed } = headTags(await (await SELF.fetch(url)).text());
    expect(meta.get("og:title")).toBe("Family only");
    expect(meta.get("og:url")).toBe(url);
    expect(meta.get("twitter:card")).toBe("summary_large_image");
    expect(await statusOf(SELF.fetch(meta.get("og:image")!))).toBe(200);
    expect(oembed).toBeNull();
    expect(await statusOf(call(alice, `/api/videos/${id}/share`, { method: "DELETE" }))).toBe(204);
    expect(await (await SELF.fetch(url)).text()).not.toMatch(/og:/);
  });
});

/** The page's `<link rel=preload>` tags, in order: href (decoded), as, crossorigin, data-playback. */
function preloadLinks(html: string): { href: string; as: string; crossorigin: string | null; playback: boolean }[] {
  return [...html.matchAll(/<link rel="preload" ([^>]*)\/?>/g)].map(([, attrs]) => ({
    href: decodeHtml(/href="([^"]*)"/.exec(attrs)?.[1] ?? ""),
    as: /as="([^"]*)"/.exec(attrs)?.[1] ?? "",
    crossorigin: /crossorigin="([^"]*)"/.exec(attrs)?.[1] ?? null,
    playback: /\bdata-playback\b/.test(attrs),
  }));
}

/** Every entry of the `Link:` header (what the edge sends as 103 Early Hints): href and parameters. */
const linkEntries = (res: Response) =>
  (res.headers.get("Link") ?? "")
    .split(/,\s*(?=<)/)
    .filter(Boolean)
    .map((part) => {
      const [, href, params] = /^<([^>]+)>;\s*(.*)$/.exec(part) ?? [];
      return { href, params: params?.split(/;\s*/).sort() ?? [] };
    });
/**
 * Its media preloads. The web app's modules (`rel=modulepreload`) are named only when the static
 * assets hold a build's list of them, which a local `npm start` may have written: tested apart.
 */
const linkHeader = (res: Response) => linkEntries(res).filter((l) => l.params.includes("rel=preload"));
const modulePreloads = (html: string) =>
  [...html.matchAll(/<link rel="modulepreload" href="([^"]*)"/g)].map(([, href]) => decodeHtml(href));

describe("preloads for the first frame", () => {
  // Listed highest first: the lowest tier is found by bandwidth, not by position.
  const LADDER = [RENDITIONS[1], { name: "480p", width: 854, height: 480, videoBitrate: 900_000, bandwidth: 1_100_000 }, RENDITIONS[0]];
  const TIER_PLAYLIST =
    "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.000000,\nseg_00000.ts\n#EXTINF:1.000000,\nseg_00001.ts\n#EXT-X-ENDLIST\n";

  it("reads the first files a player asks for from a media playlist: an fMP4 init section, then the first segment", () => {
    expect(firstFilesOf(TIER_PLAYLIST)).toEqual(["seg_00000.ts"]);
    expect(firstFilesOf('#EXTM3U\r\n#EXT-X-MAP:URI="init.mp4"\r\n#EXTINF:1,\r\nseg_00000.m4s\r\nseg_00001.m4s\r\n')).toEqual([
      "init.mp4",
      "seg_00000.m4s",
    ]);
    // Only plain names beside the playlist: never another host or folder.
    expect(firstFilesOf("#EXTM3U\n#EXTINF:1,\nhttps://elsewhere.example/a.ts\n")).toEqual([]);
    expect(firstFilesOf("#EXTM3U\n#EXTINF:1,\n../720p/seg_00000.ts\n")).toEqual([]);
    expect(firstFilesOf("")).toEqual([]);
  });

  it("name a public video's master and lowest-tier playlists and first segment in the raw HTML and the Link header; the embed adds its poster", async () => {
    const id = await video({ renditions: LADDER });
    await env.MEDIA.put(`videos/${id}/r1/240p/index.m3u8`, TIER_PLAYLIST);
    await env.MEDIA.put(`videos/${id}/r1/240p/seg_00000.ts`, new Uint8Array(188));
    const playlists = [
      { href: `/videos/${id}/index.m3u8`, as: "fetch", crossorigin: "anonymous", playback: true },
      { href: `/videos/${id}/240p/index.m3u8`, as: "fetch", crossorigin: "anonymous", playback: false },
      { href: `/videos/${id}/240p/seg_00000.ts`, as: "fetch", crossorigin: "anonymous", playback: false },
    ];
    const poster = { href: `/videos/${id}/poster.jpg`, as: "image", crossorigin: null, playback: false };
    for (const [path, expected] of [
      [`/watch/${id}`, playlists],
      [`/embed/${id}`, [...playlists, poster]],
    ] as const) {
      const res = await SELF.fetch(`${BASE}${path}`);
      const html = await res.text();
      const links = preloadLinks(html);
      expect([path, links]).toEqual([path, expected]);
      // Ahead of the shell's scripts, so the browser starts them with the page's own code.
      const firstScript = html.indexOf("<script");
      if (firstScript >= 0) expect(html.indexOf('rel="preload"')).toBeLessThan(firstScript);
      expect(linkHeader(res)).toEqual(
        expected.map((l) => ({
          href: l.href,
          params: ["rel=preload", `as=${l.as}`, ...(l.crossorigin ? [`crossorigin=${l.crossorigin}`] : [])].sort(),
        })),
      );
      // Every preloaded file is there for anyone to fetch (a preload of a 404 would only cost bytes).
      for (const l of links) expect([l.href, await statusOf(SELF.fetch(`${BASE}${l.href}`))]).toEqual([l.href, 200]);
    }
    // Safari plays HLS itself and would fetch a preloaded segment twice: the playlists only.
    const safari =
      "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
    const res = await SELF.fetch(`${BASE}/watch/${id}`, { headers: { "User-Agent": safari } });
    expect(preloadLinks(await res.text())).toEqual(playlists.slice(0, 2));
    expect(linkHeader(res).map((l) => l.href)).toEqual(playlists.slice(0, 2).map((l) => l.href));
  });

  it("name nothing for a private video opened without its share link, nor for one that cannot play yet", async () => {
    const ids = [await video({ visibility: "private" }), await video({ status: "PROCESSING", playable: false }), crypto.randomUUID()];
    for (const path of [...ids.map((id) => `/watch/${id}`), `/embed/${ids[0]}`]) {
      const res = await SELF.fetch(`${BASE}${path}`);
      expect([path, res.headers.get("Link")]).toEqual([path, null]);
      expect(preloadLinks(await res.text())).toEqual([]);
    }
  });

  it("name a shared private video's signed paths, which play, and nothing once the link is revoked", async () => {
    const id = await video({ visibility: "private", title: "Family only" });
    await env.MEDIA.put(`videos/${id}/r1/240p/index.m3u8`, TIER_PLAYLIST);
    await env.MEDIA.put(`videos/${id}/r1/240p/seg_00000.ts`, new Uint8Array(188));
    const url = await share(id);
    const res = await SELF.fetch(url);
    const links = preloadLinks(await res.text());
    expect(links.map((l) => l.href)).toEqual([
      expect.stringMatching(new RegExp(`^/videos/${id}/p/[^/]+/index\\.m3u8$`)),
      expect.stringMatching(new RegExp(`^/videos/${id}/p/[^/]+/240p/index\\.m3u8$`)),
      expect.stringMatching(new RegExp(`^/videos/${id}/p/[^/]+/240p/seg_00000\\.ts$`)),
    ]);
    expect(linkHeader(res).map((l) => l.href)).toEqual(links.map((l) => l.href));
    for (const l of links) expect(await statusOf(SELF.fetch(`${BASE}${l.href}`))).toBe(200);
    // Without the token in its path the same playlist is refused: the preload carries the grant.
    expect(await statusOf(SELF.fetch(`${BASE}/videos/${id}/index.m3u8`))).toBe(403);
    expect(await statusOf(call(alice, `/api/videos/${id}/share`, { method: "DELETE" }))).toBe(204);
    const after = await SELF.fetch(url);
    expect(after.headers.get("Link")).toBeNull();
    expect(preloadLinks(await after.text())).toEqual([]);
    // And the signed paths named before stop playing with it.
    for (const l of links) expect(await statusOf(SELF.fetch(`${BASE}${l.href}`))).toBe(403);
  });
});

describe("oEmbed", () => {
  const oembed = (watch: string, extra = "") => SELF.fetch(`${BASE}/oembed?url=${encodeURIComponent(watch)}&format=json${extra}`);

  it("describes a public video as oEmbed 1.0 video JSON, with CORS", async () => {
    const id = await video({ title: `A "quoted" <title>` });
    const res = await oembed(`${BASE}/watch/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const body = (await res.json()) as OEmbedResponse;
    expect(Object.keys(body).sort()).toEqual(
      [
        "version",
        "type",
        "title",
        "provider_name",
        "html",
        "width",
        "height",
        "thumbnail_url",
        "thumbnail_width",
        "thumbnail_height",
      ].sort(),
    );
    expect(body).toMatchObject({
      version: "1.0",
      type: "video",
      title: `A "quoted" <title>`,
      width: 1280,
      height: 720,
      thumbnail_url: `${BASE}/videos/${id}/poster.jpg`,
      thumbnail_width: 854,
      thumbnail_height: 480,
    });
    expect(body.html).toMatch(new RegExp(`^<iframe src="${BASE}/embed/${id}" width="1280" height="720" `));
    expect(body.html).toContain('title="A &quot;quoted&quot; &lt;title&gt;"');
  });

  it("respects maxwidth and maxheight, keeping the aspect; falls back to 16:9 without renditions", async () => {
    const id = await video();
    expect(await (await oembed(`${BASE}/watch/${id}`, "&maxwidth=640")).json()).toMatchObject({ width: 640, height: 360 });
    expect(await (await oembed(`${BASE}/watch/${id}`, "&maxwidth=1000&maxheight=180")).json()).toMatchObject({ width: 320, height: 180 });
    const bare = await video({ renditions: [] });
    expect(await (await oembed(`${BASE}/watch/${bare}`)).json()).toMatchObject({ width: 640, height: 360 });
  });

  it("is 404 for a private, unknown or unplayable video and for URLs that are not this site's watch pages; 501 for xml", async () => {
    const publicId = await video();
    const privateId = await video({ visibility: "private" });
    const shared = await share(privateId);
    const processing = await video({ status: "PROCESSING", playable: false });
    for (const url of [
      `${BASE}/watch/${privateId}`,
      shared,
      `${BASE}/watch/${processing}`,
      `${BASE}/watch/${crypto.randomUUID()}`,
      `https://elsewhere.example/watch/${publicId}`,
      `${BASE}/embed/${publicId}`,
      `${BASE}/watch/${publicId}/extra`,
      "not a url",
    ]) {
      const res = await oembed(url);
      expect([url, res.status]).toEqual([url, 404]);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      await res.body?.cancel();
    }
    expect(await statusOf(SELF.fetch(`${BASE}/oembed`))).toBe(404);
    const xml = await SELF.fetch(`${BASE}/oembed?url=${encodeURIComponent(`${BASE}/watch/${publicId}`)}&format=xml`);
    expect(xml.status).toBe(501);
    await xml.body?.cancel();
  });
});

describe("metering of viewers' requests", () => {
  const requestsOf = async (videoId: string) =>
    (
      await env.DB.prepare("SELECT coalesce(sum(quantity), 0) AS n FROM usage WHERE video_id = ? AND kind = 'workers_requests'")
        .bind(videoId)
        .first<{ n: number }>()
    )?.n ?? 0;

  it("bills a signed-out viewer's card, playback URL and page to the video; a page of no video to none", async () => {
    const id = await video();
    const ghost = crypto.randomUUID();
    const privateId = await video({ visibility: "private" });
    for (const path of [`/api/videos/${id}`, `/api/videos/${id}/playback`, `/watch/${id}`, `/watch/${ghost}`, `/embed/${privateId}`]) {
      await statusOf(SELF.fetch(`${BASE}${path}`));
    }
    await rollUpDay(env, utcDay(Date.now())); // flushes this isolate's counters
    expect(await requestsOf(id)).toBe(3);
    expect(await requestsOf(ghost)).toBe(0);
    expect(await requestsOf(privateId)).toBe(0);
  });
});
