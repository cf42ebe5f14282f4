import { describe, expect, it } from "vitest";
import { buildIframePlaylist, keyframeRanges, type VideoPacket } from "./iframes.ts";

/** A TS packet: sync byte, PUSI flag, PID; payload left zero. */
function packet(pid: number, start = false): Uint8Array {
  const p = new Uint8Array(188);
  p[0] = 0x47;
  p[1] = (start ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  p[3] = 0x10; // payload only
  return p;
}

/** A PAT naming program 1 with its PMT on `pmtPid`. */
function pat(pmtPid: number): Uint8Array {
  const p = packet(0, true);
  // pointer_field, table_id 0, section_length 13, ts id, version, section numbers, program 1 → PMT, CRC.
  p.set([0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | (pmtPid >> 8), pmtPid & 0xff, 0, 0, 0, 0], 4);
  return p;
}

function concat(...packets: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(packets.length * 188);
  for (const [i, p] of packets.entries()) out.set(p, i * 188);
  return out;
}

const V = 0x100; // video PID
const A = 0x101; // audio PID
const PMT = 0x1000;

describe("keyframeRanges", () => {
  // 0 SDT, 1 PAT, 2 PMT, 3-5 keyframe (audio at 5 interleaved, 6 trailing), 7 P-frame,
  // 8 PAT, 9 PMT, 10-11 keyframe, 12 audio.
  const ts = concat(
    packet(0x11, true),
    pat(PMT),
    packet(PMT, true),
    packet(V, true),
    packet(V),
    packet(A, true),
    packet(V),
    packet(A), // 3..7: keyframe with audio inside and after
    packet(V, true), // 8: P-frame
    pat(PMT),
    packet(PMT, true), // 9, 10
    packet(V, true),
    packet(V),
    packet(A, true), // 11..13: second keyframe, audio after
  );
  const packets: VideoPacket[] = [
    { pos: 3 * 188, time: 1.5, duration: 0.04, keyframe: true },
    { pos: 8 * 188, time: 1.54, duration: 0.04, keyframe: false },
    { pos: 11 * 188, time: 2.5, duration: 0.04, keyframe: true },
  ];

  it("covers each keyframe from the PAT/PMT right before it to its last video packet", () => {
    expect(keyframeRanges(ts, packets)).toEqual([
      { offset: 0, length: 7 * 188, time: 1.5 }, // SDT+PAT+PMT, video, video, audio (inside), video; not the trailing audio
      { offset: 9 * 188, length: 4 * 188, time: 2.5 }, // PAT+PMT, video, video; not the audio after
    ]);
  });

  it("starts at the keyframe itself when no PAT/PMT precedes it", () => {
    const bare = concat(packet(0x11, true), pat(PMT), packet(PMT, true), packet(A, true), packet(V, true), packet(V));
    expect(keyframeRanges(bare, [{ pos: 4 * 188, time: 0, duration: 0.04, keyframe: true }])).toEqual([
      { offset: 4 * 188, length: 2 * 188, time: 0 },
    ]);
  });

  it("refuses a position that is not a TS packet start", () => {
    expect(() => keyframeRanges(ts, [{ pos: 100, time: 0, duration: 0.04, keyframe: true }])).toThrow(/not at the start of a TS packet/);
  });
});

describe("buildIframePlaylist", () => {
  const segments = [
    { uri: "seg_00000.ts", ranges: [{ offset: 0, length: 18_800, time: 1.4 }] },
    {
      uri: "seg_00001.ts",
      ranges: [
        { offset: 0, length: 9_400, time: 2.4 },
        { offset: 37_600, length: 9_400, time: 4.4 },
      ],
    },
  ];

  it("lists one byte range per keyframe, each lasting until the next keyframe or the end", () => {
    const playlist = buildIframePlaylist(segments, 5.4);
    expect(playlist.text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-I-FRAMES-ONLY",
        "#EXTINF:1.000000,",
        "#EXT-X-BYTERANGE:18800@0",
        "seg_00000.ts",
        "#EXTINF:2.000000,",
        "#EXT-X-BYTERANGE:9400@0",
        "seg_00001.ts",
        "#EXTINF:1.000000,",
        "#EXT-X-BYTERANGE:9400@37600",
        "seg_00001.ts",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
  });

  it("gives the peak over 0.5-1.5 target durations as BANDWIDTH and the mean as AVERAGE-BANDWIDTH", () => {
    const playlist = buildIframePlaylist(segments, 5.4);
    // Target 2 s: windows of 1-3 s. The first keyframe alone: 18 800 B in 1 s = 150 400 bit/s.
    expect(playlist.bandwidth).toBe(150_400);
    // 37 600 B in 4 s.
    expect(playlist.averageBandwidth).toBe(75_200);
  });

  it("refuses a tier without keyframes", () => {
    expect(() => buildIframePlaylist([{ uri: "seg_00000.ts", ranges: [] }], 1)).toThrow(/without keyframes/);
  });
});
