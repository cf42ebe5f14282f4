/**
 * Our own master (multivariant) playlist. ffmpeg's `-master_pl_name` output lacks
 * AVERAGE-BANDWIDTH and FRAME-RATE, and computes BANDWIDTH from the target bitrate rather than
 * the peak; we know better, so we write it.
 */
import type { Rendition } from "../../contract/transcode.ts";
import { AAC_LC_CODEC, avc1Codec } from "./codecs.ts";
import { audioBitrateFor, averageBandwidth, capFrameRate } from "./ladder.ts";

/**
 * Same version as the media playlists ffmpeg writes (it says 6 once EXT-X-INDEPENDENT-SEGMENTS is
 * on); nothing in this file needs more.
 */
export const HLS_VERSION = 6;

/** Each tier's I-frame playlist, next to its media playlist. */
export const IFRAME_PLAYLIST = "iframes.m3u8";

/** Where each tier's media playlist lives, relative to the master playlist. */
export function variantPlaylistUri(rendition: Pick<Rendition, "name">): string {
  return `${rendition.name}/index.m3u8`;
}

export function iframePlaylistUri(rendition: Pick<Rendition, "name">): string {
  return `${rendition.name}/${IFRAME_PLAYLIST}`;
}

/** Peak and average bits per second of a playlist's segments, as RFC 8216 §4.3.4.2 defines them. */
export interface MeasuredBandwidth {
  bandwidth: number;
  averageBandwidth: number;
}

/**
 * What the master of a finished video adds: each tier's I-frame playlist bandwidths, and (when
 * known) each tier's measured bandwidths, by tier name.
 */
export interface FinishedVideo {
  iframes: ReadonlyMap<string, MeasuredBandwidth>;
  tiers?: ReadonlyMap<string, MeasuredBandwidth>;
}

/**
 * @param fps the SOURCE frame rate; the advertised FRAME-RATE is the capped output rate.
 * @param finished given once the video is complete: the master that stays.
 *
 * Tiers are listed lowest bandwidth first: players that take the first variant as the starting
 * one (hls.js with default startLevel, older Safari) then start fast on slow links and climb.
 *
 * While the video is being transcoded (no `finished`), the media playlists are EVENT playlists
 * without #EXT-X-ENDLIST, where a client "SHOULD NOT choose a segment that starts less than three
 * target durations from the end" (RFC 8216 §6.3.3) unless EXT-X-START says otherwise: so the early
 * master carries `#EXT-X-START:TIME-OFFSET=0` for players we cannot configure (Safari's own HLS;
 * our hls.js is told startPosition 0 itself). The finished master does not: the playlists are VOD
 * then, which every client starts at the beginning, and ffmpeg-based clients (ffprobe, ffplay,
 * mpv, downloaders) mis-read a master with EXT-X-START (every variant twice, no duration).
 * The finished master also lists each tier's I-frame playlist (RFC 8216 §4.3.4.3), after the tiers.
 *
 * BANDWIDTH and AVERAGE-BANDWIDTH: the early master can only give the ladder's estimates (from the
 * tier's ceiling bitrate); "If all the Media Segments in a Variant Stream have already been
 * created, the BANDWIDTH value MUST be the largest sum of peak segment bit rates produced by any
 * playable combination of Renditions" and AVERAGE-BANDWIDTH the average segment bit rate
 * (§4.3.4.2), so the finished master carries the measured `finished.tiers` values.
 */
export function writeMasterPlaylist(renditions: readonly Rendition[], hasAudio: boolean, fps: number, finished?: FinishedVideo): string {
  const frameRate = capFrameRate(fps);
  const bandwidthOf = (r: Rendition): MeasuredBandwidth =>
    finished?.tiers?.get(r.name) ?? {
      bandwidth: r.bandwidth,
      averageBandwidth: averageBandwidth(r.videoBitrate, hasAudio ? audioBitrateFor(r) : 0),
    };
  // Lowest first by pixels, then bandwidth: measured bandwidths of easy content can be nearly
  // equal between tiers, and the order must not depend on that.
  const sorted = [...renditions].sort((a, b) => a.height * a.width - b.height * b.width || a.bandwidth - b.bandwidth);
  const lines = ["#EXTM3U", `#EXT-X-VERSION:${HLS_VERSION}`, "#EXT-X-INDEPENDENT-SEGMENTS"];
  if (!finished) lines.push("#EXT-X-START:TIME-OFFSET=0");
  for (const r of sorted) {
    const codecs = [avc1Codec(r.width, r.height, frameRate), ...(hasAudio ? [AAC_LC_CODEC] : [])].join(",");
    const attributes = [
      `BANDWIDTH=${bandwidthOf(r).bandwidth}`,
      `AVERAGE-BANDWIDTH=${bandwidthOf(r).averageBandwidth}`,
      `RESOLUTION=${r.width}x${r.height}`,
      `CODECS="${codecs}"`,
      `FRAME-RATE=${frameRate.toFixed(3)}`,
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(",")}`, variantPlaylistUri(r));
  }
  for (const r of finished ? sorted : []) {
    const iframes = finished!.iframes.get(r.name);
    if (!iframes) throw new Error(`No I-frame playlist for tier ${r.name}.`);
    // Only the video codec: an I-frame playlist is pictures, nothing to hear.
    const attributes = [
      `BANDWIDTH=${iframes.bandwidth}`,
      `AVERAGE-BANDWIDTH=${iframes.averageBandwidth}`,
      `RESOLUTION=${r.width}x${r.height}`,
      `CODECS="${avc1Codec(r.width, r.height, frameRate)}"`,
      `URI="${iframePlaylistUri(r)}"`,
    ];
    lines.push(`#EXT-X-I-FRAME-STREAM-INF:${attributes.join(",")}`);
  }
  return `${lines.join("\n")}\n`;
}
