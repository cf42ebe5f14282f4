import { VIDEO_ID_SOURCE, isVideoId } from "../../../contract/video.ts";

export { isVideoId };

export const newVideoId = (): string => crypto.randomUUID();

const VIDEO_ID_IN_PATH = new RegExp(`/(${VIDEO_ID_SOURCE})(/|$)`);

/** The video a request path is about (/videos/<id>/…, /api/videos/<id>, uploads, jobs), if any. */
export function videoIdInPath(path: string): string | null {
  return VIDEO_ID_IN_PATH.exec(path)?.[1] ?? null;
}
