/**
 * End to end: a real clip goes through the transcoder, which writes the MP4 download (a remux of
 * the top tier) before the video is READY. "The MP4 download plays in Chromium and `ffprobe` reads
 * its duration ≈ the source's." The watch page shows the owner a Download link and the "Allow
 * downloads" switch, which opens the plain URL to anyone and closes it again.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { useTestStack } from "./fixture.ts";
import { launchBrowser, newPage, signIn, waitForPlayback } from "./browser.ts";
import { makeLavfiClip, mediaDuration } from "../../../transcoder/src/testing/clips.ts";
import { tusUpload } from "../../dev/tus-client.ts";
import type { VideoResponse } from "../../../contract/api.ts";

// Functions passed to page.evaluate run in the page; this project has no DOM lib.
declare const document: any;

const e2e = useTestStack({ transcoder: true, user: { id: "alice" } });
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function video(id: string): Promise<VideoResponse> {
  const res = await fetch(`${e2e.stack.baseUrl}/api/videos/${id}`, { headers: { Authorization: `Bearer ${e2e.token}` } });
  return (await res.json()) as VideoResponse;
}

async function untilReady(id: string, timeoutMs = 150_000): Promise<VideoResponse> {
  const deadline = Date.now() + timeoutMs;
  let last: VideoResponse | undefined;
  while (Date.now() < deadline) {
    last = await video(id);
    if (last.status === "READY" || last.status === "FAILED") return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`video ${id} stuck: ${JSON.stringify(last)}\n${e2e.stack.transcoder?.output().slice(-3000)}`);
}

describe("MP4 download", () => {
  it("plays in Chromium, ffprobe reads the source's duration, and the owner's switch opens and closes it", async () => {
    const seconds = 6;
    const source = makeLavfiClip(join(e2e.dir, "trip.mp4"), {
      picture: "testsrc2=size=640x360:rate=30",
      tone: "sine=frequency=440",
      seconds,
    });
    const sourceDuration = await mediaDuration("ffprobe", source);
    const url = await tusUpload({
      endpoint: `${e2e.stack.baseUrl}/api/video/uploads`,
      token: e2e.token,
      file: readFileSync(source),
      chunkSize: 5 * 1024 * 1024,
      filename: "trip.mp4",
    });
    const id = url.split("/").pop()!;
    const ready = await untilReady(id);
    expect(ready.status).toBe("READY");
    // Not downloadable by default; the owner has a URL all the same (with the owner's token).
    expect(ready.downloadable).toBe(false);
    expect(ready.downloadUrl).toMatch(new RegExp(`^/videos/${id}/p/[^/]+/download\\.mp4$`));
    const ownerUrl = `${e2e.stack.baseUrl}${ready.downloadUrl}`;
    const plainUrl = `${e2e.stack.baseUrl}/videos/${id}/download.mp4`;
    expect((await fetch(plainUrl)).status).toBe(404);

    // ffprobe over HTTP (it reads the moov first: faststart), as long as the source.
    expect(Math.abs((await mediaDuration("ffprobe", ownerUrl)) - sourceDuration)).toBeLessThan(0.3);
    const head = await fetch(ownerUrl, { headers: { Range: "bytes=0-15" } });
    expect(head.status).toBe(206);
    expect(head.headers.get("content-disposition")).toMatch(/^attachment; filename="trip\.mp4"; filename\*=UTF-8''trip\.mp4$/);
    expect(
      Buffer.from(await head.arrayBuffer())
        .subarray(4, 8)
        .toString("latin1"),
    ).toBe("ftyp");

    // Chromium plays the MP4 itself in a <video> element (progressive, Range requests).
    const { context, page } = await newPage(browser, e2e.stack.baseUrl);
    try {
      await page.goto("/");
      await page.evaluate((src: string) => {
        document.body.innerHTML = "";
        const v = document.createElement("video");
        v.muted = true;
        v.autoplay = true;
        v.src = src;
        document.body.appendChild(v);
      }, ownerUrl);
      const played = await waitForPlayback(page, 1);
      expect(played).toBeGreaterThan(1);
      expect(await page.evaluate(() => document.querySelector("video")!.readyState)).toBeGreaterThanOrEqual(2);
      expect(await page.evaluate(() => Math.round(document.querySelector("video")!.duration))).toBe(Math.round(sourceDuration));

      // The owner's watch page: the Download link, and the switch that opens the plain URL.
      await signIn(page, "alice");
      await page.goto(`/watch/${id}`);
      const link = page.getByTestId("download-link");
      await link.waitFor();
      expect(await link.getAttribute("href")).toMatch(new RegExp(`^/videos/${id}/p/[^/]+/download\\.mp4$`));
      expect(await link.getAttribute("download")).not.toBeNull();
      const allow = page.getByLabel("Allow downloads");
      expect(await allow.isChecked()).toBe(false);
      await allow.check();
      await page.waitForFunction(() => !document.querySelector('[data-testid="allow-downloads"]')?.disabled);
      expect((await video(id)).downloadable).toBe(true);
      const open = await fetch(plainUrl);
      expect(open.status).toBe(200);
      await open.body?.cancel();
      // A signed-out viewer's card now has the plain URL.
      const card = (await (await fetch(`${e2e.stack.baseUrl}/api/videos/${id}`)).json()) as VideoResponse;
      expect(card.downloadUrl).toBe(`/videos/${id}/download.mp4`);

      await allow.uncheck();
      await page.waitForFunction(() => !document.querySelector('[data-testid="allow-downloads"]')?.disabled);
      expect((await video(id)).downloadable).toBe(false);
      expect((await fetch(plainUrl)).status).toBe(404);
    } finally {
      await context.close();
    }
  });
});
