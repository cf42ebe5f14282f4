/**
 * End to end: tus-js-client uploads a real clip to the local stack; the queue wakes the dispatcher,
 * the transcoder (real ffmpeg) turns it into HLS through the per-job routes, and the video becomes
 * READY by itself. ffprobe then reads the ladder over HTTP from the Worker's playback routes.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Parser } from "m3u8-parser";
import { useTestStack } from "./fixture.ts";
import { makeLavfiClip, mediaDuration } from "../../../transcoder/src/testing/clips.ts";
import { parseStoryboardVtt } from "../../../transcoder/src/storyboard.ts";
import { tusUpload } from "../../dev/tus-client.ts";
import type { VideoResponse } from "../../../contract/api.ts";

const e2e = useTestStack({ transcoder: true, user: { id: "alice" } });

async function video(id: string): Promise<VideoResponse> {
  const res = await fetch(`${e2e.stack.baseUrl}/api/videos/${id}`, { headers: { Authorization: `Bearer ${e2e.token}` } });
  return (await res.json()) as VideoResponse;
}

/** Polls the video until `done` holds; returns every state seen, in order. */
async function until(id: string, done: (v: VideoResponse) => boolean, timeoutMs = 150_000): Promise<VideoResponse[]> {
  const seen: VideoResponse[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await video(id);
    seen.push(v);
    if (done(v)) return seen;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`video ${id} stuck: ${JSON.stringify(seen.at(-1))}\n${e2e.stack.transcoder?.output().slice(-3000)}`);
}

const upload = async (file: Buffer, filename: string) =>
  (await tusUpload({ endpoint: `${e2e.stack.baseUrl}/api/video/uploads`, token: e2e.token, file, chunkSize: 5 * 1024 * 1024, filename }))
    .split("/")
    .pop()!;

function parseM3u8(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

function ffprobe(url: string): { streams: { codec_type: string; width?: number; height?: number }[] } {
  return JSON.parse(
    execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type,width,height", "-of", "json", url], { encoding: "utf8" }),
  );
}

describe("upload → queue → transcoder → READY", () => {
  it("turns a 720p clip with audio into a playable 3-tier HLS ladder by itself", async () => {
    const file = readFileSync(
      makeLavfiClip(join(e2e.dir, "landscape.mp4"), { picture: "testsrc2=size=1280x720:rate=30", tone: "sine=frequency=440", seconds: 8 }),
    );
    const id = await upload(file, "landscape.mp4");
    const states = await until(id, (v) => v.status === "READY" || v.status === "FAILED");
    const ready = states.at(-1)!;
    expect(ready).toMatchObject({ status: "READY", progress: 100, playable: true, error: null, hlsUrl: `/videos/${id}/index.m3u8` });
    expect(ready.sourceSha256).toBe(createHash("sha256").update(file).digest("hex"));
    expect(ready.durationSec).toBeCloseTo(8, 0);
    expect(ready.renditions.map((r) => `${r.name}:${r.width}x${r.height}`)).toEqual(["240p:426x240", "480p:854x480", "720p:1280x720"]);
    // Progress only moves forward.
    const progress = states.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    // The HLS rules players rely on, checked by an m3u8 parser.
    const master = parseM3u8(await (await fetch(`${e2e.stack.baseUrl}/videos/${id}/index.m3u8`)).text());
    expect(master.version).toBeGreaterThanOrEqual(3);
    const variants = master.playlists ?? [];
    expect(variants.map((p) => p.uri)).toEqual(["240p/index.m3u8", "480p/index.m3u8", "720p/index.m3u8"]);
    for (const variant of variants) {
      const a = variant.attributes as Record<string, unknown>;
      expect(a.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
      // Measured on the segments once the video is finished: the peak is at least the average.
      expect(a.BANDWIDTH).toBeGreaterThanOrEqual(Number(a["AVERAGE-BANDWIDTH"]));
      expect(a.RESOLUTION).toMatchObject({ height: expect.any(Number) });
      const media = parseM3u8(await (await fetch(`${e2e.stack.baseUrl}/videos/${id}/${variant.uri}`)).text());
      expect(media.endList).toBe(true);
      // Finished: a VOD playlist (EVENT only while it was being encoded).
      expect(media.playlistType).toBe("VOD");
      // Floating-point EXTINF durations need protocol version 3 or later.
      expect(media.version).toBeGreaterThanOrEqual(3);
      const durations = media.segments.map((s) => s.duration);
      // Two 1 s segments for a fast start, then 6 s ones (Apple's authoring rules), the last one
      // the remainder.
      expect(durations.map(Math.round)).toEqual([1, 1, 6]);
      // EXT-X-TARGETDURATION must be at least every segment's duration, rounded.
      expect(Math.max(...durations.map(Math.round))).toBeLessThanOrEqual(media.targetDuration ?? 0);
      expect(durations.reduce((a, b) => a + b, 0)).toBeCloseTo(8, 0);
    }
    // One I-frame playlist per tier, its byte ranges served from the tier's segments.
    expect(master.iFramePlaylists.map((p) => p.uri ?? p.attributes.URI)).toEqual([
      "240p/iframes.m3u8",
      "480p/iframes.m3u8",
      "720p/iframes.m3u8",
    ]);
    for (const entry of master.iFramePlaylists) {
      const uri = String(entry.uri ?? entry.attributes.URI);
      const iframes = parseM3u8(await (await fetch(`${e2e.stack.baseUrl}/videos/${id}/${uri}`)).text());
      expect(iframes).toMatchObject({ iFramesOnly: true, endList: true, playlistType: "VOD" });
      expect(iframes.segments.length).toBeGreaterThan(0);
      const { byterange } = iframes.segments[0]!;
      const tier = uri.split("/")[0];
      const part = await fetch(`${e2e.stack.baseUrl}/videos/${id}/${tier}/${iframes.segments[0]!.uri}`, {
        headers: { Range: `bytes=${byterange!.offset}-${byterange!.offset + byterange!.length - 1}` },
      });
      expect(part.status).toBe(206);
      const bytes = new Uint8Array(await part.arrayBuffer());
      expect([bytes.length, bytes[0]]).toEqual([byterange!.length, 0x47]);
    }
    // ffmpeg as a client (ffprobe, ffplay, mpv, downloaders) reads the duration of the served master.
    expect(await mediaDuration("ffprobe", `${e2e.stack.baseUrl}/videos/${id}/index.m3u8`)).toBeCloseTo(8, 0);

    const probe = ffprobe(`${e2e.stack.baseUrl}/videos/${id}/index.m3u8`);
    const heights = probe.streams.filter((s) => s.codec_type === "video").map((s) => s.height);
    expect(new Set(heights)).toEqual(new Set([240, 480, 720]));
    expect(probe.streams.some((s) => s.codec_type === "audio")).toBe(true);

    const poster = new Uint8Array(await (await fetch(`${e2e.stack.baseUrl}/videos/${id}/poster.jpg`)).arrayBuffer());
    expect([poster[0], poster[1]]).toEqual([0xff, 0xd8]);

    // The storyboard, served by the same delivery: cues covering the video, regions inside the sprite.
    expect(ready.storyboardUrl).toBe(`/videos/${id}/storyboard.vtt`);
    const vtt = await fetch(`${e2e.stack.baseUrl}${ready.storyboardUrl}`);
    expect(vtt.status).toBe(200);
    expect(vtt.headers.get("content-type")).toBe("text/vtt; charset=utf-8");
    expect(vtt.headers.get("cache-control")).toBe("public, max-age=604800");
    const cues = parseStoryboardVtt(await vtt.text());
    expect(cues.map((c) => c.start)).toEqual([0, 2, 4, 6]);
    expect(cues.at(-1)!.end).toBeCloseTo(8, 0);
    const spriteUrl = new URL(cues[0]!.url, `${e2e.stack.baseUrl}${ready.storyboardUrl}`).toString();
    const sprite = ffprobe(spriteUrl).streams[0]!;
    expect(sprite).toMatchObject({ width: 640, height: 90 });
    for (const c of cues) expect(c.x + c.w <= sprite.width! && c.y + c.h <= sprite.height!).toBe(true);
    // The plan's choice: the source is removed once the ladder exists.
    expect(e2e.stack.r2Object(`sources/${id}`)).toBeNull();
  });

  it("fails random bytes named .mp4 permanently, with a reason the creator can read", async () => {
    const id = await upload(randomBytes(300_000), "holiday.mp4");
    const failed = (await until(id, (v) => v.status === "FAILED" || v.status === "READY")).at(-1)!;
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toMatch(/video/i);
    expect(failed.message).toContain(failed.error!);
  });
});
