/**
 * Our own master (multivariant) playlist. ffmpeg's `-master_pl_name` output lacks
 * AVERAGE-BANDWIDTH and FRAME-RATE, and computes BANDWIDTH from the target bitrate rather than
 * the peak; we know better, so we write it.
 */
import type { Rendition } from '../../workers/src/shared/transcode.ts';
import { AAC_LC_CODEC, avc1Codec } from './codecs.ts';
import { averageBandwidth, capFrameRate } from './ladder.ts';

/**
 * Same version as the media playlists ffmpeg writes (it says 6 once EXT-X-INDEPENDENT-SEGMENTS is
 * on); nothing in this file needs more.
 */
export const HLS_VERSION = 6;

/** Where each tier's media playlist lives, relative to the master playlist. */
export function variantPlaylistUri(rendition: Pick<Rendition, 'name'>): string {
  return `${rendition.name}/index.m3u8`;
}

/**
 * @param fps the SOURCE frame rate; the advertised FRAME-RATE is the capped output rate.
 *
 * Tiers are listed lowest bandwidth first: players that take the first variant as the starting
 * one (hls.js with default startLevel, older Safari) then start fast on slow links and climb.
 *
 * `#EXT-X-START:TIME-OFFSET=0`: while the video is still being transcoded the media playlists are
 * EVENT playlists without #EXT-X-ENDLIST, which hls.js treats like live and would start near the
 * newest segment; this makes it start at the beginning instead.
 */
export function writeMasterPlaylist(renditions: readonly Rendition[], hasAudio: boolean, fps: number): string {
  const frameRate = capFrameRate(fps);
  const sorted = [...renditions].sort((a, b) => a.bandwidth - b.bandwidth || a.height * a.width - b.height * b.width);
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${HLS_VERSION}`, '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-START:TIME-OFFSET=0'];
  for (const r of sorted) {
    const codecs = [avc1Codec(r.width, r.height, frameRate), ...(hasAudio ? [AAC_LC_CODEC] : [])].join(',');
    const attributes = [
      `BANDWIDTH=${r.bandwidth}`,
      `AVERAGE-BANDWIDTH=${averageBandwidth(r.videoBitrate, hasAudio)}`,
      `RESOLUTION=${r.width}x${r.height}`,
      `CODECS="${codecs}"`,
      `FRAME-RATE=${frameRate.toFixed(3)}`,
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, variantPlaylistUri(r));
  }
  return `${lines.join('\n')}\n`;
}
