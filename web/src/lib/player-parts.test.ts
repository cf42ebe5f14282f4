/**
 * The player's storyboard reading and its media-event wiring, without a browser: a VTT as the
 * transcoder writes it (the browser test reads the real one), and a media element played by hand
 * (an EventTarget) with a fake clock.
 */
import { describe, expect, it } from "vitest";
import { frameAt, frameStyle, parseStoryboard, timeAtPointer } from "./storyboard.ts";
import { trackPlayback, type MediaLike } from "./playback-session.ts";
import type { PlaybackEvent } from "../../../contract/playback-events.ts";
import type { Rendition } from "../../../contract/transcode.ts";
import { chooseEngine } from "../../../contract/player-engine.ts";
import { writeMasterPlaylist } from "../../../transcoder/src/master-playlist.ts";
import { parseVariants, tierName } from "./variants.ts";

const VTT_URL = "https://v.example/videos/abc/p/tok/storyboard.vtt";

/** 60 s, a frame every 2 s, 160x90 frames in a 10-wide grid: the transcoder's layout for a 720p minute. */
function transcoderVtt(): string {
  const ts = (s: number) => `00:${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}.000`;
  const cues = Array.from(
    { length: 30 },
    (_, i) => `${ts(i * 2)} --> ${ts(i * 2 + 2)}\nstoryboard.jpg#xywh=${(i % 10) * 160},${Math.floor(i / 10) * 90},160,90`,
  );
  return `WEBVTT\n\n${cues.join("\n\n")}\n`;
}

describe("storyboard", () => {
  it("reads the VTT the transcoder writes: sprite URL resolved against the VTT's, regions per cue", () => {
    const frames = parseStoryboard(transcoderVtt(), VTT_URL);
    expect(frames).toHaveLength(30);
    expect(frames[0]).toEqual({ start: 0, end: 2, url: "https://v.example/videos/abc/p/tok/storyboard.jpg", x: 0, y: 0, w: 160, h: 90 });
    // 25 s is in the 13th frame (2 s each): row 1, column 2 of a 10-wide grid.
    expect(frameAt(frames, 25)).toMatchObject({ start: 24, x: 320, y: 90 });
    expect(frameAt(frames, 60)).toMatchObject({ start: 58 });
    expect(frameStyle(frameAt(frames, 25)!)).toMatchObject({ backgroundPosition: "-320px -90px", width: "160px", height: "90px" });
  });

  it("gives nothing for a file that is not WebVTT and skips cues it cannot read", () => {
    expect(parseStoryboard("<html>", VTT_URL)).toEqual([]);
    const text = "WEBVTT\n\n00:00.000 --> 00:02.000\nnot a region\n\n00:02.000 --> 00:04.000\ns.jpg#xywh=160,0,160,90\n";
    expect(parseStoryboard(text, VTT_URL)).toEqual([
      { start: 2, end: 4, url: "https://v.example/videos/abc/p/tok/s.jpg", x: 160, y: 0, w: 160, h: 90 },
    ]);
  });

  it("maps the pointer to a time, clamped to the bar, from the right end when right-to-left", () => {
    expect(timeAtPointer(150, 100, 200, 60)).toBe(15);
    expect(timeAtPointer(50, 100, 200, 60)).toBe(0);
    expect(timeAtPointer(400, 100, 200, 60)).toBe(60);
    expect(timeAtPointer(150, 100, 200, 60, true)).toBe(45);
    expect(timeAtPointer(150, 100, 200, Number.NaN)).toBe(0);
  });
});

class FakeMedia extends EventTarget implements MediaLike {
  seeking = false;
  error: { code: number; message?: string } | null = null;
  fire(type: string) {
    this.dispatchEvent(new Event(type));
  }
}

function session(opts: { requestedAt?: number; share?: string } = {}) {
  let now = 1000;
  const media = new FakeMedia();
  const sent: { url: string; event: PlaybackEvent }[] = [];
  const s = trackPlayback(
    media,
    {
      videoId: "0b0e7d4c-2f1a-4c3e-9a5b-6d7e8f901234",
      ...opts,
      now: () => now,
      send: (url, body) => sent.push({ url, event: JSON.parse(body) }),
      every: () => () => {},
    },
    null,
  );
  return { media, sent, s, advance: (ms: number) => (now += ms) };
}

describe("playback session", () => {
  it("startup is from the play request to the first `playing`; later stalls are rebuffers, seeking is not", () => {
    const { media, sent, s, advance } = session();
    advance(5000); // the page sat there before the press: not startup time
    media.fire("play");
    advance(1200);
    media.fire("waiting"); // before the first frame: part of startup, not a rebuffer
    advance(300);
    media.fire("playing");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe("/api/playback-events");
    expect(sent[0]!.event).toMatchObject({ type: "start", startupMs: 1500, rebufferCount: 0 });

    advance(4000);
    media.fire("waiting");
    advance(700);
    media.fire("playing");
    media.seeking = true;
    media.fire("seeking");
    media.fire("waiting");
    advance(2000);
    media.seeking = false;
    media.fire("playing");
    advance(1000);
    s.beacon.end();
    expect(sent.at(-1)!.event).toMatchObject({ type: "end", watchedMs: 5000, rebufferCount: 1, rebufferMs: 700 });
    s.stop();
  });

  it("counts from the embed's press when given; the share token goes in the beacon URL; one error beacon", () => {
    const { media, sent, s, advance } = session({ requestedAt: 400, share: "tok en" });
    media.fire("play");
    advance(100);
    media.fire("playing");
    expect(sent[0]).toMatchObject({ url: "/api/playback-events?share=tok%20en", event: { type: "start", startupMs: 700 } });
    media.error = { code: 3 };
    media.fire("error");
    s.fail("networkError: fragLoadError");
    expect(sent.filter((x) => x.event.type === "error").map((x) => x.event.error)).toEqual(["media decode error"]);
  });
});

describe("the browser's own HLS player", () => {
  // A portrait phone clip's ladder.
  const renditions: Rendition[] = [
    { name: "240p", width: 240, height: 426, videoBitrate: 400_000, bandwidth: 500_000 },
    { name: "480p", width: 480, height: 854, videoBitrate: 800_000, bandwidth: 950_000 },
  ];

  it("offers the master's tiers, named by their short side, each playing its own media playlist", () => {
    const master = writeMasterPlaylist(renditions, true, 30);
    const url = "https://v.example/videos/abc/p/tok/index.m3u8";
    expect(parseVariants(master, url)).toEqual([
      { name: "240p", url: "https://v.example/videos/abc/p/tok/240p/index.m3u8" },
      { name: "480p", url: "https://v.example/videos/abc/p/tok/480p/index.m3u8" },
    ]);
    expect(parseVariants("#EXTM3U\n#EXT-X-ENDLIST\n", url)).toEqual([]);
    expect(tierName(1280, 720)).toBe("720p");
  });

  it("is chosen for Safari and iOS; hls.js for Chromium (its own HLS too eager on slow links) and Firefox; ?engine= decides when given", () => {
    const ua = {
      chromium156: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
      chrome140Android: "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36",
      safari: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
      iosChrome:
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/140.0 Mobile/15E148 Safari/604.1",
      firefox: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
    };
    expect(Object.fromEntries(Object.entries(ua).map(([k, v]) => [k, chooseEngine(v, "")]))).toEqual({
      chromium156: "hls.js",
      chrome140Android: "hls.js",
      safari: "native",
      iosChrome: "native",
      firefox: "hls.js",
    });
    expect(chooseEngine(ua.safari, "?share=x&engine=hls.js")).toBe("hls.js");
    expect(chooseEngine(ua.chromium156, "?engine=native")).toBe("native");
    expect(chooseEngine(ua.firefox, "?engine=native")).toBe("native");
    expect(chooseEngine(ua.firefox, "?engine=flash")).toBe("hls.js");
  });
});
