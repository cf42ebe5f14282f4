/**
 * The MP4 download made by the real ffmpeg from a real ladder output: a short clip is encoded with
 * buildHlsArgs, its playlists finished as the job does, then the top tier is remuxed. The MP4 is
 * faststart (moov before mdat), as long as the source, and holds the tier's own streams (no
 * re-encode: the codec parameters are equal). No timing assertions (the time is only logged).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveBinaries, type FfmpegBinaries } from "./binaries.ts";
import { buildDownloadArgs, DOWNLOAD_FILE, topTier } from "./download.ts";
import { buildHlsArgs, runFfmpeg, type Logger } from "./ffmpeg.ts";
import { writeFinishedPlaylists } from "./finish.ts";
import { chooseLadder } from "./ladder.ts";
import { probe } from "./probe.ts";
import { makeClip, mediaDuration } from "./testing/clips.ts";

const run = promisify(execFile);
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), "download-real-"));
let bin: FfmpegBinaries;

beforeAll(async () => {
  bin = await resolveBinaries();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The top-level MP4 boxes, in file order. */
function topLevelBoxes(file: string): string[] {
  const bytes = readFileSync(file);
  const boxes: string[] = [];
  let at = 0;
  while (at + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString("latin1", at + 4, at + 8);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    else if (size === 0) size = bytes.length - at;
    boxes.push(type);
    if (size < 8) break;
    at += size;
  }
  return boxes;
}

/** The codec parameters that a re-encode would change, per stream type. */
async function streamParams(file: string): Promise<Record<string, Record<string, unknown>>> {
  const { stdout } = await run(bin.ffprobePath, [
    ...["-v", "error", "-print_format", "json"],
    ...["-show_entries", "stream=codec_type,codec_name,profile,level,width,height,pix_fmt,sample_rate,channels,r_frame_rate"],
    file,
  ]);
  const streams = (JSON.parse(stdout) as { streams: Array<Record<string, unknown>> }).streams;
  return Object.fromEntries(streams.map((s) => [String(s.codec_type), s]));
}

/** Number of video frames (packets) ffprobe counts. */
async function videoPackets(file: string): Promise<number> {
  const { stdout } = await run(bin.ffprobePath, [
    ...["-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"],
    file,
  ]);
  return Number(stdout.trim());
}

describe("MP4 download (real ffmpeg)", () => {
  it("remuxes the top tier of a real ladder into a faststart MP4 as long as the source, without re-encoding", async () => {
    const source = await makeClip(bin.ffmpegPath, join(dir, "source.mp4"), { size: "1280x720", rate: 30, seconds: 8, audio: true });
    const info = await probe(bin.ffprobePath, source);
    const ladder = chooseLadder(info);
    const outDir = join(dir, "out");
    const hls = buildHlsArgs({
      input: source,
      outputDir: outDir,
      renditions: ladder,
      hasAudio: true,
      fps: info.frameRate,
      segmentSeconds: 2,
    });
    await runFfmpeg({ ffmpegPath: bin.ffmpegPath, args: hls, durationSec: info.durationSec, logger: quiet });
    await writeFinishedPlaylists({
      ffprobePath: bin.ffprobePath,
      outputDir: outDir,
      renditions: ladder,
      hasAudio: true,
      fps: info.frameRate,
      logger: quiet,
    });

    const tier = topTier(ladder);
    expect(tier.height).toBe(Math.max(...ladder.map((r) => r.height)));
    const output = join(outDir, DOWNLOAD_FILE);
    const startedAt = performance.now();
    await runFfmpeg({
      ffmpegPath: bin.ffmpegPath,
      args: buildDownloadArgs({ outputDir: outDir, tier: tier.name, hasAudio: true, output }),
      durationSec: info.durationSec,
      logger: quiet,
    });
    console.log(
      `download of an 8 s ${tier.name} tier: ${statSync(output).size} bytes, ${((performance.now() - startedAt) / 1000).toFixed(2)} s`,
    );

    // Faststart: moov before mdat.
    const boxes = topLevelBoxes(output);
    expect(boxes[0]).toBe("ftyp");
    expect(boxes).toContain("moov");
    expect(boxes).toContain("mdat");
    expect(boxes.indexOf("moov")).toBeLessThan(boxes.indexOf("mdat"));

    // Its duration is the source's (within a frame or an AAC packet's rounding).
    expect(Math.abs((await mediaDuration(bin.ffprobePath, output)) - info.durationSec)).toBeLessThan(0.25);

    // No re-encode: the same codec parameters as the tier's segments.
    const tierDir = join(outDir, tier.name);
    const segment = join(tierDir, readdirSync(tierDir).filter((f) => f.endsWith(".ts"))[0]!);
    const inTier = await streamParams(segment);
    const inMp4 = await streamParams(output);
    expect(inMp4.video).toEqual(inTier.video);
    expect(inMp4.audio).toEqual(inTier.audio);
    expect(inMp4.video).toMatchObject({ codec_name: "h264", width: tier.width, height: tier.height });
    expect(inMp4.audio).toMatchObject({ codec_name: "aac" });
    // Every frame the tier holds (the source's 30 fps are kept), none dropped or added.
    expect(await videoPackets(output)).toBe(await videoPackets(source));
  }, 120_000);

  it("makes a video-only MP4 when the source has no sound", () => {
    const args = buildDownloadArgs({ outputDir: "/o", tier: "480p", hasAudio: false, output: "/o/download.mp4" });
    expect(args).not.toContain("0:a:0");
    expect(args).not.toContain("aac_adtstoasc");
    expect(args.slice(args.indexOf("-c"), args.indexOf("-c") + 2)).toEqual(["-c", "copy"]);
  });
});
