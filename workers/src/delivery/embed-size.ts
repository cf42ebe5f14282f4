import type { RenditionSummary } from "../../../contract/api.ts";
import { topRendition } from "./viewer-access.ts";

export interface Size {
  width: number;
  height: number;
}

/** Before the transcoder reported any rendition: the common 16:9 frame. */
const FALLBACK: Size = { width: 640, height: 360 };

/**
 * The transcoder's poster is at most 480 lines, the source's aspect kept and sides even
 * (POSTER_MAX_HEIGHT in the transcoder's ffmpeg arguments); the top rendition has that aspect.
 */
const POSTER_MAX_HEIGHT = 480;

/** The video's own size: its top rendition's. */
export function videoSize(renditions: RenditionSummary[]): Size {
  const top = topRendition(renditions);
  return top && top.width > 0 && top.height > 0 ? { width: top.width, height: top.height } : FALLBACK;
}

export function posterSize(video: Size): Size {
  const height = Math.min(POSTER_MAX_HEIGHT, 2 * Math.floor(video.height / 2));
  return { width: Math.max(2, 2 * Math.round((video.width * height) / video.height / 2)), height };
}

/**
 * oEmbed: "the maximum width/height of the embedded resource ... must be respected by providers":
 * scaled down, never up, with the aspect kept. A bound that is not a positive whole number is ignored.
 */
export function fitWithin(size: Size, maxWidth: string | undefined, maxHeight: string | undefined): Size {
  const bound = (v: string | undefined) => (v !== undefined && /^\d{1,6}$/.test(v) && Number(v) > 0 ? Number(v) : Infinity);
  const scale = Math.min(1, bound(maxWidth) / size.width, bound(maxHeight) / size.height);
  return { width: Math.max(1, Math.floor(size.width * scale)), height: Math.max(1, Math.floor(size.height * scale)) };
}
