import { describe, expect, it } from "vitest";
import { NotAVideoError, parseProbeOutput, parseRational, rotationOf, type ProbeOutput } from "./probe.ts";

function video(extra: Record<string, unknown> = {}) {
  return { codec_type: "video", codec_name: "h264", width: 1280, height: 720, avg_frame_rate: "30/1", r_frame_rate: "30/1", ...extra };
}
const audio = { codec_type: "audio", codec_name: "aac" };

describe("parseProbeOutput", () => {
  it("reads size, duration, frame rate, audio and codec", () => {
    expect(parseProbeOutput({ streams: [video(), audio], format: { duration: "4.021" } })).toEqual({
      durationSec: 4.021,
      width: 1280,
      height: 720,
      rotation: 0,
      frameRate: 30,
      hasAudio: true,
      videoCodec: "h264",
    });
  });

  it("swaps width and height for a Display Matrix rotation of ±90", () => {
    const minus90 = parseProbeOutput({
      streams: [video({ side_data_list: [{ side_data_type: "Display Matrix", rotation: -90 }] })],
      format: { duration: "3" },
    });
    expect([minus90.width, minus90.height, minus90.rotation]).toEqual([720, 1280, 90]);
    const plus90 = parseProbeOutput({
      streams: [video({ side_data_list: [{ side_data_type: "Display Matrix", rotation: 90 }] })],
      format: { duration: "3" },
    });
    expect([plus90.width, plus90.height, plus90.rotation]).toEqual([720, 1280, 270]);
  });

  it("keeps width and height for 180", () => {
    const p = parseProbeOutput({
      streams: [video({ side_data_list: [{ side_data_type: "Display Matrix", rotation: 180 }] })],
      format: { duration: "3" },
    });
    expect([p.width, p.height, p.rotation]).toEqual([1280, 720, 180]);
  });

  it("falls back to the legacy rotate tag", () => {
    const p = parseProbeOutput({ streams: [video({ tags: { rotate: "270" } })], format: { duration: "3" } });
    expect([p.width, p.height, p.rotation]).toEqual([720, 1280, 270]);
  });

  it("prefers avg_frame_rate and falls back to r_frame_rate", () => {
    const vfr = parseProbeOutput({
      streams: [video({ avg_frame_rate: "30000/1001", r_frame_rate: "90000/1" })],
      format: { duration: "3" },
    });
    expect(vfr.frameRate).toBeCloseTo(29.97, 2);
    const noAvg = parseProbeOutput({ streams: [video({ avg_frame_rate: "0/0", r_frame_rate: "25/1" })], format: { duration: "3" } });
    expect(noAvg.frameRate).toBe(25);
    const none = parseProbeOutput({ streams: [video({ avg_frame_rate: "0/0", r_frame_rate: "0/0" })], format: { duration: "3" } });
    expect(none.frameRate).toBe(30);
  });

  it("widens anamorphic sources to their display size", () => {
    const p = parseProbeOutput({ streams: [video({ width: 720, height: 576, sample_aspect_ratio: "64:45" })], format: { duration: "3" } });
    expect([p.width, p.height]).toEqual([1024, 576]);
  });

  it("uses the stream duration when the container has none", () => {
    expect(parseProbeOutput({ streams: [video({ duration: "7.5" })], format: {} }).durationSec).toBe(7.5);
    expect(parseProbeOutput({ streams: [video({ duration: "7.5" })], format: { duration: "N/A" } }).durationSec).toBe(7.5);
  });

  const notVideos: Array<[string, ProbeOutput, RegExp]> = [
    ["no streams at all", { streams: [], format: { duration: "3" } }, /no video stream/],
    ["audio only", { streams: [audio], format: { duration: "3" } }, /only audio/],
    ["audio with cover art", { streams: [audio, video({ disposition: { attached_pic: 1 } })], format: { duration: "3" } }, /only audio/],
    ["a still image", { streams: [video({ codec_name: "png" })], format: {} }, /no duration/],
    ["zero duration", { streams: [video()], format: { duration: "0.000000" } }, /no duration/],
    ["zero size", { streams: [video({ width: 0, height: 0 })], format: { duration: "3" } }, /no size/],
  ];
  for (const [what, output, reason] of notVideos) {
    it(`rejects ${what} as not a video`, () => {
      expect(() => parseProbeOutput(output)).toThrow(NotAVideoError);
      expect(() => parseProbeOutput(output)).toThrow(reason);
      expect(() => parseProbeOutput(output)).toThrow(/^This file is not a video we can read \(.+\)\.$/);
    });
  }
});

describe("helpers", () => {
  it("parseRational", () => {
    expect(parseRational("30000/1001")).toBeCloseTo(29.97, 2);
    expect(parseRational("25")).toBe(25);
    expect(parseRational("0/0")).toBeUndefined();
    expect(parseRational(undefined)).toBeUndefined();
  });

  it("rotationOf snaps odd angles to quarter turns", () => {
    expect(rotationOf({ side_data_list: [{ side_data_type: "Display Matrix", rotation: -90.0000021 }] })).toBe(90);
    expect(rotationOf({ side_data_list: [{ side_data_type: "Display Matrix", rotation: "-180.00" }] })).toBe(180);
    expect(rotationOf({})).toBe(0);
  });
});
