import { describe, expect, it } from "vitest";
import type { SourceProbe } from "../../contract/transcode.ts";
import { chooseLadder } from "./ladder.ts";
import { writeMasterPlaylist } from "./master-playlist.ts";

function source(width: number, height: number, extra: Partial<SourceProbe> = {}): SourceProbe {
  return { durationSec: 60, width, height, rotation: 0, frameRate: 30, hasAudio: true, videoCodec: "h264", ...extra };
}

describe("writeMasterPlaylist", () => {
  it("writes every tier with bandwidths, resolution, codecs and frame rate, lowest first", () => {
    const ladder = chooseLadder(source(1920, 1080));
    expect(writeMasterPlaylist([...ladder].reverse(), true, 30)).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-START:TIME-OFFSET=0",
        '#EXT-X-STREAM-INF:BANDWIDTH=642654,AVERAGE-BANDWIDTH=525920,RESOLUTION=426x240,CODECS="avc1.4d401e,mp4a.40.2",FRAME-RATE=30.000',
        "240p/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=1204347,AVERAGE-BANDWIDTH=970880,RESOLUTION=854x480,CODECS="avc1.4d401f,mp4a.40.2",FRAME-RATE=30.000',
        "480p/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=2162590,AVERAGE-BANDWIDTH=1724840,RESOLUTION=1280x720,CODECS="avc1.4d401f,mp4a.40.2",FRAME-RATE=30.000',
        "720p/index.m3u8",
        "",
      ].join("\n"),
    );
  });

  it("finished: no start hint, and one I-frame playlist per tier after the tiers, video codec only", () => {
    const ladder = chooseLadder(source(1280, 720));
    const iframes = new Map(ladder.map((r, i) => [r.name, { bandwidth: 100_000 * (i + 1), averageBandwidth: 50_000 * (i + 1) }]));
    const text = writeMasterPlaylist(ladder, true, 30, { iframes });
    expect(text).not.toContain("#EXT-X-START");
    expect(text.trim().split("\n").slice(-3)).toEqual([
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,AVERAGE-BANDWIDTH=50000,RESOLUTION=426x240,CODECS="avc1.4d401e",URI="240p/iframes.m3u8"',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=200000,AVERAGE-BANDWIDTH=100000,RESOLUTION=854x480,CODECS="avc1.4d401f",URI="480p/iframes.m3u8"',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=150000,RESOLUTION=1280x720,CODECS="avc1.4d401f",URI="720p/iframes.m3u8"',
    ]);
    // The tiers themselves are listed exactly as in the early master.
    expect(text.split("\n").filter((l) => !l.startsWith("#EXT-X-I-FRAME"))).toEqual(
      writeMasterPlaylist(ladder, true, 30)
        .split("\n")
        .filter((l) => !l.startsWith("#EXT-X-START")),
    );
    expect(() => writeMasterPlaylist(ladder, true, 30, { iframes: new Map() })).toThrow(/240p/);
  });

  it("finished: carries each tier's measured peak and average instead of the estimates", () => {
    const ladder = chooseLadder(source(1280, 720));
    const iframes = new Map(ladder.map((r) => [r.name, { bandwidth: 1000, averageBandwidth: 900 }]));
    const tiers = new Map([
      ["240p", { bandwidth: 231_000, averageBandwidth: 190_000 }],
      ["480p", { bandwidth: 402_000, averageBandwidth: 310_000 }],
      ["720p", { bandwidth: 655_000, averageBandwidth: 480_000 }],
    ]);
    const streams = writeMasterPlaylist(ladder, true, 30, { iframes, tiers })
      .split("\n")
      .filter((l) => l.startsWith("#EXT-X-STREAM-INF:"));
    expect(streams.map((l) => /BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),RESOLUTION=(\w+)/.exec(l)!.slice(1))).toEqual([
      ["231000", "190000", "426x240"],
      ["402000", "310000", "854x480"],
      ["655000", "480000", "1280x720"],
    ]);
  });

  it("advertises video only when there is no audio", () => {
    const text = writeMasterPlaylist(chooseLadder(source(360, 640, { hasAudio: false })), false, 30);
    expect(text).not.toContain("mp4a");
    expect(text).toContain('RESOLUTION=240x426,CODECS="avc1.4d401e"');
    expect(text).toContain('RESOLUTION=360x640,CODECS="avc1.4d401e"');
    expect(text.trim().split("\n").slice(-1)[0]).toBe("360p/index.m3u8");
  });

  it("advertises the capped output frame rate", () => {
    const ladder = chooseLadder(source(1280, 720));
    expect(writeMasterPlaylist(ladder, true, 60000 / 1001)).toContain("FRAME-RATE=29.970");
    expect(writeMasterPlaylist(ladder, true, 50)).toContain("FRAME-RATE=25.000");
  });

  it("ends every STREAM-INF with its variant URI on the next line", () => {
    const lines = writeMasterPlaylist(chooseLadder(source(1280, 720)), true, 30)
      .trim()
      .split("\n");
    lines.forEach((line, i) => {
      if (line.startsWith("#EXT-X-STREAM-INF:")) expect(lines[i + 1]).toMatch(/^\d+p\/index\.m3u8$/);
    });
  });
});
