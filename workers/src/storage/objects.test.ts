import { describe, expect, it } from "vitest";
import { memoryMedia } from "./memory-media.ts";
import { deleteObjects } from "./objects.ts";
import { readOutput } from "../delivery/output-files.ts";
import type { PlaybackState } from "../delivery/playback-state.ts";

describe("deleteObjects on the Media port", () => {
  it("deletes every key under the prefix across list pages, and the extra keys, and nothing else", async () => {
    const media = memoryMedia();
    // More than one list page (1000 keys) and more than one delete batch.
    for (let i = 0; i < 2100; i++) await media.put(`videos/v1/r1/seg_${String(i).padStart(5, "0")}.ts`, "x");
    await media.put("sources/v1", "source");
    await media.put("videos/v2/index.m3u8", "other video");
    await deleteObjects(media, "videos/v1/", ["sources/v1"]);
    expect((await media.list("videos/v1/")).keys).toEqual([]);
    expect(await media.head("sources/v1")).toBeNull();
    expect((await media.list("")).keys).toEqual(["videos/v2/index.m3u8"]);
  });
});

describe("readOutput on the Media port", () => {
  const state = (status: PlaybackState["status"]): PlaybackState =>
    ({ id: "v1", visibility: "public", status, playable: true, run: 2, playbackVersion: 0 }) as PlaybackState;

  it("reads the current run's file", async () => {
    const media = memoryMedia();
    await media.put("videos/v1/r2/index.m3u8", "#EXTM3U run 2");
    const object = await readOutput(media, state("PROCESSING"), "index.m3u8");
    expect(await new Response(object?.body).text()).toBe("#EXTM3U run 2");
  });

  it("falls back to the key without a run prefix only for a READY video", async () => {
    const media = memoryMedia();
    await media.put("videos/v1/index.m3u8", "#EXTM3U legacy");
    expect(await readOutput(media, state("PROCESSING"), "index.m3u8")).toBeNull();
    const legacy = await readOutput(media, state("READY"), "index.m3u8");
    expect(await new Response(legacy?.body).text()).toBe("#EXTM3U legacy");
  });
});
