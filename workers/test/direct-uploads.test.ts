import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, UPLOADS, metadataHeader, randomBytes, tokenFor, tus } from "./helpers.ts";
import { TwinTranscoder } from "./twins/transcoder.ts";
import { findVideo } from "../src/db/videos.ts";
import { findDirectUpload, insertDirectUpload } from "../src/db/direct-uploads.ts";
import { signDirectUploadToken } from "../src/tus/direct-link.ts";
import { signPlaybackToken } from "../src/delivery/playback-token.ts";
import { dispatchNext } from "../src/jobs/dispatch.ts";
import type { DirectUploadResponse } from "../../contract/direct-uploads.ts";

const DIRECT = `${BASE}/api/direct-uploads`;
let admin: string;
let alice: string;
beforeAll(async () => {
  admin = await tokenFor("root", "admin");
  alice = await tokenFor("alice");
});

const createLink = (body: unknown, token: string | null = admin) =>
  SELF.fetch(DIRECT, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function link(body: Record<string, unknown>): Promise<DirectUploadResponse> {
  const res = await createLink(body);
  expect(res.status).toBe(201);
  return res.json();
}

/** A tus creation through an upload URL: no Authorization header at all. */
const createThrough = (uploadUrl: string, length: number, headers: Record<string, string> = {}) =>
  SELF.fetch(uploadUrl, {
    method: "POST",
    headers: tus(null, { "Upload-Length": String(length), "Upload-Metadata": metadataHeader({ filename: "phone.mp4" }), ...headers }),
  });

const count = async (sql: string, ...binds: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>("n")) as unknown as number;
const videosOf = (owner: string) => count("SELECT count(*) AS n FROM videos WHERE owner_id = ?", owner);
const links = () => count("SELECT count(*) AS n FROM direct_uploads");

describe("POST /api/direct-uploads", () => {
  it("needs a user, and the admin role (or a key with uploads:create)", async () => {
    expect((await createLink({ creatorId: "carol" }, null)).status).toBe(401);
    const res = await createLink({ creatorId: "carol" }, alice);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: "forbidden",
      message: "This needs the admin role or an API key with the uploads:create scope.",
    });
  });

  it("a server key with uploads:create makes links; a key without it gets 403 naming the scope", async () => {
    const makeKey = async (scopes: string[]) => {
      const res = await SELF.fetch(`${BASE}/api/admin/api-keys`, {
        method: "POST",
        headers: { "content-type": "application/json", Authorization: `Bearer ${admin}` },
        body: JSON.stringify({ name: "social app", scopes }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { key: string }).key;
    };
    const uploader = await makeKey(["uploads:create"]);
    const reader = await makeKey(["videos:read"]);
    const made = await createLink({ creatorId: "dave" }, uploader);
    expect(made.status).toBe(201);
    const { videoId } = (await made.json()) as DirectUploadResponse;
    expect((await findDirectUpload(env.DB, videoId))?.creatorId).toBe("dave");
    const before = await links();
    const refused = await createLink({ creatorId: "dave" }, reader);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: "forbidden", message: "This API key lacks the uploads:create scope." });
    expect(await links()).toBe(before);
  });

  it("answers 201 {videoId, uploadUrl, expiresAt}: a tus endpoint carrying the link's token", async () => {
    const before = Date.now();
    const res = await createLink({ creatorId: "carol", expiresInSec: 600 });
    expect(res.status).toBe(201);
    const body = (await res.json()) as DirectUploadResponse;
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "uploadUrl", "videoId"]);
    const url = new URL(body.uploadUrl);
    expect(`${url.origin}${url.pathname}`).toBe(UPLOADS);
    expect(url.searchParams.get("direct")).toMatch(new RegExp(`^${body.videoId}\\.[0-9a-z]+\\.[A-Za-z0-9_-]{43}$`));
    const expiresAt = Date.parse(body.expiresAt);
    expect(expiresAt).toBeGreaterThan(before + 598_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    // Only the link is stored; the video appears with the upload.
    expect(await findVideo(env.DB, body.videoId)).toBeUndefined();
    expect(await findDirectUpload(env.DB, body.videoId)).toMatchObject({ creatorId: "carol", maxBytes: 524288000, usedAt: null });
  });

  it.each([
    ["not JSON", "{", "invalid_body"],
    ["no creatorId", {}, "invalid_creator"],
    ["a creatorId with spaces", { creatorId: "carol smith" }, "invalid_creator"],
    ["maxBytes 0", { creatorId: "carol", maxBytes: 0 }, "invalid_max_bytes"],
    ["maxBytes above the server's limit", { creatorId: "carol", maxBytes: 524288001 }, "invalid_max_bytes"],
    ["fractional maxBytes", { creatorId: "carol", maxBytes: 10.5 }, "invalid_max_bytes"],
    ["maxDurationSec 0", { creatorId: "carol", maxDurationSec: 0 }, "invalid_max_duration"],
    ["maxDurationSec as text", { creatorId: "carol", maxDurationSec: "60" }, "invalid_max_duration"],
    ["expiresInSec too short", { creatorId: "carol", expiresInSec: 10 }, "invalid_expiry"],
    ["expiresInSec over 7 days", { creatorId: "carol", expiresInSec: 604801 }, "invalid_expiry"],
    ["an invisible title", { creatorId: "carol", title: "\u200b\u200b" }, "invalid_title"],
    ["an unknown visibility", { creatorId: "carol", visibility: "unlisted" }, "invalid_visibility"],
  ])("400 for %s, with a sentence, and nothing stored", async (_name, body, code) => {
    const before = await links();
    const res = await createLink(body);
    expect(res.status).toBe(400);
    const error = (await res.json()) as { error: string; message: string };
    expect(error.error).toBe(code);
    expect(error.message).toMatch(/^[A-Za-z].{15,}\.$/);
    expect(await links()).toBe(before);
  });
});

describe("uploading through the link (no credentials)", () => {
  it("creates the pre-assigned video for the creator, with the link's title and visibility; HEAD and PATCH need no token", async () => {
    const { videoId, uploadUrl } = await link({ creatorId: "dora", title: "From the app", visibility: "private", maxBytes: 4096 });
    const bytes = randomBytes(3000, 7);
    const created = await createThrough(uploadUrl, bytes.length);
    expect(created.status).toBe(201);
    const location = created.headers.get("Location")!;
    const token = new URL(uploadUrl).searchParams.get("direct");
    expect(location).toBe(`${UPLOADS}/${videoId}?direct=${token}`);
    expect(await findVideo(env.DB, videoId)).toMatchObject({
      ownerId: "dora",
      title: "From the app",
      visibility: "private",
      status: "UPLOADING",
    });

    const first = await SELF.fetch(location, {
      method: "PATCH",
      headers: tus(null, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" }),
      body: bytes.slice(0, 1000),
    });
    expect(first.status).toBe(204);
    // Resuming after a dropped connection: HEAD the same URL, then PATCH the rest.
    const resumed = await SELF.fetch(location, { method: "HEAD", headers: tus(null) });
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get("Upload-Offset")).toBe("1000");
    const rest = await SELF.fetch(location, {
      method: "PATCH",
      headers: tus(null, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": "1000" }),
      body: bytes.slice(1000),
    });
    expect(rest.status).toBe(204);
    expect(rest.headers.get("Upload-Offset")).toBe("3000");
    expect((await findVideo(env.DB, videoId))?.status).not.toBe("UPLOADING");

    // "Exactly one upload": a second creation is refused, and creates nothing.
    const again = await createThrough(uploadUrl, 100);
    expect(again.status).toBe(410);
    expect(await again.text()).toBe("This upload link has already been used for an upload; ask the app for a new one.");
    expect(await videosOf("dora")).toBe(1);
    // The upload it created still answers HEAD after it completed.
    expect((await SELF.fetch(location, { method: "HEAD", headers: tus(null) })).status).toBe(200);
  });

  it("a plain tus client that sends no file name still gets its upload", async () => {
    const { videoId, uploadUrl } = await link({ creatorId: "erin" });
    const res = await SELF.fetch(uploadUrl, { method: "POST", headers: tus(null, { "Upload-Length": "10" }) });
    expect(res.status).toBe(201);
    expect(await findVideo(env.DB, videoId)).toMatchObject({ ownerId: "erin", filename: "video", title: "video" });
  });

  it("413 above maxBytes (as tus says), nothing stored, and the link stays usable", async () => {
    const { videoId, uploadUrl } = await link({ creatorId: "finn", maxBytes: 1000 });
    const res = await createThrough(uploadUrl, 1001);
    expect(res.status).toBe(413);
    expect(await res.text()).toBe("The file is larger than the 1000-byte upload limit.");
    expect(await findVideo(env.DB, videoId)).toBeUndefined();
    expect((await findDirectUpload(env.DB, videoId))?.usedAt).toBeNull();
    expect((await createThrough(uploadUrl, 1000)).status).toBe(201);
  });

  it("a deferred length cannot grow past maxBytes either", async () => {
    const { uploadUrl } = await link({ creatorId: "finn", maxBytes: 1000 });
    const created = await SELF.fetch(uploadUrl, {
      method: "POST",
      headers: tus(null, { "Upload-Defer-Length": "1", "Upload-Metadata": metadataHeader({ filename: "a.mp4" }) }),
    });
    expect(created.status).toBe(201);
    const res = await SELF.fetch(created.headers.get("Location")!, {
      method: "PATCH",
      headers: tus(null, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0", "Upload-Length": "1001" }),
      body: randomBytes(10),
    });
    expect(res.status).toBe(413);
  });

  it("410 once expired, with a sentence, and nothing stored", async () => {
    const videoId = crypto.randomUUID();
    const expSec = Math.floor(Date.now() / 1000) - 1;
    await insertDirectUpload(env.DB, {
      videoId,
      creatorId: "gus",
      maxBytes: 1000,
      maxDurationSec: null,
      title: null,
      visibility: null,
      expiresAt: expSec * 1000,
      createdAt: Date.now() - 60_000,
      usedAt: null,
    });
    const token = await signDirectUploadToken(env.JWT_SECRET, videoId, expSec);
    const res = await createThrough(`${UPLOADS}?direct=${token}`, 10);
    expect(res.status).toBe(410);
    expect(await res.text()).toBe(`This upload link expired at ${new Date(expSec * 1000).toUTCString()}; ask the app for a new one.`);
    expect(await videosOf("gus")).toBe(0);
  });

  it("refuses forged, altered and borrowed tokens (401), and reaches no other upload (404)", async () => {
    const { videoId, uploadUrl } = await link({ creatorId: "hana" });
    const token = new URL(uploadUrl).searchParams.get("direct")!;
    const [id, exp, sig] = token.split(".") as [string, string, string];
    const later = (parseInt(exp, 36) + 3600).toString(36);
    const flipped = `${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`;
    const forged = [
      `${id}.${exp}.${flipped}`,
      `${id}.${later}.${sig}`,
      `${crypto.randomUUID()}.${exp}.${sig}`,
      `${id}.${await signPlaybackToken(env.JWT_SECRET, id, 1)}`,
      await signDirectUploadToken("not-the-secret", id, parseInt(exp, 36)),
      "",
    ];
    for (const bad of forged) {
      const res = await createThrough(`${UPLOADS}?direct=${bad}`, 10);
      expect(res.status, bad).toBe(401);
      expect(await res.text()).toBe("This upload link is not valid; ask the app for a new one.");
    }
    expect(await videosOf("hana")).toBe(0);
    expect(await findDirectUpload(env.DB, videoId)).toMatchObject({ usedAt: null });

    // Another user's upload, through a valid link: as if it did not exist.
    const own = await SELF.fetch(UPLOADS, {
      method: "POST",
      headers: tus(alice, { "Upload-Length": "10", "Upload-Metadata": metadataHeader({ filename: "a.mp4" }) }),
    });
    const other = own.headers.get("Location")!;
    for (const method of ["HEAD", "PATCH", "DELETE"]) {
      const res = await SELF.fetch(`${other}?direct=${token}`, {
        method,
        headers: tus(null, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" }),
        body: method === "PATCH" ? "x" : null,
      });
      expect(res.status, method).toBe(404);
    }
    // The link is for tus only: it opens no other route.
    const api = await SELF.fetch(`${BASE}/api/videos?direct=${token}`);
    expect(api.status).toBe(401);
  });

  it("the creator's quota applies: a refused creation leaves the link unused", async () => {
    const { videoId, uploadUrl } = await link({ creatorId: "ivan" });
    const full = crypto.randomUUID();
    await env.DB.prepare(
      `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes)
       VALUES (?, 'ivan', 't', 't.mp4', 'video/mp4', 'UPLOADING', ?, ?, ?, ?)`,
    )
      .bind(full, Date.now() + 1e9, Date.now(), Date.now(), 1099511627776)
      .run();
    const res = await createThrough(uploadUrl, 10);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/^Your unfinished uploads may declare/);
    expect(await findVideo(env.DB, videoId)).toBeUndefined();
    expect((await findDirectUpload(env.DB, videoId))?.usedAt).toBeNull();
    await env.DB.prepare("DELETE FROM videos WHERE id = ?").bind(full).run();
    expect((await createThrough(uploadUrl, 10)).status).toBe(201);
  });

  it("CORS: the browser of another origin may preflight and read Location", async () => {
    const { uploadUrl } = await link({ creatorId: "jo" });
    const pre = await SELF.fetch(uploadUrl, {
      method: "OPTIONS",
      headers: {
        Origin: "https://social.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "tus-resumable,upload-length",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const res = await createThrough(uploadUrl, 10, { Origin: "https://social.example" });
    expect(res.status).toBe(201);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("Location");
  });
});

describe("the duration cap", () => {
  it("travels in the job the dispatcher starts", async () => {
    await env.DB.prepare("UPDATE videos SET status = 'CANCELLED' WHERE status IN ('QUEUED', 'PROCESSING', 'HELD')").run();
    const { videoId } = await link({ creatorId: "kim", maxDurationSec: 2 });
    await env.DB.prepare(
      `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes)
       VALUES (?, 'kim', 't', 't.mp4', 'video/mp4', 'QUEUED', ?, ?, ?, 5)`,
    )
      .bind(videoId, Date.now() + 1e9, Date.now(), Date.now())
      .run();
    const twin = new TwinTranscoder();
    expect(await dispatchNext(env, { client: twin })).toEqual([videoId]);
    expect(twin.started[0]).toMatchObject({ videoId, maxDurationSec: 2 });
  });
});
