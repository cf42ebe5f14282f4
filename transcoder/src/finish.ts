/**
 * The playlists of a finished video, written into the output directory once ffmpeg has exited:
 * each tier's playlist as VOD, each tier's I-frame playlist, and the master that stays. While the
 * video was encoding, the tiers were EVENT playlists (so that it could be watched early) and the
 * master had a start hint for them; a finished video is a plain VOD presentation.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Rendition } from "../../contract/transcode.ts";
import { IFRAME_PLAYLIST, peakBitrate, probeIframePlaylist, type IframePlaylist } from "./iframes.ts";
import { type MeasuredBandwidth, writeMasterPlaylist } from "./master-playlist.ts";
import { playlistSegments, TIER_PLAYLIST, toVodPlaylist } from "./outputs.ts";
import type { Logger } from "./run-ffmpeg.ts";

export const MASTER_PLAYLIST = "index.m3u8";

export interface FinishOptions {
  ffprobePath: string;
  outputDir: string;
  renditions: readonly Rendition[];
  hasAudio: boolean;
  /** The SOURCE frame rate, as for writeMasterPlaylist. */
  fps: number;
  logger: Logger;
}

/** Each segment's URI and EXTINF duration, and the playlist's target duration. */
export function segmentDurations(playlist: string): { segments: Array<{ uri: string; duration: number }>; targetDuration: number } {
  const segments: Array<{ uri: string; duration: number }> = [];
  let duration: number | undefined;
  let targetDuration = 0;
  for (const raw of playlist.split(/\r?\n/)) {
    const line = raw.trim();
    const target = /^#EXT-X-TARGETDURATION:(\d+)/.exec(line);
    if (target) targetDuration = Number(target[1]);
    const extinf = /^#EXTINF:([\d.]+)/.exec(line);
    if (extinf) duration = Number(extinf[1]);
    else if (line && !line.startsWith("#")) {
      segments.push({ uri: line, duration: duration ?? 0 });
      duration = undefined;
    }
  }
  return { segments, targetDuration };
}

/**
 * A finished tier's bandwidths, measured on its segment files (audio, video and MPEG-TS overhead
 * together, as a player downloads them). "The peak segment bit rate of a Media Playlist is the
 * largest bit rate of any contiguous set of segments whose total duration is between 0.5 and 1.5
 * times the target duration. The bit rate of a set is calculated by dividing the sum of the
 * segment sizes by the sum of the segment durations. The average segment bit rate of a Media
 * Playlist is the sum of the sizes (in bits) of every Media Segment in the Media Playlist,
 * divided by the Media Playlist duration." (RFC 8216 §4.1, used by §4.3.4.2.)
 */
export async function measureTier(tierDir: string, playlist: string): Promise<MeasuredBandwidth> {
  const { segments, targetDuration } = segmentDurations(playlist);
  const entries = await Promise.all(segments.map(async (s) => ({ bytes: (await stat(join(tierDir, s.uri))).size, duration: s.duration })));
  const bits = entries.reduce((sum, e) => sum + e.bytes * 8, 0);
  const seconds = entries.reduce((sum, e) => sum + e.duration, 0);
  const target = Math.max(1, targetDuration, ...entries.map((e) => Math.round(e.duration)));
  return { bandwidth: Math.ceil(peakBitrate(entries, target)), averageBandwidth: Math.ceil(seconds > 0 ? bits / seconds : 0) };
}

export interface FinishedPlaylists {
  /** Files to upload, in order. */
  files: string[];
  /** The renditions with their measured peak BANDWIDTH (what the finished master says). */
  renditions: Rendition[];
}

/**
 * Rewrites the tier playlists (VOD), writes the I-frame playlists and the final master. Resolves
 * the files to upload after the tiers' last segments and playlists, in order: the I-frame
 * playlists (they name segments), then the master (it names the I-frame playlists).
 */
export async function writeFinishedPlaylists(opts: FinishOptions): Promise<FinishedPlaylists> {
  const iframes = new Map<string, IframePlaylist>();
  const tiers = new Map<string, MeasuredBandwidth>();
  for (const r of opts.renditions) {
    const tierDir = join(opts.outputDir, r.name);
    const playlistPath = join(tierDir, TIER_PLAYLIST);
    const playlist = await readFile(playlistPath, "utf8");
    await writeFile(playlistPath, toVodPlaylist(playlist));
    tiers.set(r.name, await measureTier(tierDir, playlist));
    const iframePlaylist = await probeIframePlaylist({
      ffprobePath: opts.ffprobePath,
      tierDir,
      segments: playlistSegments(playlist),
      logger: opts.logger,
    });
    await writeFile(join(tierDir, IFRAME_PLAYLIST), iframePlaylist.text);
    iframes.set(r.name, iframePlaylist);
  }
  await writeFile(join(opts.outputDir, MASTER_PLAYLIST), writeMasterPlaylist(opts.renditions, opts.hasAudio, opts.fps, { iframes, tiers }));
  return {
    files: [...opts.renditions.map((r) => `${r.name}/${IFRAME_PLAYLIST}`), MASTER_PLAYLIST],
    renditions: opts.renditions.map((r) => ({ ...r, bandwidth: tiers.get(r.name)?.bandwidth ?? r.bandwidth })),
  };
}
