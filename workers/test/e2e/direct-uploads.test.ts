/**
 * Direct creator uploads on the real local stack (wrangler dev + the transcoder with real ffmpeg):
 * a server (here: an admin) asks for an upload link for a creator; plain tus-js-client, with no
 * headers at all, uploads through it (paused and resumed on the same URL), and the video is the
 * creator's and becomes READY. A source longer than the link's duration cap ends FAILED with the
 * sentence; used, oversized and expired links get their status and sentence, storing nothing. In
 * Chromium, `/upload?u=<link>` uploads signed out.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { type DetailedError, Upload } from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestStack } from "./fixture.ts";
import { launchBrowser, makeClip, newPage, screenshot } from "./browser.ts";
import { makeLavfiClip } from "../../../transcoder/src/testing/clips.ts";
import type { VideoResponse } from "../../../contract/api.ts";
import type { DirectUploadRequest, DirectUploadResponse } from "../../../contract/direct-uploads.ts";

const e2e = useTestStack({ transcoder: true, user: { id: "root", role: "admin" } });
let browser: Browser;
let clip: Buffer;
let fiveSeconds: Buffer;
let expiring: DirectUploadResponse;

beforeAll(async () => {
  clip = readFileSync(makeClip(join(e2e.dir, "clip.mp4"), { size: "640x360", seconds: 3 }));
  fiveSeconds = readFileSync(
    makeLavfiClip(join(e2e.dir, "five.mp4"), { picture: "testsrc2=size=320x240:rate=15", tone: "sine=frequency=300", seconds: 5 }),
  );
  // Made first, checked last: the shortest life a link may have is a minute.
  expiring = await directUpload({ creatorId: "uma", expiresInSec: 60 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function directUpload(body: DirectUploadRequest): Promise<DirectUploadResponse> {
  const res = await fetch(`${e2e.stack.baseUrl}/api/direct-uploads`, {
    method: "POST",
    headers: { Authorization: `Bearer ${e2e.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as DirectUploadResponse;
}

/** What the admin (standing in for the social app's backend) reads about a video; null for 404. */
async function video(id: string): Promise<VideoResponse | null> {
  const res = await fetch(`${e2e.stack.baseUrl}/api/videos/${id}`, { headers: { Authorization: `Bearer ${e2e.token}` } });
  return res.status === 404 ? null : ((await res.json()) as VideoResponse);
}

async function videosOf(ownerId: string): Promise<VideoResponse[]> {
  const res = await fetch(`${e2e.stack.baseUrl}/api/videos?limit=100`, { headers: { Authorization: `Bearer ${e2e.token}` } });
  return ((await res.json()) as { videos: VideoResponse[] }).videos.filter((v) => v.ownerId === ownerId);
}

/** Plain tus-js-client: the link as endpoint, no headers. Resolves with the upload URL, or the refusal. */
function plainUpload(
  endpoint: string,
  file: Buffer,
  opts: { chunkSize?: number; uploadUrl?: string; stopAfterFirstChunk?: boolean } = {},
): Promise<{ url: string; stopped: boolean } | { status: number; body: string }> {
  return new Promise((resolve) => {
    const upload: Upload = new Upload(file, {
      endpoint,
      ...(opts.uploadUrl ? { uploadUrl: opts.uploadUrl } : {}),
      chunkSize: opts.chunkSize ?? 50 * 1024 * 1024,
      retryDelays: [200, 500],
      metadata: { filename: "phone.mp4", filetype: "video/mp4" },
      onChunkComplete: () => {
        if (!opts.stopAfterFirstChunk) return;
        void upload.abort(false).then(() => resolve({ url: upload.url!, stopped: true }));
      },
      onSuccess: () => resolve({ url: upload.url!, stopped: false }),
      onError: (err) => {
        const res = (err as DetailedError).originalResponse;
        resolve({ status: res?.getStatus() ?? 0, body: res?.getBody() ?? String(err) });
      },
    });
    upload.start();
  });
}

const poll = { timeout: 180_000, interval: 1000 };

describe("direct creator uploads", () => {
  let used: DirectUploadResponse;

  it("tus-js-client with no headers uploads (stopped and resumed on the same URL); the creator owns the video and it becomes READY", async () => {
    used = await directUpload({ creatorId: "zoe", title: "From the social app", maxDurationSec: 30 });
    expect(await video(used.videoId)).toBeNull(); // nothing until the upload starts

    const first = await plainUpload(used.uploadUrl, clip, { chunkSize: 64 * 1024, stopAfterFirstChunk: true });
    expect(first).toMatchObject({ stopped: true });
    const url = (first as { url: string }).url;
    expect(new URL(url).pathname).toBe(`/api/video/uploads/${used.videoId}`);
    expect(new URL(url).searchParams.get("direct")).toBe(new URL(used.uploadUrl).searchParams.get("direct"));
    const partial = await video(used.videoId);
    expect(partial).toMatchObject({ ownerId: "zoe", status: "UPLOADING" });

    const resumed = await plainUpload(used.uploadUrl, clip, { uploadUrl: url });
    expect(resumed).toEqual({ url, stopped: false });
    await expect.poll(async () => (await video(used.videoId))?.status, poll).toBe("READY");
    expect(await video(used.videoId)).toMatchObject({ ownerId: "zoe", title: "From the social app", sourceBytes: clip.length });
    expect(await videosOf("zoe")).toHaveLength(1);
  });

  it("a 5 s source with maxDurationSec 2 ends FAILED with the sentence, before any encoding", async () => {
    const link = await directUpload({ creatorId: "zoe", maxDurationSec: 2 });
    expect(await plainUpload(link.uploadUrl, fiveSeconds)).toMatchObject({ stopped: false });
    await expect.poll(async () => (await video(link.videoId))?.status, poll).toBe("FAILED");
    const failed = (await video(link.videoId))!;
    expect(failed.error).toMatch(/^This video is 5(\.\d)? seconds long; its upload link accepts videos of at most 2 seconds\.$/);
    expect(failed.renditions).toEqual([]);
    expect(failed.hlsUrl).toBeNull();
  });

  it("a used link is refused (410) with its sentence, and stores nothing more", async () => {
    const again = await plainUpload(used.uploadUrl, clip);
    expect(again).toEqual({ status: 410, body: "This upload link has already been used for an upload; ask the app for a new one." });
    expect(await videosOf("zoe")).toHaveLength(2);
  });

  it("a file above maxBytes is refused (413) with its sentence, and stores nothing", async () => {
    const link = await directUpload({ creatorId: "omar", maxBytes: 1000 });
    expect(await plainUpload(link.uploadUrl, clip)).toEqual({ status: 413, body: "The file is larger than the 1000-byte upload limit." });
    expect(await video(link.videoId)).toBeNull();
    expect(await videosOf("omar")).toEqual([]);
  });

  it("in Chromium, /upload?u=<link> asks no sign-in and uploads for the creator", async () => {
    const link = await directUpload({ creatorId: "yara", title: "Sent from a web view" });
    const { context, page } = await newPage(browser, e2e.stack.baseUrl);
    await page.goto(`/upload?u=${encodeURIComponent(link.uploadUrl)}`);
    await page.locator("#file").waitFor({ state: "attached" });
    expect(await page.getByLabel("User name").count()).toBe(0);
    await page.getByText("This upload link is for one video.").waitFor();
    await page.locator("#file").setInputFiles({ name: "from-phone.mp4", mimeType: "video/mp4", buffer: clip });
    await page.getByTestId("direct-done").waitFor({ timeout: 60_000 });
    expect(await page.locator(".upload-page").getAttribute("data-video-id")).toBe(link.videoId);
    await screenshot(page, "direct-upload-done-desktop-en");
    await context.close();
    const uploaded = await video(link.videoId);
    expect(uploaded).toMatchObject({ ownerId: "yara", title: "Sent from a web view", sourceBytes: clip.length });
    expect(uploaded?.status).not.toBe("UPLOADING");
  });

  it("an expired link is refused (410) with its sentence, and stores nothing", async () => {
    // Waiting for the expiry the link announced (a state to reach, not a timing to check).
    const left = Date.parse(expiring.expiresAt) - Date.now();
    if (left > -1000) await new Promise((r) => setTimeout(r, left + 1000));
    const refused = await plainUpload(expiring.uploadUrl, clip);
    expect(refused).toEqual({
      status: 410,
      body: `This upload link expired at ${new Date(expiring.expiresAt).toUTCString()}; ask the app for a new one.`,
    });
    expect(await video(expiring.videoId)).toBeNull();
    expect(await videosOf("uma")).toEqual([]);
  });
});
