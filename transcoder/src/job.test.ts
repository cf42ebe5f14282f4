/**
 * runJob end to end: real ffmpeg on lavfi clips, real HTTP against an in-memory twin of the
 * Worker's internal routes. No timing assertions.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TranscodeRequest } from "../../contract/transcode.ts";
import { resolveBinaries, type FfmpegBinaries } from "./binaries.ts";
import { writeMasterPlaylist, type Logger } from "./ffmpeg.ts";
import { runJob, type JobDeps } from "./job.ts";
import { chooseLadder } from "./ladder.ts";
import { playlistSegments } from "./outputs.ts";
import { probe } from "./probe.ts";
import { parseStoryboardVtt } from "./storyboard.ts";
import { makeClip, mediaDuration, processesMentioning } from "./testing/clips.ts";
import { WorkerTwin, type TwinJob } from "./testing/worker-twin.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), "transcoder-job-test-"));
let bin: FfmpegBinaries;
let twin: WorkerTwin;
const clips = { main: "", small: "", long: "", junk: "" };

beforeAll(async () => {
  bin = await resolveBinaries();
  twin = await new WorkerTwin().start();
  [clips.main, clips.small, clips.long] = await Promise.all([
    makeClip(bin.ffmpegPath, join(dir, "main.mp4"), { size: "640x360", rate: 30, seconds: 8, audio: true }),
    makeClip(bin.ffmpegPath, join(dir, "small.mp4"), { size: "320x240", rate: 25, seconds: 2, audio: false }),
    makeClip(bin.ffmpegPath, join(dir, "long.mp4"), { size: "640x360", rate: 30, seconds: 30, audio: true }),
  ]);
  clips.junk = join(dir, "junk.mp4");
  writeFileSync(clips.junk, randomBytes(200_000));
});

afterAll(async () => {
  await twin?.close();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function setup(clip: string, twinOptions: Partial<Parameters<WorkerTwin["addJob"]>[1]> = {}) {
  const videoId = `video-${++counter}`;
  const token = `token-${counter}`;
  const source = readFileSync(clip);
  const job = twin.addJob(videoId, { source, tokens: [token], ...twinOptions });
  const request: TranscodeRequest = { videoId, attempt: 1, token, callbackBase: twin.callbackBase(videoId), segmentSeconds: 2 };
  const workDir = mkdtempSync(join(dir, "work-"));
  const controller = new AbortController();
  const deps: JobDeps = { ...bin, workDir, logger: quiet, signal: controller.signal, pollMs: 200, progressIntervalMs: 250, backoffMs: 50 };
  return { job, request, deps, controller, source };
}

/** Every version of a tier playlist that was PUT lists only segments PUT before it. */
function expectSegmentsBeforePlaylists(job: TwinJob, tier: string): void {
  const playlistPuts = job.puts.filter((p) => p.path === `${tier}/index.m3u8`);
  expect(playlistPuts.length).toBeGreaterThan(0);
  for (const put of playlistPuts) {
    for (const name of playlistSegments(put.body.toString())) {
      const segment = job.puts.find((p) => p.path === `${tier}/${name}`);
      expect(segment, `${tier}/${name} uploaded`).toBeDefined();
      expect(segment!.seq, `${tier}/${name} before playlist #${put.seq}`).toBeLessThan(put.seq);
    }
  }
}

describe("runJob", () => {
  it("downloads, transcodes and publishes a clip with audio, segments before their playlists", async () => {
    const { job, request, deps, source } = setup(clips.main, {
      putStatus: (path, n) => (path === "240p/seg_00001.ts" && n === 0 ? 503 : 201),
    });
    const result = await runJob(request, deps);

    const info = await probe(bin.ffprobePath, clips.main);
    const ladder = chooseLadder(info);
    expect(ladder.map((r) => r.name)).toEqual(["240p", "360p"]);
    expect(result).toEqual({
      ok: true,
      durationSec: info.durationSec,
      // The ladder, each tier's BANDWIDTH now the peak measured on its segments (checked below).
      renditions: ladder.map((r) => ({ ...r, bandwidth: expect.any(Number) })),
      sourceBytes: source.length,
      sourceSha256: createHash("sha256").update(source).digest("hex"),
      encodeSeconds: expect.any(Number),
      storyboard: true,
      download: true,
      // What the attempt used, measured from /proc (usage.real.test.ts checks the figures).
      cpuSeconds: expect.any(Number),
      peakMemoryBytes: expect.any(Number),
    });
    expect(result!.ok && result!.cpuSeconds).toBeGreaterThan(0);
    expect(info.durationSec).toBeCloseTo(8, 0);
    expect(job.results).toEqual([{ token: request.token, result }]);

    // The master first; the poster (made alongside the encode) before the result; the right types.
    // The early master has a start hint for the growing EVENT playlists; the finished master, PUT
    // last, has none and lists each tier's I-frame playlist.
    const masterPuts = job.puts.filter((p) => p.path === "index.m3u8");
    expect(masterPuts[0]!.body.toString()).toBe(writeMasterPlaylist(ladder, true, info.frameRate));
    const master = job.files.get("index.m3u8")!.toString();
    expect(master).toBe(masterPuts.at(-1)!.body.toString());
    expect(masterPuts.at(-1)!.seq).toBe(Math.max(...job.puts.map((p) => p.seq)));
    expect(master).not.toContain("#EXT-X-START");
    expect(master.match(/^#EXT-X-I-FRAME-STREAM-INF:.*URI="(240p|360p)\/iframes\.m3u8"$/gm)).toHaveLength(2);
    // The result reports the measured peaks the finished master advertises.
    for (const r of result!.ok ? result!.renditions : []) expect(master).toContain(`#EXT-X-STREAM-INF:BANDWIDTH=${r.bandwidth},`);
    expect([...job.files.get("poster.jpg")!.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const firstSegment = job.puts.find((p) => p.path.endsWith(".ts"))!;
    expect(job.puts.find((p) => p.path === "index.m3u8")!.seq).toBeLessThan(firstSegment.seq);
    expect(job.puts.find((p) => p.path === "poster.jpg")!.contentType).toBe("image/jpeg");
    // The storyboard: a JPEG sprite and its WebVTT, uploaded (before the result) with their types.
    expect([...job.files.get("storyboard.jpg")!.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(job.puts.find((p) => p.path === "storyboard.jpg")!.contentType).toBe("image/jpeg");
    expect(job.puts.find((p) => p.path === "storyboard.vtt")!.contentType).toBe("text/vtt; charset=utf-8");
    expect(parseStoryboardVtt(job.files.get("storyboard.vtt")!.toString()).map((c) => c.end)).toEqual([2, 4, 6, expect.closeTo(8, 1)]);

    // The MP4 download: uploaded before the final master (so before the result), as video/mp4.
    const download = job.puts.find((p) => p.path === "download.mp4")!;
    expect(download.contentType).toBe("video/mp4");
    expect(download.body.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(download.seq).toBeLessThan(masterPuts.at(-1)!.seq);

    for (const tier of ["240p", "360p"]) {
      const final = job.files.get(`${tier}/index.m3u8`)!.toString();
      expect(final).toMatch(/#EXT-X-ENDLIST\s*$/);
      expect(final).toContain("#EXT-X-PLAYLIST-TYPE:VOD\n");
      // The I-frame playlist names only segments uploaded before it, and comes before the master.
      const iframes = job.puts.find((p) => p.path === `${tier}/iframes.m3u8`)!;
      expect(iframes.body.toString()).toContain("#EXT-X-I-FRAMES-ONLY");
      for (const name of new Set(playlistSegments(iframes.body.toString()))) {
        expect(job.puts.find((p) => p.path === `${tier}/${name}`)!.seq).toBeLessThan(iframes.seq);
      }
      // 8 s: the two 1 s first segments, then segments of the 2 s asked.
      expect(playlistSegments(final)).toEqual(["seg_00000.ts", "seg_00001.ts", "seg_00002.ts", "seg_00003.ts", "seg_00004.ts"]);
      expectSegmentsBeforePlaylists(job, tier);
    }
    for (const put of job.puts) {
      if (put.path.endsWith(".ts")) expect(put.contentType).toBe("video/mp2t");
      if (put.path.endsWith(".m3u8")) expect(put.contentType).toBe("application/vnd.apple.mpegurl");
    }
    // ffmpeg as a client reads the published master: its duration, not N/A.
    const published = mkdtempSync(join(dir, "published-"));
    for (const [path, body] of job.files) {
      mkdirSync(dirname(join(published, path)), { recursive: true });
      writeFileSync(join(published, path), body);
    }
    expect(await mediaDuration(bin.ffprobePath, join(published, "index.m3u8"))).toBeCloseTo(8, 1);

    // The injected 503 was retried.
    expect(job.failedPuts).toEqual([{ path: "240p/seg_00001.ts", status: 503 }]);
    expect(job.files.has("240p/seg_00001.ts")).toBe(true);

    // Progress never goes down, playable never goes back, and the last report is 100 + playable.
    const values = job.progress.map((p) => p.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    const firstPlayable = job.progress.findIndex((p) => p.playable);
    expect(firstPlayable).toBeGreaterThanOrEqual(0);
    expect(job.progress.slice(firstPlayable).every((p) => p.playable)).toBe(true);
    expect(job.progress.at(-1)).toMatchObject({ progress: 100, playable: true });

    expect(readdirSync(deps.workDir)).toEqual([]);
  });

  it("handles a small clip without audio (one tier, video only)", async () => {
    const { job, request, deps } = setup(clips.small);
    const result = await runJob(request, deps);
    expect(result).toMatchObject({ ok: true, renditions: [{ name: "240p", width: 320, height: 240 }] });
    expect(job.files.get("index.m3u8")!.toString()).not.toContain("mp4a");
    expect(job.files.get("240p/index.m3u8")!.toString()).toContain("#EXT-X-ENDLIST");
    expectSegmentsBeforePlaylists(job, "240p");
    expect(readdirSync(deps.workDir)).toEqual([]);
  });

  it("reports a file that is not a video as a permanent failure", async () => {
    const { job, request, deps } = setup(clips.junk);
    const result = await runJob(request, deps);
    expect(result).toMatchObject({ ok: false, permanent: true });
    // A failed attempt is billed too: it reports its wall time and what it used.
    expect(result).toMatchObject({ encodeSeconds: expect.any(Number), cpuSeconds: expect.any(Number) });
    expect(!result!.ok && result!.error).toMatch(/^This file is not a video we can read \(.+\)\.$/);
    expect(job.results.map((r) => r.result)).toEqual([result]);
    expect(job.puts).toEqual([]);
    expect(readdirSync(deps.workDir)).toEqual([]);
  });

  it("stops without a result when a progress report answers 409", async () => {
    // 409 once the encode is under way (a segment has been uploaded).
    const { job, request, deps } = setup(clips.long, {
      progressStatus: (_n, j) => (j.puts.some((p) => p.path.endsWith(".ts")) ? 409 : 200),
    });
    const result = await runJob(request, deps);
    expect(result).toBeNull();
    expect(job.progress.some((p) => p.status === 409)).toBe(true);
    expect(job.results).toEqual([]);
    // The outputs of the stopped encode were not published as final.
    for (const [path, body] of job.files) {
      if (path.endsWith("/index.m3u8")) expect(body.toString()).not.toContain("#EXT-X-ENDLIST");
    }
    expect(readdirSync(deps.workDir)).toEqual([]);
    expect(processesMentioning(deps.workDir)).toEqual([]);
  });

  it("stops without a result when cancelled, and says so at once if cancelled before it starts", async () => {
    const { job, request, deps, controller } = setup(clips.long);
    const running = runJob(request, deps);
    // Cancel once the encode is under way.
    while (!job.puts.some((p) => p.path.endsWith(".ts"))) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    expect(await running).toBeNull();
    expect(job.results).toEqual([]);
    expect(readdirSync(deps.workDir)).toEqual([]);
    expect(processesMentioning(deps.workDir)).toEqual([]);

    const again = setup(clips.small);
    again.controller.abort();
    expect(await runJob(again.request, again.deps)).toBeNull();
    expect(again.job.sourceRequests).toEqual([]);
  });

  it("reports a non-permanent failure when the Worker keeps failing an upload", async () => {
    const { job, request, deps } = setup(clips.small, {
      putStatus: (path) => (path === "240p/seg_00000.ts" ? 500 : 201),
    });
    const result = await runJob(request, deps);
    expect(result).toMatchObject({ ok: false, permanent: false });
    expect(!result!.ok && result!.error).toContain("240p/seg_00000.ts");
    expect(job.failedPuts).toHaveLength(3); // 3 tries
    expect(job.files.has("240p/index.m3u8")).toBe(false);
    expect(job.results.map((r) => r.result)).toEqual([result]);
    expect(readdirSync(deps.workDir)).toEqual([]);
  });
});
