/** Video ids (= upload ids) are random UUIDs; anything else is rejected before it reaches storage. */
const VIDEO_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const newVideoId = (): string => crypto.randomUUID();
export const isVideoId = (value: string): boolean => VIDEO_ID.test(value);

/** The video a request path is about (/videos/<id>/…, /api/videos/<id>, uploads, jobs), if any. */
export function videoIdInPath(path: string): string | null {
  return /\/([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})(\/|$)/.exec(path)?.[1] ?? null;
}
