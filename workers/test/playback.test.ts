import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, usualUsers } from "./helpers.ts";
import { sourceKey } from "../src/storage/keys.ts";
import { signPlaybackToken } from "../src/delivery/playback-token.ts";
import { PLAYBACK_STATE_TTL_MS, playbackState } from "../src/delivery/playback-state.ts";

const { alice, bob, admin } = await usualUsers();

const SEGMENT = new Uint8Array(1000).map((_, i) => i % 251);

/** A transcoded video: its row in D1 and its HLS files in R2. */
const STORYBOARD_VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard.jpg#xywh=0,0,160,90\n";

async function videoWithOutputs(
  opts: { status?: string; playable?: boolean; visibility?: "public" | "private"; storyboard?: boolean } = {},
): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, upload_expires_at, created_at, updated_at, has_storyboard)
     VALUES (?, 'alice', 't', 't.mp4', 'video/mp4', ?, ?, ?, 1, 1, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      opts.status ?? "READY",
      (opts.playable ?? true) ? 1 : 0,
      opts.visibility ?? "public",
      now + 1e9,
      now,
      now,
      opts.storyboard ? 1 : 0,
    )
    .run();
  const put = (path: string, body: string | Uint8Array) => env.MEDIA.put(`videos/${id}/r1/${path}`, body);
  await put("index.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=700000\n240p/index.m3u8\n");
  await put("240p/index.m3u8", "#EXTM3U\n#EXTINF:4,\nseg_00000.ts\n#EXT-X-ENDLIST\n");
  await put("240p/seg_00000.ts", SEGMENT);
  await put("poster.jpg", new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
  if (opts.storyboard) {
    await put("storyboard.jpg", new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
    await put("storyboard.vtt", STORYBOARD_VTT);
  }
  await env.MEDIA.put(sourceKey(id), "the source");
  return id;
}

const get = (path: string, headers: Record<string, string> = {}) => SELF.fetch(`${BASE}${path}`, { headers });

/** The cache is filled in the background after a miss; ask until it answers from the cache. */
async function untilHit(path: string): Promise<Response> {
  for (let i = 0; i < 50; i++) {
    const res = await get(path);
    if (res.headers.get("X-Cache") === "HIT") return res;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never came from the cache`);
}

describe("HLS delivery", () => {
  it("serves each kind with its type and cache policy, from R2 first and from the cache after", async () => {
    const id = await videoWithOutputs();
    const first = await get(`/videos/${id}/index.m3u8`);
    expect(first.status).toBe(200);
    expect(first.headers.get("X-Cache")).toBe("MISS");
    expect(first.headers.get("Content-Type")).toBe("application/vnd.apple.mpegurl");
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=3600, stale-while-revalidate=86400");
    expect(first.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(first.headers.get("X-Edge-Colo")).toBeTruthy();
    expect(await first.text()).toContain("240p/index.m3u8");
    const second = await untilHit(`/videos/${id}/index.m3u8`);
    expect(await second.text()).toContain("240p/index.m3u8");

    const segment = await untilHit(`/videos/${id}/240p/seg_00000.ts`);
    expect(segment.headers.get("Content-Type")).toBe("video/mp2t");
    expect(segment.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(new Uint8Array(await segment.arrayBuffer())).toEqual(SEGMENT);

    const poster = await get(`/videos/${id}/poster.jpg`);
    expect(poster.headers.get("Content-Type")).toBe("image/jpeg");
    expect(poster.headers.get("Cache-Control")).toBe("public, max-age=604800");
    await poster.body?.cancel();
  });

  it("serves the storyboard (sprite and WebVTT) with their types and the poster's cache policy", async () => {
    const id = await videoWithOutputs({ storyboard: true });
    const vtt = await get(`/videos/${id}/storyboard.vtt`);
    expect(vtt.status).toBe(200);
    expect(vtt.headers.get("Content-Type")).toBe("text/vtt; charset=utf-8");
    expect(vtt.headers.get("Cache-Control")).toBe("public, max-age=604800");
    expect(vtt.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await vtt.text()).toBe(STORYBOARD_VTT);
    const fromCache = await untilHit(`/videos/${id}/storyboard.vtt`);
    expect(fromCache.headers.get("Content-Type")).toBe("text/vtt; charset=utf-8");
    await fromCache.body?.cancel();
    const sprite = await get(`/videos/${id}/storyboard.jpg`);
    expect(sprite.status).toBe(200);
    expect(sprite.headers.get("Content-Type")).toBe("image/jpeg");
    expect(sprite.headers.get("Cache-Control")).toBe("public, max-age=604800");
    await sprite.body?.cancel();
    // While a run is still processing, the poster's short policy.
    const processing = await videoWithOutputs({ status: "PROCESSING", playable: true, storyboard: true });
    const early = await get(`/videos/${processing}/storyboard.vtt`);
    expect(early.headers.get("Cache-Control")).toBe("public, max-age=60");
    await early.body?.cancel();
    expect((await get(`/videos/${id}/storyboard.png`)).status).toBe(404);
  });

  it("gives the owner a signed storyboardUrl for a private video, null for a video without one", async () => {
    const id = await videoWithOutputs({ visibility: "private", storyboard: true });
    const video = (await (await get(`/api/videos/${id}`, { Authorization: `Bearer ${alice}` })).json()) as { storyboardUrl: string };
    expect(video.storyboardUrl).toMatch(new RegExp(`^/videos/${id}/p/[^/]+/storyboard\\.vtt$`));
    const vtt = await get(video.storyboardUrl);
    expect(vtt.status).toBe(200);
    expect(await vtt.text()).toBe(STORYBOARD_VTT);
    // The cues name the sprite relatively: it resolves under the same signed path.
    expect((await get(video.storyboardUrl.replace(/storyboard\.vtt$/, "storyboard.jpg"))).status).toBe(200);
    expect((await get(`/videos/${id}/storyboard.vtt`)).status).toBe(403);
    const without = await videoWithOutputs();
    const card = (await (await get(`/api/videos/${without}`, { Authorization: `Bearer ${alice}` })).json()) as {
      storyboardUrl: string | null;
    };
    expect(card.storyboardUrl).toBeNull();
  });

  it("answers Range with 206 from R2 and from the cache, 416 when unsatisfiable, HEAD without a body", async () => {
    const id = await videoWithOutputs();
    const path = `/videos/${id}/240p/seg_00000.ts`;
    const fromR2 = await get(path, { Range: "bytes=0-99" });
    expect(fromR2.status).toBe(206);
    expect(fromR2.headers.get("X-Cache")).toBe("MISS");
    expect(fromR2.headers.get("Content-Range")).toBe("bytes 0-99/1000");
    expect(new Uint8Array(await fromR2.arrayBuffer())).toEqual(SEGMENT.slice(0, 100));
    await (await untilHit(path)).body?.cancel();
    const fromCache = await get(path, { Range: "bytes=-10" });
    expect(fromCache.status).toBe(206);
    expect(fromCache.headers.get("X-Cache")).toBe("HIT");
    expect(fromCache.headers.get("Content-Range")).toBe("bytes 990-999/1000");
    expect(new Uint8Array(await fromCache.arrayBuffer())).toEqual(SEGMENT.slice(990));
    const beyond = await get(path, { Range: "bytes=5000-" });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("Content-Range")).toBe("bytes */1000");
    const head = await SELF.fetch(`${BASE}${path}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Length")).toBe("1000");
    expect(await head.text()).toBe("");
  });

  it("answers If-None-Match with 304", async () => {
    const id = await videoWithOutputs();
    const first = await get(`/videos/${id}/poster.jpg`);
    const etag = first.headers.get("ETag")!;
    await first.body?.cancel();
    expect(etag).toMatch(/^"/);
    const again = await get(`/videos/${id}/poster.jpg`, { "If-None-Match": etag });
    expect(again.status).toBe(304);
    expect(await get(`/videos/${id}/poster.jpg`, { "If-None-Match": '"other"' }).then((r) => r.status)).toBe(200);
  });

  it("never caches the growing playlist of a video still processing, and hides a video not yet playable", async () => {
    const id = await videoWithOutputs({ status: "PROCESSING", playable: true });
    for (let i = 0; i < 3; i++) {
      const res = await get(`/videos/${id}/240p/index.m3u8`);
      expect(res.headers.get("X-Cache")).toBe("MISS");
      expect(res.headers.get("Cache-Control")).toBe("public, max-age=2");
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 20));
    }
    const segment = await get(`/videos/${id}/240p/seg_00000.ts`);
    expect(segment.headers.get("Cache-Control")).toBe("public, max-age=300");
    await segment.body?.cancel();
    const hidden = await videoWithOutputs({ status: "PROCESSING", playable: false });
    expect((await get(`/videos/${hidden}/index.m3u8`)).status).toBe(404);
  });

  it("plays a private video only with a valid token in the path, which survives relative URLs", async () => {
    const id = await videoWithOutputs({ visibility: "private" });
    expect((await get(`/videos/${id}/index.m3u8`)).status).toBe(403);
    const api = (token: string) => get(`/api/videos/${id}/playback`, { Authorization: `Bearer ${token}` });
    expect((await api(bob)).status).toBe(404);
    const { url } = (await (await api(alice)).json()) as { url: string };
    expect(url).toMatch(new RegExp(`/videos/${id}/p/[^/]+/index\\.m3u8$`));
    const master = await SELF.fetch(url);
    expect(master.status).toBe(200);
    // The player resolves "240p/index.m3u8" against the master's URL: the token stays in the path.
    const variantUrl = new URL("240p/index.m3u8", url);
    const variant = await SELF.fetch(variantUrl);
    expect(variant.status).toBe(200);
    await variant.body?.cancel();
    expect((await SELF.fetch(new URL("seg_00000.ts", variantUrl))).status).toBe(200);
    const forged = url.replace(/\/p\/[^/]+\//, "/p/zzzzzz.AAAA/");
    expect((await SELF.fetch(forged)).status).toBe(403);
    const expired = await signPlaybackToken(env.JWT_SECRET, id, 0, Math.floor(Date.now() / 1000) - 7 * 3600);
    expect((await get(`/videos/${id}/p/${expired}/index.m3u8`)).status).toBe(403);
    const otherVideo = await signPlaybackToken(env.JWT_SECRET, crypto.randomUUID(), 0);
    expect((await get(`/videos/${id}/p/${otherVideo}/index.m3u8`)).status).toBe(403);
  });

  it("gives the owner signed hlsUrl and posterUrl for a private video", async () => {
    const id = await videoWithOutputs({ visibility: "private" });
    const video = (await (await get(`/api/videos/${id}`, { Authorization: `Bearer ${alice}` })).json()) as {
      hlsUrl: string;
      posterUrl: string;
    };
    expect(video.hlsUrl).toMatch(new RegExp(`^/videos/${id}/p/[^/]+/index\\.m3u8$`));
    expect((await get(video.hlsUrl)).status).toBe(200);
    expect((await get(video.posterUrl)).status).toBe(200);
  });

  it("serves public playback URLs to any signed-in viewer", async () => {
    const id = await videoWithOutputs();
    const res = await get(`/api/videos/${id}/playback`, { Authorization: `Bearer ${bob}` });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { url: string }).url).toBe(`${BASE}/videos/${id}/index.m3u8`);
  });

  it.each([
    ["a source", (id: string) => `/videos/${id}/%2e%2e/%2e%2e/sources/${id}`],
    ["an encoded traversal", (id: string) => `/videos/${id}/240p%2f..%2f..%2fsources`],
    ["an unknown file", (id: string) => `/videos/${id}/evil.html`],
    ["a malformed segment name", (id: string) => `/videos/${id}/240p/seg_1.ts`],
    ["a malformed id", () => `/videos/..%2fsources/index.m3u8`],
    ["an unknown video", () => `/videos/${crypto.randomUUID()}/index.m3u8`],
  ])("refuses %s with 404", async (_, path) => {
    const id = await videoWithOutputs();
    const res = await get(path(id));
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("the source");
  });

  it("stops serving a deleted video at once, cached files included", async () => {
    const id = await videoWithOutputs();
    await (await untilHit(`/videos/${id}/240p/seg_00000.ts`)).body?.cancel();
    const del = await SELF.fetch(`${BASE}/api/videos/${id}`, { method: "DELETE", headers: { Authorization: `Bearer ${alice}` } });
    expect(del.status).toBe(204);
    expect((await get(`/videos/${id}/240p/seg_00000.ts`)).status).toBe(404);
  });
});

const asUser = (token: string, path: string, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...init.headers },
  });
const signedUrl = async (id: string) => ((await (await asUser(alice, `/api/videos/${id}/playback`)).json()) as { url: string }).url;
const setVisibility = (id: string, visibility: "public" | "private") =>
  asUser(alice, `/api/videos/${id}`, { method: "PATCH", body: JSON.stringify({ visibility }) });
const statusOf = async (url: string) => {
  const res = await SELF.fetch(url);
  await res.body?.cancel();
  return res.status;
};

describe("revoking private playback URLs", () => {
  it("voids URLs signed before a visibility change (private → public → private); fresh ones play", async () => {
    const id = await videoWithOutputs({ visibility: "private" });
    const old = await signedUrl(id);
    const oldSegment = new URL("240p/seg_00000.ts", old).toString();
    expect(await statusOf(old)).toBe(200);
    expect(await statusOf(oldSegment)).toBe(200);
    expect((await setVisibility(id, "public")).status).toBe(200);
    const back = await setVisibility(id, "private");
    expect(back.status).toBe(200);
    expect(await statusOf(old)).toBe(403);
    expect(await statusOf(oldSegment)).toBe(403);
    // The PATCH answer, the video and the playback route all sign with the new version.
    const { hlsUrl } = (await back.json()) as { hlsUrl: string };
    expect(await statusOf(`${BASE}${hlsUrl}`)).toBe(200);
    const video = (await (await asUser(alice, `/api/videos/${id}`)).json()) as { hlsUrl: string; posterUrl: string };
    expect(await statusOf(`${BASE}${video.posterUrl}`)).toBe(200);
    const fresh = await signedUrl(id);
    expect(fresh).not.toBe(old);
    expect(await statusOf(fresh)).toBe(200);
    expect(await statusOf(new URL("240p/seg_00000.ts", fresh).toString())).toBe(200);
  });

  it("keeps URLs when nothing about visibility changes (title only, or the same visibility again)", async () => {
    const id = await videoWithOutputs({ visibility: "private" });
    const url = await signedUrl(id);
    expect((await asUser(alice, `/api/videos/${id}`, { method: "PATCH", body: JSON.stringify({ title: "New title" }) })).status).toBe(200);
    expect((await setVisibility(id, "private")).status).toBe(200);
    expect(await statusOf(url)).toBe(200);
  });

  it("DELETE /api/videos/:id/share revokes every signed URL at once; only the owner may", async () => {
    const id = await videoWithOutputs({ visibility: "private" });
    const old = await signedUrl(id);
    expect(await statusOf(old)).toBe(200);
    // Another user, and an admin (the route is the owner's), get 404 and revoke nothing.
    expect((await asUser(bob, `/api/videos/${id}/share`, { method: "DELETE" })).status).toBe(404);
    expect((await asUser(admin, `/api/videos/${id}/share`, { method: "DELETE" })).status).toBe(404);
    expect((await asUser(bob, `/api/videos/${crypto.randomUUID()}/share`, { method: "DELETE" })).status).toBe(404);
    expect(await statusOf(old)).toBe(200);
    const revoke = await asUser(alice, `/api/videos/${id}/share`, { method: "DELETE" });
    expect(revoke.status).toBe(204);
    expect(await revoke.text()).toBe("");
    expect(await statusOf(old)).toBe(403);
    expect(await statusOf(new URL("240p/index.m3u8", old).toString())).toBe(403);
    const fresh = await signedUrl(id);
    expect(await statusOf(fresh)).toBe(200);
  });

  it("learns a version bumped elsewhere once the remembered state expires (PLAYBACK_STATE_TTL_MS at most)", async () => {
    const id = await videoWithOutputs({ visibility: "private" });
    const t0 = Date.now();
    expect((await playbackState(env, id, t0))?.playbackVersion).toBe(0);
    // Another isolate revokes: this one is not told.
    await env.DB.prepare("UPDATE videos SET playback_version = playback_version + 1 WHERE id = ?").bind(id).run();
    expect((await playbackState(env, id, t0 + PLAYBACK_STATE_TTL_MS))?.playbackVersion).toBe(1);
  });
});

describe("playback URL of a video not playable yet", () => {
  it("is 404 for other users (as GET /api/videos/:id), 409 with the sentence for the owner and admins", async () => {
    const id = await videoWithOutputs({ status: "PROCESSING", playable: false });
    await env.DB.prepare("UPDATE videos SET message = ? WHERE id = ?").bind("Transcoding: 40% done.", id).run();
    const bobs = await asUser(bob, `/api/videos/${id}/playback`);
    expect(bobs.status).toBe(404);
    expect(await bobs.text()).not.toContain("Transcoding");
    expect((await asUser(bob, `/api/videos/${id}`)).status).toBe(404);
    for (const token of [alice, admin]) {
      const res = await asUser(token, `/api/videos/${id}/playback`);
      expect(res.status).toBe(409);
      expect(await res.json()).toEqual({ error: "not_playable_yet", message: "Transcoding: 40% done." });
    }
  });
});

describe("CORS on delivery", () => {
  const ORIGIN = { Origin: "https://player.example" };
  const expectCors = (res: Response) => {
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Expose-Headers")).toMatch(/Content-Range/);
    expect(res.headers.get("Access-Control-Expose-Headers")).toMatch(/X-Cache/);
  };

  it("answers the preflight of a player on another origin with 204", async () => {
    const id = await videoWithOutputs();
    for (const path of [
      `/videos/${id}/240p/seg_00000.ts`,
      `/videos/${id}/p/abc.def/index.m3u8`,
      `/videos/${crypto.randomUUID()}/index.m3u8`,
    ]) {
      const res = await SELF.fetch(`${BASE}${path}`, {
        method: "OPTIONS",
        headers: { ...ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range" },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      const methods = res.headers
        .get("Access-Control-Allow-Methods")!
        .split(",")
        .map((m) => m.trim());
      expect(methods).toEqual(expect.arrayContaining(["GET", "HEAD", "OPTIONS"]));
      const headers = res.headers.get("Access-Control-Allow-Headers")!.toLowerCase();
      expect(headers).toContain("range");
      expect(headers).toContain("if-none-match");
      expect(Number(res.headers.get("Access-Control-Max-Age"))).toBeGreaterThan(0);
    }
  });

  it("puts CORS headers on every answer: 200, 206, 304, 416, 403, 404 and unknown paths", async () => {
    const id = await videoWithOutputs();
    const priv = await videoWithOutputs({ visibility: "private" });
    const seg = `${BASE}/videos/${id}/240p/seg_00000.ts`;
    const ok = await SELF.fetch(seg, { headers: ORIGIN });
    expect(ok.status).toBe(200);
    expectCors(ok);
    const etag = ok.headers.get("ETag")!;
    await ok.body?.cancel();
    const cases: [number, string, Record<string, string>][] = [
      [206, seg, { Range: "bytes=0-9" }],
      [304, seg, { "If-None-Match": etag }],
      [416, seg, { Range: "bytes=5000-" }],
      [403, `${BASE}/videos/${priv}/index.m3u8`, {}],
      [403, `${BASE}/videos/${priv}/p/zzzzzz.AAAA/index.m3u8`, {}],
      [404, `${BASE}/videos/${crypto.randomUUID()}/index.m3u8`, {}],
      [404, `${BASE}/videos/${id}/evil.html`, {}],
      [404, `${BASE}/videos/${id}`, {}],
    ];
    for (const [status, url, headers] of cases) {
      const res = await SELF.fetch(url, { headers: { ...ORIGIN, ...headers } });
      expect([url, res.status]).toEqual([url, status]);
      expectCors(res);
      if (status >= 400 && status !== 416)
        expect(await res.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
      else await res.body?.cancel();
    }
  });
});
