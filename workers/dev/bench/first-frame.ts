/**
 * Time to first frame of a READY 60 s 720p video in headless Chromium, throttled by CDP network
 * emulation to 1 Mbit/s (both ways) with 80 ms round trip, each run in a fresh context (cold cache): from navigation
 * start to the first `playing`/`timeupdate` with currentTime > 0 (the page's own clock). Playback
 * starts as soon as the video has metadata (what autoplay or an immediate tap would do). Median of
 * RUNS runs, each in a fresh browser context.
 *
 * Ours: the watch page (the whole app: Preact + hls.js light, start on 240p, 500 kbit/s first
 * estimate, capped to player size) through the Worker, edge cache warm.
 * Baseline, the plan's player: a bare page with hls.js (its default build and default config) on
 * the plan's ladder (three tiers, 10 s segments), from a static server on loopback.
 *
 * Each is measured twice: as wrangler dev serves (JavaScript uncompressed), and behind a proxy that
 * gzips text like Cloudflare's edge does in production.
 *
 * Then signed out, as most viewers come, text gzipped: the watch page, and the embed page
 * (/embed/:id) whose poster is tapped as soon as it is enabled, or a second after the poster came
 * (the embed fetches hls.js once its poster is painted); beside both on Chromium's own HLS
 * (`?engine=native`). Both pages name in their HTML (and Link header) what the player reads first:
 * the master and lowest tier playlists, that tier's first segment, the page's modules and hls.js
 * (the embed: its poster, not hls.js). The tap's moment depends on playwright's retry schedule for
 * a button not yet enabled: compare "press → frame".
 *
 *   node workers/dev/bench/first-frame.ts        (starts its own stack, uploads a 720p clip)
 *   FIRST_FRAME_RUNS=5 npm run bench -- first-frame     (more runs per median)
 */
import { listenOnLoopback } from "../loopback.ts";
import { createReadStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../../test/e2e/browser.ts";
import { ROOT } from "../stack.ts";
import { openEdgeGzip } from "./edge-gzip.ts";
import { encodePlanLadder } from "./transcode.ts";
import type { Row } from "./table.ts";

const RUNS = Number(process.env.FIRST_FRAME_RUNS ?? 3);
const DOWN_BPS = 1_000_000 / 8;
const RTT_MS = 80;

// Functions passed to the page run in the browser; this Node project has no DOM lib.
declare const document: any;
declare const window: any;

interface Measured {
  /** Navigation start to the first frame (ms, the page's clock). */
  firstFrame: number;
  /** The press on `press` to the first frame, when a press was asked for. */
  afterPress: number | null;
  /** Bytes that crossed the link before the first frame, by kind (resource timing's transferSize). */
  bytes: Record<"engine" | "code" | "segments" | "playlists" | "images" | "other", number>;
}

/** What a resource is, from its path: hls.js, the app's code and style, media, or the rest. */
function kindOf(path: string): keyof Measured["bytes"] {
  if (/\/hls\.light-[\w-]+\.js$/.test(path)) return "engine";
  if (/\.(js|css)$/.test(path)) return "code";
  if (/\.ts$/.test(path)) return "segments";
  if (/\.m3u8$/.test(path)) return "playlists";
  if (/\.(jpg|png|webp)$/.test(path)) return "images";
  return "other";
}

/**
 * `token`: signed in (null: signed out, as most viewers are). `press`: a button the viewer taps as
 * soon as it can be tapped (the embed's poster), which loads the player.
 */
async function measureRun(
  browser: Browser,
  pageUrl: string,
  opts: { token: string | null; press?: string; pressAfterPosterMs?: number },
): Promise<Measured> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await context.addInitScript((t: string | null) => {
      if (t) sessionStorage.setItem("ev.token", t);
      localStorage.setItem("ev.lang", "en");
      const w = window as { __firstFrame?: number; __pressedAt?: number };
      document.addEventListener(
        "click",
        () => {
          w.__pressedAt ??= performance.now();
        },
        true,
      );
      const onTime = (e: { target: { currentTime: number } }) => {
        if (w.__firstFrame === undefined && e.target.currentTime > 0) w.__firstFrame = performance.now();
      };
      document.addEventListener("timeupdate", onTime, true);
      document.addEventListener("playing", onTime, true);
      document.addEventListener("loadedmetadata", (e: { target: { play(): Promise<void> } }) => void e.target.play().catch(() => {}), true);
    }, opts.token);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    // A fresh context has an empty HTTP cache, as a first-time viewer's; the cache still works within
    // the page (a segment the browser's own player reads twice crosses the link once).
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: RTT_MS,
      downloadThroughput: DOWN_BPS,
      uploadThroughput: DOWN_BPS,
    });
    const poster = opts.pressAfterPosterMs === undefined ? null : page.waitForResponse((r) => r.url().endsWith("/poster.jpg"));
    await page.goto(pageUrl);
    if (poster) {
      // A viewer who looks at the poster a moment before pressing.
      await (await poster).finished();
      await page.waitForTimeout(opts.pressAfterPosterMs!);
    }
    if (opts.press) await page.locator(opts.press).click({ timeout: 120_000 });
    // The predicate's value is the measurement itself (a number > 0 once seen).
    const handle = await page.waitForFunction(() => (window as { __firstFrame?: number }).__firstFrame ?? 0, undefined, {
      timeout: 120_000,
      polling: 100,
    });
    const firstFrame = (await handle.jsonValue()) as number;
    const pressedAt = (await page.evaluate(() => (window as { __pressedAt?: number }).__pressedAt ?? null)) as number | null;
    const entries = (await page.evaluate(
      (until: number) =>
        (performance.getEntriesByType("resource") as unknown as { name: string; responseEnd: number; transferSize: number }[])
          .filter((e) => e.responseEnd <= until)
          .map((e) => ({ path: new URL(e.name).pathname, size: e.transferSize })),
      firstFrame,
    )) as { path: string; size: number }[];
    const bytes: Measured["bytes"] = { engine: 0, code: 0, segments: 0, playlists: 0, images: 0, other: 0 };
    for (const e of entries) bytes[kindOf(e.path)] += e.size;
    return { firstFrame, afterPress: opts.press && pressedAt !== null ? firstFrame - pressedAt : null, bytes };
  } finally {
    await context.close();
  }
}

async function measure(browser: Browser, pageUrl: string, token: string | null): Promise<number> {
  return (await measureRun(browser, pageUrl, { token })).firstFrame;
}

const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
/** "180.2 KB: engine 114.8, code 31.0, …" of one run. */
function bytesSummary(bytes: Measured["bytes"]): string {
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  const parts = Object.entries(bytes)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${(n / 1000).toFixed(1)}`);
  return `${kb(total)} (${parts.join(", ")})`;
}

const PLAN_PAGE = `<!doctype html><meta charset="utf-8"><title>plan</title>
<video id="v" controls style="width:100%"></video>
<script src="/hls.min.js"></script>
<script>var hls = new Hls(); hls.loadSource("/plan/index.m3u8"); hls.attachMedia(document.getElementById("v"));</script>`;
const TYPES: Record<string, string> = { ".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".js": "text/javascript" };

/** The plan's player site: its page, hls.js's default build, and the plan's HLS files. */
async function servePlan(planDir: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(PLAN_PAGE);
    const name = normalize(path.slice("/plan/".length));
    const file =
      path === "/hls.min.js"
        ? join(ROOT, "node_modules/hls.js/dist/hls.min.js")
        : path.startsWith("/plan/") && !name.startsWith("..")
          ? join(planDir, name)
          : "";
    if (!file || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  return listenOnLoopback(server);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function firstFrameRows(baseUrl: string, token: string, videoId: string, source: string, dir: string): Promise<Row[]> {
  const planDir = existsSync(join(dir, "plan", "index.m3u8")) ? join(dir, "plan") : encodePlanLadder(source, dir).dir;
  const plan = await servePlan(planDir);
  const ourPort = Number(new URL(baseUrl).port);
  const ourGzip = await openEdgeGzip({ host: "127.0.0.1", port: ourPort });
  const planGzip = await openEdgeGzip({ host: "127.0.0.1", port: plan.port });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const site = (port: number) => `http://127.0.0.1:${port}`;
    const variants = [
      { label: "as wrangler dev serves (JS uncompressed)", ours: site(ourPort), plan: site(plan.port) },
      { label: "text gzipped as at the edge", ours: site(ourGzip.port), plan: site(planGzip.port) },
    ];
    // Warm the Worker's edge cache once (viewers of a popular video find it warm).
    await measure(browser, `${variants[0].ours}/watch/${videoId}`, token);
    const rows: Row[] = [];
    for (const v of variants) {
      const ours: number[] = [];
      const baseline: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        ours.push(await measure(browser, `${v.ours}/watch/${videoId}`, token));
        baseline.push(await measure(browser, `${v.plan}/`, token));
      }
      rows.push({
        metric: `time to first frame, 1 Mbit/s + 80 ms RTT, ${v.label}`,
        ours: `${s(median(ours))} (watch page, 1 s first segment, starts on 240p)`,
        baseline: `${s(median(baseline))} (plan: bare page, hls.js defaults, 10 s segments)`,
        note: `median of ${RUNS} (target ≤ 2.5 s); runs: ours ${ours.map(s).join(", ")}; plan ${baseline.map(s).join(", ")}`,
      });
    }
    // Signed out, as most viewers come (a shared link, an embed on another site), text gzipped as
    // at the edge: the watch page, and the embed page whose poster is tapped as soon as it can be
    // (its press loads the player), or a second after the poster came (by then the embed has
    // fetched hls.js). Beside the same pages on Chromium's own HLS (`?engine=native`), interleaved.
    const edge = variants[1]!;
    const engines = ["", "?engine=native"] as const;
    const watch = new Map<string, number[]>(engines.map((e) => [e, []]));
    // What crossed the link before the first frame, on one run of each page (as the median's bytes
    // barely move between runs).
    const watchBytes = (await measureRun(browser, `${edge.ours}/watch/${videoId}`, { token: null })).bytes;
    const embedBytes = (await measureRun(browser, `${edge.ours}/embed/${videoId}`, { token: null, press: ".embed-poster" })).bytes;
    const embed = new Map<string, Measured[]>(engines.map((e) => [e, []]));
    const looked: Measured[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const e of engines) {
        watch.get(e)!.push(await measure(browser, `${edge.ours}/watch/${videoId}${e}`, null));
        embed.get(e)!.push(await measureRun(browser, `${edge.ours}/embed/${videoId}${e}`, { token: null, press: ".embed-poster" }));
      }
      looked.push(
        await measureRun(browser, `${edge.ours}/embed/${videoId}`, { token: null, press: ".embed-poster", pressAfterPosterMs: 1000 }),
      );
    }
    const figures = (e: string) => {
      const frames = embed.get(e)!.map((m) => m.firstFrame);
      const afterPress = embed.get(e)!.map((m) => m.afterPress ?? Number.NaN);
      return {
        summary: `watch ${s(median(watch.get(e)!))}; embed ${s(median(frames))} (press → frame ${s(median(afterPress))})`,
        runs: `watch ${watch.get(e)!.map(s).join(", ")}; embed ${frames.map(s).join(", ")}`,
        watch: median(watch.get(e)!),
        embed: median(frames),
      };
    };
    const ours = figures("");
    const native = figures("?engine=native");
    const met = (ms: number, target: number) => (ms <= target ? "met" : "MISSED");
    const lookedPress = looked.map((m) => m.afterPress ?? Number.NaN);
    rows.push({
      metric: "bytes before the first frame, signed out, gzip (transferSize, KB)",
      ours: `watch ${bytesSummary(watchBytes)}`,
      baseline: `embed ${bytesSummary(embedBytes)}`,
      note: "one run each; at 1 Mbit/s every 125 KB is a second",
    });
    rows.push({
      metric: `first frame signed out, 1 Mbit/s + 80 ms RTT, ${edge.label}`,
      ours: `${ours.summary}; pressed 1 s after the poster: press → frame ${s(median(lookedPress))} (hls.js)`,
      baseline: `${native.summary} (Chromium's own HLS)`,
      note: `median of ${RUNS}, navigation → first frame, the embed's poster tapped once enabled; target watch ≤ 1.8 s (${met(ours.watch, 1800)}), embed ≤ 1.5 s (${met(ours.embed, 1500)}); runs: ours ${ours.runs}, pressed later ${lookedPress.map(s).join(", ")}; native ${native.runs}`,
    });
    return rows;
  } finally {
    await browser.close();
    await Promise.all([plan.close(), ourGzip.close(), planGzip.close()]);
  }
}

// Standalone: a stack of its own, a 60 s 720p clip uploaded and transcoded, then the rows.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { startTestStack } = await import("../../test/e2e/fixture.ts");
  const { tusUpload } = await import("../tus-client.ts");
  const { makeClip } = await import("./media.ts");
  const { readFileSync } = await import("node:fs");
  const { buildWeb, BENCH_WEB_DIST } = await import("../stack.ts");
  buildWeb(BENCH_WEB_DIST);
  const dir = mkdtempSync(join(tmpdir(), "edge-video-ff-"));
  const stack = await startTestStack({ transcoder: true, assetsDir: BENCH_WEB_DIST });
  try {
    const token = await stack.tokenFor("bench");
    const file = makeClip(dir, 60);
    const url = await tusUpload({
      endpoint: `${stack.baseUrl}/api/video/uploads`,
      token,
      file: readFileSync(file),
      chunkSize: 50 * 1024 * 1024,
      filename: "ff.mp4",
    });
    const id = url.split("/").pop()!;
    for (;;) {
      const v = (await (await fetch(`${stack.baseUrl}/api/videos/${id}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
        status: string;
      };
      if (v.status === "READY") break;
      if (v.status === "FAILED") throw new Error(JSON.stringify(v));
      await new Promise((r) => setTimeout(r, 500));
    }
    console.table(await firstFrameRows(stack.baseUrl, token, id, file, dir));
  } finally {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
