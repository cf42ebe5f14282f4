/**
 * The ffmpeg commands of the transcoder, as argument arrays (pure), plus re-exports of the
 * runner and the master playlist writer so that callers import one module.
 *
 * Output layout for a job directory <dir>:
 *   <dir>/<tier>/index.m3u8        media playlist, rewritten (atomically) after every segment
 *   <dir>/<tier>/seg_00000.ts ...  MPEG-TS segments; a segment file appears complete (the HLS
 *                                  muxer buffers it in memory and, with temp_file, renames it
 *                                  into place), and is listed in the playlist right after
 *   <dir>/index.m3u8               written by us (writeMasterPlaylist), not by ffmpeg
 *   <dir>/poster.jpg               buildPosterArgs
 */
import { join } from "node:path";
import type { Rendition } from "../../contract/transcode.ts";
import { h264LevelFor, h264ProfileFor } from "./codecs.ts";
import {
  audioBitrateFor,
  bufsizeOf,
  capFrameRate,
  gopFrames,
  keyframeIntervalSeconds,
  maxrateOf,
  renditionBframes,
  renditionCrf,
} from "./ladder.ts";

export { runFfmpeg, AbortError, FfmpegError, KILL_GRACE_MS, type Logger, type RunFfmpegOptions } from "./run-ffmpeg.ts";
export { ProgressParser } from "./progress.ts";
export { writeMasterPlaylist, variantPlaylistUri } from "./master-playlist.ts";

/**
 * x264 speed/quality trade-off, measured on the full 240/480/720 ladder from a 60 s 720p30
 * testsrc2 source on 2 (shared) cores. Plain `veryfast`: 36-47 CPU-seconds. `superfast`: 27-31
 * CPU-s but -0.8 dB SSIM at 720p (it drops the lookahead and macroblock-tree rate control).
 * `veryfast` with the cheapest motion search (diamond, subpel refinement 1): 29-32 CPU-s, i.e.
 * about 4x realtime when both cores are free, at -0.3 dB SSIM from plain veryfast: it keeps the
 * lookahead and mb-tree, which matter most at these low bitrates.
 * Re-measured with capped CRF (12 s of 720p30, whole ladder, ffmpeg's own CPU time): adding
 * weightp=0:rc-lookahead=5, bframes=2:b-adapt=0, threads=2, trellis=1 or lower deadzones each
 * left the CPU time where it was (4.2-4.8 CPU-s for all) and only moved bytes against SSIM, so
 * none is kept. Encoding the AAC track once instead of once per tier would save 0.3 CPU-s per
 * 30 s (3 encodes 0.55 s, one 0.23 s): about 2 % of the job, not worth a separate audio rendition.
 * Re-measured on the ladder bench's three 30 s 720p30 sources (ffmpeg's CPU-s per 30 s, whole
 * ladder, 2 runs each; runs of the same command differ by up to 0.5 CPU-s). Where it goes: decoding
 * the source alone 0.7 (talking head) / 0.35 (screen) / 7.7 (high motion, a 110 Mbit/s source),
 * the two bicubic scalers about 1.0, the three AAC encodes 1.0, the rest x264. Only B-frames moved
 * x264's time (ladder.ts TIERS: -18 % in all). Within noise of plain (±0.3 talking head, ±0.5 high
 * motion): mixed-refs=0, ref=1, 8x8dct=0, trellis=0, weightp=0, chroma-me=0, aq-mode=0,
 * b-adapt=0, lookahead-threads=1, sync-lookahead=0, sliced threads, -threads 1 on the decoder,
 * -filter_complex_threads 1. Not kept: partitions=none (-0.1 to -0.4 CPU-s, 720p SSIM -0.004 on
 * the talking head); rc-lookahead=5 (same CPU, -8 % bytes but -0.02 to -0.03 SSIM); threads=1
 * per encoder (-4 % CPU, but the talking head's wall time +40 %: the three encoders then run one
 * after the other); superfast on one tier (same CPU, that tier +45-70 % bytes: no mb-tree); 240p
 * scaled from the 480p picture (-0.3 to -0.5 CPU-s, 240p SSIM -0.0023 on the talking head;
 * lanczos for that step -0.0035); bilinear, fast_bilinear or area instead of bicubic (-0.6 CPU-s,
 * 240p/480p SSIM -0.02 to -0.05, fast_bilinear far worse).
 */
export const DEFAULT_X264_PRESET = "veryfast";
export const DEFAULT_X264_PARAMS = "me=dia:subme=1";

export interface HlsArgsOptions {
  input: string;
  outputDir: string;
  /** Lowest first or not: order only decides the tier indexes inside the command. */
  renditions: readonly Rendition[];
  hasAudio: boolean;
  /** The SOURCE frame rate; capped here with capFrameRate. */
  fps: number;
  segmentSeconds: number;
  /** Defaults to DEFAULT_X264_PRESET / DEFAULT_X264_PARAMS; pass '' as params for none. */
  x264Preset?: string;
  x264Params?: string;
}

/**
 * Samples ffmpeg's AAC encoder puts before the first input sample (its `initial_padding`): the
 * decoder's warm-up, silence in the output. MP4 hides them with an edit list; MPEG-TS plays them.
 */
export const AAC_PRIMING_SAMPLES = 1024;
/** A gap (seconds) no source has: aresample then fills or trims the first frame only. */
const AUDIO_SYNC_ONLY_AT_START = 100_000;

/** Segment and playlist file names; `%v` is replaced by ffmpeg with the tier's name. */
export const SEGMENT_PATTERN = "seg_%05d.ts";
export const VARIANT_PLAYLIST = "index.m3u8";

/**
 * A frame rate as ffmpeg likes it: NTSC-style rates as exact fractions (29.97 → 30000/1001) so
 * that timestamps do not drift, others as plain decimals.
 */
export function ffmpegRate(fps: number): string {
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 0.0005 && Math.abs(fps - ntsc) > 0.0005) return `${ntsc * 1000}/1001`;
  return String(Math.round(fps * 1000) / 1000);
}

/**
 * One decode, one filter graph, every tier: the source is decoded once (autorotated by ffmpeg's
 * default -autorotate), optionally thinned to the capped frame rate, split N ways, and each branch
 * scaled to its tier. Decoding once is most of the saving over N separate commands at 720p and
 * guarantees every tier sees exactly the same frames with the same timestamps, which is what lets
 * keyframes line up.
 */
function filterGraph(renditions: readonly Rendition[], sourceFps: number): string {
  const outFps = capFrameRate(sourceFps);
  const pre = outFps < sourceFps ? `fps=${ffmpegRate(outFps)},` : "";
  const branches = renditions.map((_, i) => `[s${i}]`).join("");
  const head = `[0:V:0]${pre}split=${renditions.length}${branches}`;
  // setsar=1: the ladder computed display sizes (non-square source pixels already accounted for).
  // format=yuv420p: Main profile is 8-bit 4:2:0; 10-bit or 4:2:2 phone footage must be converted.
  const scalers = renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1,format=yuv420p[v${i}]`);
  return [head, ...scalers].join(";");
}

/**
 * The start of every tier: FIRST_SEGMENTS short segments of FIRST_SEGMENT_SECONDS, then the
 * regular length. The first thing a viewer on a slow link downloads is one second of 240p (tens of
 * KB, not the ~200 KB of six seconds), and the next short one arrives while it plays; each tier
 * also has a segment, so the video is playable, that much sooner.
 */
export const FIRST_SEGMENT_SECONDS = 1;
export const FIRST_SEGMENTS = 2;

/**
 * Keyframes at 0, at the end of each short first segment, then every `interval` seconds: the
 * n-th forced keyframe (n_forced) is at n × first while n ≤ FIRST_SEGMENTS, and at
 * FIRST_SEGMENTS × first + (n − FIRST_SEGMENTS) × interval after.
 */
function keyframeExpression(interval: number): string {
  const head = FIRST_SEGMENTS * FIRST_SEGMENT_SECONDS;
  return `expr:gte(t,if(lte(n_forced,${FIRST_SEGMENTS}),n_forced*${FIRST_SEGMENT_SECONDS},${head}+(n_forced-${FIRST_SEGMENTS})*${interval}))`;
}

export function buildHlsArgs(opts: HlsArgsOptions): string[] {
  const { input, outputDir, renditions, hasAudio, fps, segmentSeconds } = opts;
  if (renditions.length === 0) throw new Error("buildHlsArgs needs at least one rendition.");
  const outFps = capFrameRate(fps);
  const gop = gopFrames(outFps, segmentSeconds);
  const keyframeSeconds = keyframeIntervalSeconds(segmentSeconds);

  const args: string[] = [
    "-hide_banner",
    "-nostdin",
    "-y",
    "-loglevel",
    "warning",
    // Progress goes to stdout as key=value blocks; -nostats keeps the human status line off stderr
    // so that stderr holds only warnings and errors (the tail we put in error messages).
    "-progress",
    "pipe:1",
    "-nostats",
    "-i",
    input,
    "-filter_complex",
    filterGraph(renditions, fps),
  ];

  // Stream order in the output: v0 a0 v1 a1 ... (the audio is mapped once per tier, so each tier
  // carries its own AAC track in its own segments; the input audio is still decoded once).
  renditions.forEach((_, i) => {
    args.push("-map", `[v${i}]`);
    if (hasAudio) args.push("-map", "0:a:0");
  });

  args.push(
    // No source metadata in the outputs: phone clips carry GPS position and device names.
    "-map_metadata",
    "-1",
    "-map_chapters",
    "-1",
    "-c:v",
    "libx264",
    "-preset",
    opts.x264Preset ?? DEFAULT_X264_PRESET,
  );
  const x264Params = opts.x264Params ?? DEFAULT_X264_PARAMS;
  if (x264Params) args.push("-x264-params", x264Params);
  renditions.forEach((r, i) => {
    args.push(
      `-profile:v:${i}`,
      h264ProfileFor(r.width, r.height),
      `-level:v:${i}`,
      h264LevelFor(r.width, r.height, outFps).name,
      // Capped CRF: constant quality, with the tier's bitrate as the ceiling (see ladder.ts TIERS).
      `-crf:v:${i}`,
      String(renditionCrf(r)),
      `-maxrate:v:${i}`,
      String(maxrateOf(r.videoBitrate)),
      `-bufsize:v:${i}`,
      String(bufsizeOf(r.videoBitrate)),
      // B-frames per tier (see ladder.ts TIERS): most of the CPU saving of the ladder.
      `-bf:v:${i}`,
      String(renditionBframes(r)),
    );
  });

  args.push(
    // Fixed GOP, identical in every tier: keyframes at the same frames everywhere, so a player
    // can switch tier at any segment boundary, and every segment starts with a keyframe.
    "-g",
    String(gop),
    "-keyint_min",
    String(gop),
    // Scene-cut detection would add keyframes where each tier's encoder sees a cut, which differs
    // between resolutions and bitrates: tiers would drift apart and segments would be cut unevenly.
    "-sc_threshold",
    "0",
    // Time-based keyframes as well: with a variable-frame-rate source (phones), a frame count is
    // not a duration; forcing by timestamp keeps keyframes on segment boundaries anyway.
    "-force_key_frames",
    keyframeExpression(keyframeSeconds),
  );

  if (hasAudio) {
    // Both tracks of a segment must start at the same instant, or hls.js finds a hole at 0 and
    // jumps over it. x264's B-frames delay the video by up to two frames (none in a tier without
    // B-frames), but that shift applies to both streams of a tier alike (the muxer moves every
    // timestamp so that the video's first DTS is 0), and tiers with different B-frame counts
    // still get the same keyframe timestamps (checked in ffmpeg.real.test.ts); what
    // differs is the AAC encoder's priming: its first packet starts AAC_PRIMING_SAMPLES before the
    // first input sample (21.3 ms at 48 kHz), and MPEG-TS has no edit list to hide it. So the
    // audio is cut (or padded with silence, if the source's audio starts late) to begin exactly
    // AAC_PRIMING_SAMPLES after the first video frame: its priming packet then starts with the
    // video, and the real sound stays in sync. Resampled to 48 kHz first, so that first_pts counts
    // output samples and the resampler's own delay is already accounted for. min_hard_comp: only
    // the start is corrected, the rest of the audio is kept as the source has it.
    args.push("-af", `aresample=48000,aresample=async=1:min_hard_comp=${AUDIO_SYNC_ONLY_AT_START}:first_pts=${AAC_PRIMING_SAMPLES}`);
    // Stereo 48 kHz AAC-LC everywhere: 5.1 sources are downmixed (the bitrates are stereo budgets).
    args.push("-c:a", "aac", "-ac", "2", "-ar", "48000");
    // One audio output stream per tier (mapped with its video above), each at the tier's bitrate.
    for (const [i, r] of renditions.entries()) args.push(`-b:a:${i}`, String(audioBitrateFor(r)));
  }

  const varStreamMap = renditions.map((r, i) => (hasAudio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`)).join(" ");

  args.push(
    // Audio packets can arrive well before the first filtered video frame; the default queue
    // (128 packets) then overflows with "Too many packets buffered".
    "-max_muxing_queue_size",
    "4096",
    "-f",
    "hls",
    // Every segment is segmentSeconds long (6 s, Apple's authoring rules), cut at the keyframe
    // that falls exactly there (one per segment, see MAX_KEYFRAME_INTERVAL_SECONDS).
    // The short first segments: ffmpeg 5.1 cuts at -hls_init_time until the segment count passes
    // -hls_list_size (its live-window test), so an unbounded list (0) cut EVERY segment at the
    // initial length (measured: all 2 s with -hls_time 4). With the list size set to the number of
    // short segments, only those are short; an EVENT playlist still lists every segment (checked:
    // 1, 1, 6, 6 … s, all in the playlist, also while it is being written).
    "-hls_time",
    String(segmentSeconds),
    "-hls_init_time",
    String(FIRST_SEGMENT_SECONDS),
    // EVENT, not VOD: ffmpeg rewrites an EVENT playlist after every segment (so the video can
    // be published while it is being encoded) and appends #EXT-X-ENDLIST when it finishes.
    // With -hls_playlist_type vod, ffmpeg 5.1 writes no playlist at all until the very end
    // (checked). A finished EVENT playlist with ENDLIST is a complete VOD for players.
    "-hls_playlist_type",
    "event",
    "-hls_list_size",
    String(FIRST_SEGMENTS),
    // independent_segments: every segment starts with a keyframe (true by the GOP rules above);
    // temp_file: segments and playlists are written under a temporary name and renamed, so a
    // reader never sees half a file.
    "-hls_flags",
    "independent_segments+temp_file",
    "-hls_segment_type",
    "mpegts",
    "-hls_segment_filename",
    join(outputDir, "%v", SEGMENT_PATTERN),
    "-var_stream_map",
    varStreamMap,
    join(outputDir, "%v", VARIANT_PLAYLIST),
  );
  return args;
}

export interface PosterArgsOptions {
  input: string;
  output: string;
  durationSec: number;
  /** Display size of the source (after rotation), from probe. */
  width: number;
  height: number;
}

/** Frames the thumbnail filter compares; ~2 s at 25-30 fps, ~80 MB of frames at 720p. */
export const POSTER_CANDIDATE_FRAMES = 50;
/**
 * The poster is the first picture a viewer on a slow link sees, and it shares the link with the
 * player's code: 480 lines at JPEG quality 4 is about half the bytes of 720 at 3 (≈ 28 KB vs 61 KB
 * on the benchmark clip, a quarter second sooner at 1 Mbit/s) and is replaced by video within seconds.
 */
export const POSTER_MAX_HEIGHT = 480;
const POSTER_JPEG_QUALITY = 4;

/**
 * Where to look for the poster: 10 % into the video but no later than 3 s. The very first frame
 * is often black or a fade-in; much later and a short clip runs out of frames to choose from.
 */
export function posterSeekSeconds(durationSec: number): number {
  return Math.max(0, Math.min(durationSec * 0.1, 3));
}

export function buildPosterArgs(opts: PosterArgsOptions): string[] {
  const height = Math.min(POSTER_MAX_HEIGHT, 2 * Math.floor(opts.height / 2));
  const width = Math.max(2, 2 * Math.round((opts.width * height) / opts.height / 2));
  const seek = posterSeekSeconds(opts.durationSec).toFixed(3);
  return [
    "-hide_banner",
    "-nostdin",
    "-y",
    "-loglevel",
    "error",
    // Before -i: a fast seek (to the keyframe before, then decode to the exact time).
    "-ss",
    seek,
    "-i",
    opts.input,
    "-map",
    "0:V:0",
    // Scale first so the thumbnail filter buffers small frames; it then picks, of the next
    // POSTER_CANDIDATE_FRAMES frames, the one closest to their average histogram: a typical
    // frame, not a black one or a flash. At end of input it picks among the frames it has.
    "-vf",
    `scale=${width}:${height},setsar=1,thumbnail=${POSTER_CANDIDATE_FRAMES}`,
    "-frames:v",
    "1",
    "-an",
    "-sn",
    "-dn",
    "-q:v",
    String(POSTER_JPEG_QUALITY),
    "-f",
    "image2",
    "-update",
    "1",
    opts.output,
  ];
}
