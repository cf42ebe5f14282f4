/**
 * The HLS ladder: which renditions a source gets, at which size and bitrate, and the
 * rate-control / keyframe numbers that go with them. Pure: no I/O, no ffmpeg.
 *
 * Tier names follow the picture's SHORT side, so a portrait phone clip (720x1280) gets "720p" as
 * 720x1280 and a landscape one (1280x720) gets "720p" as 1280x720: the same pixel budget for the
 * same name, whatever the orientation.
 */
import type { Rendition, SourceProbe } from "../../contract/transcode.ts";

export interface Tier {
  /** Short side of the picture, in pixels. */
  shortSide: number;
  /** Ceiling of the video bitrate (x264 maxrate), bits per second: hard content gets this much. */
  videoBitrate: number;
  /** x264 constant-rate factor: the quality easy content is encoded at, below the ceiling. */
  crf: number;
  /** Most consecutive B-frames x264 may use (-bf): a CPU-for-bytes trade, see below. */
  bframes: number;
}

/**
 * Capped CRF: each tier is encoded at a constant quality (crf) with the bitrate as a ceiling
 * (maxrate/bufsize), so a still talking head or a screen recording takes a fraction of the
 * ceiling and hard content never more. The crf values come from `npm run bench -- ladder` (30 s
 * 720p30 sources; ours vs the plan's fixed-bitrate command, bytes and SSIM per tier):
 *   - screen recording: 0.56× / 0.38× / 0.73× the plan's bytes (240p/480p/720p), SSIM -0.003 or less;
 *   - high motion + noise: 0.89× / 0.99× / 0.98× (the ceiling binds), SSIM -0.004 to -0.007;
 *   - still picture with grain ("talking head"): 0.52× / 0.58× / 0.61×, but SSIM -0.04 to -0.08:
 *     the plan's slower preset keeps the grain, ours smooths it; lower crf buys little of it back
 *     (crf 17 at 720p: 0.92× the bytes, still -0.043), so the crf is set for the other two.
 * 240p at 25, not higher: at 27 high motion lost 0.012 SSIM while using only 0.79× the bytes.
 *
 * B-frames per tier, for CPU: x264's B-frames (veryfast: up to 3, adaptive) were the one x264
 * setting that moved the CPU time of the ladder; on the same three sources (ffmpeg's own CPU-s per
 * 30 s, whole ladder, 2 runs each), up to 3 everywhere: talking head 8.5, screen 7.3, high motion
 * 22.1; none at 480p/720p and one at 240p: 7.6 / 6.3 / 16.9 (-18 % in all, -24 % on high motion).
 * SSIM stayed or rose (+0.000 to +0.004 per tier); bytes stayed within 3 % except the screen
 * recording at 480p (+33 %, 0.50× the plan's, under its 0.6× target). At 480p and 720p the bytes
 * are bound by the ceiling or the B-frames bought little; at 240p none would cost the screen
 * recording +15 % (0.65× the plan's, over its target), one costs +4 %. Mixed counts keep the tiers
 * aligned: the keyframes have the same timestamps in every tier (ffmpeg.real.test.ts).
 * In `npm run bench -- ladder`: 19.3 CPU-s per minute of 720p against today's command's 23.0
 * (0.84×; it was 23.3 against 23.9, 0.97×), high motion 0.81×, talking head and screen 0.89×.
 */
export const TIERS: readonly Tier[] = [
  { shortSide: 240, videoBitrate: 400_000, crf: 25, bframes: 1 },
  { shortSide: 480, videoBitrate: 800_000, crf: 24, bframes: 0 },
  { shortSide: 720, videoBitrate: 1_500_000, crf: 26, bframes: 0 },
];

/**
 * AAC-LC stereo, muxed into each tier's segments, at a bitrate that fits the tier: 128 kbit/s beside
 * a 400 kbit/s 240p ceiling was a quarter of the lowest tier's bytes (16 KB of its 54 KB first
 * segment) for the viewers who pay most for each byte. 64 kbit/s stereo AAC-LC is still clean for
 * speech and music on a phone's speaker; 96 kbit/s up to 480p; 128 kbit/s above.
 */
export const AUDIO_BITRATE = 128_000;
const AUDIO_BITRATES: readonly { maxShortSide: number; bitrate: number }[] = [
  { maxShortSide: 240, bitrate: 64_000 },
  { maxShortSide: 480, bitrate: 96_000 },
];

/** The audio bitrate of a tier of this size (its short side, as the tiers are named). */
export function audioBitrateFor(size: { width: number; height: number }): number {
  const shortSide = Math.min(size.width, size.height);
  return AUDIO_BITRATES.find((a) => shortSide <= a.maxShortSide)?.bitrate ?? AUDIO_BITRATE;
}

/**
 * Rate control (x264 CRF with VBV): maxrate is 95 % of the tier's bitrate (the ceiling), the VBV
 * buffer holds two seconds of the bitrate. The 5 % below: x264 starts with the buffer 90 % full,
 * which a 30 s clip spends on top of maxrate (+6 %), and hard content must never take more bytes
 * than the plan's fixed-bitrate encode. With one keyframe per 6 s segment, a 1 s buffer starved each
 * keyframe of a detailed still picture (measured: a screen recording at 720p took as many bytes
 * for less quality); 2 s lets it take what it needs, and a 6 s segment still averages at most
 * (6 + 2) / 6 of the ceiling.
 */
export const MAXRATE_FACTOR = 0.95;
export const BUFSIZE_FACTOR = 2.0;

/**
 * The EARLY master playlist (written before the encode) can only carry an estimate of the PEAK
 * segment bitrate (RFC 8216 §4.3.4.2); the finished master carries the measured one (finish.ts).
 * Over a segment of T seconds the VBV lets the encoder spend at most maxrate·T + bufsize bits,
 * i.e. (0.95 + 2.0/T)·bitrate per second; T = 6 s, our segment length: 1.28× the bitrate.
 */
export const MIN_SEGMENT_SECONDS = 6;
export const VIDEO_PEAK_FACTOR = MAXRATE_FACTOR + BUFSIZE_FACTOR / MIN_SEGMENT_SECONDS;

/**
 * MPEG-TS costs bytes on top of the elementary streams: a 4-byte header per 188-byte packet
 * (~2.1 %, proportional) plus a roughly fixed cost per second: PES headers and the padding of the
 * last packet of every video frame and audio PES, PAT/PMT. Measured on our ladder (segment bytes
 * vs elementary-stream bytes): +41-50 kbit/s and 2.2 % of the video rate, i.e. 9 % at 240p but
 * 4.5 % at 720p, so one flat percentage is wrong at one end or the other.
 */
export const TS_OVERHEAD_FACTOR = 1.03;
export const TS_OVERHEAD_BPS = 48_000;

/**
 * A source whose short side is at least this much larger than the highest tier it can fill gets
 * an extra tier at its own size. A 360p source thus gets 240p + 360p: squeezing it to 240p only
 * would throw away a third of its lines for every viewer, while 360p at ~600 kbit/s still fits
 * the slow links the lowest tier is for. A 500p source (only 4 % above 480p) does not: 480p
 * loses almost nothing and one more encode is not worth it.
 */
export const NATIVE_TIER_MIN_STEP = 1.25;

/** Below this a tier is not worth its bits; tiny sources still get a watchable rate. */
const MIN_VIDEO_BITRATE = 100_000;

/** The named tier whose settings a tier of this short side takes: the nearest at or below it. */
function tierFor(shortSide: number): Tier {
  const below = TIERS.filter((t) => t.shortSide <= shortSide);
  return below[below.length - 1] ?? TIERS[0]!;
}

/** Nearest even number (H.264 4:2:0 needs even dimensions), at least 2. */
export function roundEven(n: number): number {
  return Math.max(2, 2 * Math.round(n / 2));
}

/** Largest even number not above n (never upscale past the source), at least 2. */
export function floorEven(n: number): number {
  return Math.max(2, 2 * Math.floor(n / 2));
}

/** Stream bits per second → bits per second on the wire in MPEG-TS, rounded up. */
function withTsOverhead(bps: number): number {
  // Rounding first keeps float noise (1.03 × … = x.0000000001) from adding a bit.
  return Math.ceil(Math.round((bps * TS_OVERHEAD_FACTOR + TS_OVERHEAD_BPS) * 1000) / 1000);
}

/** Peak BANDWIDTH estimate for a video bitrate, in bits per second (see VIDEO_PEAK_FACTOR). */
export function peakBandwidth(videoBitrate: number, audioBitrate: number): number {
  return withTsOverhead(videoBitrate * VIDEO_PEAK_FACTOR + audioBitrate);
}

/** AVERAGE-BANDWIDTH estimate: what the encoder aims at, plus the container. */
export function averageBandwidth(videoBitrate: number, audioBitrate: number): number {
  return withTsOverhead(videoBitrate + audioBitrate);
}

export function maxrateOf(videoBitrate: number): number {
  return Math.round(videoBitrate * MAXRATE_FACTOR);
}

/** Two seconds of the tier's bitrate (not of maxrate). */
export function bufsizeOf(videoBitrate: number): number {
  return Math.round(videoBitrate * BUFSIZE_FACTOR);
}

function rendition(name: string, width: number, height: number, videoBitrate: number, hasAudio: boolean): Rendition {
  return { name, width, height, videoBitrate, bandwidth: peakBandwidth(videoBitrate, hasAudio ? audioBitrateFor({ width, height }) : 0) };
}

/** The x264 crf of a rendition (named tiers by name, others by their short side). */
export function renditionCrf(r: Pick<Rendition, "width" | "height">): number {
  return tierFor(Math.min(r.width, r.height)).crf;
}

/** The x264 B-frame count of a rendition (named tiers by name, others by their short side). */
export function renditionBframes(r: Pick<Rendition, "width" | "height">): number {
  return tierFor(Math.min(r.width, r.height)).bframes;
}

/** Scale the source so its short side becomes `shortSide`, keeping orientation and aspect. */
function scaledTo(probe: SourceProbe, tier: Tier): Rendition {
  const { width, height } = probe;
  const portrait = height > width;
  const sourceShort = Math.min(width, height);
  const sourceLong = Math.max(width, height);
  // The short side is exact; the long side carries the rounding (at most 1 px off the aspect).
  const long = roundEven((sourceLong * tier.shortSide) / sourceShort);
  const w = portrait ? tier.shortSide : long;
  const h = portrait ? long : tier.shortSide;
  return rendition(`${tier.shortSide}p`, w, h, tier.videoBitrate, probe.hasAudio);
}

/** A tier at the source's own size (even-floored): for tiny sources and in-between sizes. */
function nativeTier(probe: SourceProbe, videoBitrate: number): Rendition {
  const w = floorEven(probe.width);
  const h = floorEven(probe.height);
  return rendition(`${Math.min(w, h)}p`, w, h, Math.round(videoBitrate / 1000) * 1000, probe.hasAudio);
}

/**
 * The renditions for a source, lowest first. Never a tier above the source's short side:
 * upscaling spends bits on detail that is not there.
 */
export function chooseLadder(probe: SourceProbe): Rendition[] {
  const sourceShort = Math.min(probe.width, probe.height);
  const fitting = TIERS.filter((t) => t.shortSide <= sourceShort);
  const lowest = TIERS[0]!;

  if (fitting.length === 0) {
    // Smaller than 240p: one tier at its own size, bitrate scaled down with the short side.
    const bitrate = Math.max(MIN_VIDEO_BITRATE, (lowest.videoBitrate * sourceShort) / lowest.shortSide);
    return [nativeTier(probe, bitrate)];
  }

  const ladder = fitting.map((tier) => scaledTo(probe, tier));
  const top = fitting[fitting.length - 1]!;
  const next = TIERS[fitting.length];
  if (next && sourceShort >= top.shortSide * NATIVE_TIER_MIN_STEP) {
    // Bitrate interpolated on the short side between the two tiers it sits between.
    const t = (sourceShort - top.shortSide) / (next.shortSide - top.shortSide);
    ladder.push(nativeTier(probe, top.videoBitrate + t * (next.videoBitrate - top.videoBitrate)));
  }
  return ladder;
}

/** Highest frame rate we encode. */
export const MAX_FRAME_RATE = 30;

/**
 * The output frame rate: the source's, or, above 30 fps, the source's divided by the smallest
 * whole number that brings it to 30 or below (60 → 30, 59.94 → 29.97, 50 → 25, 120 → 30).
 * Dividing by a whole number drops frames evenly; a flat min(fps, 30) would turn 50 fps into
 * 30 by dropping 2 frames in 5, which judders visibly on pans.
 */
export function capFrameRate(fps: number): number {
  if (!Number.isFinite(fps) || fps <= 0) return MAX_FRAME_RATE;
  if (fps <= MAX_FRAME_RATE) return fps;
  const divisor = Math.ceil(fps / MAX_FRAME_RATE - 1e-9);
  return fps / divisor;
}

/**
 * Longest distance between keyframes. 6 s, i.e. one keyframe per segment at our 6 s segments:
 * measured with `npm run bench -- ladder` (30 s 720p30), keyframes every 2 s cost a screen
 * recording 0.91-0.97× the plan's bytes at 720p against 0.65-0.69× with one per 6 s segment, and
 * left a still picture with grain 0.1 SSIM behind the plan at the same bytes (each keyframe
 * re-sends the whole still picture). Apple's authoring rules suggest a keyframe every 2 s; what a
 * player needs is one at the start of every segment (switching tiers, seeking, I-frame
 * playlists), which this keeps: every segment still starts with one.
 */
export const MAX_KEYFRAME_INTERVAL_SECONDS = 6;

/**
 * Keyframe interval in seconds: the largest interval ≤ 6 s that divides the segment duration
 * evenly (6 s → 6 s, 4 s → 4 s, 8 s → 4 s, 10 s → 5 s). The HLS muxer can only cut a segment on a
 * keyframe, so a keyframe must fall exactly where each segment should end; otherwise segments
 * come out longer than asked and differ in length.
 */
export function keyframeIntervalSeconds(segmentSeconds: number): number {
  if (!(segmentSeconds > 0)) throw new Error(`segmentSeconds must be positive, got ${segmentSeconds}`);
  return segmentSeconds / Math.ceil(segmentSeconds / MAX_KEYFRAME_INTERVAL_SECONDS - 1e-9);
}

/** GOP length in frames for the (capped) output frame rate. */
export function gopFrames(outputFps: number, segmentSeconds: number): number {
  return Math.max(1, Math.round(outputFps * keyframeIntervalSeconds(segmentSeconds)));
}
