import { describe, expect, it } from "vitest";
import {
  buildStoryboardArgs,
  parseStoryboardVtt,
  spriteSize,
  storyboardCues,
  storyboardLayout,
  vttTimestamp,
  writeStoryboardVtt,
} from "./storyboard.ts";

describe("storyboardLayout", () => {
  it("takes a frame every 2 s for short videos, in rows of at most 10 frames 160 px wide", () => {
    expect(storyboardLayout(60, 1280, 720)).toEqual({ intervalSec: 2, count: 30, columns: 10, rows: 3, tileWidth: 160, tileHeight: 90 });
    expect(storyboardLayout(7, 1920, 1080)).toEqual({ intervalSec: 2, count: 4, columns: 4, rows: 1, tileWidth: 160, tileHeight: 90 });
    expect(storyboardLayout(0.4, 640, 480)).toMatchObject({ intervalSec: 2, count: 1, columns: 1, rows: 1, tileHeight: 120 });
  });

  it("widens the interval up to 10 s so that a long video has at most 100 frames", () => {
    expect(storyboardLayout(200, 1280, 720)).toMatchObject({ intervalSec: 2, count: 100, columns: 10, rows: 10 });
    expect(storyboardLayout(201, 1280, 720)).toMatchObject({ intervalSec: 3, count: 67, rows: 7 });
    expect(storyboardLayout(600, 1280, 720)).toMatchObject({ intervalSec: 6, count: 100 });
    expect(storyboardLayout(1000, 1280, 720)).toMatchObject({ intervalSec: 10, count: 100 });
    // Past 1000 s the interval goes on growing rather than the sprite.
    const hour = storyboardLayout(3600, 1280, 720);
    expect(hour).toMatchObject({ intervalSec: 36, count: 100 });
    for (const d of [1, 59, 61, 333, 999, 1001, 7200, 86_399]) {
      const l = storyboardLayout(d, 1280, 720);
      expect(l.count, `${d} s`).toBeLessThanOrEqual(100);
      expect(l.intervalSec, `${d} s`).toBeGreaterThanOrEqual(2);
      expect(l.count * l.intervalSec, `${d} s`).toBeGreaterThanOrEqual(d);
      expect(l.columns * l.rows).toBeGreaterThanOrEqual(l.count);
    }
  });

  it("keeps the picture's aspect ratio with an even height", () => {
    expect(storyboardLayout(10, 720, 1280).tileHeight).toBe(284);
    expect(storyboardLayout(10, 640, 360).tileHeight).toBe(90);
    expect(storyboardLayout(10, 1440, 1080).tileHeight).toBe(120);
    expect(storyboardLayout(10, 4000, 10).tileHeight).toBe(2);
  });
});

describe("storyboardCues", () => {
  it("covers the duration with contiguous cues, each a tile of the grid in reading order", () => {
    const layout = storyboardLayout(25, 1280, 720);
    expect(layout).toMatchObject({ intervalSec: 2, count: 13, columns: 10, rows: 2 });
    const cues = storyboardCues(layout, 25);
    expect(cues).toHaveLength(13);
    expect(cues[0]).toEqual({ start: 0, end: 2, x: 0, y: 0, w: 160, h: 90 });
    expect(cues[9]).toEqual({ start: 18, end: 20, x: 1440, y: 0, w: 160, h: 90 });
    expect(cues[10]).toEqual({ start: 20, end: 22, x: 0, y: 90, w: 160, h: 90 });
    expect(cues[12]).toEqual({ start: 24, end: 25, x: 320, y: 90, w: 160, h: 90 });
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.start).toBe(cues[i - 1]!.end);
    const sprite = spriteSize(layout);
    expect(sprite).toEqual({ width: 1600, height: 180 });
    for (const c of cues) {
      expect(c.x + c.w).toBeLessThanOrEqual(sprite.width);
      expect(c.y + c.h).toBeLessThanOrEqual(sprite.height);
    }
  });
});

describe("the WebVTT file", () => {
  it("writes WEBVTT and one cue per tile, which the parser reads back", () => {
    const layout = storyboardLayout(5.5, 1280, 720);
    const cues = storyboardCues(layout, 5.5);
    const text = writeStoryboardVtt(cues);
    expect(text).toBe(
      [
        "WEBVTT",
        "",
        "00:00:00.000 --> 00:00:02.000",
        "storyboard.jpg#xywh=0,0,160,90",
        "",
        "00:00:02.000 --> 00:00:04.000",
        "storyboard.jpg#xywh=160,0,160,90",
        "",
        "00:00:04.000 --> 00:00:05.500",
        "storyboard.jpg#xywh=320,0,160,90",
        "",
      ].join("\n"),
    );
    expect(parseStoryboardVtt(text)).toEqual(cues.map((c) => ({ ...c, url: "storyboard.jpg" })));
  });

  it("writes hours, minutes and milliseconds", () => {
    expect(vttTimestamp(3723.4567)).toBe("01:02:03.457");
    expect(vttTimestamp(0)).toBe("00:00:00.000");
  });

  it("parses what players accept (no hours, identifiers, notes, CRLF) and refuses what they do not", () => {
    const text =
      "WEBVTT - storyboard\r\n\r\nNOTE made by hand\r\n\r\n1\r\n00:01.000 --> 00:02.500 align:start\r\nsprite.jpg#xywh=1,2,3,4\r\n";
    expect(parseStoryboardVtt(text)).toEqual([{ start: 1, end: 2.5, url: "sprite.jpg", x: 1, y: 2, w: 3, h: 4 }]);
    expect(() => parseStoryboardVtt("WEBVTTX\n\n00:00.000 --> 00:01.000\na.jpg#xywh=0,0,1,1\n")).toThrow(/WEBVTT/);
    expect(() => parseStoryboardVtt("WEBVTT\n\n00:00.000 -> 00:01.000\na.jpg#xywh=0,0,1,1\n")).toThrow(/timing/);
    expect(() => parseStoryboardVtt("WEBVTT\n\n00:00.000 --> 00:01.000\na.jpg\n")).toThrow(/xywh/);
  });
});

describe("buildStoryboardArgs", () => {
  it("is one ffmpeg call writing one JPEG: fps, scale and tile over the first video stream", () => {
    const layout = storyboardLayout(60, 1280, 720);
    const args = buildStoryboardArgs({ input: "/in", output: "/out/storyboard.jpg", layout });
    expect(args[args.indexOf("-i") + 1]).toBe("/in");
    expect(args[args.indexOf("-map") + 1]).toBe("0:V:0");
    expect(args[args.indexOf("-vf") + 1]).toBe("fps=1/2,scale=160:90,setsar=1,tile=10x3");
    expect(args[args.indexOf("-frames:v") + 1]).toBe("1");
    expect(args).toContain("-an");
    expect(args.at(-1)).toBe("/out/storyboard.jpg");
  });
});
