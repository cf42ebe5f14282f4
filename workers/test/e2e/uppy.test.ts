/**
 * End to end: the real Uppy client (@uppy/core + @uppy/tus, bundled by esbuild at test time) in
 * headless Chromium uploads an ffmpeg clip to the real local stack in several tus PATCHes. The
 * object in local R2 must come out byte for byte, and the D1 row must be the user's and QUEUED
 * (no transcoder runs here). A second upload is paused by Uppy after its first chunk, stays put on
 * the server while paused, and finishes the same upload byte-exact after resuming.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../../dev/stack.ts";
import { sourceKey } from "../../src/storage/keys.ts";
import { d1Query, startTestStack, type TestStack } from "./fixture.ts";
import { launchBrowser, makeClip, newPage } from "./browser.ts";

// Functions passed to page.evaluate run in the page; this project has no DOM lib, so they see it as `any`.
declare const window: any;
declare const document: any;

const KiB = 1024;
const CHUNK = 512 * KiB;

let stack: TestStack;
let browser: Browser;
let token: string;
let dir: string;
let clip: string;
let clipBytes: Buffer;
let uppyBundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edge-video-uppy-"));
  // ~2 MB of H.264: four 512 KiB chunks.
  clip = makeClip(join(dir, "uppy clip.mp4"), { size: "640x360", seconds: 8 });
  clipBytes = readFileSync(clip);
  // The browser build of Uppy, from the installed packages: what a web app would ship.
  const bundle = await build({
    stdin: {
      contents: `import Uppy from "@uppy/core"; import Tus from "@uppy/tus"; window.Uppy = Uppy; window.UppyTus = Tus;`,
      resolveDir: ROOT,
      loader: "js",
    },
    bundle: true,
    write: false,
    platform: "browser",
    format: "iife",
    logLevel: "warning",
  });
  uppyBundle = bundle.outputFiles[0].text;
  [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
  token = await stack.tokenFor("alice");
});

afterAll(async () => {
  if (process.env.E2E_DEBUG) console.log(stack?.output());
  await browser?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const digest = (bytes: Buffer) => ({ size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });

/**
 * A fresh context per upload: tus-js-client remembers upload URLs in localStorage (Uppy keeps them
 * after success), so the same file in the same context would "resume" an already finished upload
 * and send nothing.
 */
async function uppyPage(): Promise<{ context: BrowserContext; page: Page; requests: TusRequest[] }> {
  const { context, page } = await newPage(browser, stack.baseUrl);
  await page.goto("/"); // the stack's origin, so the page talks to the API like the web app does
  await page.addScriptTag({ content: uppyBundle });
  await page.evaluate(() => {
    const input = document.createElement("input");
    input.type = "file";
    input.id = "uppy-pick";
    document.body.append(input);
  });
  // A real File from a file picker, as a user would hand it to Uppy.
  await page.locator("#uppy-pick").setInputFiles(clip);
  // Every tus request the page makes, in order.
  const requests: TusRequest[] = [];
  page.on("request", (req) => {
    if (!req.url().includes("/api/video/uploads")) return;
    requests.push({ method: req.method(), url: req.url(), offset: req.headers()["upload-offset"] });
  });
  return { context, page, requests };
}

interface TusRequest {
  method: string;
  url: string;
  offset?: string;
}

/** "POST", "PATCH 0", "HEAD", ...: the requests in a form easy to compare. */
const summary = (requests: TusRequest[]) => requests.map((r) => (r.method === "PATCH" ? `PATCH ${r.offset}` : r.method));

interface UppyResult {
  successful: { uploadURL: string | undefined }[];
  failed: { error: string }[];
  /** The upload URL Uppy's `upload-success` event carried. */
  successURL: string | null;
  /** Bytes Uppy had reported when it paused, if it was asked to pause. */
  pausedAt: number | null;
}

/**
 * Runs Uppy in the page. With `pause`, the upload is paused from `upload-progress` as soon as the
 * first chunk has been sent (`window.uppyPaused` turns true), until the test calls `window.uppyResume()`.
 */
async function uploadWithUppy(page: Page, opts: { pause?: boolean } = {}): Promise<UppyResult> {
  return page.evaluate(
    async ({ endpoint, token, chunkSize, pause }) => {
      const uppy = new window.Uppy({ autoProceed: false }).use(window.UppyTus, {
        endpoint,
        headers: { Authorization: `Bearer ${token}` },
        chunkSize,
        retryDelays: [0, 500, 1000],
      });
      const file = document.querySelector("#uppy-pick").files[0];
      const fileId = uppy.addFile({ name: file.name, type: "video/mp4", data: file });
      let successURL: string | null = null;
      let pausedAt: number | null = null;
      uppy.on("upload-success", (_f: unknown, response: { uploadURL?: string }) => (successURL = response.uploadURL ?? null));
      if (pause) {
        uppy.on("upload-progress", (_f: unknown, progress: { bytesUploaded: number }) => {
          if (pausedAt !== null || progress.bytesUploaded < chunkSize) return;
          pausedAt = progress.bytesUploaded;
          // Synchronously aborts tus-js-client's request; no further PATCH starts.
          uppy.pauseResume(fileId);
          window.uppyPaused = true;
          window.uppyResume = () => uppy.pauseResume(fileId);
        });
      }
      const result = await uppy.upload();
      return {
        successful: (result?.successful ?? []).map((f: { uploadURL?: string }) => ({ uploadURL: f.uploadURL })),
        failed: (result?.failed ?? []).map((f: { error?: string }) => ({ error: String(f.error) })),
        successURL,
        pausedAt,
      };
    },
    { endpoint: `${stack.baseUrl}/api/video/uploads`, token, chunkSize: CHUNK, pause: opts.pause ?? false },
  );
}

async function serverOffset(url: string): Promise<number> {
  const res = await fetch(url, { method: "HEAD", headers: { Authorization: `Bearer ${token}`, "Tus-Resumable": "1.0.0" } });
  expect(res.status).toBe(200);
  return Number(res.headers.get("Upload-Offset"));
}

/** The upload is complete on the server, stored byte for byte in R2, and the user's QUEUED video in D1. */
async function expectStored(uploadURL: string): Promise<string> {
  const match = new RegExp(`^${stack.baseUrl}/api/video/uploads/([^/?#]+)$`).exec(uploadURL);
  expect(match, `upload URL ${uploadURL}`).not.toBeNull();
  const id = match![1];
  expect(await serverOffset(uploadURL)).toBe(clipBytes.length);
  expect(stack.r2Object(sourceKey(id))).toEqual(digest(clipBytes));
  const rows = d1Query<{ owner_id: string; status: string; source_bytes: number; filename: string; filetype: string }>(
    stack.persistTo,
    `SELECT owner_id, status, source_bytes, filename, filetype FROM videos WHERE id = '${id}'`,
  );
  expect(rows).toEqual([
    { owner_id: "alice", status: "QUEUED", source_bytes: clipBytes.length, filename: "uppy clip.mp4", filetype: "video/mp4" },
  ]);
  return id;
}

describe("Uppy (@uppy/core + @uppy/tus) in Chromium", () => {
  it("uploads a clip in several PATCHes, byte-exact in R2, QUEUED in D1", async () => {
    const { context, page, requests } = await uppyPage();
    const result = await uploadWithUppy(page);
    expect(result.failed).toEqual([]);
    expect(result.successful).toHaveLength(1);
    const url = result.successful[0].uploadURL!;
    expect(result.successURL).toBe(url);
    await expectStored(url);
    // One creation, then one PATCH per chunk at the offsets the chunk size gives: nothing re-sent.
    const chunks = Math.ceil(clipBytes.length / CHUNK);
    expect(chunks).toBeGreaterThanOrEqual(3);
    expect(summary(requests)).toEqual(["POST", ...Array.from({ length: chunks }, (_, i) => `PATCH ${i * CHUNK}`)]);
    expect(requests.slice(1).every((r) => r.url === url)).toBe(true);
    await context.close();
  });

  it("pauses after the first chunk, holds still on the server, resumes the same upload byte-exact", async () => {
    const { context, page, requests } = await uppyPage();
    const done = uploadWithUppy(page, { pause: true });
    await page.waitForFunction(() => window.uppyPaused === true);
    // While paused: one upload exists, it is partial, and nothing more is sent or stored.
    expect(summary(requests)).toEqual(["POST", "PATCH 0"]);
    const url = requests[1].url;
    await new Promise((r) => setTimeout(r, 500)); // the server settles what the aborted request carried
    const offsetWhilePaused = await serverOffset(url);
    expect(offsetWhilePaused).toBeLessThan(clipBytes.length);
    await new Promise((r) => setTimeout(r, 700));
    expect(await serverOffset(url)).toBe(offsetWhilePaused);
    expect(requests).toHaveLength(2);

    await page.evaluate(() => window.uppyResume());
    const result = await done;
    console.log(`uppy pause: server kept ${offsetWhilePaused} of ${clipBytes.length} bytes; then ${summary(requests).slice(2).join(", ")}`);
    expect(result.failed).toEqual([]);
    expect(result.pausedAt).toBeGreaterThanOrEqual(CHUNK);
    expect(result.successful[0].uploadURL).toBe(url); // the same upload went on, not a new one
    await expectStored(url);
    // Resumed from the server's offset: a HEAD, then PATCHes from what the server reported.
    const resumed = summary(requests.slice(2));
    expect(resumed.slice(0, 2)).toEqual(["HEAD", `PATCH ${offsetWhilePaused}`]);
    expect(resumed.filter((m) => m === "POST")).toEqual([]);
    await context.close();
  });
});
