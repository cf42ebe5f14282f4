/**
 * Time to first frame of a READY 720p video on the watch page, in headless Chromium throttled by
 * CDP network emulation to 1 Mbit/s down (and up) with 80 ms round trip, browser cache disabled:
 * from navigation start to the first `playing`/`timeupdate` with currentTime > 0 (the page's own
 * performance clock). Playback is started as soon as the video has metadata (what autoplay or an
 * immediate tap would do). Median of RUNS runs, each in a fresh browser context.
 *
 * Baseline: the same page and player, but the master playlist reduced to its 720p tier by the
 * browser (Playwright route) — a player that has no low tier to start on.
 *
 *   node workers/dev/bench/first-frame.ts        (starts its own stack, uploads a 720p clip)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../../test/e2e/browser.ts";
import type { Row } from "./table.ts";

const RUNS = 3;
const DOWN_BPS = 1_000_000 / 8;
const RTT_MS = 80;

// Functions passed to the page run in the browser; this Node project has no DOM lib.
declare const document: any;
declare const window: any;

async function measure(browser: Browser, baseUrl: string, token: string, videoId: string, only720p: boolean): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await context.addInitScript((t: string) => {
      sessionStorage.setItem("ev.token", t);
      localStorage.setItem("ev.lang", "en");
      const w = window as { __firstFrame?: number };
      const onTime = (e: { target: { currentTime: number } }) => {
        if (w.__firstFrame === undefined && e.target.currentTime > 0) w.__firstFrame = performance.now();
      };
      document.addEventListener("timeupdate", onTime, true);
      document.addEventListener("playing", onTime, true);
      document.addEventListener("loadedmetadata", (e: { target: { play(): Promise<void> } }) => void e.target.play().catch(() => {}), true);
    }, token);
    if (only720p) {
      await context.route(`**/videos/${videoId}/index.m3u8`, async (route) => {
        const res = await route.fetch();
        const lines = (await res.text()).split("\n");
        const kept: string[] = [];
        for (let i = 0; i < lines.length; i++) {
          if (lines[i].startsWith("#EXT-X-STREAM-INF")) {
            if (lines[i + 1]?.startsWith("720p/")) kept.push(lines[i], lines[i + 1]);
            i++;
          } else kept.push(lines[i]);
        }
        await route.fulfill({ response: res, body: kept.join("\n") });
      });
    }
    const page = await context.newPage();
    if (process.env.FF_DEBUG) {
      page.on("crash", () => console.error("page crashed"));
      page.on("close", () => console.error("page closed"));
      page.on("console", (m) => console.error("console:", m.text()));
      page.on("pageerror", (e) => console.error("pageerror:", e));
    }
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: RTT_MS, downloadThroughput: DOWN_BPS, uploadThroughput: DOWN_BPS });
    await page.goto(`${baseUrl}/watch/${videoId}`);
    // The predicate's value is the measurement itself (a number > 0 once seen).
    const handle = await page.waitForFunction(() => (window as { __firstFrame?: number }).__firstFrame ?? 0, undefined, { timeout: 120_000, polling: 100 });
    return (await handle.jsonValue()) as number;
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function firstFrameRow(baseUrl: string, token: string, videoId: string): Promise<Row> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    // Warm the Worker's edge cache once (viewers of a popular video find it warm).
    await measure(browser, baseUrl, token, videoId, false);
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(await measure(browser, baseUrl, token, videoId, false));
      baseline.push(await measure(browser, baseUrl, token, videoId, true));
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    return {
      metric: "time to first frame, READY 720p video, 1 Mbit/s + 80 ms RTT (Chromium, CDP)",
      ours: `${s(median(ours))} (hls.js: start on 240p, 500 kbit/s estimate, capped to player size)`,
      baseline: `${s(median(baseline))} (same page, 720p tier only)`,
      note: `median of ${RUNS}; navigation → first timeupdate with currentTime > 0; cold browser cache (app JS included), warm edge cache; runs: ours ${ours.map(s).join(", ")}, baseline ${baseline.map(s).join(", ")}`,
    };
  } finally {
    await browser.close();
  }
}

// Standalone: a stack of its own, a 720p clip uploaded and transcoded, then the row.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { startTestStack } = await import("../../test/e2e/fixture.ts");
  const { tusUpload } = await import("../tus-client.ts");
  const { makeClip } = await import("./media.ts");
  const { readFileSync } = await import("node:fs");
  const { buildWeb } = await import("../stack.ts");
  buildWeb();
  const dir = mkdtempSync(join(tmpdir(), "edge-video-ff-"));
  const stack = await startTestStack({ transcoder: true });
  try {
    const token = await stack.tokenFor("bench");
    const file = makeClip(dir, 12);
    const url = await tusUpload({ endpoint: `${stack.baseUrl}/api/video/uploads`, token, file: readFileSync(file), chunkSize: 50 * 1024 * 1024, filename: "ff.mp4" });
    const id = url.split("/").pop()!;
    for (;;) {
      const v = (await (await fetch(`${stack.baseUrl}/api/videos/${id}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { status: string };
      if (v.status === "READY") break;
      if (v.status === "FAILED") throw new Error(JSON.stringify(v));
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(JSON.stringify(await firstFrameRow(stack.baseUrl, token, id), null, 2));
  } finally {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
