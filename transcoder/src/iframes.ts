/**
 * I-frame playlists (RFC 8216 §4.3.3.6, §4.3.4.3): per tier, one byte range per keyframe into the
 * tier's own MPEG-TS segments. Apple's players use them to scrub and fast-forward with pictures.
 *
 * Pure parts: `keyframeRanges` (segment bytes + ffprobe's video packets → byte ranges) and
 * `buildIframePlaylist` (ranges → playlist text and bandwidths). `probeIframePlaylist` is the small
 * I/O step: one ffprobe per tier, over the tier's segments concatenated.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { HLS_VERSION, IFRAME_PLAYLIST } from "./master-playlist.ts";
import type { Logger } from "./run-ffmpeg.ts";

const run = promisify(execFile);

export { IFRAME_PLAYLIST };

const TS_PACKET_BYTES = 188;
const TS_SYNC_BYTE = 0x47;
const PAT_PID = 0x0000;
const SDT_PID = 0x0011;

/** One video packet (access unit) as ffprobe lists it; `pos` is a byte offset into the segment. */
export interface VideoPacket {
  pos: number;
  /** Presentation time and duration, seconds. */
  time: number;
  duration: number;
  keyframe: boolean;
}

/** A keyframe's bytes inside a segment, and its presentation time. */
export interface IframeRange {
  offset: number;
  length: number;
  time: number;
}

function pidAt(ts: Uint8Array, offset: number): number {
  return ((ts[offset + 1]! & 0x1f) << 8) | ts[offset + 2]!;
}

/** Offset of a TS packet's payload (after the header and any adaptation field). */
function payloadStart(ts: Uint8Array, offset: number): number {
  const adaptation = (ts[offset + 3]! >> 4) & 0x2;
  return offset + 4 + (adaptation ? 1 + ts[offset + 4]! : 0);
}

/** The PMT PIDs the segment's first PAT names (one program in our segments, but read them all). */
function pmtPids(ts: Uint8Array): Set<number> {
  const pids = new Set<number>();
  for (let at = 0; at + TS_PACKET_BYTES <= ts.length; at += TS_PACKET_BYTES) {
    if (pidAt(ts, at) !== PAT_PID || !(ts[at + 1]! & 0x40)) continue;
    const table = payloadStart(ts, at) + 1 + ts[payloadStart(ts, at)]!; // skip pointer_field
    const sectionLength = ((ts[table + 1]! & 0x0f) << 8) | ts[table + 2]!;
    // Program loop: after the 8-byte section header, before the 4-byte CRC; 4 bytes per program.
    for (let p = table + 8; p + 4 <= table + 3 + sectionLength - 4; p += 4) {
      const program = (ts[p]! << 8) | ts[p + 1]!;
      if (program !== 0) pids.add(((ts[p + 2]! & 0x1f) << 8) | ts[p + 3]!);
    }
    break;
  }
  return pids;
}

/**
 * The byte range of every keyframe of one segment. As Apple's segmenter does, a range starts at
 * the TS packet where the keyframe's PES begins and ends after the last TS packet of that PES
 * (audio packets interleaved in between are inside the range; the players skip them). One thing
 * more: when PAT/PMT (and SDT) packets directly precede the keyframe — ffmpeg writes them at the
 * start of each segment and again before every keyframe — the range includes them, so that each
 * range is a stream a demuxer can read on its own (RFC 8216 §3.2: the PAT and PMT are the Media
 * Initialization Section of a TS segment).
 *
 * @param packets the segment's video packets in file order (ffprobe -show_packets -select_streams v:0)
 */
export function keyframeRanges(ts: Uint8Array, packets: readonly VideoPacket[]): IframeRange[] {
  const psi = new Set([PAT_PID, SDT_PID, ...pmtPids(ts)]);
  const ranges: IframeRange[] = [];
  packets.forEach((packet, i) => {
    if (!packet.keyframe) return;
    if (packet.pos % TS_PACKET_BYTES !== 0 || ts[packet.pos] !== TS_SYNC_BYTE) {
      throw new Error(`A keyframe at byte ${packet.pos} is not at the start of a TS packet.`);
    }
    const videoPid = pidAt(ts, packet.pos);
    const next = packets[i + 1]?.pos ?? ts.length;
    let end = packet.pos + TS_PACKET_BYTES;
    for (let at = end; at + TS_PACKET_BYTES <= next; at += TS_PACKET_BYTES) {
      if (pidAt(ts, at) === videoPid) end = at + TS_PACKET_BYTES;
    }
    let start = packet.pos;
    while (start >= TS_PACKET_BYTES && psi.has(pidAt(ts, start - TS_PACKET_BYTES))) start -= TS_PACKET_BYTES;
    ranges.push({ offset: start, length: end - start, time: packet.time });
  });
  return ranges;
}

export interface IframeSegment {
  /** The segment's URI, relative to the I-frame playlist (the tier's directory). */
  uri: string;
  ranges: IframeRange[];
}

export interface IframePlaylist {
  text: string;
  /** Peak and average bits per second, for EXT-X-I-FRAME-STREAM-INF (RFC 8216 §4.3.4.2). */
  bandwidth: number;
  averageBandwidth: number;
}

/**
 * The BANDWIDTH rule of RFC 8216 §4.3.4.2: "the largest bit rate of any contiguous set of segments
 * whose total duration is between 0.5 and 1.5 times the target duration". When no set qualifies
 * (a one-keyframe video) the whole playlist's rate stands in.
 */
export function peakBitrate(entries: ReadonlyArray<{ bytes: number; duration: number }>, targetDuration: number): number {
  let peak = 0;
  for (let i = 0; i < entries.length; i++) {
    let bytes = 0;
    let duration = 0;
    for (let j = i; j < entries.length && duration <= 1.5 * targetDuration; j++) {
      bytes += entries[j]!.bytes;
      duration += entries[j]!.duration;
      if (duration >= 0.5 * targetDuration && duration <= 1.5 * targetDuration) peak = Math.max(peak, (bytes * 8) / duration);
    }
  }
  if (peak > 0) return peak;
  const total = entries.reduce((sum, e) => sum + e.bytes, 0);
  const seconds = entries.reduce((sum, e) => sum + e.duration, 0);
  return seconds > 0 ? (total * 8) / seconds : 0;
}

/**
 * The I-frame playlist of one tier. "each Media Segment in the Playlist ... its EXTINF duration
 * [is] the time between the presentation times of the I-frame in the Media Segment and the next
 * I-frame in the Playlist, or the end of the presentation if it is the last I-frame" (§4.3.3.6).
 *
 * @param endTime presentation time where the video ends (the last frame's time plus its duration)
 */
export function buildIframePlaylist(segments: readonly IframeSegment[], endTime: number): IframePlaylist {
  const frames = segments.flatMap((s) => s.ranges.map((range) => ({ uri: s.uri, ...range })));
  if (frames.length === 0) throw new Error("A tier without keyframes cannot have an I-frame playlist.");
  const entries = frames.map((f, i) => ({ ...f, bytes: f.length, duration: Math.max(0, (frames[i + 1]?.time ?? endTime) - f.time) }));
  // "The EXTINF duration of each Media Segment in the Playlist file, when rounded to the nearest
  // integer, MUST be less than or equal to the target duration" (§4.3.3.1).
  const targetDuration = Math.max(1, ...entries.map((e) => Math.round(e.duration)));
  const lines = [
    "#EXTM3U",
    // EXT-X-BYTERANGE and EXT-X-I-FRAMES-ONLY need version 4; the same version as our other playlists.
    `#EXT-X-VERSION:${HLS_VERSION}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-I-FRAMES-ONLY",
  ];
  for (const e of entries) lines.push(`#EXTINF:${e.duration.toFixed(6)},`, `#EXT-X-BYTERANGE:${e.length}@${e.offset}`, e.uri);
  lines.push("#EXT-X-ENDLIST");
  const totalBytes = entries.reduce((sum, e) => sum + e.bytes, 0);
  const totalSeconds = entries.reduce((sum, e) => sum + e.duration, 0);
  return {
    text: `${lines.join("\n")}\n`,
    bandwidth: Math.ceil(peakBitrate(entries, targetDuration)),
    averageBandwidth: Math.ceil(totalSeconds > 0 ? (totalBytes * 8) / totalSeconds : 0),
  };
}

interface ProbePacket {
  pos?: string;
  pts?: number;
  duration?: number;
  flags?: string;
}

/**
 * Segments per ffprobe run. The segment list is one argument ("concat:a.ts|b.ts|…"), and Linux
 * caps a single argument at 128 KiB: 500 names of 13 bytes stay far below.
 */
const SEGMENTS_PER_PROBE = 500;

/**
 * The I-frame playlist of one finished tier: its segments are read through the concat protocol
 * (one ffprobe for many segments; packet positions are then offsets into the concatenation, which
 * the segment sizes map back to each file).
 */
export async function probeIframePlaylist(opts: {
  ffprobePath: string;
  tierDir: string;
  segments: readonly string[];
  logger: Logger;
}): Promise<IframePlaylist> {
  const { ffprobePath, tierDir, segments, logger } = opts;
  const files = await Promise.all(segments.map((name) => readFile(join(tierDir, name))));
  const perSegment: VideoPacket[][] = segments.map(() => []);
  let endTime = 0;
  for (let first = 0; first < segments.length; first += SEGMENTS_PER_PROBE) {
    const names = segments.slice(first, first + SEGMENTS_PER_PROBE);
    const { stdout } = await run(
      ffprobePath,
      // Timestamps in ticks of the stream's time base: pts_time is rounded to microseconds, and
      // the rounding shows in the durations (1.999999 for 2 s).
      [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "packet=pos,pts,duration,flags:stream=time_base",
        "-of",
        "json",
        `concat:${names.join("|")}`,
      ],
      { cwd: tierDir, maxBuffer: 256 * 1024 * 1024 },
    );
    const output = JSON.parse(stdout) as { packets?: ProbePacket[]; streams?: Array<{ time_base?: string }> };
    const [num, den] = (output.streams?.[0]?.time_base ?? "1/90000").split("/").map(Number);
    const seconds = (ticks: number): number => (ticks * num!) / den!;
    let index = first;
    let base = 0; // where segment `index` starts in the concatenation
    for (const p of output.packets ?? []) {
      const pos = Number(p.pos);
      if (!Number.isFinite(pos) || typeof p.pts !== "number") continue;
      const time = seconds(p.pts);
      const duration = seconds(p.duration ?? 0);
      while (index < first + names.length - 1 && pos >= base + files[index]!.length) base += files[index++]!.length;
      perSegment[index]!.push({ pos: pos - base, time, duration, keyframe: (p.flags ?? "").includes("K") });
      endTime = Math.max(endTime, time + duration);
    }
  }
  const playlist = buildIframePlaylist(
    segments.map((uri, i) => ({ uri, ranges: keyframeRanges(files[i]!, perSegment[i]!) })),
    endTime,
  );
  logger.debug("I-frame playlist", {
    tierDir,
    keyframes: playlist.text.split("#EXT-X-BYTERANGE").length - 1,
    bandwidth: playlist.bandwidth,
  });
  return playlist;
}
