import { SELF, createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sign } from "hono/jwt";
import worker from "../src/index.ts";
import { BASE, createUpload, patch, randomBytes, tokenFor, usualUsers } from "./helpers.ts";
import type { VideoListResponse, VideoResponse } from "../../contract/api.ts";
import { sourceKey } from "../src/storage/keys.ts";

const { alice, bob, admin } = await usualUsers();

const api = (token: string | null, path: string, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}/api${path}`, {
    ...init,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), "Content-Type": "application/json", ...init.headers },
  });

describe("dev login", () => {
  it("issues a JWT that the API accepts", async () => {
    const res = await api(null, "/auth/dev-login", { method: "POST", body: JSON.stringify({ userId: "carol", role: "creator" }) });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    expect((await api(token, "/videos")).status).toBe(200);
  });

  it("refuses bad input with 400 and a sentence", async () => {
    for (const body of [{ userId: "" }, { userId: "a b" }, { userId: "x", role: "god" }]) {
      const res = await api(null, "/auth/dev-login", { method: "POST", body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
  });

  it("does not exist unless DEV_AUTH is true", async () => {
    const req = new Request(`${BASE}/api/auth/dev-login`, { method: "POST", body: JSON.stringify({ userId: "x", role: "admin" }) });
    const res = await worker.fetch(
      req as Request<unknown, IncomingRequestCfProperties>,
      { ...env, DEV_AUTH: "false" },
      createExecutionContext(),
    );
    expect(res.status).toBe(404);
  });
});

describe("JWT", () => {
  it("refuses a missing, forged, expired or wrong-audience token with 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign({ sub: "alice", role: "creator", aud: "edge-video:user", exp: now - 10 }, env.JWT_SECRET, "HS256");
    const forged = await sign({ sub: "alice", role: "admin", aud: "edge-video:user", exp: now + 100 }, "not-the-secret", "HS256");
    const noAudience = await sign({ sub: "alice", role: "creator", exp: now + 100 }, env.JWT_SECRET, "HS256");
    for (const token of [null, expired, forged, noAudience, "garbage"]) {
      const res = await api(token, "/videos");
      expect(res.status).toBe(401);
      expect(((await res.json()) as { message: string }).message.length).toBeGreaterThan(10);
    }
  });
});

describe("JWT lifetime", () => {
  it("refuses a user token without exp or without iat, which would otherwise never expire", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: "alice", role: "creator", aud: "edge-video:user" };
    const noExp = await sign({ ...claims, iat: now }, env.JWT_SECRET, "HS256");
    const noIat = await sign({ ...claims, exp: now + 100 }, env.JWT_SECRET, "HS256");
    const both = await sign({ ...claims, iat: now, exp: now + 100 }, env.JWT_SECRET, "HS256");
    for (const token of [noExp, noIat]) {
      const res = await api(token, "/videos");
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "invalid_token" });
    }
    expect((await api(both, "/videos")).status).toBe(200);
  });
});

describe("JSON bodies", () => {
  it("refuses a 20 MB PATCH with 413 before parsing it, and the video is unchanged", async () => {
    const { id } = await createUpload(alice, 100);
    const huge = JSON.stringify({ title: "x".repeat(20 * 1024 * 1024) });
    const res = await api(alice, `/videos/${id}`, { method: "PATCH", body: huge });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: "body_too_large", message: expect.stringMatching(/KB/) });
    expect(((await (await api(alice, `/videos/${id}`)).json()) as VideoResponse).title).toBe("clip");
  });

  it("refuses an oversized body sent without Content-Length (chunked) too", async () => {
    const { id } = await createUpload(alice, 100);
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await api(alice, `/videos/${id}`, { method: "PATCH", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("still takes a normal small body", async () => {
    const { id } = await createUpload(alice, 100);
    const res = await api(alice, `/videos/${id}`, { method: "PATCH", body: JSON.stringify({ title: "Small" }) });
    expect(res.status).toBe(200);
  });
});

describe("titles", () => {
  it("strips format characters (zero-width, bidi, BOM); a title of only those is no title", async () => {
    const { id } = await createUpload(alice, 100);
    const sneaky = "\u202eCairo\u200b \ufeffnights\u2066";
    const ok = await api(alice, `/videos/${id}`, { method: "PATCH", body: JSON.stringify({ title: sneaky }) });
    expect(((await ok.json()) as VideoResponse).title).toBe("Cairo nights");
    const invisible = await api(alice, `/videos/${id}`, {
      method: "PATCH",
      body: JSON.stringify({ title: "\u200b\u200e\u202e\ufeff\u2060" }),
    });
    expect(invisible.status).toBe(400);
    expect(await invisible.json()).toMatchObject({ error: "invalid_title" });
  });

  it("cuts a long title at 200 code points without splitting a surrogate pair", async () => {
    const { id } = await createUpload(alice, 100);
    const title = `a${"😀".repeat(300)}`;
    const res = await api(alice, `/videos/${id}`, { method: "PATCH", body: JSON.stringify({ title }) });
    const saved = ((await res.json()) as VideoResponse).title;
    expect([...saved]).toHaveLength(200);
    expect(saved).toBe(`a${"😀".repeat(199)}`);
    expect(encodeURIComponent(saved)).toBeTruthy(); // throws URIError on a lone surrogate
  });
});

describe("video list pagination", () => {
  it("lets the admin page through every video once, newest first, id breaking ties", async () => {
    // 130 videos of one user, 3 of another, many sharing a creation time: far past any one page.
    const base = Date.parse("2020-01-01T00:00:00Z");
    const rows = [
      ...Array.from({ length: 130 }, (_, i) => ({ id: crypto.randomUUID(), owner: "prolific", created: base + Math.floor(i / 4) })),
      ...Array.from({ length: 3 }, (_, i) => ({ id: crypto.randomUUID(), owner: "quiet", created: base + 10 + i })),
    ];
    await env.DB.batch(
      rows.map((r) =>
        env.DB.prepare(
          `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at)
           VALUES (?, ?, 't', 't.mp4', 'video/mp4', 'FAILED', 0, ?, ?)`,
        ).bind(r.id, r.owner, r.created, r.created),
      ),
    );
    // Only this test's rows (older than any other in the file) are compared.
    const ours = new Set(rows.map((r) => r.id));
    const expected = [...rows].sort((x, y) => y.created - x.created || (x.id < y.id ? 1 : -1)).map((r) => r.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(admin, `/videos?include=job&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as VideoListResponse;
      expect(page.videos.length).toBeLessThanOrEqual(100);
      expect(page.videos.every((v) => v.job !== undefined)).toBe(true);
      seen.push(...page.videos.map((v) => v.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(cursor).toBeNull();
    expect(seen.filter((id) => ours.has(id))).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);

    // A creator pages through their own only; the default page is 50.
    const first = (await (await api(await tokenFor("quiet"), "/videos")).json()) as VideoListResponse;
    expect(first).toMatchObject({ nextCursor: null });
    expect(first.videos.map((v) => v.id)).toEqual(expected.filter((id) => rows.find((r) => r.id === id)!.owner === "quiet"));
    const prolific = (await (await api(await tokenFor("prolific"), "/videos")).json()) as VideoListResponse;
    expect(prolific.videos).toHaveLength(50);
    expect(prolific.nextCursor).toEqual(expect.any(String));
  });

  it("refuses a bad limit or cursor with 400 and a sentence", async () => {
    for (const query of ["limit=0", "limit=101", "limit=abc", "limit=-1", "cursor=nope", `cursor=${btoa("1:../x")}`, "cursor="]) {
      const res = await api(alice, `/videos?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { message: string }).message.length, query).toBeGreaterThan(10);
    }
  });
});

describe("videos", () => {
  it("shows a creator only their own videos; an admin sees all", async () => {
    const a = await createUpload(alice, 100);
    const b = await createUpload(bob, 100);
    const mine = (await (await api(alice, "/videos")).json()) as VideoListResponse;
    expect(mine.videos.map((v) => v.id)).toContain(a.id);
    expect(mine.videos.map((v) => v.id)).not.toContain(b.id);
    const all = (await (await api(admin, "/videos")).json()) as VideoListResponse;
    expect(all.videos.map((v) => v.id)).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it("returns the contract's shape, and 404 for another user's video", async () => {
    const { id } = await createUpload(alice, 100);
    const res = await api(alice, `/videos/${id}`);
    const video = (await res.json()) as VideoResponse;
    expect(Object.keys(video).sort()).toEqual(
      [
        "id",
        "ownerId",
        "title",
        "visibility",
        "status",
        "message",
        "progress",
        "playable",
        "hlsUrl",
        "posterUrl",
        // Added with the storyboard (contract §3.1: "the card has storyboardUrl once it exists").
        "storyboardUrl",
        "durationSec",
        "renditions",
        "sourceBytes",
        "sourceSha256",
        "error",
        "createdAt",
        "readyAt",
        // The MP4 download (§3.2).
        "downloadable",
        "downloadUrl",
      ].sort(),
    );
    expect(video).toMatchObject({
      id,
      ownerId: "alice",
      status: "UPLOADING",
      progress: 0,
      playable: false,
      visibility: "public",
      storyboardUrl: null,
    });
    expect(video.message).toMatch(/upload/i);
    expect((await api(bob, `/videos/${id}`)).status).toBe(404);
    expect((await api(alice, `/videos/not-an-id`)).status).toBe(404);
  });

  it("lets the owner rename and make private, with 400 for bad values", async () => {
    const { id } = await createUpload(alice, 100);
    const ok = await api(alice, `/videos/${id}`, {
      method: "PATCH",
      body: JSON.stringify({ title: " Cairo\r\n at night ", visibility: "private" }),
    });
    expect(await ok.json()).toMatchObject({ title: "Cairo at night", visibility: "private" });
    expect((await api(alice, `/videos/${id}`, { method: "PATCH", body: JSON.stringify({ visibility: "secret" }) })).status).toBe(400);
    expect((await api(alice, `/videos/${id}`, { method: "PATCH", body: JSON.stringify({ title: "" }) })).status).toBe(400);
    expect((await api(alice, `/videos/${id}`, { method: "PATCH", body: "{not json" })).status).toBe(400);
    expect((await api(bob, `/videos/${id}`, { method: "PATCH", body: JSON.stringify({ title: "mine" }) })).status).toBe(404);
  });

  it("DELETE removes the video and its R2 objects; others get 404", async () => {
    const { url, id } = await createUpload(alice, 50);
    await patch(alice, url, 0, randomBytes(50));
    await env.MEDIA.put(`videos/${id}/720p/index.m3u8`, "#EXTM3U");
    expect(await env.MEDIA.head(sourceKey(id))).not.toBeNull();
    expect((await api(bob, `/videos/${id}`, { method: "DELETE" })).status).toBe(404);
    expect((await api(alice, `/videos/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(alice, `/videos/${id}`)).status).toBe(404);
    expect(await env.MEDIA.head(sourceKey(id))).toBeNull();
    expect((await env.MEDIA.list({ prefix: `videos/${id}/` })).objects).toHaveLength(0);
  });

  it("a zero-length upload is refused with a clear message", async () => {
    const res = await createUpload(alice, 0);
    expect(res.res.status).toBe(400);
    expect(await res.res.text()).toMatch(/empty/);
  });
});

describe("CORS on API errors", () => {
  it("401, 404 and unknown routes carry Access-Control-Allow-Origin, so a browser on another origin can read them", async () => {
    const { id } = await createUpload(alice, 100);
    const origin = { Origin: "https://app.example" };
    const cases: [number, string | null, string][] = [
      [401, null, "/videos"],
      [401, "garbage", `/videos/${id}`],
      [404, bob, `/videos/${id}`],
      [404, bob, `/videos/${id}/playback`],
      [404, bob, `/videos/${id}/share`],
      [404, alice, "/no-such-route"],
    ];
    for (const [status, token, path] of cases) {
      const res = await api(token, path, { method: path.endsWith("/share") ? "DELETE" : "GET", headers: origin });
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      expect(await res.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
  });
});
