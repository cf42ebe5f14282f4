/**
 * The MP4 download: one progressive MP4 of the top tier, made from what the ladder already encoded.
 * "No second encode": the tier's MPEG-TS segments are remuxed (`-c copy`) through its finished
 * playlist, so the MP4 has exactly the tier's H.264 and AAC streams, for the cost of a file copy.
 */
import { join } from "node:path";
import type { Rendition } from "../../contract/transcode.ts";
import { TIER_PLAYLIST } from "./outputs.ts";
import { runFfmpeg, type Logger } from "./run-ffmpeg.ts";
import type { JobMeter } from "./usage.ts";

/** Its name in the output directory and in R2 (`/videos/<id>/download.mp4`). */
export const DOWNLOAD_FILE = "download.mp4";
export const DOWNLOAD_CONTENT_TYPE = "video/mp4";

/** The tier the download copies: the tallest rung (the best picture the ladder made). */
export function topTier(renditions: readonly Rendition[]): Rendition {
  const top = renditions.reduce<Rendition | undefined>((best, r) => (best && best.height >= r.height ? best : r), undefined);
  if (!top) throw new Error("The ladder has no rendition to make a download of.");
  return top;
}

export interface DownloadArgsOptions {
  /** The output directory of the job: `<outputDir>/<tier>/index.m3u8` is the finished tier playlist. */
  outputDir: string;
  tier: string;
  hasAudio: boolean;
  output: string;
}

/** The ffmpeg arguments of the remux. */
export function buildDownloadArgs(opts: DownloadArgsOptions): string[] {
  return [
    "-hide_banner",
    "-nostdin",
    "-y",
    // Only local files: the playlist names its segments relatively, in the same directory.
    "-protocol_whitelist",
    "file",
    "-i",
    join(opts.outputDir, opts.tier, TIER_PLAYLIST),
    "-map",
    "0:v:0",
    ...(opts.hasAudio ? ["-map", "0:a:0"] : []),
    // The streams as the tier has them: no decode, no encode.
    "-c",
    "copy",
    // MPEG-TS carries AAC as ADTS frames; MP4 wants the raw frames with an AudioSpecificConfig.
    ...(opts.hasAudio ? ["-bsf:a", "aac_adtstoasc"] : []),
    // Faststart: the moov atom is moved before mdat, so a player (or a browser's <video>) can
    // start before the whole file is there, and a ranged request can seek.
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
    opts.output,
  ];
}

export interface DownloadJob {
  deps: { ffmpegPath: string };
  outDir: string;
  renditions: readonly Rendition[];
  hasAudio: boolean;
  durationSec: number;
  log: Logger;
  signal: AbortSignal;
  usage: JobMeter;
}

/**
 * Writes download.mp4 into the output directory from the finished top tier. A failure fails the
 * attempt like any ffmpeg failure (retried by the Worker): the owner is promised the download.
 */
export async function makeDownload(job: DownloadJob): Promise<void> {
  const tier = topTier(job.renditions);
  const startedAt = performance.now();
  await runFfmpeg({
    ffmpegPath: job.deps.ffmpegPath,
    args: buildDownloadArgs({ outputDir: job.outDir, tier: tier.name, hasAudio: job.hasAudio, output: join(job.outDir, DOWNLOAD_FILE) }),
    durationSec: job.durationSec,
    logger: job.log,
    signal: job.signal,
    usage: job.usage,
  });
  job.log.info("download written", { tier: tier.name, seconds: Math.round(performance.now() - startedAt) / 1000 });
}
