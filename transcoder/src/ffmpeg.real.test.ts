/**
 * The real thing: clips generated with ffmpeg's lavfi sources in a temp dir, probed, transcoded
 * with buildHlsArgs + runFfmpeg, and the outputs checked with ffprobe. Short clips, so the file
 * runs in well under a minute on 2 cores. No timing assertions.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Rendition, SourceProbe } from "../../contract/transcode.ts";
import { resolveBinaries, type FfmpegBinaries } from "./binaries.ts";
import { h264LevelFor, h264ProfileFor } from "./codecs.ts";
import { AbortError, buildHlsArgs, buildPosterArgs, FfmpegError, POSTER_MAX_HEIGHT, runFfmpeg, type Logger } from "./ffmpeg.ts";
import { writeFinishedPlaylists } from "./finish.ts";
import { probeIframePlaylist } from "./iframes.ts";
import { capFrameRate, chooseLadder } from "./ladder.ts";
import { NotAVideoError, probe } from "./probe.ts";
import { makeClip, mediaDuration } from "./testing/clips.ts";

const run = promisify(execFile);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let bin: FfmpegBinaries;
const dir = mkdtempSync(join(tmpdir(), "transcoder-real-"));

async function ffmpeg(...args: string[]): Promise<void> {
  await run(bin.ffmpegPath, ["-hide_banner", "-nostdin", "-v", "error", "-y", ...args]);
}

async function ffprobeJson(...args: string[]): Promise<{ streams: Array<Record<string, unknown>> }> {
  const { stdout } = await run(bin.ffprobePath, ["-v", "error", "-print_format", "json", ...args]);
  return JSON.parse(stdout) as { streams: Array<Record<string, unknown>> };
}

interface Transcoded {
  probe: SourceProbe;
  ladder: Rendition[];
  outDir: string;
  progress: number[];
}

async function transcode(input: string, name: string, segmentSeconds: number): Promise<Transcoded> {
  const p = await probe(bin.ffprobePath, input);
  const ladder = chooseLadder(p);
  const outDir = join(dir, `${name}-out`);
  const progress: number[] = [];
  const args = buildHlsArgs({ input, outputDir: outDir, renditions: ladder, hasAudio: p.hasAudio, fps: p.frameRate, segmentSeconds });
  await runFfmpeg({ ffmpegPath: bin.ffmpegPath, args, durationSec: p.durationSec, onProgress: (x) => progress.push(x), logger: quiet });
  await runFfmpeg({
    ffmpegPath: bin.ffmpegPath,
    args: buildPosterArgs({ input, output: join(outDir, "poster.jpg"), durationSec: p.durationSec, width: p.width, height: p.height }),
    durationSec: p.durationSec,
    logger: quiet,
  });
  // What the job does once ffmpeg is done: VOD tier playlists, I-frame playlists, final master.
  await writeFinishedPlaylists({
    ffprobePath: bin.ffprobePath,
    outputDir: outDir,
    renditions: ladder,
    hasAudio: p.hasAudio,
    fps: p.frameRate,
    logger: quiet,
  });
  return { probe: p, ladder, outDir, progress };
}

/** BANDWIDTH and AVERAGE-BANDWIDTH of a tier in a master playlist. */
function measuredBandwidths(master: string, tier: string): { peak: number; average: number } {
  const lines = master.split("\n");
  const inf = lines[lines.indexOf(`${tier}/index.m3u8`) - 1]!;
  return { peak: Number(/[:,]BANDWIDTH=(\d+)/.exec(inf)![1]), average: Number(/AVERAGE-BANDWIDTH=(\d+)/.exec(inf)![1]) };
}

function segmentsOf(playlist: string): string[] {
  return playlist.split("\n").filter((l) => l.endsWith(".ts"));
}

/** What ffprobe says of the first video stream of `file`: the `entries` asked for, in `format`. */
async function probeVideo(entries: string, format: string, file: string): Promise<string> {
  const { stdout } = await run(bin.ffprobePath, ["-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", format, file]);
  return stdout;
}

/** Keyframe timestamps of a tier's video, read through its playlist. */
async function keyframeTimes(playlistPath: string): Promise<string[]> {
  return (await probeVideo("packet=pts_time,flags", "csv=p=0", playlistPath))
    .split("\n")
    .filter((l) => l.split(",")[1]?.includes("K"))
    .map((l) => l.split(",")[0]!);
}

/** Start time of each stream of a TS file, by codec type. */
async function startTimes(file: string): Promise<Record<string, number>> {
  const info = await ffprobeJson("-show_entries", "stream=codec_type,start_time", file);
  return Object.fromEntries(info.streams.map((s) => [String(s.codec_type), Number(s.start_time)]));
}

/**
 * Every entry of an I-frame playlist: inside its segment, starting on a TS packet, and exactly one
 * decodable keyframe when cut out and read on its own. Returns the number of entries.
 */
async function expectValidIframePlaylist(tierDir: string): Promise<number> {
  const text = readFileSync(join(tierDir, "iframes.m3u8"), "utf8");
  expect(text).toMatch(/^#EXTM3U\n#EXT-X-VERSION:([4-9]|\d\d)\n/);
  expect(text).toContain("#EXT-X-I-FRAMES-ONLY\n");
  expect(text).toContain("#EXT-X-PLAYLIST-TYPE:VOD\n");
  expect(text.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
  const entries = [...text.matchAll(/#EXTINF:([\d.]+),\n#EXT-X-BYTERANGE:(\d+)@(\d+)\n(\S+)/g)];
  expect(entries.length).toBeGreaterThan(0);
  const targetDuration = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)![1]);
  for (const [, extinf, length, offset, uri] of entries) {
    expect(Math.round(Number(extinf))).toBeLessThanOrEqual(targetDuration);
    const segment = readFileSync(join(tierDir, uri!));
    const start = Number(offset);
    const end = start + Number(length);
    expect(end, `${uri} ${length}@${offset}`).toBeLessThanOrEqual(segment.length);
    expect(start % 188).toBe(0);
    expect(segment[start]).toBe(0x47);
    const cut = join(tierDir, `cut-${start}-${uri}`);
    writeFileSync(cut, segment.subarray(start, end));
    const stdout = await probeVideo("frame=key_frame,pict_type", "json", cut);
    rmSync(cut);
    const frames = (JSON.parse(stdout) as { frames: Array<{ key_frame: number; pict_type: string }> }).frames;
    expect(
      frames.map((f) => `${f.key_frame},${f.pict_type}`),
      `${uri} ${length}@${offset}`,
    ).toEqual(["1,I"]);
  }
  return entries.length;
}

/** The checks every transcode must pass. */
async function expectValidHls(t: Transcoded, expected: { tiers: string[]; minSegments: number }): Promise<void> {
  expect(t.ladder.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(expected.tiers);
  expect(t.progress.at(-1)).toBe(100);
  expect(t.progress).toEqual([...t.progress].sort((a, b) => a - b));

  const segmentCounts: number[] = [];
  const keyframes: string[][] = [];
  for (const r of t.ladder) {
    const playlistPath = join(t.outDir, r.name, "index.m3u8");
    const playlist = readFileSync(playlistPath, "utf8");
    expect(playlist.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    // Finished: VOD (ffmpeg wrote EVENT while it encoded).
    expect(playlist).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
    expect(playlist).not.toContain("EVENT");
    const segments = segmentsOf(playlist);
    expect(segments.length).toBeGreaterThanOrEqual(expected.minSegments);
    for (const s of segments) expect(existsSync(join(t.outDir, r.name, s))).toBe(true);
    segmentCounts.push(segments.length);

    const first = await ffprobeJson("-show_streams", join(t.outDir, r.name, segments[0]!));
    const videoStream = first.streams.find((s) => s.codec_type === "video")!;
    expect([videoStream.width, videoStream.height]).toEqual([r.width, r.height]);
    expect(videoStream.profile).toBe(h264ProfileFor(r.width, r.height) === "high" ? "High" : "Main");
    expect(videoStream.level).toBe(h264LevelFor(r.width, r.height, capFrameRate(t.probe.frameRate)).idc);
    expect(first.streams.some((s) => s.codec_type === "audio")).toBe(t.probe.hasAudio);
    if (t.probe.hasAudio) {
      // Sound and picture start together (before: audio 21.3 ms early, the AAC encoder's priming).
      const starts = await startTimes(join(t.outDir, r.name, segments[0]!));
      expect(Math.abs(starts.audio! - starts.video!), `${r.name} ${JSON.stringify(starts)}`).toBeLessThan(0.001);
    }
    // One I-frame per keyframe of the tier.
    expect(await expectValidIframePlaylist(join(t.outDir, r.name))).toBe((await keyframeTimes(playlistPath)).length);

    keyframes.push(await keyframeTimes(playlistPath));
  }
  // Keyframes aligned across tiers: same segment count and the very same keyframe timestamps.
  expect(new Set(segmentCounts).size).toBe(1);
  expect(keyframes[0]!.length).toBeGreaterThanOrEqual(segmentCounts[0]!); // every segment starts on one
  for (const k of keyframes) expect(k).toEqual(keyframes[0]);

  const poster = readFileSync(join(t.outDir, "poster.jpg"));
  expect([poster[0], poster[1]]).toEqual([0xff, 0xd8]);
  const posterInfo = await ffprobeJson("-show_streams", join(t.outDir, "poster.jpg"));
  expect(Number(posterInfo.streams[0]!.height)).toBeLessThanOrEqual(POSTER_MAX_HEIGHT);

  const master = readFileSync(join(t.outDir, "index.m3u8"), "utf8");
  for (const r of t.ladder) expect(master).toContain(`${r.name}/index.m3u8`);
  // The finished master's bandwidths are measured on the segments: AVERAGE-BANDWIDTH is every
  // byte of the tier over its duration, BANDWIDTH (the peak) at least that.
  for (const r of t.ladder) {
    const measured = measuredBandwidths(master, r.name);
    const playlist = readFileSync(join(t.outDir, r.name, "index.m3u8"), "utf8");
    const seconds = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    const bits = segmentsOf(playlist).reduce((sum, s) => sum + statSync(join(t.outDir, r.name, s)).size * 8, 0);
    expect(measured.average, r.name).toBe(Math.ceil(bits / seconds));
    expect(measured.peak, r.name).toBeGreaterThanOrEqual(measured.average);
  }
  for (const r of t.ladder) expect(master).toContain(`URI="${r.name}/iframes.m3u8"`);
  // ffmpeg as a client reads the finished master: one program per tier and the duration (with
  // #EXT-X-START it printed N/A).
  expect(await mediaDuration(bin.ffprobePath, join(t.outDir, "index.m3u8"))).toBeCloseTo(t.probe.durationSec, 1);
}

let landscape: string;
let portrait: string;
let short60fps: string;

beforeAll(async () => {
  bin = await resolveBinaries();
  [landscape, portrait, short60fps] = await Promise.all([
    makeClip(bin.ffmpegPath, join(dir, "landscape.mp4"), { size: "1280x720", rate: 30, seconds: 13, audio: true }),
    makeClip(bin.ffmpegPath, join(dir, "portrait.mp4"), { size: "360x640", rate: 30, seconds: 3, audio: false }),
    makeClip(bin.ffmpegPath, join(dir, "short60.mp4"), { size: "640x480", rate: 60, seconds: 1, audio: true }),
  ]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("real ffmpeg", () => {
  it("transcodes a 13 s 720p landscape clip with audio into three aligned tiers: two 1 s segments, then 6 s ones", async () => {
    const t = await transcode(landscape, "landscape", 6);
    expect(t.probe).toMatchObject({ width: 1280, height: 720, rotation: 0, frameRate: 30, hasAudio: true, videoCodec: "h264" });
    expect(t.probe.durationSec).toBeCloseTo(13, 0);
    await expectValidHls(t, { tiers: ["240p 426x240", "480p 854x480", "720p 1280x720"], minSegments: 3 });
    for (const r of t.ladder) {
      // Two short first segments, then segments as long as asked (ffmpeg 5.1 with -hls_init_time
      // and an unbounded list cut every one short), the last one the remainder; one keyframe
      // each, at its start.
      const playlist = readFileSync(join(t.outDir, r.name, "index.m3u8"), "utf8");
      const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Math.round(Number(m[1]) * 10) / 10);
      expect(durations, r.name).toEqual([1, 1, 6, 5]);
      expect(playlist).toContain("#EXT-X-TARGETDURATION:6\n");
      const keyframes = (await keyframeTimes(join(t.outDir, r.name, "index.m3u8"))).map(Number);
      expect(keyframes.map((k) => Math.round(k - keyframes[0]!))).toEqual([0, 1, 2, 8]);
      // Measured peak: not above what the ceiling lets through (the early master's estimate).
      const master = readFileSync(join(t.outDir, "index.m3u8"), "utf8");
      expect(measuredBandwidths(master, r.name).peak, r.name).toBeLessThanOrEqual(r.bandwidth);
    }
  });

  it("transcodes a 3 s 360x640 portrait clip without audio into video-only tiers", async () => {
    const t = await transcode(portrait, "portrait", 1);
    expect(t.probe).toMatchObject({ width: 360, height: 640, hasAudio: false });
    await expectValidHls(t, { tiers: ["240p 240x426", "360p 360x640"], minSegments: 3 });
  });

  it("transcodes a 1 s 60 fps clip, thinned to 30 fps, into a single segment per tier", async () => {
    const t = await transcode(short60fps, "short", 4);
    expect(t.probe.frameRate).toBe(60);
    await expectValidHls(t, { tiers: ["240p 320x240", "480p 640x480"], minSegments: 1 });
    const out = await ffprobeJson("-show_streams", join(t.outDir, "480p", "seg_00000.ts"));
    expect(out.streams.find((s) => s.codec_type === "video")!.r_frame_rate).toBe("30/1");
  });

  it("writes I-frame byte ranges for keyframes inside segments too", async () => {
    // Keyframes every 0.5 s, segments of 2 s: most keyframes are in the middle of a segment.
    const tierDir = join(dir, "midsegment");
    mkdirSync(tierDir);
    await ffmpeg(
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240:rate=30:duration=3",
      "-f",
      "lavfi",
      "-i",
      "sine=duration=3",
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-g",
      "15",
      "-keyint_min",
      "15",
      "-sc_threshold",
      "0",
      "-c:a",
      "aac",
      "-f",
      "hls",
      "-hls_time",
      "2",
      "-hls_playlist_type",
      "vod",
      "-hls_segment_filename",
      join(tierDir, "seg_%05d.ts"),
      join(tierDir, "index.m3u8"),
    );
    const segments = segmentsOf(readFileSync(join(tierDir, "index.m3u8"), "utf8"));
    const playlist = await probeIframePlaylist({ ffprobePath: bin.ffprobePath, tierDir, segments, logger: quiet });
    writeFileSync(join(tierDir, "iframes.m3u8"), playlist.text);
    expect(await expectValidIframePlaylist(tierDir)).toBe(6);
    const durations = [...playlist.text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
    expect(durations).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(playlist.averageBandwidth).toBeGreaterThan(0);
    expect(playlist.bandwidth).toBeGreaterThanOrEqual(playlist.averageBandwidth);
  });

  it("sees a rotated phone-style clip in its display orientation", async () => {
    const rotated = join(dir, "rotated.mp4");
    await ffmpeg("-i", short60fps, "-c", "copy", "-metadata:s:v", "rotate=90", rotated);
    const p = await probe(bin.ffprobePath, rotated);
    expect([p.width, p.height]).toEqual([480, 640]);
    expect([90, 270]).toContain(p.rotation);
    // ffmpeg autorotates: decoded frames already come out in display orientation, so scaling
    // them to the display size keeps the picture upright instead of squashing it.
    const { stderr } = await run(bin.ffmpegPath, [
      "-hide_banner",
      "-nostdin",
      "-i",
      rotated,
      "-vf",
      "showinfo",
      "-frames:v",
      "1",
      "-f",
      "null",
      "-",
    ]);
    expect(stderr).toMatch(/ s:480x640 /);
    const posterPath = join(dir, "rotated.jpg");
    await runFfmpeg({
      ffmpegPath: bin.ffmpegPath,
      args: buildPosterArgs({ input: rotated, output: posterPath, ...p }),
      durationSec: p.durationSec,
      logger: quiet,
    });
    const info = await ffprobeJson("-show_streams", posterPath);
    expect([info.streams[0]!.width, info.streams[0]!.height]).toEqual([360, 480]); // portrait kept, capped to POSTER_MAX_HEIGHT;
  });

  it("rejects random bytes named .mp4 as not a video", async () => {
    const junk = join(dir, "junk.mp4");
    writeFileSync(junk, randomBytes(64 * 1024));
    const error = await probe(bin.ffprobePath, junk).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotAVideoError);
    expect((error as Error).message).toMatch(/^This file is not a video we can read \(/);
    expect((error as Error).message).not.toContain(junk);
  });

  it("rejects an audio-only file as not a video", async () => {
    const audioOnly = join(dir, "tone.m4a");
    await ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", audioOnly);
    await expect(probe(bin.ffprobePath, audioOnly)).rejects.toThrow(/only audio/);
  });

  it("treats a missing file as our error, not a bad video", async () => {
    const error = await probe(bin.ffprobePath, join(dir, "missing.mp4")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(NotAVideoError);
  });

  it("reports ffmpeg failures with its stderr", async () => {
    const error = await runFfmpeg({
      ffmpegPath: bin.ffmpegPath,
      args: ["-hide_banner", "-nostdin", "-i", join(dir, "missing.mp4"), "-f", "null", "-"],
      durationSec: 1,
      logger: quiet,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect((error as Error).message).toMatch(/No such file or directory/);
  });

  it("stops a running transcode on abort", async () => {
    const p = await probe(bin.ffprobePath, landscape);
    const args = buildHlsArgs({
      input: landscape,
      outputDir: join(dir, "aborted"),
      renditions: chooseLadder(p),
      hasAudio: true,
      fps: 30,
      segmentSeconds: 2,
    });
    args.splice(args.indexOf("-i"), 0, "-re"); // read at real-time speed so there is time to abort
    const controller = new AbortController();
    const running = runFfmpeg({
      ffmpegPath: bin.ffmpegPath,
      args,
      durationSec: p.durationSec,
      logger: quiet,
      signal: controller.signal,
      onProgress: (x) => {
        if (x > 0) controller.abort();
      },
    });
    await expect(running).rejects.toBeInstanceOf(AbortError);
  });
});
