import { describe, expect, it } from "vitest";
import type { SourceProbe } from "../../contract/transcode.ts";
import {
  AUDIO_BITRATE,
  audioBitrateFor,
  capFrameRate,
  chooseLadder,
  gopFrames,
  keyframeIntervalSeconds,
  peakBandwidth,
  TS_OVERHEAD_BPS,
  TS_OVERHEAD_FACTOR,
  VIDEO_PEAK_FACTOR,
} from "./ladder.ts";
import { parseProbeOutput } from "./probe.ts";

function source(width: number, height: number, extra: Partial<SourceProbe> = {}): SourceProbe {
  return { durationSec: 60, width, height, rotation: 0, frameRate: 30, hasAudio: true, videoCodec: "h264", ...extra };
}

/** name WxH@kbps, compact enough to compare whole ladders. */
function summary(probe: SourceProbe): string[] {
  return chooseLadder(probe).map((r) => `${r.name} ${r.width}x${r.height}@${r.videoBitrate / 1000}`);
}

describe("chooseLadder", () => {
  it("gives a 720p landscape source all three tiers, the top one at its own size", () => {
    expect(summary(source(1280, 720))).toEqual(["240p 426x240@400", "480p 854x480@800", "720p 1280x720@1500"]);
  });

  it("caps a 1080p source at 720p", () => {
    expect(summary(source(1920, 1080))).toEqual(["240p 426x240@400", "480p 854x480@800", "720p 1280x720@1500"]);
  });

  it("names portrait tiers by the short side and keeps the orientation", () => {
    expect(summary(source(720, 1280))).toEqual(["240p 240x426@400", "480p 480x854@800", "720p 720x1280@1500"]);
  });

  it("gives a 360p portrait source 240p plus a 360p tier at its own size", () => {
    const ladder = chooseLadder(source(360, 640, { hasAudio: false }));
    expect(ladder.map((r) => `${r.name} ${r.width}x${r.height}@${r.videoBitrate / 1000}`)).toEqual([
      "240p 240x426@400",
      "360p 360x640@600",
    ]);
    // Without audio the estimate carries no AAC share.
    expect(ladder[1]!.bandwidth).toBe(841_100); // 600k × 1.2833 × 1.03 + 48k
  });

  it("adds no in-between tier when the source is barely above a tier (500p)", () => {
    expect(summary(source(888, 500))).toEqual(["240p 426x240@400", "480p 852x480@800"]);
  });

  it("adds an in-between tier from 1.25x the tier below (600p)", () => {
    expect(summary(source(1066, 600))).toEqual(["240p 426x240@400", "480p 852x480@800", "600p 1066x600@1150"]);
  });

  it("rounds odd dimensions to even and never goes above the source", () => {
    const ladder = chooseLadder(source(1279, 719));
    for (const r of ladder) {
      expect(r.width % 2).toBe(0);
      expect(r.height % 2).toBe(0);
      expect(r.width).toBeLessThanOrEqual(1279);
      expect(r.height).toBeLessThanOrEqual(719);
    }
    expect(ladder.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(["240p 426x240", "480p 854x480", "718p 1278x718"]);
    expect(ladder[2]!.videoBitrate).toBeGreaterThan(800_000);
    expect(ladder[2]!.videoBitrate).toBeLessThan(1_500_000);
  });

  it("gives a source below 240p one tier at its own (even) size with a reduced bitrate", () => {
    expect(summary(source(160, 120))).toEqual(["120p 160x120@200"]);
    expect(summary(source(175, 99))).toEqual(["98p 174x98@165"]);
    expect(summary(source(64, 48))).toEqual(["48p 64x48@100"]);
  });

  it("gives a square source square tiers", () => {
    expect(summary(source(1080, 1080))).toEqual(["240p 240x240@400", "480p 480x480@800", "720p 720x720@1500"]);
  });

  it("treats a phone clip stored landscape with rotation 90 as portrait", () => {
    const probe = parseProbeOutput({
      streams: [
        {
          codec_type: "video",
          codec_name: "h264",
          width: 1920,
          height: 1080,
          avg_frame_rate: "30/1",
          side_data_list: [{ side_data_type: "Display Matrix", rotation: -90 }],
        },
        { codec_type: "audio", codec_name: "aac" },
      ],
      format: { duration: "12.5" },
    });
    expect(probe.rotation).toBe(90);
    expect(summary(probe)).toEqual(["240p 240x426@400", "480p 480x854@800", "720p 720x1280@1500"]);
  });

  it("lists tiers lowest first with increasing bandwidth", () => {
    const bandwidths = chooseLadder(source(1920, 1080)).map((r) => r.bandwidth);
    expect(bandwidths).toEqual([...bandwidths].sort((a, b) => a - b));
  });
});

describe("peakBandwidth", () => {
  it("is the VBV peak of the video (maxrate + 2 s buffer over 6 s) plus audio, plus TS overhead", () => {
    expect(VIDEO_PEAK_FACTOR).toBeCloseTo(0.95 + 2 / 6);
    expect(TS_OVERHEAD_FACTOR).toBe(1.03);
    expect(TS_OVERHEAD_BPS).toBe(48_000);
    expect(AUDIO_BITRATE).toBe(128_000);
    expect(peakBandwidth(1_500_000, 128_000)).toBe(2_162_590); // (1.5M × 1.2833 + 128k) × 1.03 + 48k
    expect(peakBandwidth(400_000, 0)).toBe(576_734); // 400k × 1.2833 × 1.03 + 48k, rounded up
  });
});

describe("audioBitrateFor", () => {
  it("fits the audio to the tier: 64k up to 240p, 96k up to 480p, 128k above, portrait by its short side", () => {
    expect(audioBitrateFor({ width: 426, height: 240 })).toBe(64_000);
    expect(audioBitrateFor({ width: 240, height: 426 })).toBe(64_000);
    expect(audioBitrateFor({ width: 640, height: 360 })).toBe(96_000);
    expect(audioBitrateFor({ width: 854, height: 480 })).toBe(96_000);
    expect(audioBitrateFor({ width: 1280, height: 720 })).toBe(128_000);
    expect(audioBitrateFor({ width: 720, height: 1280 })).toBe(128_000);
  });
});

describe("capFrameRate", () => {
  it("keeps rates up to 30", () => {
    expect(capFrameRate(24)).toBe(24);
    expect(capFrameRate(25)).toBe(25);
    expect(capFrameRate(30)).toBe(30);
    expect(capFrameRate(30000 / 1001)).toBeCloseTo(29.97, 2);
  });

  it("divides higher rates by a whole number", () => {
    expect(capFrameRate(60)).toBe(30);
    expect(capFrameRate(60000 / 1001)).toBeCloseTo(29.97, 2);
    expect(capFrameRate(50)).toBe(25);
    expect(capFrameRate(120)).toBe(30);
    expect(capFrameRate(90)).toBe(30);
  });

  it("never exceeds 30", () => {
    for (const fps of [31, 44, 47.952, 72, 100, 144, 239.76]) expect(capFrameRate(fps)).toBeLessThanOrEqual(30);
  });

  it("falls back to 30 for nonsense", () => {
    expect(capFrameRate(Number.NaN)).toBe(30);
    expect(capFrameRate(0)).toBe(30);
  });
});

describe("keyframe interval and GOP", () => {
  it("uses the largest interval of at most 6 s that divides the segment: one keyframe per segment up to 6 s", () => {
    expect(keyframeIntervalSeconds(6)).toBe(6);
    expect(keyframeIntervalSeconds(4)).toBe(4);
    expect(keyframeIntervalSeconds(2)).toBe(2);
    expect(keyframeIntervalSeconds(1)).toBe(1);
    expect(keyframeIntervalSeconds(8)).toBe(4);
    expect(keyframeIntervalSeconds(10)).toBe(5);
    expect(keyframeIntervalSeconds(20)).toBe(5);
  });

  it("always divides the segment duration a whole number of times", () => {
    for (const seg of [1, 2, 3, 4, 5, 6, 8, 10]) {
      const n = seg / keyframeIntervalSeconds(seg);
      expect(Math.abs(n - Math.round(n))).toBeLessThan(1e-9);
    }
  });

  it("counts the GOP in output frames", () => {
    expect(gopFrames(30, 6)).toBe(180);
    expect(gopFrames(25, 4)).toBe(100);
    expect(gopFrames(30000 / 1001, 6)).toBe(180);
    expect(gopFrames(24, 3)).toBe(72);
  });

  it("rejects a non-positive segment duration", () => {
    expect(() => keyframeIntervalSeconds(0)).toThrow();
  });
});
