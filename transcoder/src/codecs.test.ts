import { describe, expect, it } from "vitest";
import { avc1Codec, h264LevelFor } from "./codecs.ts";

describe("h264LevelFor", () => {
  it("picks the lowest level that fits size and rate", () => {
    expect(h264LevelFor(426, 240, 30).name).toBe("3.0");
    expect(h264LevelFor(854, 480, 25).name).toBe("3.0"); // 1620 MBs × 25 = 40500
    expect(h264LevelFor(854, 480, 30).name).toBe("3.1");
    expect(h264LevelFor(1280, 720, 30).name).toBe("3.1");
    expect(h264LevelFor(720, 1280, 30).name).toBe("3.1");
    expect(h264LevelFor(1680, 720, 30).name).toBe("3.2"); // 21:9 at 720p: 4725 MBs
  });
});

describe("avc1Codec", () => {
  it("spells Main (with constraint_set1) on every tier, and the level in hex", () => {
    expect(avc1Codec(426, 240, 30)).toBe("avc1.4d401e");
    expect(avc1Codec(854, 480, 30)).toBe("avc1.4d401f");
    expect(avc1Codec(1280, 720, 30)).toBe("avc1.4d401f");
    expect(avc1Codec(720, 1280, 30)).toBe("avc1.4d401f");
  });
});
