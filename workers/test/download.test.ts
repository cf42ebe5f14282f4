/**
 * The MP4 download in workerd: who gets a downloadUrl and who gets the file (404 rules), Range
 * (206, Content-Range, 416), Content-Disposition from the title (Arabic included), the
 * `downloadable` toggle taking effect at once, metering, and deletion removing download.mp4.
 */
import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, usualUsers } from "./helpers.ts";
import { flushCounters, pricesFrom } from "../src/costs/meter.ts";
import { contentDisposition, downloadFileName } from "../src/delivery/download.ts";
import type { VideoResponse, ViewerCardResponse } from "../../contract/api.ts";

const { alice, bob } = await usualUsers();

const MP4 = new Uint8Array(5000).map((_, i) => (i * 7) % 253);

async function videoWithDownload(
  opts: { visibility?: "public" | "private"; downloadable?: boolean; title?: string; status?: string; madeBefore?: boolean } = {},
): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, upload_expires_at, created_at, updated_at, downloadable, has_download)
     VALUES (?, 'alice', ?, 't.mp4', 'video/mp4', ?, 1, ?, 1, 1, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      opts.title ?? "My clip",
      opts.status ?? "READY",
      opts.visibility ?? "public",
      now + 1e9,
      now,
      now,
      opts.downloadable ? 1 : 0,
      opts.madeBefore ? 0 : 1,
    )
    .run();
  await env.MEDIA.put(`videos/${id}/r1/index.m3u8`, "#EXTM3U\n");
  await env.MEDIA.put(`videos/${id}/r1/download.mp4`, MP4);
  return id;
}

const api = (token: string | null, path: string, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}/api${path}`, {
    ...init,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), "Content-Type": "application/json", ...init.headers },
  });
const get = (path: string, headers: Record<string, string> = {}) => SELF.fetch(`${BASE}${path}`, { headers });
const card = async <T = VideoResponse>(token: string | null, id: string, query = ""): Promise<T> => {
  const res = await api(token, `/videos/${id}${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};
const setDownloadable = async (id: string, downloadable: unknown) =>
  api(alice, `/videos/${id}`, { method: "PATCH", body: JSON.stringify({ downloadable }) });

describe("MP4 download", () => {
  it("serves a public downloadable video's MP4 to anyone, whole, as an attachment", async () => {
    const id = await videoWithDownload({ downloadable: true });
    const viewer = await card<ViewerCardResponse>(null, id);
    expect(viewer).toMatchObject({ downloadable: true, downloadUrl: `/videos/${id}/download.mp4` });
    const res = await get(viewer.downloadUrl!);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("video/mp4");
    expect(res.headers.get("Accept-Ranges")).toBe("bytes");
    expect(res.headers.get("Content-Length")).toBe(String(MP4.length));
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="My clip.mp4"; filename*=UTF-8''My%20clip.mp4`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(MP4);
  });

  it("answers Range requests with 206 and Content-Range, and 416 for a range past the end", async () => {
    const id = await videoWithDownload({ downloadable: true });
    const path = `/videos/${id}/download.mp4`;
    const part = await get(path, { Range: "bytes=100-199" });
    expect(part.status).toBe(206);
    expect(part.headers.get("Content-Range")).toBe(`bytes 100-199/${MP4.length}`);
    expect(part.headers.get("Content-Length")).toBe("100");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(MP4.slice(100, 200));

    const open = await get(path, { Range: "bytes=4990-" });
    expect(open.status).toBe(206);
    expect(open.headers.get("Content-Range")).toBe(`bytes 4990-4999/${MP4.length}`);
    expect(new Uint8Array(await open.arrayBuffer())).toEqual(MP4.slice(4990));

    const suffix = await get(path, { Range: "bytes=-10" });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(MP4.slice(-10));

    for (const bad of ["bytes=5000-", "bytes=6000-7000", "bytes=-0"]) {
      const res = await get(path, { Range: bad });
      expect(res.status, bad).toBe(416);
      expect(res.headers.get("Content-Range"), bad).toBe(`bytes */${MP4.length}`);
      await res.body?.cancel();
    }
  });

  it("gives non-owners 404 for a video that is not downloadable, public or not; the owner always downloads", async () => {
    const id = await videoWithDownload({ downloadable: false });
    expect((await card<ViewerCardResponse>(null, id)).downloadUrl).toBeNull();
    expect((await card<ViewerCardResponse>(bob, id)).downloadUrl).toBeNull();
    const plain = await get(`/videos/${id}/download.mp4`);
    expect(plain.status).toBe(404);
    expect(await plain.json()).toMatchObject({ error: "not_found" });
    // The HLS route does not serve it either.
    expect((await get(`/videos/${id}/p/x/download.mp4`)).status).toBe(404);

    const owner = await card(alice, id);
    expect(owner.downloadable).toBe(false);
    expect(owner.downloadUrl).toMatch(new RegExp(`^/videos/${id}/p/[^/]+/download\\.mp4$`));
    const res = await get(owner.downloadUrl!);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(MP4);
    // The owner's token is for this video only.
    const other = await videoWithDownload({ downloadable: false });
    const token = owner.downloadUrl!.split("/")[4];
    expect((await get(`/videos/${other}/p/${token}/download.mp4`)).status).toBe(404);
  });

  it("keeps a private video's MP4 behind a token: the owner's, or a share link's viewer's when downloadable", async () => {
    const id = await videoWithDownload({ visibility: "private", downloadable: false });
    expect((await api(bob, `/videos/${id}`)).status).toBe(404);
    expect((await get(`/videos/${id}/download.mp4`)).status).toBe(404);
    const owner = await card(alice, id);
    expect(owner.downloadUrl).toMatch(new RegExp(`^/videos/${id}/p/[^/]+/download\\.mp4$`));
    expect((await get(owner.downloadUrl!)).status).toBe(200);
    // A playback token (what a playlist URL carries) does not open a non-downloadable MP4.
    const playToken = owner.hlsUrl!.split("/")[3];
    expect((await get(`/videos/${id}/p/${playToken}/download.mp4`)).status).toBe(404);
    // Nor does the owner's download token open the playlists: each token opens its own kind.
    const downloadToken = owner.downloadUrl!.split("/")[3];
    expect((await get(`/videos/${id}/p/${downloadToken}/index.m3u8`)).status).toBe(403);

    const share = await api(alice, `/videos/${id}/share`, { method: "POST", body: JSON.stringify({ expiresInSec: 600 }) });
    const shareToken = new URL(((await share.json()) as { url: string }).url).searchParams.get("share")!;
    expect((await card<ViewerCardResponse>(null, id, `?share=${shareToken}`)).downloadUrl).toBeNull();
    expect((await setDownloadable(id, true)).status).toBe(200);
    const viewer = await card<ViewerCardResponse>(null, id, `?share=${shareToken}`);
    expect(viewer.downloadUrl).toMatch(new RegExp(`^/videos/${id}/p/[^/]+/download\\.mp4$`));
    expect((await get(viewer.downloadUrl!)).status).toBe(200);
    // Still no plain URL for a private video.
    expect((await get(`/videos/${id}/download.mp4`)).status).toBe(404);
  });

  it("PATCH {downloadable} is the owner's; turning it off stops the download at once, for everyone but the owner", async () => {
    const id = await videoWithDownload({ downloadable: false });
    expect((await api(bob, `/videos/${id}`, { method: "PATCH", body: JSON.stringify({ downloadable: true }) })).status).toBe(404);
    const bad = await setDownloadable(id, "yes");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "invalid_downloadable" });

    const on = await setDownloadable(id, true);
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ downloadable: true, downloadUrl: `/videos/${id}/download.mp4` });
    const path = `/videos/${id}/download.mp4`;
    const first = await get(path);
    expect(first.status).toBe(200);
    await first.body?.cancel();

    const off = (await (await setDownloadable(id, false)).json()) as VideoResponse;
    expect(off.downloadable).toBe(false);
    expect((await get(path)).status).toBe(404);
    expect((await get(path, { Range: "bytes=0-10" })).status).toBe(404);
    expect((await card<ViewerCardResponse>(null, id)).downloadUrl).toBeNull();
    expect((await get(off.downloadUrl!)).status).toBe(200);
  });

  it("has no downloadUrl for a video made before MP4 downloads (its run wrote none)", async () => {
    const id = await videoWithDownload({ downloadable: true, madeBefore: true });
    await env.MEDIA.delete(`videos/${id}/r1/download.mp4`);
    expect((await card(alice, id)).downloadUrl).toBeNull();
    expect((await card<ViewerCardResponse>(null, id)).downloadUrl).toBeNull();
  });

  it("has no downloadUrl and no file before the video is READY", async () => {
    const id = await videoWithDownload({ downloadable: true, status: "PROCESSING" });
    expect((await card(alice, id)).downloadUrl).toBeNull();
    expect((await card<ViewerCardResponse>(null, id)).downloadUrl).toBeNull();
    expect((await get(`/videos/${id}/download.mp4`)).status).toBe(404);
  });

  it("names the attachment after the title: UTF-8 filename* for Arabic, an ASCII fallback, nothing unsafe", async () => {
    const id = await videoWithDownload({ downloadable: true, title: "رحلة إلى البحر" });
    const res = await get(`/videos/${id}/download.mp4`);
    await res.body?.cancel();
    const header = res.headers.get("Content-Disposition")!;
    expect(header).toBe(`attachment; filename="video-${id}.mp4"; filename*=UTF-8''${encodeURIComponent("رحلة إلى البحر.mp4")}`);
    expect(decodeURIComponent(header.split("''")[1]!)).toBe("رحلة إلى البحر.mp4");

    expect(contentDisposition('Café / «naïve» "cut"', "x")).toBe(
      `attachment; filename="Cafe naive cut.mp4"; filename*=UTF-8''Caf%C3%A9%20%C2%ABna%C3%AFve%C2%BB%20cut.mp4`,
    );
    expect(downloadFileName("../../etc/passwd\u0000\r\n", "x")).toBe("etc passwd.mp4");
    expect(downloadFileName("   ", "abc")).toBe("video-abc.mp4");
    expect(downloadFileName("a".repeat(300), "x")).toBe(`${"a".repeat(100)}.mp4`);
    // RFC 5987 attr-chars only: ' ( ) are percent-encoded (encodeURIComponent leaves them); * never reaches it.
    expect(contentDisposition("it's (1)*", "x")).toBe(`attachment; filename="it's (1).mp4"; filename*=UTF-8''it%27s%20%281%29.mp4`);
  });

  it("meters the R2 reads of a download to its video", async () => {
    const id = await videoWithDownload({ downloadable: true });
    const res = await get(`/videos/${id}/download.mp4`, { Range: "bytes=0-99" });
    await res.arrayBuffer();
    await flushCounters(env.DB, pricesFrom(env));
    const row = await env.DB.prepare("SELECT SUM(quantity) AS q FROM usage WHERE video_id = ? AND kind = 'r2_class_b'")
      .bind(id)
      .first<{ q: number }>();
    // One head (size, for the range) and one ranged read.
    expect(row?.q).toBe(2);
  });

  it("DELETE removes download.mp4 with the rest of the video", async () => {
    const id = await videoWithDownload({ downloadable: true });
    expect(await env.MEDIA.head(`videos/${id}/r1/download.mp4`)).not.toBeNull();
    expect((await api(alice, `/videos/${id}`, { method: "DELETE" })).status).toBe(204);
    expect(await env.MEDIA.head(`videos/${id}/r1/download.mp4`)).toBeNull();
    expect((await get(`/videos/${id}/download.mp4`)).status).toBe(404);
  });
});
