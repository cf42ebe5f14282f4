/**
 * The real thing: clips generated with ffmpeg's lavfi sources in a temp dir, probed, transcoded
 * with buildHlsArgs + runFfmpeg, and the outputs checked with ffprobe. Short clips, so the file
 * runs in well under a minute on 2 cores. No timing assertions.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rendition, SourceProbe } from '../../workers/src/shared/transcode.ts';
import { resolveBinaries, type FfmpegBinaries } from './binaries.ts';
import { h264LevelFor } from './codecs.ts';
import { AbortError, buildHlsArgs, buildPosterArgs, FfmpegError, POSTER_MAX_HEIGHT, runFfmpeg, writeMasterPlaylist, type Logger } from './ffmpeg.ts';
import { capFrameRate, chooseLadder } from './ladder.ts';
import { NotAVideoError, probe } from './probe.ts';

const run = promisify(execFile);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let bin: FfmpegBinaries;
const dir = mkdtempSync(join(tmpdir(), 'transcoder-real-'));

async function ffmpeg(...args: string[]): Promise<void> {
  await run(bin.ffmpegPath, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);
}

async function ffprobeJson(...args: string[]): Promise<{ streams: Array<Record<string, unknown>> }> {
  const { stdout } = await run(bin.ffprobePath, ['-v', 'error', '-print_format', 'json', ...args]);
  return JSON.parse(stdout) as { streams: Array<Record<string, unknown>> };
}

/** Test clips: lavfi test pattern (+ a sine tone), encoded fast. */
async function makeClip(name: string, opts: { size: string; rate: number; seconds: number; audio: boolean }): Promise<string> {
  const file = join(dir, name);
  const inputs = ['-f', 'lavfi', '-i', `testsrc2=size=${opts.size}:rate=${opts.rate}:duration=${opts.seconds}`];
  if (opts.audio) inputs.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${opts.seconds}`);
  await ffmpeg(...inputs, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...(opts.audio ? ['-c:a', 'aac'] : []), file);
  return file;
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
    args: buildPosterArgs({ input, output: join(outDir, 'poster.jpg'), durationSec: p.durationSec, width: p.width, height: p.height }),
    durationSec: p.durationSec,
    logger: quiet,
  });
  writeFileSync(join(outDir, 'index.m3u8'), writeMasterPlaylist(ladder, p.hasAudio, p.frameRate));
  return { probe: p, ladder, outDir, progress };
}

function segmentsOf(playlist: string): string[] {
  return playlist.split('\n').filter((l) => l.endsWith('.ts'));
}

/** Keyframe timestamps of a tier's video, read through its playlist. */
async function keyframeTimes(playlistPath: string): Promise<string[]> {
  const { stdout } = await run(bin.ffprobePath, [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', playlistPath,
  ]);
  return stdout
    .split('\n')
    .filter((l) => l.split(',')[1]?.includes('K'))
    .map((l) => l.split(',')[0]!);
}

/** The checks every transcode must pass. */
async function expectValidHls(t: Transcoded, expected: { tiers: string[]; minSegments: number }): Promise<void> {
  expect(t.ladder.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(expected.tiers);
  expect(t.progress.at(-1)).toBe(100);
  expect(t.progress).toEqual([...t.progress].sort((a, b) => a - b));

  const segmentCounts: number[] = [];
  const keyframes: string[][] = [];
  for (const r of t.ladder) {
    const playlistPath = join(t.outDir, r.name, 'index.m3u8');
    const playlist = readFileSync(playlistPath, 'utf8');
    expect(playlist.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    const segments = segmentsOf(playlist);
    expect(segments.length).toBeGreaterThanOrEqual(expected.minSegments);
    for (const s of segments) expect(existsSync(join(t.outDir, r.name, s))).toBe(true);
    segmentCounts.push(segments.length);

    const first = await ffprobeJson('-show_streams', join(t.outDir, r.name, segments[0]!));
    const videoStream = first.streams.find((s) => s.codec_type === 'video')!;
    expect([videoStream.width, videoStream.height]).toEqual([r.width, r.height]);
    expect(videoStream.profile).toBe('Main');
    expect(videoStream.level).toBe(h264LevelFor(r.width, r.height, capFrameRate(t.probe.frameRate)).idc);
    expect(first.streams.some((s) => s.codec_type === 'audio')).toBe(t.probe.hasAudio);

    keyframes.push(await keyframeTimes(playlistPath));
  }
  // Keyframes aligned across tiers: same segment count and the very same keyframe timestamps.
  expect(new Set(segmentCounts).size).toBe(1);
  expect(keyframes[0]!.length).toBeGreaterThanOrEqual(segmentCounts[0]!); // every segment starts on one
  for (const k of keyframes) expect(k).toEqual(keyframes[0]);

  const poster = readFileSync(join(t.outDir, 'poster.jpg'));
  expect([poster[0], poster[1]]).toEqual([0xff, 0xd8]);
  const posterInfo = await ffprobeJson('-show_streams', join(t.outDir, 'poster.jpg'));
  expect(Number(posterInfo.streams[0]!.height)).toBeLessThanOrEqual(POSTER_MAX_HEIGHT);

  const master = readFileSync(join(t.outDir, 'index.m3u8'), 'utf8');
  for (const r of t.ladder) expect(master).toContain(`${r.name}/index.m3u8`);
}

let landscape: string;
let portrait: string;
let short60fps: string;

beforeAll(async () => {
  bin = await resolveBinaries();
  [landscape, portrait, short60fps] = await Promise.all([
    makeClip('landscape.mp4', { size: '1280x720', rate: 30, seconds: 4, audio: true }),
    makeClip('portrait.mp4', { size: '360x640', rate: 30, seconds: 3, audio: false }),
    makeClip('short60.mp4', { size: '640x480', rate: 60, seconds: 1, audio: true }),
  ]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('real ffmpeg', () => {
  it('transcodes a 4 s 720p landscape clip with audio into three aligned tiers, the first segment 1 s', async () => {
    const t = await transcode(landscape, 'landscape', 4);
    expect(t.probe).toMatchObject({ width: 1280, height: 720, rotation: 0, frameRate: 30, hasAudio: true, videoCodec: 'h264' });
    expect(t.probe.durationSec).toBeCloseTo(4, 0);
    await expectValidHls(t, { tiers: ['240p 426x240', '480p 854x480', '720p 1280x720'], minSegments: 3 });
    // 4 s segments start short: 1 s, then one keyframe interval (2 s) — a slow link's first wait.
    const durations = [...readFileSync(join(t.outDir, '240p', 'index.m3u8'), 'utf8').matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
    expect(durations.map((d) => Math.round(d * 10) / 10)).toEqual([1, 1, 2]);
    const keyframes = (await keyframeTimes(join(t.outDir, '240p', 'index.m3u8'))).map(Number);
    expect(keyframes.map((k) => Math.round(k - keyframes[0]!))).toEqual([0, 1, 2]);
  });

  it('transcodes a 3 s 360x640 portrait clip without audio into video-only tiers', async () => {
    const t = await transcode(portrait, 'portrait', 1);
    expect(t.probe).toMatchObject({ width: 360, height: 640, hasAudio: false });
    await expectValidHls(t, { tiers: ['240p 240x426', '360p 360x640'], minSegments: 3 });
  });

  it('transcodes a 1 s 60 fps clip, thinned to 30 fps, into a single segment per tier', async () => {
    const t = await transcode(short60fps, 'short', 4);
    expect(t.probe.frameRate).toBe(60);
    await expectValidHls(t, { tiers: ['240p 320x240', '480p 640x480'], minSegments: 1 });
    const out = await ffprobeJson('-show_streams', join(t.outDir, '480p', 'seg_00000.ts'));
    expect(out.streams.find((s) => s.codec_type === 'video')!.r_frame_rate).toBe('30/1');
  });

  it('sees a rotated phone-style clip in its display orientation', async () => {
    const rotated = join(dir, 'rotated.mp4');
    await ffmpeg('-i', short60fps, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated);
    const p = await probe(bin.ffprobePath, rotated);
    expect([p.width, p.height]).toEqual([480, 640]);
    expect([90, 270]).toContain(p.rotation);
    // ffmpeg autorotates: decoded frames already come out in display orientation, so scaling
    // them to the display size keeps the picture upright instead of squashing it.
    const { stderr } = await run(bin.ffmpegPath, ['-hide_banner', '-nostdin', '-i', rotated, '-vf', 'showinfo', '-frames:v', '1', '-f', 'null', '-']);
    expect(stderr).toMatch(/ s:480x640 /);
    const posterPath = join(dir, 'rotated.jpg');
    await runFfmpeg({
      ffmpegPath: bin.ffmpegPath,
      args: buildPosterArgs({ input: rotated, output: posterPath, ...p }),
      durationSec: p.durationSec,
      logger: quiet,
    });
    const info = await ffprobeJson('-show_streams', posterPath);
    expect([info.streams[0]!.width, info.streams[0]!.height]).toEqual([360, 480]) // portrait kept, capped to POSTER_MAX_HEIGHT;
  });

  it('rejects random bytes named .mp4 as not a video', async () => {
    const junk = join(dir, 'junk.mp4');
    writeFileSync(junk, randomBytes(64 * 1024));
    const error = await probe(bin.ffprobePath, junk).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotAVideoError);
    expect((error as Error).message).toMatch(/^This file is not a video we can read \(/);
    expect((error as Error).message).not.toContain(junk);
  });

  it('rejects an audio-only file as not a video', async () => {
    const audioOnly = join(dir, 'tone.m4a');
    await ffmpeg('-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', audioOnly);
    await expect(probe(bin.ffprobePath, audioOnly)).rejects.toThrow(/only audio/);
  });

  it('treats a missing file as our error, not a bad video', async () => {
    const error = await probe(bin.ffprobePath, join(dir, 'missing.mp4')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(NotAVideoError);
  });

  it('reports ffmpeg failures with its stderr', async () => {
    const error = await runFfmpeg({
      ffmpegPath: bin.ffmpegPath,
      args: ['-hide_banner', '-nostdin', '-i', join(dir, 'missing.mp4'), '-f', 'null', '-'],
      durationSec: 1,
      logger: quiet,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect((error as Error).message).toMatch(/No such file or directory/);
  });

  it('stops a running transcode on abort', async () => {
    const p = await probe(bin.ffprobePath, landscape);
    const args = buildHlsArgs({
      input: landscape, outputDir: join(dir, 'aborted'), renditions: chooseLadder(p), hasAudio: true, fps: 30, segmentSeconds: 2,
    });
    args.splice(args.indexOf('-i'), 0, '-re'); // read at real-time speed so there is time to abort
    const controller = new AbortController();
    const running = runFfmpeg({
      ffmpegPath: bin.ffmpegPath, args, durationSec: p.durationSec, logger: quiet, signal: controller.signal,
      onProgress: (x) => { if (x > 0) controller.abort(); },
    });
    await expect(running).rejects.toBeInstanceOf(AbortError);
  });
});
