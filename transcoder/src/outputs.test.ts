import { describe, expect, it } from "vitest";
import { Limiter, planTierUpload, playlistSegments, toVodPlaylist } from "./outputs.ts";

const playlist = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXTINF:2.0,", "seg_00000.ts", "#EXTINF:2.0,", "seg_00001.ts", ""].join("\n");

describe("planTierUpload", () => {
  it("lists the segments not uploaded yet, in order, and whether the playlist changed", () => {
    expect(planTierUpload(playlist, new Set())).toEqual({
      segments: ["seg_00000.ts", "seg_00001.ts"],
      playlistChanged: true,
      segmentCount: 2,
      ended: false,
    });
    expect(planTierUpload(playlist, new Set(["seg_00000.ts"]), "older")).toMatchObject({
      segments: ["seg_00001.ts"],
      playlistChanged: true,
    });
    expect(planTierUpload(playlist, new Set(["seg_00000.ts", "seg_00001.ts"]), playlist)).toMatchObject({
      segments: [],
      playlistChanged: false,
    });
  });

  it("sees the end of the list", () => {
    expect(planTierUpload(`${playlist}#EXT-X-ENDLIST\n`, new Set()).ended).toBe(true);
    expect(playlistSegments(`${playlist}#EXT-X-ENDLIST\n`)).toEqual(["seg_00000.ts", "seg_00001.ts"]);
  });

  it("reads CRLF playlists", () => {
    expect(playlistSegments(playlist.replaceAll("\n", "\r\n"))).toEqual(["seg_00000.ts", "seg_00001.ts"]);
  });
});

describe("toVodPlaylist", () => {
  const event = [
    "#EXTM3U",
    "#EXT-X-VERSION:6",
    "#EXT-X-TARGETDURATION:2",
    "#EXT-X-PLAYLIST-TYPE:EVENT",
    "#EXTINF:2.0,",
    "seg_00000.ts",
    "",
  ].join("\n");

  it("turns a finished EVENT playlist into a VOD playlist and changes nothing else", () => {
    expect(toVodPlaylist(`${event}#EXT-X-ENDLIST\n`)).toBe(`${event.replace("EVENT", "VOD")}#EXT-X-ENDLIST\n`);
    expect(toVodPlaylist(`${event}#EXT-X-ENDLIST\n`.replaceAll("\n", "\r\n"))).toBe(
      `${event.replace("EVENT", "VOD")}#EXT-X-ENDLIST\n`.replaceAll("\n", "\r\n"),
    );
  });

  it("adds the type when the playlist has none, and leaves an unfinished playlist alone", () => {
    const untyped = `${event.replace("#EXT-X-PLAYLIST-TYPE:EVENT\n", "")}#EXT-X-ENDLIST\n`;
    expect(toVodPlaylist(untyped)).toBe(untyped.replace("#EXTM3U\n", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n"));
    expect(toVodPlaylist(event)).toBe(event);
  });
});

describe("Limiter", () => {
  it("runs at most N tasks at once, in call order, and survives failures", async () => {
    const limiter = new Limiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      active++;
      peak = Math.max(peak, active);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      if (i === 1) throw new Error("boom");
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => limiter.run(task(i))));
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"]);
  });
});
