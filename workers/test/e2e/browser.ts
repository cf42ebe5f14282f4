import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "../../dev/stack.ts";
import { makeLavfiClip } from "../../../transcoder/src/testing/clips.ts";

// Functions passed to page.evaluate run in the page; this project has no DOM lib, so they see it as `any`.
declare const document: any;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--autoplay-policy=no-user-gesture-required",
];
export const ARTIFACTS = join(ROOT, "test-artifacts");

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function newPage(browser: Browser, baseUrl: string, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport, locale: "en-US" });
  const page = await context.newPage();
  // confirm() for delete/cancel: accept.
  page.on("dialog", (d) => void d.accept());
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A clip made by ffmpeg from lavfi sources (test pattern + tone). */
export function makeClip(file: string, opts: { size: string; seconds: number; codec?: "h264" | "mjpeg" }): string {
  return makeLavfiClip(file, {
    picture: `testsrc2=size=${opts.size}:rate=30`,
    tone: "sine=frequency=440",
    seconds: opts.seconds,
    ...(opts.codec === "mjpeg" ? { video: ["-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj420p"] } : {}),
  });
}

/** Signs in through the form. */
export async function signIn(page: Page, userId: string, role: "creator" | "admin" = "creator"): Promise<void> {
  await page.goto("/");
  await page.getByLabel("User name").fill(userId);
  await page.getByLabel(role === "admin" ? "Admin" : "Creator", { exact: true }).check();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "My videos" }).waitFor();
}

/** CDP network emulation (throughput in bytes/s; -1 = no limit). */
export async function emulateNetwork(
  page: Page,
  opts: { downloadBps?: number; uploadBps?: number; latencyMs?: number; offline?: boolean },
): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: opts.offline ?? false,
    latency: opts.latencyMs ?? 0,
    downloadThroughput: opts.downloadBps ?? -1,
    uploadThroughput: opts.uploadBps ?? -1,
  });
}

/** Waits until the page's <video> has played past `seconds` (the clock moves: frames are decoded). */
export async function waitForPlayback(page: Page, seconds = 0.5, timeout = 120_000): Promise<number> {
  await page.waitForFunction(
    (s) => {
      const v = document.querySelector("video");
      if (!v) return false;
      if (v.paused && v.readyState >= 2) void v.play().catch(() => {});
      return v.currentTime > s;
    },
    seconds,
    { timeout, polling: 200 },
  );
  return page.evaluate(() => document.querySelector("video")!.currentTime);
}
