/**
 * The storyboard made by the real ffmpeg from a one-minute 720p clip: the VTT parses, its cues are
 * contiguous and cover the duration, each region lies inside the sprite, and the sprite is a JPEG
 * of the stated size and at most 100 KB. No timing assertions (the time is only logged).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveBinaries, type FfmpegBinaries } from "./binaries.ts";
import { runFfmpeg, type Logger } from "./ffmpeg.ts";
import { probe } from "./probe.ts";
import { buildStoryboardArgs, parseStoryboardVtt, spriteSize, storyboardCues, storyboardLayout, writeStoryboardVtt } from "./storyboard.ts";
import { makeClip } from "./testing/clips.ts";

const run = promisify(execFile);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), "storyboard-real-"));
let bin: FfmpegBinaries;

beforeAll(async () => {
  bin = await resolveBinaries();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function makeStoryboard(input: string, name: string) {
  const info = await probe(bin.ffprobePath, input);
  const layout = storyboardLayout(info.durationSec, info.width, info.height);
  const sprite = join(dir, `${name}.jpg`);
  const startedAt = performance.now();
  await runFfmpeg({
    ffmpegPath: bin.ffmpegPath,
    args: buildStoryboardArgs({ input, output: sprite, layout }),
    durationSec: info.durationSec,
    logger: quiet,
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const vtt = writeStoryboardVtt(storyboardCues(layout, info.durationSec));
  writeFileSync(join(dir, `${name}.vtt`), vtt);
  return { info, layout, sprite, vtt, seconds };
}

async function jpegSize(file: string): Promise<{ codec: string; width: number; height: number }> {
  const { stdout } = await run(bin.ffprobePath, ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", file]);
  const s = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number }> }).streams[0]!;
  return { codec: s.codec_name, width: s.width, height: s.height };
}

describe("storyboard (real ffmpeg)", () => {
  it("makes a sprite of ≤ 100 KB and a VTT whose cues cover a one-minute 720p clip", async () => {
    const input = await makeClip(bin.ffmpegPath, join(dir, "minute.mp4"), { size: "1280x720", rate: 30, seconds: 60, audio: true });
    const { info, layout, sprite, vtt, seconds } = await makeStoryboard(input, "minute");
    const bytes = statSync(sprite).size;
    console.log(`storyboard of a 60 s 720p clip: ${bytes} bytes, ${seconds.toFixed(2)} s, ${layout.columns}x${layout.rows} tiles`);

    const file = readFileSync(sprite);
    expect([...file.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(await jpegSize(sprite)).toEqual({ codec: "mjpeg", ...spriteSize(layout) });
    expect(spriteSize(layout)).toEqual({ width: 1600, height: 270 });
    expect(bytes).toBeLessThanOrEqual(100 * 1024);

    const cues = parseStoryboardVtt(vtt);
    expect(cues).toHaveLength(30);
    expect(cues[0]!.start).toBe(0);
    expect(cues.at(-1)!.end).toBeCloseTo(info.durationSec, 3);
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.start).toBe(cues[i - 1]!.end);
    for (const c of cues) {
      expect(c.url).toBe("storyboard.jpg");
      expect(c.end).toBeGreaterThan(c.start);
      expect(c.x + c.w).toBeLessThanOrEqual(1600);
      expect(c.y + c.h).toBeLessThanOrEqual(270);
    }
  }, 120_000);

  it("keeps a portrait clip's aspect ratio, with a partial last row", async () => {
    const input = await makeClip(bin.ffmpegPath, join(dir, "portrait.mp4"), { size: "360x640", rate: 25, seconds: 5, audio: false });
    const { layout, sprite, vtt } = await makeStoryboard(input, "portrait");
    expect(layout).toMatchObject({ intervalSec: 2, count: 3, columns: 3, rows: 1, tileWidth: 160, tileHeight: 284 });
    expect(await jpegSize(sprite)).toEqual({ codec: "mjpeg", width: 480, height: 284 });
    const cues = parseStoryboardVtt(vtt);
    expect(cues.map((c) => [c.start, c.end, c.x])).toEqual([
      [0, 2, 0],
      [2, 4, 160],
      [4, 5, 320],
    ]);
  }, 60_000);
});
