import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Rendition } from "../../contract/transcode.ts";
import { buildHlsArgs, buildPosterArgs, DEFAULT_X264_PARAMS, ffmpegRate, posterSeekSeconds } from "./ffmpeg.ts";
import { chooseLadder, TIERS } from "./ladder.ts";

const landscape = chooseLadder({
  durationSec: 60,
  width: 1280,
  height: 720,
  rotation: 0,
  frameRate: 30,
  hasAudio: true,
  videoCodec: "h264",
});
const portrait360 = chooseLadder({
  durationSec: 3,
  width: 360,
  height: 640,
  rotation: 0,
  frameRate: 30,
  hasAudio: false,
  videoCodec: "h264",
});

function hls(renditions: Rendition[], hasAudio: boolean, fps = 30, segmentSeconds = 4): string[] {
  return buildHlsArgs({ input: "/in/source", outputDir: "/out", renditions, hasAudio, fps, segmentSeconds });
}

/** The value following a flag (first occurrence). */
function argAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

describe("buildHlsArgs", () => {
  it("decodes once and splits into one scaler per tier", () => {
    const graph = argAfter(hls(landscape, true), "-filter_complex")!;
    expect(graph.startsWith("[0:V:0]split=3[s0][s1][s2];")).toBe(true);
    expect(graph).toContain("[s0]scale=426:240:flags=bicubic,setsar=1,format=yuv420p[v0]");
    expect(graph).toContain("[s1]scale=854:480:");
    expect(graph).toContain("[s2]scale=1280:720:");
    const args = hls(landscape, true);
    expect(args.filter((a) => a === "-i")).toHaveLength(1);
  });

  it("maps audio into every tier when there is audio", () => {
    const args = hls(landscape, true);
    expect(argAfter(args, "-var_stream_map")).toBe("v:0,a:0,name:240p v:1,a:1,name:480p v:2,a:2,name:720p");
    expect(args.filter((a) => a === "0:a:0")).toHaveLength(3);
    expect(argAfter(args, "-c:a")).toBe("aac");
    // Each tier's audio at the tier's bitrate (ladder.ts audioBitrateFor).
    expect(args).not.toContain("-b:a");
    expect([0, 1, 2].map((i) => argAfter(args, `-b:a:${i}`))).toEqual(["64000", "96000", "128000"]);
    // The audio starts one AAC priming frame after the first video frame (so its priming starts with the video).
    expect(argAfter(args, "-af")).toBe("aresample=48000,aresample=async=1:min_hard_comp=100000:first_pts=1024");
  });

  it("makes video-only tiers when there is no audio", () => {
    const args = hls(portrait360, false);
    expect(argAfter(args, "-filter_complex")).toMatch(/split=2\[s0\]\[s1\];/);
    expect(argAfter(args, "-var_stream_map")).toBe("v:0,name:240p v:1,name:360p");
    expect(args).not.toContain("0:a:0");
    expect(args).not.toContain("-c:a");
    expect(args).not.toContain("-af");
  });

  it("fixes the GOP to one 6 s segment of output frames and turns scene cuts off", () => {
    const args = hls(landscape, true, 30, 6);
    expect(argAfter(args, "-g")).toBe("180");
    expect(argAfter(args, "-keyint_min")).toBe("180");
    expect(argAfter(args, "-sc_threshold")).toBe("0");
    // A keyframe at the start of every segment: at 0, 1 and 2 s (the two short first segments), then every 6 s: 8, 14 …
    expect(argAfter(args, "-force_key_frames")).toBe("expr:gte(t,if(lte(n_forced,2),n_forced*1,2+(n_forced-2)*6))");
    expect(argAfter(args, "-hls_time")).toBe("6");
  });

  it("derives the GOP from the capped frame rate and the segment duration", () => {
    const args = hls(landscape, true, 60, 3);
    expect(argAfter(args, "-g")).toBe("90"); // 30 fps × 3 s
    expect(argAfter(args, "-force_key_frames")).toBe("expr:gte(t,if(lte(n_forced,2),n_forced*1,2+(n_forced-2)*3))");
    expect(argAfter(args, "-hls_time")).toBe("3");
  });

  it("thins frame rates above 30 before the split, and only then", () => {
    expect(argAfter(hls(landscape, true, 60), "-filter_complex")).toMatch(/^\[0:V:0\]fps=30,split=3/);
    expect(argAfter(hls(landscape, true, 60000 / 1001), "-filter_complex")).toMatch(/^\[0:V:0\]fps=30000\/1001,split/);
    expect(argAfter(hls(landscape, true, 50), "-filter_complex")).toMatch(/^\[0:V:0\]fps=25,split/);
    expect(argAfter(hls(landscape, true, 30), "-filter_complex")).not.toContain("fps=");
  });

  it("sets capped CRF, VBV, profile and level per tier (Main on every tier)", () => {
    const args = hls(landscape, true);
    expect(argAfter(args, "-c:v")).toBe("libx264");
    expect(argAfter(args, "-preset")).toBe("veryfast");
    expect(argAfter(args, "-x264-params")).toBe(DEFAULT_X264_PARAMS);
    expect(args.some((a) => a.startsWith("-b:v"))).toBe(false); // no average target: quality decides
    for (const [i, tier] of TIERS.entries()) {
      expect(argAfter(args, `-crf:v:${i}`)).toBe(String(tier.crf));
      expect(argAfter(args, `-maxrate:v:${i}`)).toBe(String(Math.round(0.95 * tier.videoBitrate))); // just under the tier's bitrate
      expect(argAfter(args, `-bufsize:v:${i}`)).toBe(String(2 * tier.videoBitrate)); // 2 s of the ceiling
    }
    expect(argAfter(args, "-profile:v:0")).toBe("main");
    expect(argAfter(args, "-profile:v:1")).toBe("main");
    expect(argAfter(args, "-profile:v:2")).toBe("main");
    expect(argAfter(args, "-level:v:0")).toBe("3.0");
    expect(argAfter(args, "-level:v:2")).toBe("3.1");
  });

  it("sets the B-frame count per tier: one at 240p, none at 480p and 720p", () => {
    const args = hls(landscape, true);
    expect([0, 1, 2].map((i) => argAfter(args, `-bf:v:${i}`))).toEqual(["1", "0", "0"]);
    expect(args).not.toContain("-bf"); // never one count for every stream
    // A tier at the source's own size (360p) takes the count of the named tier below it (240p).
    const native = hls(portrait360, false);
    expect(native.filter((a) => a.startsWith("-bf:v:"))).toEqual(["-bf:v:0", "-bf:v:1"]);
    expect([argAfter(native, "-bf:v:0"), argAfter(native, "-bf:v:1")]).toEqual(["1", "1"]);
  });

  it("writes growing EVENT playlists and segments per tier, without ffmpeg's master playlist", () => {
    const args = hls(landscape, true);
    expect(argAfter(args, "-f")).toBe("hls");
    expect(argAfter(args, "-hls_playlist_type")).toBe("event");
    // The list size only ends the short first segments (-hls_init_time): an EVENT playlist keeps
    // every segment whatever it is (ffmpeg.real.test.ts checks the playlists).
    expect(argAfter(args, "-hls_list_size")).toBe("2");
    expect(argAfter(args, "-hls_init_time")).toBe("1");
    expect(argAfter(args, "-hls_flags")).toBe("independent_segments+temp_file");
    expect(argAfter(args, "-hls_segment_filename")).toBe(join("/out", "%v", "seg_%05d.ts"));
    expect(args[args.length - 1]).toBe(join("/out", "%v", "index.m3u8"));
    expect(args).not.toContain("-master_pl_name");
  });

  it("reports progress on stdout and keeps stderr for errors", () => {
    const args = hls(landscape, true);
    expect(argAfter(args, "-progress")).toBe("pipe:1");
    expect(args).toContain("-nostats");
    expect(args).toContain("-nostdin");
    // Options before -i apply to the input; -progress must come before the output.
    expect(args.indexOf("-progress")).toBeLessThan(args.indexOf("-i"));
  });

  it("drops source metadata", () => {
    expect(argAfter(hls(landscape, true), "-map_metadata")).toBe("-1");
  });

  it("refuses an empty ladder", () => {
    expect(() => hls([], true)).toThrow();
  });
});

describe("ffmpegRate", () => {
  it("writes NTSC rates as exact fractions and others as decimals", () => {
    expect(ffmpegRate(30000 / 1001)).toBe("30000/1001");
    expect(ffmpegRate(24000 / 1001)).toBe("24000/1001");
    expect(ffmpegRate(30)).toBe("30");
    expect(ffmpegRate(25)).toBe("25");
    expect(ffmpegRate(22.5)).toBe("22.5");
  });
});

describe("buildPosterArgs", () => {
  it("seeks to 10 % of the duration, at most 3 s", () => {
    expect(posterSeekSeconds(1)).toBeCloseTo(0.1);
    expect(posterSeekSeconds(20)).toBe(2);
    expect(posterSeekSeconds(600)).toBe(3);
    const args = buildPosterArgs({ input: "/in", output: "/out/poster.jpg", durationSec: 600, width: 1920, height: 1080 });
    expect(argAfter(args, "-ss")).toBe("3.000");
    expect(args.indexOf("-ss")).toBeLessThan(args.indexOf("-i"));
  });

  it("picks a representative frame, at most 480 high, JPEG quality 4", () => {
    const args = buildPosterArgs({ input: "/in", output: "/out/poster.jpg", durationSec: 60, width: 1920, height: 1080 });
    expect(argAfter(args, "-vf")).toBe("scale=854:480,setsar=1,thumbnail=50");
    expect(argAfter(args, "-frames:v")).toBe("1");
    expect(argAfter(args, "-q:v")).toBe("4");
    expect(args[args.length - 1]).toBe("/out/poster.jpg");
  });

  it("keeps portrait and small sources at their aspect, never upscaled", () => {
    const portrait = buildPosterArgs({ input: "/in", output: "/o.jpg", durationSec: 9, width: 720, height: 1280 });
    expect(argAfter(portrait, "-vf")).toMatch(/^scale=270:480,/);
    const small = buildPosterArgs({ input: "/in", output: "/o.jpg", durationSec: 9, width: 640, height: 360 });
    expect(argAfter(small, "-vf")).toMatch(/^scale=640:360,/);
  });
});
