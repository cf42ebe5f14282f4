/**
 * H.264 profile/level and the RFC 6381 CODECS strings the master playlist advertises.
 *
 * The encoder is told the same profile and level (`-profile:v:N main -level:v:N x.y`) as the
 * playlist announces, so a player that filters tiers on CODECS (Safari, smart TVs) sees the truth.
 */

export type H264Profile = "main" | "high";

/**
 * Main on every tier, measured, not assumed. Apple's HLS authoring rules prefer High for 480p and
 * up, for its 8x8 transform. With our encoder settings (veryfast, diamond motion search, capped
 * crf 26, 6 s GOP) on 12 s of 720p30, High vs Main at the same crf: a still picture with grain
 * +3.1 % bytes for +0.0014 SSIM, a screen recording +0.7 % bytes for -0.0002 SSIM, and 3-12 %
 * more encoder user CPU. No win worth a profile that the oldest players may refuse, so Main
 * stays; the profile is chosen per tier here so that a future measurement can change it in one place.
 */
export function h264ProfileFor(_width: number, _height: number): H264Profile {
  return "main";
}

/**
 * profile_idc and the constraint byte x264 writes for it: Main is 77 with constraint_set1_flag
 * (0x40); High is 100 with no constraint flags (checked with ffprobe on our outputs).
 */
const PROFILE_BYTES: Record<H264Profile, { idc: number; constraints: number }> = {
  main: { idc: 0x4d, constraints: 0x40 },
  high: { idc: 0x64, constraints: 0x00 },
};

interface H264Level {
  /** As given to x264, e.g. "3.1". */
  name: string;
  /** level_idc, e.g. 31. */
  idc: number;
  /** Max frame size in macroblocks. */
  maxFrameMbs: number;
  /** Max macroblocks per second. */
  maxMbps: number;
}

/** ITU-T H.264 Table A-1, from 3.0 up (below 3.0 buys nothing: every HLS client does 3.0). */
const LEVELS: readonly H264Level[] = [
  { name: "3.0", idc: 30, maxFrameMbs: 1620, maxMbps: 40_500 },
  { name: "3.1", idc: 31, maxFrameMbs: 3600, maxMbps: 108_000 },
  { name: "3.2", idc: 32, maxFrameMbs: 5120, maxMbps: 216_000 },
  { name: "4.0", idc: 40, maxFrameMbs: 8192, maxMbps: 245_760 },
  { name: "4.2", idc: 42, maxFrameMbs: 8704, maxMbps: 522_240 },
  { name: "5.0", idc: 50, maxFrameMbs: 22_080, maxMbps: 589_824 },
  { name: "5.1", idc: 51, maxFrameMbs: 36_864, maxMbps: 983_040 },
];

/**
 * The lowest level whose frame-size and macroblock-rate limits fit the picture. (Bitrate limits
 * are far above our tiers' maxrate at every level listed, so they never decide.) 1280x720@30 →
 * 3.1; 854x480@30 → 3.1; 426x240@30 → 3.0.
 */
export function h264LevelFor(width: number, height: number, fps: number): H264Level {
  const widthMbs = Math.ceil(width / 16);
  const heightMbs = Math.ceil(height / 16);
  const frameMbs = widthMbs * heightMbs;
  const mbps = frameMbs * Math.ceil(fps);
  for (const level of LEVELS) {
    // Table A-1 also bounds each side: at most sqrt(8 * MaxFS) macroblocks.
    const maxSideMbs = Math.sqrt(8 * level.maxFrameMbs);
    if (frameMbs <= level.maxFrameMbs && mbps <= level.maxMbps && widthMbs <= maxSideMbs && heightMbs <= maxSideMbs) {
      return level;
    }
  }
  return LEVELS[LEVELS.length - 1]!;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** e.g. "avc1.4d401e" for Main@3.0 (240p), "avc1.4d401f" for Main@3.1 (720p); High would be "avc1.6400xx". */
export function avc1Codec(width: number, height: number, fps: number): string {
  const level = h264LevelFor(width, height, fps);
  const profile = PROFILE_BYTES[h264ProfileFor(width, height)];
  return `avc1.${hex2(profile.idc)}${hex2(profile.constraints)}${hex2(level.idc)}`;
}

/** AAC-LC (audio object type 2). */
export const AAC_LC_CODEC = "mp4a.40.2";
