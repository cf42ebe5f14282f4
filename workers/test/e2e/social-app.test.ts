/**
 * A small "social app backend" against the real local stack (wrangler dev + the transcoder with
 * real ffmpeg): an admin makes ONE server key (uploads:create, webhooks:manage, videos:read), and
 * from then on the backend uses only that key. It registers its loopback receiver, asks for direct
 * upload links for two creators at once, hands each link to a tus-js-client upload with no headers,
 * verifies every webhook with the `standardwebhooks` package, dedupes by `webhook-id`, and sees
 * `video.uploaded` → `video.playable` → `video.ready` in that order per video, each carrying the
 * whole video owned by its creator. Then the refusals the backend can meet, each with its status
 * and sentence, storing nothing (checked through the API's lists).
 *
 * Prints: link → first byte, upload end → video.uploaded / video.playable / video.ready (seconds).
 */
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { type DetailedError, Upload } from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, useTestStack } from "./fixture.ts";
import { makeLavfiClip } from "../../../transcoder/src/testing/clips.ts";
import type { VideoListResponse, VideoResponse } from "../../../contract/api.ts";
import type { ApiKeyListResponse, CreatedApiKey } from "../../../contract/api-keys.ts";
import type { DirectUploadResponse } from "../../../contract/direct-uploads.ts";
import type { WebhookEndpointCreated, WebhookEndpointListResponse, WebhookPayload } from "../../../contract/webhooks.ts";

// Quick retries, should a delivery fail while the stack is busy.
const e2e = useTestStack({ transcoder: true, user: { id: "root", role: "admin" }, vars: { WEBHOOK_RETRY_BASE_SECONDS: "0.5" } });

/** Every field of §3's video, as `GET /api/videos/:id` gives it to its owner. */
const VIDEO_FIELDS = [
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
  "durationSec",
  "renditions",
  "sourceBytes",
  "sourceSha256",
  "error",
  "createdAt",
  "readyAt",
];

interface Received {
  id: string;
  type: string;
  data: VideoResponse;
  at: number;
}

/** The backend's webhook receiver: verifies every request with the package, dedupes by `webhook-id`. */
class Receiver {
  secret = "";
  readonly received: Received[] = [];
  readonly refused: string[] = [];
  duplicates = 0;
  private readonly seen = new Set<string>();
  private server: Server | null = null;
  port = 0;

  async up(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        try {
          const payload = new Webhook(this.secret).verify(
            Buffer.concat(chunks).toString("utf8"),
            req.headers as Record<string, string>,
          ) as WebhookPayload;
          const id = String(req.headers["webhook-id"]);
          if (this.seen.has(id)) this.duplicates++;
          else {
            this.seen.add(id);
            this.received.push({ id, type: payload.type, data: payload.data as VideoResponse, at: Date.now() });
          }
          res.writeHead(204).end();
        } catch (error) {
          this.refused.push(String(error));
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  async down(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  of(videoId: string): Received[] {
    return this.received.filter((r) => r.data.id === videoId);
  }
}

const receiver = new Receiver();
beforeAll(() => receiver.up());
afterAll(() => receiver.down());

/** The backend's one credential, made by the admin in the first test. */
let key = "";
let keyId = "";

const call = (path: string, bearer: string, init: RequestInit = {}) =>
  fetch(`${e2e.stack.baseUrl}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${bearer}`, "content-type": "application/json", ...init.headers },
  });
const post = (path: string, bearer: string, body: unknown) => call(path, bearer, { method: "POST", body: JSON.stringify(body) });

async function makeKey(name: string, scopes: string[]): Promise<CreatedApiKey> {
  const res = await post("/api/admin/api-keys", e2e.token, { name, scopes });
  expect(res.status).toBe(201);
  return (await res.json()) as CreatedApiKey;
}

/** Every video the app sees (the key lists all creators'). */
async function allVideos(bearer = key): Promise<VideoResponse[]> {
  const res = await call("/api/videos?limit=100", bearer);
  expect(res.status).toBe(200);
  // Signed URLs carry an expiry rounded to a time window, so two reads a moment apart may differ
  // in the token alone; what is stored is the rest.
  return ((await res.json()) as VideoListResponse).videos.map((v) => ({
    ...v,
    downloadUrl: v.downloadUrl?.replace(/\/p\/[^/]+\//, "/p/<token>/") ?? v.downloadUrl,
  }));
}

async function endpoints(): Promise<string[]> {
  const res = await call("/api/admin/webhooks", key);
  expect(res.status).toBe(200);
  return ((await res.json()) as WebhookEndpointListResponse).endpoints.map((e) => e.url);
}

/** Plain tus-js-client: the link as endpoint, no headers. Resolves with the upload URL and when the last byte went, or the refusal. */
function plainUpload(
  endpoint: string,
  file: Buffer,
): Promise<{ url: string; doneAt: number; firstByteAt: number } | { status: number; body: string }> {
  return new Promise((resolve) => {
    let firstByteAt = 0;
    const upload = new Upload(file, {
      endpoint,
      chunkSize: 50 * 1024 * 1024,
      retryDelays: [200, 500],
      metadata: { filename: "from-phone.mp4", filetype: "video/mp4" },
      onProgress: () => {
        firstByteAt ||= Date.now();
      },
      onSuccess: () => resolve({ url: upload.url!, doneAt: Date.now(), firstByteAt }),
      onError: (err) => {
        const res = (err as DetailedError).originalResponse;
        resolve({ status: res?.getStatus() ?? 0, body: res?.getBody() ?? String(err) });
      },
    });
    upload.start();
  });
}

const creators = ["creator-lina", "creator-karim"];
const links: Record<string, DirectUploadResponse> = {};
const poll = { timeout: 180_000, interval: 500 };
const seconds = (ms: number) => (ms / 1000).toFixed(2);

describe("a social app backend with one server key", () => {
  it("creates a key, registers its receiver, uploads two creators' clips through direct links, and gets uploaded → playable → ready, signed, per video", async () => {
    const made = await makeKey("Social backend", ["uploads:create", "webhooks:manage", "videos:read"]);
    expect(made.key).toMatch(/^evk_/);
    key = made.key;
    keyId = made.id;

    // From here on, only the key.
    const hook = await post("/api/admin/webhooks", key, {
      url: `http://127.0.0.1:${receiver.port}/hooks`,
      events: ["video.uploaded", "video.playable", "video.ready", "video.failed"],
    });
    expect(hook.status).toBe(201);
    receiver.secret = ((await hook.json()) as WebhookEndpointCreated).secret;
    expect(receiver.secret).toMatch(/^whsec_/);

    // Both links at once, as two creators tap "upload" together.
    const asked = Date.now();
    const answers = await Promise.all(
      creators.map((creatorId) => post("/api/direct-uploads", key, { creatorId, title: `${creatorId}'s clip`, maxDurationSec: 60 })),
    );
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(201);
      links[creators[i]] = (await res.json()) as DirectUploadResponse;
    }

    // Each creator's client gets only the URL, and uploads a real clip of its own with no headers.
    const clips = creators.map((c, i) =>
      readFileSync(
        makeLavfiClip(join(e2e.dir, `${c}.mp4`), {
          picture: `testsrc2=size=${i ? "480x270" : "640x360"}:rate=30`,
          tone: "sine=frequency=440",
          seconds: 3,
        }),
      ),
    );
    const uploads = await Promise.all(creators.map((c, i) => plainUpload(links[c].uploadUrl, clips[i])));
    const done: Record<string, { url: string; doneAt: number; firstByteAt: number }> = {};
    for (const [i, up] of uploads.entries()) {
      expect(up).toHaveProperty("url");
      done[creators[i]] = up as { url: string; doneAt: number; firstByteAt: number };
      expect(new URL(done[creators[i]].url).pathname).toBe(`/api/video/uploads/${links[creators[i]].videoId}`);
    }

    for (const creatorId of creators) {
      const id = links[creatorId].videoId;
      await expect.poll(() => receiver.of(id).map((r) => r.type), { ...poll, message: `video.ready of ${id}` }).toContain("video.ready");
    }
    expect(receiver.refused).toEqual([]);

    for (const [i, creatorId] of creators.entries()) {
      const id = links[creatorId].videoId;
      const events = receiver.of(id);
      // In order per video, once each (after deduplication by webhook-id).
      expect(events.map((e) => e.type)).toEqual(["video.uploaded", "video.playable", "video.ready"]);
      for (const e of events) {
        // The whole video (§3), owned by the creator, never by the key.
        expect(Object.keys(e.data)).toEqual(expect.arrayContaining(VIDEO_FIELDS));
        expect(e.data).toMatchObject({ id, ownerId: creatorId, title: `${creatorId}'s clip`, sourceBytes: clips[i].length });
      }
      expect(events[2].data).toMatchObject({ status: "READY", playable: true, hlsUrl: `/videos/${id}/index.m3u8`, error: null });
      expect(events[2].data.renditions.length).toBeGreaterThan(0);

      // The backend reads the video with the key (videos:read): READY, the creator's.
      const res = await call(`/api/videos/${id}`, key);
      expect(res.status).toBe(200);
      const video = (await res.json()) as VideoResponse;
      expect(video).toMatchObject({ id, ownerId: creatorId, status: "READY", sourceBytes: clips[i].length });
      expect(video.renditions).toEqual(events[2].data.renditions);

      const t = done[creatorId];
      const at = (type: string) => events.find((e) => e.type === type)!.at - t.doneAt;
      console.log(
        `[social-app] ${creatorId}: link → first byte ${seconds(t.firstByteAt - asked)} s; upload end → video.uploaded ${seconds(at("video.uploaded"))} s, ` +
          `→ video.playable ${seconds(at("video.playable"))} s, → video.ready ${seconds(at("video.ready"))} s; READY in the API ${seconds(Date.parse(video.readyAt!) - t.doneAt)} s after upload end; duplicate deliveries ${receiver.duplicates}`,
      );
    }
    // The key listed every creator's video, and nothing else was made.
    const listed = await allVideos();
    expect(listed.map((v) => v.ownerId).sort()).toEqual([...creators].sort());
  });

  it("a used link is refused (410) with its sentence, and stores nothing more", async () => {
    const refused = await plainUpload(links[creators[0]].uploadUrl, Buffer.alloc(2048, 1));
    expect(refused).toEqual({ status: 410, body: "This upload link has already been used for an upload; ask the app for a new one." });
    expect((await allVideos()).filter((v) => v.ownerId === creators[0])).toHaveLength(1);
  });

  it("a file above the key's maxBytes is refused (413) with its sentence, and stores nothing", async () => {
    const res = await post("/api/direct-uploads", key, { creatorId: "creator-omar", maxBytes: 1000 });
    expect(res.status).toBe(201);
    const link = (await res.json()) as DirectUploadResponse;
    expect(await plainUpload(link.uploadUrl, Buffer.alloc(2048, 1))).toEqual({
      status: 413,
      body: "The file is larger than the 1000-byte upload limit.",
    });
    expect((await call(`/api/videos/${link.videoId}`, key)).status).toBe(404);
    expect((await allVideos()).filter((v) => v.ownerId === "creator-omar")).toEqual([]);
  });

  it("a webhook URL that is not allowed is refused (400) with its sentence, and nothing is registered", async () => {
    const before = await endpoints();
    const refusals: [string, string][] = [
      ["https://10.1.2.3/hooks", "10.1.2.3 is a private or reserved address; webhooks are delivered to public https URLs only."],
      ["http://social.example/hooks", "Webhook URLs must use https (plain http is accepted only for loopback in local development)."],
      ["ftp://social.example/hooks", "Webhook URLs must use https; ftp is not accepted."],
    ];
    for (const [url, message] of refusals) {
      const res = await post("/api/admin/webhooks", key, { url, events: ["video.ready"] });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid_url", message });
    }
    expect(await endpoints()).toEqual(before);
  });

  it("a key lacking a scope gets 403 naming it, and nothing is stored", async () => {
    const reader = await makeKey("Read only", ["videos:read"]);
    const before = { videos: await allVideos(), endpoints: await endpoints() };

    const link = await post("/api/direct-uploads", reader.key, { creatorId: "creator-lina" });
    expect(link.status).toBe(403);
    expect(await link.json()).toEqual({
      error: "forbidden",
      message: "This API key lacks the uploads:create scope.",
    });
    const hook = await post("/api/admin/webhooks", reader.key, { url: `http://127.0.0.1:${receiver.port}/other`, events: ["video.ready"] });
    expect(hook.status).toBe(403);
    expect(await hook.json()).toEqual({
      error: "forbidden",
      message: "This API key lacks the webhooks:manage scope.",
    });
    // The backend's own key may not delete a video (videos:write), nor make keys (admin only).
    const id = links[creators[1]].videoId;
    const del = await call(`/api/videos/${id}`, key, { method: "DELETE" });
    expect(del.status).toBe(403);
    expect(await del.json()).toEqual({ error: "forbidden", message: "This API key lacks the videos:write scope." });
    const mint = await post("/api/admin/api-keys", key, { name: "escalation", scopes: ["videos:write"] });
    expect(mint.status).toBe(403);

    expect(await allVideos()).toEqual(before.videos);
    expect(await endpoints()).toEqual(before.endpoints);
    const keys = ((await (await call("/api/admin/api-keys", e2e.token)).json()) as ApiKeyListResponse).keys;
    expect(keys.map((k) => k.name).sort()).toEqual(["Read only", "Social backend"]);
  });

  it("a revoked key is refused at once (401) with its sentence, and nothing is stored", async () => {
    const before = await allVideos(e2e.token);
    expect((await call(`/api/admin/api-keys/${keyId}`, e2e.token, { method: "DELETE" })).status).toBe(204);

    const sentence = { error: "invalid_api_key", message: "This API key is not valid: it is mistyped, unknown or revoked." };
    for (const res of [
      await post("/api/direct-uploads", key, { creatorId: "creator-lina" }),
      await post("/api/admin/webhooks", key, { url: `http://127.0.0.1:${receiver.port}/again`, events: ["video.ready"] }),
      await call("/api/videos", key),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(sentence);
    }
    expect(await allVideos(e2e.token)).toEqual(before);
    const urls = ((await (await call("/api/admin/webhooks", e2e.token)).json()) as WebhookEndpointListResponse).endpoints.map((e) => e.url);
    expect(urls).toEqual([`http://127.0.0.1:${receiver.port}/hooks`]);
  });
});
