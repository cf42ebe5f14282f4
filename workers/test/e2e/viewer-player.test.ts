/**
 * The viewer's player in headless Chromium against the real local stack (Worker + transcoder), on a
 * throttled link (CDP: 1 Mbit/s down, 80 ms latency): the playback beacon's startup time against
 * the test's own measurement and the view counted once; the storyboard frame under the pointer and
 * under a finger while seeking, fetched only then; the embed inside an <iframe> of another origin;
 * a private video's share link signed out, its beacons carrying the share token; the watch page starting
 * on the playlists and first segment its HTML preloaded.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import type { Browser, Frame } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback, type LoopbackServer } from "../../dev/loopback.ts";
import { tusUpload } from "../../dev/tus-client.ts";
import { useTestStack } from "./fixture.ts";
import { DESKTOP, PHONE, emulateNetwork, launchBrowser, makeClip, newPage, screenshot, signIn, waitForPlayback } from "./browser.ts";
import { parseStoryboardVtt } from "../../../transcoder/src/storyboard.ts";
import { startupBucket } from "../../src/qoe/histogram.ts";
import type { VideoResponse } from "../../../contract/api.ts";
import type { PlaybackEvent } from "../../../contract/playback-events.ts";

// Functions passed to page.evaluate run in the page; this project has no DOM lib, so they see it as `any`.
declare const document: any;
declare const performance: any;
declare const requestAnimationFrame: any;
declare const getComputedStyle: any;

const SLOW = { downloadBps: 1_000_000 / 8, latencyMs: 80 };

const t = useTestStack({ transcoder: true, user: { id: "alice" } });
let browser: Browser;
let videoId: string;

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${t.stack.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${t.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (res.status === 204 ? null : await res.json()) as T };
}

interface Stats {
  views: number;
  startupMsP50: number | null;
  byTier: { tier: string; seconds: number }[];
}

const isBeacon = (url: string) => new URL(url).pathname === "/api/playback-events";

beforeAll(async () => {
  browser = await launchBrowser();
  const clip = makeClip(join(t.dir, "nile.mp4"), { size: "640x360", seconds: 12 });
  const url = await tusUpload({
    endpoint: `${t.stack.baseUrl}/api/video/uploads`,
    token: t.token,
    file: readFileSync(clip),
    chunkSize: 50 * 1024 * 1024,
    filename: "nile.mp4",
  });
  videoId = url.split("/").pop()!;
  // Until READY: the storyboard is made last.
  for (const deadline = Date.now() + 170_000; ; await new Promise((r) => setTimeout(r, 1000))) {
    const { status } = (await api<VideoResponse>("GET", `/api/videos/${videoId}`)).json;
    if (status === "READY") break;
    if (status === "FAILED" || Date.now() > deadline) throw new Error(`The test video is ${status}.`);
  }
  const { json } = await api<VideoResponse>("GET", `/api/videos/${videoId}`);
  expect(json.visibility).toBe("public");
  expect(json.storyboardUrl).toMatch(/storyboard\.vtt$/);
});

afterAll(async () => {
  await browser?.close();
});

describe("the viewer's player", () => {
  it("reports a startup time within 20 % of the one measured in the page, and one view even when the beacon is sent twice", async () => {
    const { context, page } = await newPage(browser, t.stack.baseUrl, PHONE);
    await emulateNetwork(page, SLOW);
    const start = page.waitForRequest((r) => isBeacon(r.url()) && r.postData()?.includes('"type":"start"') === true, { timeout: 120_000 });
    await page.goto(`/watch/${videoId}`);
    // Press play the moment hls.js has attached to the element (its data still on the way), and
    // time it in the page: press → the first frame presented (requestVideoFrameCallback).
    const measured = await page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const check = () => {
            const v = document.querySelector(".player video");
            if (!(v?.src || v?.querySelector("source"))) return void requestAnimationFrame(check);
            const pressed = performance.now();
            v.requestVideoFrameCallback(() => resolve(performance.now() - pressed));
            v.play().catch(reject);
          };
          check();
        }),
    );
    const beacon = await start;
    const event = JSON.parse(beacon.postData()!) as PlaybackEvent;
    expect((await beacon.response())?.status()).toBe(204);
    expect(event).toMatchObject({ videoId, type: "start", rebufferCount: 0 });
    // No personal data: the contract's fields only (no user, URL or user agent).
    const fields = ["rebufferCount", "rebufferMs", "sessionId", "startupMs", "tier", "type", "videoId", "watchedMs"];
    expect(Object.keys(event).filter((k) => !fields.includes(k))).toEqual([]);
    expect(Math.abs(event.startupMs! - measured)).toBeLessThanOrEqual(0.2 * measured);
    await waitForPlayback(page, 1.5);

    // The same beacon again: accepted, counted once.
    const again = await fetch(`${t.stack.baseUrl}/api/playback-events`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: beacon.postData()!,
    });
    expect(again.status).toBe(204);
    await page.goto("about:blank"); // leaving sends the last beacon (pagehide), with the time watched on 240p
    await expect
      .poll(async () => (await api<Stats>("GET", `/api/videos/${videoId}/stats?days=1`)).json, { timeout: 20_000 })
      .toMatchObject({ views: 1, byTier: expect.arrayContaining([expect.objectContaining({ tier: "240p" })]) });
    await context.close();
    const { json } = await api<Stats>("GET", `/api/videos/${videoId}/stats?days=1`);
    expect(json.views).toBe(1);
    // The stats keep startup times as a histogram (p50 is a bucket's upper edge): the bucket of
    // the time measured here, give or take 20 %.
    expect(json.startupMsP50).toBe(startupBucket(event.startupMs!));
    expect(json.startupMsP50).toBeGreaterThanOrEqual(startupBucket(measured * 0.8));
    expect(json.startupMsP50).toBeLessThanOrEqual(startupBucket(measured * 1.2));
  });

  it("shows the storyboard frame under the pointer and under a dragging finger, fetched only once the seek bar is used", async () => {
    const vtt = await (await fetch(`${t.stack.baseUrl}/videos/${videoId}/storyboard.vtt`)).text();
    const cues = parseStoryboardVtt(vtt);
    expect(cues.length).toBeGreaterThan(3);
    const cueAt = (time: number) => cues.find((c) => time >= c.start && time < c.end) ?? cues.at(-1)!;

    const { context, page } = await newPage(browser, t.stack.baseUrl, DESKTOP);
    const storyboardRequests: string[] = [];
    page.on("request", (r) => /storyboard\.(vtt|jpg)/.test(r.url()) && storyboardRequests.push(r.url()));
    await page.goto(`/watch/${videoId}`);
    await waitForPlayback(page, 0.5);
    const bar = page.getByTestId("seek");
    await bar.waitFor();
    expect(storyboardRequests).toEqual([]); // not before the viewer seeks: the first frame comes first

    /** The preview's time and the sprite region it shows. */
    const shown = async () =>
      page.getByTestId("seek-preview").evaluate((el: any) => {
        const frame = el.querySelector("[data-testid=seek-frame]");
        if (!frame) return null;
        const s = getComputedStyle(frame);
        const [x, y] = s.backgroundPosition.split(" ").map((v: string) => -Number.parseFloat(v) || 0);
        return {
          time: Number(el.dataset.time),
          x,
          y,
          w: Number.parseFloat(s.width),
          h: Number.parseFloat(s.height),
          image: s.backgroundImage,
        };
      });
    const expectRegion = async () => {
      await expect.poll(shown).not.toBeNull();
      const s = (await shown())!;
      const cue = cueAt(s.time);
      expect({ x: s.x, y: s.y, w: s.w, h: s.h }).toEqual({ x: cue.x, y: cue.y, w: cue.w, h: cue.h });
      expect(s.image).toContain(`/videos/${videoId}/storyboard.jpg`);
      return s;
    };

    // Hover: the frame of the time under the pointer, from the VTT's cue for that time.
    const box = (await bar.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2);
    const hovered = await expectRegion();
    expect(hovered.time).toBeGreaterThan(0.5 * 12);
    expect(storyboardRequests.some((u) => u.endsWith("storyboard.vtt"))).toBe(true);
    await expect.poll(() => storyboardRequests.some((u) => u.endsWith("storyboard.jpg"))).toBe(true);
    await screenshot(page, "seek-preview-desktop-en");
    // Drag with the mouse: the frame follows; letting go seeks there.
    await page.mouse.move(box.x + box.width * 0.15, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 5 });
    const dragged = await expectRegion();
    expect(dragged.time).toBeLessThan(hovered.time);
    await page.mouse.up();
    await expect.poll(() => page.evaluate(() => document.querySelector(".player video").currentTime)).toBeGreaterThan(dragged.time - 1.5);
    await context.close();

    // A finger on a phone: touch events through CDP, a drag along the bar.
    const phone = await browser.newContext({ baseURL: t.stack.baseUrl, viewport: PHONE, hasTouch: true, isMobile: true, locale: "en-US" });
    const touchPage = await phone.newPage();
    await touchPage.goto(`/watch/${videoId}`);
    await waitForPlayback(touchPage, 0.5);
    const touchBar = touchPage.getByTestId("seek");
    const tb = (await touchBar.boundingBox())!;
    const cdp = await phone.newCDPSession(touchPage);
    const y = tb.y + tb.height / 2;
    // Start on the thumb (near the start: the video just began), then drag to 80 %.
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x: tb.x + 4, y }] });
    for (const f of [0.2, 0.4, 0.6, 0.8]) {
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: tb.x + tb.width * f, y }] });
    }
    const preview = touchPage.getByTestId("seek-preview");
    await preview.waitFor();
    // The time and the region as one render shows them (read together: the drag may still be landing).
    const fingerShown = () =>
      preview.evaluate((el: any) => {
        const frame = el.querySelector("[data-testid=seek-frame]");
        return frame ? { time: Number(el.dataset.time), position: getComputedStyle(frame).backgroundPosition as string } : null;
      });
    await expect.poll(async () => (await fingerShown())?.time ?? 0).toBeGreaterThan(0.6 * 12);
    const finger = (await fingerShown())!;
    const cue = cueAt(finger.time);
    expect(finger.position.split(" ").map((v: string) => -Number.parseFloat(v) || 0)).toEqual([cue.x, cue.y]);
    await screenshot(touchPage, "seek-preview-phone-en");
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
    await expect.poll(() => touchPage.evaluate(() => document.querySelector(".player video").currentTime)).toBeGreaterThan(0.6 * 12 - 1.5);
    await phone.close();
  });

  it("plays /embed/:id inside an <iframe> of a page from another origin", async () => {
    const html = `<!doctype html><meta charset="utf-8"><title>A blog</title><h1>My trip</h1>
<iframe src="${t.stack.baseUrl}/embed/${videoId}" width="640" height="360" allow="autoplay; fullscreen" allowfullscreen></iframe>`;
    const site: LoopbackServer = await listenOnLoopback(
      createServer((_req, res) => void res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html)),
    );
    try {
      const { context, page } = await newPage(browser, `http://127.0.0.1:${site.port}`, DESKTOP);
      await emulateNetwork(page, SLOW);
      await page.goto("/");
      expect(new URL(page.url()).origin).not.toBe(new URL(t.stack.baseUrl).origin);
      const beacon = page.waitForResponse((r) => isBeacon(r.url()), { timeout: 120_000 });
      await page.frameLocator("iframe").getByRole("button", { name: /^Play/ }).click({ timeout: 120_000 });
      const frame = page.frames().find((f) => f.url().includes(`/embed/${videoId}`))!;
      await framePlayback(frame, 1);
      expect((await beacon).status()).toBe(204);
      await screenshot(page, "embed-other-origin-desktop-en");
      await context.close();
    } finally {
      await site.close();
    }
  });

  it("keeps playing when the API refuses its beacons (429)", async () => {
    const { context, page } = await newPage(browser, t.stack.baseUrl, PHONE);
    const refused: string[] = [];
    await page.route("**/api/playback-events*", (route) => {
      refused.push(route.request().url());
      return route.fulfill({
        status: 429,
        contentType: "application/json",
        body: JSON.stringify({ error: "too_many_events", message: "This playback session sends events too fast." }),
      });
    });
    await page.goto(`/watch/${videoId}`);
    await waitForPlayback(page, 2);
    expect(refused.length).toBeGreaterThan(0);
    expect(await page.getByRole("alert").count()).toBe(0);
    await context.close();
  });

  it("starts on what the page's HTML preloaded: each of the first playlists and segment fetched once, and no /playback call", async () => {
    const { context, page } = await newPage(browser, t.stack.baseUrl, PHONE);
    await emulateNetwork(page, SLOW);
    const asked: string[] = [];
    page.on("request", (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(`${t.stack.baseUrl}/watch/${videoId}`);
    await waitForPlayback(page, 1);
    const files = ["index.m3u8", "240p/index.m3u8", "240p/seg_00000.ts"].map((f) => `/videos/${videoId}/${f}`);
    const entries = (await page.evaluate(() =>
      performance.getEntriesByType("resource").map((e: { name: string; initiatorType: string }) => ({
        path: new URL(e.name).pathname,
        initiator: e.initiatorType,
      })),
    )) as { path: string; initiator: string }[];
    for (const file of files) {
      // Fetched by the preload alone: hls.js took the preloaded response instead of asking again.
      expect([file, entries.filter((e) => e.path === file).map((e) => e.initiator)]).toEqual([file, ["link"]]);
      expect([file, asked.filter((p) => p === file).length]).toEqual([file, 1]);
    }
    // The player started on the URL the HTML named, without asking the API for it.
    expect(asked).not.toContain(`/api/videos/${videoId}/playback`);
    // The app's code for this page and hls.js come from the HTML's modulepreloads, each once.
    const modules = (await page
      .locator('link[rel="modulepreload"]')
      .evaluateAll((links) => links.map((l: { getAttribute(n: string): string }) => l.getAttribute("href")))) as string[];
    expect(modules.some((m) => /\/hls\.light-[\w-]+\.js$/.test(m))).toBe(true);
    for (const m of modules) expect([m, asked.filter((p) => p === m).length]).toEqual([m, 1]);
    // Under hls.js the first frame is the picture: no poster shares the slow link with it.
    expect(await page.locator(".player video").getAttribute("poster")).toBeNull();
    expect(asked.filter((p) => p.endsWith("/poster.jpg"))).toEqual([]);
    await context.close();
  });

  it("fetches the embed's engine once its poster is on screen, and not when the viewer saves data", async () => {
    const engineAsked = async (saveData: boolean) => {
      const { context, page } = await newPage(browser, t.stack.baseUrl, PHONE);
      if (saveData) await context.setExtraHTTPHeaders({ "Save-Data": "on" });
      if (saveData) await page.addInitScript(() => Object.defineProperty(navigator, "connection", { value: { saveData: true } }));
      const asked: string[] = [];
      page.on("request", (r) => asked.push(new URL(r.url()).pathname));
      await page.goto(`${t.stack.baseUrl}/embed/${videoId}`);
      await page.getByRole("button", { name: /^Play/ }).waitFor();
      await expect.poll(() => asked.some((p) => p.endsWith("/poster.jpg"))).toBe(true);
      const engine = () => asked.some((p) => /\/hls\.light-[\w-]+\.js$/.test(p));
      if (!saveData) await expect.poll(engine, { timeout: 30_000 }).toBe(true);
      else {
        // Given time it would have asked (the same page did above); then the press loads it.
        await page.waitForTimeout(1500);
        expect(engine()).toBe(false);
        await page.getByRole("button", { name: /^Play/ }).click();
        await expect.poll(engine, { timeout: 30_000 }).toBe(true);
      }
      // Never a segment before the press.
      if (!saveData) expect(asked.filter((p) => /\/seg_\d+\.ts$/.test(p) && !p.includes("/240p/seg_00000"))).toEqual([]);
      await context.close();
    };
    await engineAsked(false);
    await engineAsked(true);
  });

  it("plays a private video's share link signed out; its beacons carry the share token", async () => {
    expect((await api("PATCH", `/api/videos/${videoId}`, { visibility: "private" })).status).toBe(200);
    const { json } = await api<{ url: string }>("POST", `/api/videos/${videoId}/share`, { expiresInSec: 3600 });
    const share = new URL(json.url).searchParams.get("share")!;
    expect(share).toBeTruthy();

    const { context, page } = await newPage(browser, t.stack.baseUrl, PHONE);
    await emulateNetwork(page, SLOW);
    const beacon = page.waitForResponse((r) => isBeacon(r.url()), { timeout: 120_000 });
    await page.goto(json.url);
    await waitForPlayback(page, 1);
    const res = await beacon;
    expect(new URL(res.url()).searchParams.get("share")).toBe(share);
    expect(res.status()).toBe(204);
    // The same beacon without the token: not viewable by the sender.
    const without = await fetch(`${t.stack.baseUrl}/api/playback-events`, { method: "POST", body: res.request().postData()! });
    expect(without.status).toBe(404);
    await context.close();
  });

  it("counts the owner watching their own private video signed in: the beacon carries their token", async () => {
    expect((await api<VideoResponse>("GET", `/api/videos/${videoId}`)).json.visibility).toBe("private");
    const before = (await api<Stats>("GET", `/api/videos/${videoId}/stats?days=1`)).json.views;
    const { context, page } = await newPage(browser, t.stack.baseUrl, PHONE);
    await signIn(page, "alice");
    const beacon = page.waitForResponse((r) => isBeacon(r.url()), { timeout: 120_000 });
    await page.goto(`/watch/${videoId}`);
    await waitForPlayback(page, 1);
    const res = await beacon;
    expect(res.status()).toBe(204);
    expect(await res.request().headerValue("authorization")).toMatch(/^Bearer \S+$/);
    expect((await api<Stats>("GET", `/api/videos/${videoId}/stats?days=1`)).json.views).toBe(before + 1);
    await context.close();
  });
});

/** `waitForPlayback` for a frame: its <video> has played past `seconds`. */
async function framePlayback(frame: Frame, seconds: number): Promise<void> {
  await frame.waitForFunction(
    (s) => {
      const v = document.querySelector("video");
      return v ? v.currentTime > s : false;
    },
    seconds,
    { timeout: 120_000, polling: 200 },
  );
}
