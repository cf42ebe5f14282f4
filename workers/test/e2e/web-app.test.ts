/**
 * The web app in headless Chromium against the real local stack (Worker + transcoder): sign in,
 * upload through the file input with the progress bar moving, reload mid-upload and resume the
 * same upload, watch it play, switch quality, switch to Arabic (RTL), and as admin set the cap
 * to 0 and see a new upload held. Screenshots of each page go to test-artifacts/.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "./fixture.ts";
import { DESKTOP, PHONE, emulateNetwork, launchBrowser, makeClip, newPage, screenshot, signIn, waitForPlayback } from "./browser.ts";
import type { VideoResponse } from "../../../contract/api.ts";

// Functions passed to page.evaluate run in the page; this project has no DOM lib, so they see it as `any`.
declare const document: any;
declare const navigator: any;

let stack: TestStack;
let browser: Browser;
let dir: string;
let bigClip: string;
let smallClip: string;
let aliceVideoId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edge-video-web-"));
  // MJPEG keeps the file large (~17 MB for 8 s) so that a throttled upload is still running at the reload.
  bigClip = makeClip(join(dir, "trip to aswan.mov"), { size: "1280x720", seconds: 8, codec: "mjpeg" });
  smallClip = makeClip(join(dir, "short.mp4"), { size: "640x360", seconds: 4 });
  [stack, browser] = await Promise.all([startTestStack({ transcoder: true }), launchBrowser()]);
});

afterAll(async () => {
  if (process.env.E2E_DEBUG) console.log(stack?.output(), stack?.transcoder?.output());
  await browser?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function apiVideo(id: string, userId = "alice"): Promise<VideoResponse> {
  const token = await stack.tokenFor(userId, "admin");
  const res = await fetch(`${stack.baseUrl}/api/videos/${id}`, { headers: { Authorization: `Bearer ${token}` } });
  return (await res.json()) as VideoResponse;
}

const uploadBar = (page: Page) => page.locator("#upload-bar");
const barValue = (page: Page) => uploadBar(page).evaluate((el) => (el as { value: number }).value);

describe("web app in Chromium", () => {
  it("serves hashed assets as immutable and SPA routes from index.html", async () => {
    const html = await (await fetch(`${stack.baseUrl}/watch/anything`)).text();
    expect(html).toContain('<div id="app"></div>');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const res = await fetch(`${stack.baseUrl}${asset}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("immutable");
  });

  it("signs in, uploads with a moving progress bar, resumes the same upload after a reload, and plays it", async () => {
    const { context, page } = await newPage(browser, stack.baseUrl);
    await page.goto("/");
    await screenshot(page, "signin-desktop-en");
    await signIn(page, "alice");
    await screenshot(page, "upload-desktop-en");

    // A wrong file is refused before anything is sent.
    await page.locator("#file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("is not a video file");

    // A slow uplink (4 Mbit/s) so that the reload lands mid-upload.
    await emulateNetwork(page, { uploadBps: 500_000 });
    await page.getByLabel("Title (optional)").fill("Trip to Aswan");
    await page.locator("#file").setInputFiles(bigClip);
    await uploadBar(page).waitFor();
    await page.waitForFunction(() => ((document.querySelector("#upload-bar") as { value: number } | null)?.value ?? 0) >= 3);
    const first = await barValue(page);
    await page.waitForFunction((v) => ((document.querySelector("#upload-bar") as { value: number } | null)?.value ?? 0) > v, first);
    expect(await barValue(page)).toBeGreaterThan(first);
    await expect.poll(() => page.locator(".stats").textContent()).toMatch(/bit\/s/);
    await expect.poll(() => page.locator(".stats").textContent()).toMatch(/left/);
    await screenshot(page, "uploading-desktop-en");
    const idBefore = await page.locator(".upload-page").getAttribute("data-video-id");
    expect(idBefore).toMatch(/.+/);
    const percentBefore = await barValue(page);
    expect(percentBefore).toBeLessThan(100);

    // Reload mid-upload: the page lists the unfinished upload; picking the same file offers to continue.
    await page.reload();
    await page.getByTestId("unfinished").waitFor();
    await expect(page.getByTestId("unfinished").textContent()).resolves.toContain("trip to aswan.mov");
    await emulateNetwork(page, {}); // full speed from here
    await page.locator("#file").setInputFiles(bigClip);
    const offer = page.getByRole("alertdialog");
    await offer.waitFor();
    expect(await offer.textContent()).toMatch(/You already sent \d+%/);
    await screenshot(page, "resume-offer-desktop-en");
    await page.getByRole("button", { name: "Continue upload" }).click();

    // The processing stage: status in words, then the player as soon as the video can play.
    await page.getByTestId("processing").waitFor({ timeout: 60_000 });
    const idAfter = await page.locator(".upload-page").getAttribute("data-video-id");
    expect(idAfter).toBe(idBefore); // the same tus upload went on: resumed, not restarted
    aliceVideoId = idAfter!;
    await page.locator(".status-panel").waitFor();
    await screenshot(page, "processing-desktop-en");
    await page.locator(".player video").waitFor({ timeout: 180_000 });
    await waitForPlayback(page);
    await screenshot(page, "upload-playing-desktop-en");
    const video = await apiVideo(aliceVideoId);
    expect(video.title).toBe("Trip to Aswan");
    expect(video.sourceBytes).toBeGreaterThan(10_000_000);
    await context.close();
  });

  it("plays on the watch page, switches quality, and turns RTL in Arabic", async () => {
    // Wait for READY so that every tier is there.
    await expect.poll(async () => (await apiVideo(aliceVideoId)).status, { timeout: 180_000, interval: 1000 }).toBe("READY");
    const { context, page } = await newPage(browser, stack.baseUrl);
    await signIn(page, "alice");
    await page.goto(`/watch/${aliceVideoId}`);
    const quality = page.getByLabel("Quality");
    await quality.waitFor();
    expect(await quality.locator("option").allTextContents()).toEqual([expect.stringMatching(/^Auto/), "240p", "480p", "720p"]);
    await waitForPlayback(page);
    // Starts on the lowest tier.
    await expect.poll(() => page.locator(".player").getAttribute("data-level")).toBe("240p");
    await quality.selectOption({ label: "720p" });
    await expect.poll(() => page.locator(".player").getAttribute("data-level"), { timeout: 60_000 }).toBe("720p");
    const t0 = await page.evaluate(() => document.querySelector("video")!.currentTime);
    await waitForPlayback(page, t0 + 0.5);
    await screenshot(page, "watch-desktop-en");

    // Arabic: the whole page flips right-to-left and the words change.
    await page.getByTestId("lang").click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe("rtl");
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("ar");
    await expect.poll(() => page.getByRole("link", { name: "فيديوهاتي" }).count()).toBe(1);
    await screenshot(page, "watch-desktop-ar");
    // It stays Arabic after a reload (stored), and on a phone.
    await page.setViewportSize(PHONE);
    await page.reload();
    await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe("rtl");
    await page.locator(".player video").waitFor();
    await screenshot(page, "watch-phone-ar");
    await page.getByRole("link", { name: "رفع" }).click();
    await screenshot(page, "upload-phone-ar");
    await page.getByRole("link", { name: "فيديوهاتي" }).click();
    await page.locator(`.video-card[data-video-id="${aliceVideoId}"]`).waitFor();
    await screenshot(page, "videos-phone-ar");
    await page.getByTestId("lang").click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe("ltr");
    await screenshot(page, "videos-phone-en");
    await context.close();
  });

  it("plays with the browser's own HLS when asked (?engine=native): its quality menu plays one tier", async () => {
    const { context, page } = await newPage(browser, stack.baseUrl);
    await page.goto(`/watch/${aliceVideoId}?engine=native`);
    await expect.poll(() => page.locator(".player").getAttribute("data-engine")).toBe("native");
    const quality = page.getByLabel("Quality");
    await quality.waitFor();
    expect(await quality.locator("option").allTextContents()).toEqual([expect.stringMatching(/^Auto/), "240p", "480p", "720p"]);
    await waitForPlayback(page);
    // The first variant is the lowest tier; the browser's player shows its poster (it loads nothing before play on iOS).
    await expect.poll(() => page.locator(".player").getAttribute("data-level")).toBe("240p");
    expect(await page.locator(".player video").getAttribute("poster")).toMatch(/poster\.jpg$/);
    await quality.selectOption({ label: "480p" });
    await expect.poll(() => page.locator(".player").getAttribute("data-level"), { timeout: 60_000 }).toBe("480p");
    expect(await page.evaluate(() => document.querySelector("video")!.currentSrc)).toMatch(/\/480p\/index\.m3u8$/);
    const t0 = await page.evaluate(() => document.querySelector("video")!.currentTime);
    await waitForPlayback(page, t0 + 0.5);
    await context.close();
  });

  it("signed out, watch and embed pages never ask to sign in; the embed has no app chrome", async () => {
    const { context, page } = await newPage(browser, stack.baseUrl, PHONE);
    await page.goto(`/watch/${aliceVideoId}`);
    await page.locator(".watch-page").waitFor();
    expect(await page.getByLabel("User name").count()).toBe(0);
    // The way to sign in stays one tap away.
    await page.getByRole("link", { name: "Sign in" }).waitFor();
    await page.goto(`/embed/${aliceVideoId}`);
    await page.locator(".embed-page").waitFor();
    expect(await page.locator("header, nav, footer").count()).toBe(0);
    expect(await page.getByLabel("User name").count()).toBe(0);
    // The title links to the watch page, in a new tab.
    const title = page.locator(".embed-title");
    expect(await title.getAttribute("href")).toBe(`/watch/${aliceVideoId}`);
    expect(await title.getAttribute("target")).toBe("_blank");
    // Uploading still asks for an account.
    await page.goto("/");
    await page.getByLabel("User name").waitFor();
    await context.close();
  });

  it("signed out, a public video plays on its watch page and in its embed, without the owner's parts", async () => {
    const { context, page } = await newPage(browser, stack.baseUrl, PHONE);
    await page.goto(`/watch/${aliceVideoId}`);
    await waitForPlayback(page);
    expect(await page.locator("h1").textContent()).toBe("Trip to Aswan");
    expect(await page.locator(".meta").textContent()).toContain("Duration 0:08");
    expect(await page.locator(".status-panel").count()).toBe(0);
    expect(await page.getByTestId("share").count()).toBe(0);
    await screenshot(page, "watch-signed-out-phone-en");
    // The embed: the poster first, the player once play is pressed.
    await page.goto(`/embed/${aliceVideoId}`);
    await page.getByRole("button", { name: "Play “Trip to Aswan”" }).click();
    await waitForPlayback(page);
    expect(await page.locator(".embed-title").textContent()).toBe("Trip to Aswan");
    await screenshot(page, "embed-signed-out-phone-en");
    await context.close();
  });

  it("another user watches a public video without the owner's parts; the owner copies its watch URL", async () => {
    const viewer = await newPage(browser, stack.baseUrl, PHONE);
    await signIn(viewer.page, "bob");
    await viewer.page.goto(`/watch/${aliceVideoId}`);
    await waitForPlayback(viewer.page);
    expect(await viewer.page.locator(".status-panel").count()).toBe(0);
    expect(await viewer.page.getByTestId("share").count()).toBe(0);
    await viewer.context.close();

    const { context, page } = await newPage(browser, stack.baseUrl, DESKTOP);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.baseUrl });
    await signIn(page, "alice");
    await page.goto(`/watch/${aliceVideoId}`);
    await page.getByRole("button", { name: "Share link" }).click();
    const watchUrl = `${stack.baseUrl}/watch/${aliceVideoId}`;
    await expect.poll(() => page.getByTestId("share-url").inputValue()).toBe(watchUrl);
    await page.getByText("Link copied. Anyone with it can watch.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(watchUrl);
    // A public video has no share links to revoke.
    expect(await page.getByRole("button", { name: "Revoke links" }).count()).toBe(0);
    await screenshot(page, "watch-share-public-desktop-en");
    await context.close();
  });

  it("lists my videos with status, poster and duration; a private video plays through its signed URL", async () => {
    const { context, page } = await newPage(browser, stack.baseUrl, DESKTOP);
    await signIn(page, "alice");
    await page.getByRole("link", { name: "My videos" }).click();
    const card = page.locator(`.video-card[data-video-id="${aliceVideoId}"]`);
    await card.waitFor();
    expect(await card.locator("[data-status]").first().textContent()).toContain("Ready to watch");
    expect(await card.locator(".duration").textContent()).toBe("0:08");
    await card
      .locator("img")
      .evaluate((img: any) => (img.complete ? null : new Promise((r) => img.addEventListener("load", r, { once: true }))));
    expect(await card.locator("img").evaluate((img: any) => img.naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, "videos-desktop-en");

    await card.getByLabel("Who can watch").selectOption("private");
    await expect.poll(async () => (await apiVideo(aliceVideoId)).visibility).toBe("private");
    await page.goto(`/watch/${aliceVideoId}`);
    await waitForPlayback(page);
    expect(await page.locator(".meta").textContent()).toContain("Private");
    // Another user cannot watch it.
    const other = await newPage(browser, stack.baseUrl, PHONE);
    await signIn(other.page, "bob");
    await other.page.goto(`/watch/${aliceVideoId}`);
    await expect.poll(() => other.page.getByRole("alert").textContent()).toContain("does not exist, or you may not watch it");
    await screenshot(other.page, "watch-denied-phone-en");
    await other.context.close();
    await context.close();
  });

  it("owner: a private video's share link comes from the API, plays signed out, and stops after Revoke links", async () => {
    const { context, page } = await newPage(browser, stack.baseUrl, DESKTOP);
    await signIn(page, "alice");
    await page.getByRole("link", { name: "My videos" }).click();
    const card = page.locator(`.video-card[data-video-id="${aliceVideoId}"]`);
    await card.getByLabel("Link works for").selectOption({ label: "1 day" });
    const asked = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith(`/api/videos/${aliceVideoId}/share`));
    await card.getByRole("button", { name: "Share link" }).click();
    expect((await asked).postDataJSON()).toEqual({ expiresInSec: 86_400 });
    const field = card.getByTestId("share-url");
    await field.waitFor();
    const shared = await field.inputValue();
    expect(shared.startsWith(`${stack.baseUrl}/watch/${aliceVideoId}`)).toBe(true);
    await screenshot(page, "videos-share-private-desktop-en");

    const viewer = await newPage(browser, stack.baseUrl, PHONE);
    await viewer.page.goto(shared);
    await waitForPlayback(viewer.page);
    await viewer.context.close();

    await card.getByRole("button", { name: "Revoke links" }).click();
    await card.getByText("Every shared link to this video has stopped working.").waitFor();
    const again = await newPage(browser, stack.baseUrl, PHONE);
    await again.page.goto(shared);
    await expect.poll(() => again.page.getByRole("alert").textContent()).toContain("does not exist, or you may not watch it");
    await again.context.close();
    await context.close();
  });

  it("owner: Revoke links on a private video voids its signed playback URLs at once", async () => {
    const token = await stack.tokenFor("alice");
    const playback = await fetch(`${stack.baseUrl}/api/videos/${aliceVideoId}/playback`, { headers: { Authorization: `Bearer ${token}` } });
    const { url } = (await playback.json()) as { url: string };
    expect((await fetch(url)).status).toBe(200);

    const { context, page } = await newPage(browser, stack.baseUrl, DESKTOP);
    await signIn(page, "alice");
    await page.goto(`/watch/${aliceVideoId}`);
    const share = page.getByTestId("share");
    // A private video: the owner chooses how long a link works.
    const expiry = share.getByLabel("Link works for");
    await expiry.waitFor();
    expect(await expiry.locator("option").allTextContents()).toEqual(["1 day", "7 days", "30 days"]);
    await share.getByRole("button", { name: "Revoke links" }).click();
    await share.getByText("Every shared link to this video has stopped working.").waitFor();
    expect((await fetch(url)).status).toBe(403);
    await screenshot(page, "watch-revoked-desktop-en");
    await context.close();
  });

  it("as admin: sets the cap to 0, and a new upload is held (shown in words); then deletes it", async () => {
    const { context, page } = await newPage(browser, stack.baseUrl, DESKTOP);
    await signIn(page, "root", "admin");
    await page.getByRole("link", { name: "Admin" }).click();
    const cap = page.getByLabel("Monthly cap (USD)");
    await expect.poll(() => cap.inputValue()).not.toBe("");
    await screenshot(page, "admin-desktop-en");
    await cap.fill("0");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved.").waitFor();
    await expect.poll(() => page.getByTestId("spend").textContent()).toContain("of $0.00");

    await page.getByRole("link", { name: "Upload" }).click();
    await page.locator("#file").setInputFiles(smallClip);
    await page.getByTestId("processing").waitFor({ timeout: 60_000 });
    const id = await page.locator(".upload-page").getAttribute("data-video-id");
    const panel = page.locator(".status-panel");
    await expect.poll(() => panel.getAttribute("data-status"), { timeout: 60_000 }).toBe("HELD");
    expect(await panel.textContent()).toContain("Held: processing is paused by the budget limit");
    await screenshot(page, "held-desktop-en");

    // The job table shows it held, with its actions.
    await page.getByRole("link", { name: "Admin" }).click();
    const row = page.locator(`tr[data-video-id="${id}"]`);
    await row.waitFor();
    expect(await row.getAttribute("data-status")).toBe("HELD");
    expect(await row.getByRole("button").allTextContents()).toEqual(["Make next", "Cancel"]);
    await screenshot(page, "admin-jobs-desktop-en");
    await page.setViewportSize(PHONE);
    await screenshot(page, "admin-phone-en");
    await page.getByTestId("lang").click();
    await screenshot(page, "admin-phone-ar");
    await page.getByTestId("lang").click();
    await page.setViewportSize(DESKTOP);

    // Delete it from My videos.
    await page.getByRole("link", { name: "My videos" }).click();
    const card = page.locator(`.video-card[data-video-id="${id}"]`);
    await card.waitFor();
    await card.getByRole("button", { name: /^Delete/ }).click();
    await card.waitFor({ state: "detached" });
    const res = await fetch(`${stack.baseUrl}/api/videos/${id}`, {
      headers: { Authorization: `Bearer ${await stack.tokenFor("root", "admin")}` },
    });
    expect(res.status).toBe(404);
    await context.close();
  });
});
