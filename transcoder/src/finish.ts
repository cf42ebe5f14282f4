/**
 * The playlists of a finished video, written into the output directory once ffmpeg has exited:
 * each tier's playlist as VOD, each tier's I-frame playlist, and the master that stays. While the
 * video was encoding, the tiers were EVENT playlists (so that it could be watched early) and the
 * master had a start hint for them; a finished video is a plain VOD presentation.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Rendition } from "../../contract/transcode.ts";
import { IFRAME_PLAYLIST, probeIframePlaylist, type IframePlaylist } from "./iframes.ts";
import { writeMasterPlaylist } from "./master-playlist.ts";
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

/**
 * Rewrites the tier playlists (VOD), writes the I-frame playlists and the final master. Resolves
 * the files to upload after the tiers' last segments and playlists, in order: the I-frame
 * playlists (they name segments), then the master (it names the I-frame playlists).
 */
export async function writeFinishedPlaylists(opts: FinishOptions): Promise<string[]> {
  const iframes = new Map<string, IframePlaylist>();
  for (const r of opts.renditions) {
    const tierDir = join(opts.outputDir, r.name);
    const playlistPath = join(tierDir, TIER_PLAYLIST);
    const playlist = await readFile(playlistPath, "utf8");
    await writeFile(playlistPath, toVodPlaylist(playlist));
    const iframePlaylist = await probeIframePlaylist({
      ffprobePath: opts.ffprobePath,
      tierDir,
      segments: playlistSegments(playlist),
      logger: opts.logger,
    });
    await writeFile(join(tierDir, IFRAME_PLAYLIST), iframePlaylist.text);
    iframes.set(r.name, iframePlaylist);
  }
  await writeFile(join(opts.outputDir, MASTER_PLAYLIST), writeMasterPlaylist(opts.renditions, opts.hasAudio, opts.fps, { iframes }));
  return [...opts.renditions.map((r) => `${r.name}/${IFRAME_PLAYLIST}`), MASTER_PLAYLIST];
}
