/**
 * Awkward sources, end to end through runJob (real ffmpeg, the Worker twin): each gets either a
 * correct ladder or a permanent failure with a sentence a creator can read — never a hang, never a
 * broken output.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { durationCapMessage, type TranscodeRequest } from "../../contract/transcode.ts";
import { resolveBinaries, type FfmpegBinaries } from "./binaries.ts";
import type { Logger } from "./ffmpeg.ts";
import { runJob } from "./job.ts";
import { playlistSegments } from "./outputs.ts";
import { H264_FAST, makeLavfiClip } from "./testing/clips.ts";
import { WorkerTwin } from "./testing/worker-twin.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), "transcoder-bad-inputs-"));
let bin: FfmpegBinaries;
let twin: WorkerTwin;

beforeAll(async () => {
  bin = await resolveBinaries();
  twin = await new WorkerTwin().start();
});
afterAll(async () => {
  await twin?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A clip made by ffmpeg from a lavfi picture (and a tone) with the given video output options. */
function clip(name: string, picture: string, seconds: number, video: string[]): string {
  return makeLavfiClip(join(dir, name), { picture, tone: "sine=frequency=300", seconds, video, shortest: true }, bin.ffmpegPath);
}

let counter = 0;
async function transcode(file: string, extra: Partial<TranscodeRequest> = {}) {
  const videoId = `bad-${++counter}`;
  const token = `t-${counter}`;
  const job = twin.addJob(videoId, { source: readFileSync(file), tokens: [token] });
  const request: TranscodeRequest = { videoId, attempt: 1, token, callbackBase: twin.callbackBase(videoId), segmentSeconds: 2, ...extra };
  const workDir = mkdtempSync(join(dir, "work-"));
  const result = await runJob(request, {
    ...bin,
    workDir,
    logger: quiet,
    signal: new AbortController().signal,
    pollMs: 200,
    progressIntervalMs: 250,
    backoffMs: 50,
  });
  return { job, result };
}

function expectComplete(job: ReturnType<WorkerTwin["addJob"]>, tiers: string[]) {
  for (const tier of tiers) {
    const playlist = job.files.get(`${tier}/index.m3u8`)!.toString();
    expect(playlist).toMatch(/#EXT-X-ENDLIST\s*$/);
    for (const name of playlistSegments(playlist)) expect(job.files.has(`${tier}/${name}`), `${tier}/${name}`).toBe(true);
  }
}

describe("awkward sources", () => {
  it("4K: the ladder stops at 720p", async () => {
    const file = clip("4k.mp4", "testsrc2=size=3840x2160:rate=30", 1, H264_FAST);
    const { job, result } = await transcode(file);
    expect(result).toMatchObject({ ok: true });
    if (!result?.ok) return;
    expect(result.renditions.map((r) => `${r.name}:${r.width}x${r.height}`)).toEqual(["240p:426x240", "480p:854x480", "720p:1280x720"]);
    expectComplete(job, ["240p", "480p", "720p"]);
  });

  it("HEVC: decoded and re-encoded to H.264 tiers", async () => {
    const file = clip("hevc.mp4", "testsrc2=size=1280x720:rate=30", 2, [
      "-c:v",
      "libx265",
      "-preset",
      "ultrafast",
      "-x265-params",
      "log-level=error",
      "-pix_fmt",
      "yuv420p",
      "-tag:v",
      "hvc1",
    ]);
    const { job, result } = await transcode(file);
    expect(result).toMatchObject({ ok: true });
    expect(job.files.get("index.m3u8")!.toString()).toContain("avc1.");
    expectComplete(job, ["240p", "480p", "720p"]);
  });

  it("variable frame rate (a phone dropping frames): durations kept, keyframes aligned", async () => {
    // Keep 4 frames of every 7 with their original timestamps: irregular gaps, as from a phone.
    const file = clip("vfr.mp4", "testsrc2=size=640x360:rate=30", 6, [
      "-vf",
      "select='lt(mod(n\\,7)\\,4)'",
      "-fps_mode",
      "vfr",
      ...H264_FAST,
    ]);
    const { job, result } = await transcode(file);
    expect(result).toMatchObject({ ok: true });
    for (const tier of ["240p", "360p"]) {
      const playlist = job.files.get(`${tier}/index.m3u8`)!.toString();
      const total = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      expect(total).toBeCloseTo(6, 0);
    }
    expect(playlistSegments(job.files.get("240p/index.m3u8")!.toString())).toEqual(
      playlistSegments(job.files.get("360p/index.m3u8")!.toString()),
    );
  });

  it("odd dimensions: every tier has even dimensions", async () => {
    const file = clip("odd.mp4", "testsrc2=size=641x361:rate=25", 2, ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"]);
    const { job, result } = await transcode(file);
    expect(result).toMatchObject({ ok: true });
    if (!result?.ok) return;
    for (const r of result.renditions) expect([r.width % 2, r.height % 2]).toEqual([0, 0]);
    expectComplete(
      job,
      result.renditions.map((r) => r.name),
    );
  });

  it("a truncated MP4 (cut before its index) fails permanently with a readable reason", async () => {
    const file = clip("truncated.mp4", "testsrc2=size=640x360:rate=30", 4, H264_FAST);
    truncateSync(file, Math.floor(statSync(file).size * 0.6));
    const { job, result } = await transcode(file);
    expect(result).toMatchObject({ ok: false, permanent: true });
    if (result?.ok !== false) return;
    expect(result.error).toMatch(/video/i);
    expect(job.puts.filter((p) => p.path.endsWith(".ts"))).toHaveLength(0);
  });

  it("a source longer than the upload's duration cap fails permanently at the probe, before any encoding", async () => {
    const file = clip("five-seconds.mp4", "testsrc2=size=320x240:rate=15", 5, H264_FAST);
    const { job, result } = await transcode(file, { maxDurationSec: 2 });
    expect(result).toMatchObject({ ok: false, permanent: true, error: durationCapMessage(5, 2) });
    expect(result && !result.ok && result.error).toBe("This video is 5 seconds long; its upload link accepts videos of at most 2 seconds.");
    expect(job.puts).toHaveLength(0);
  });
});
