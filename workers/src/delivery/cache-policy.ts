/**
 * How long each kind of file may be cached, by the browser and at the edge. Pure.
 *
 * - A segment never changes once written: a year, immutable.
 * - A finished playlist (the video is READY): an hour, then served stale for a day while revalidated.
 * - A playlist of a video still being transcoded grows every few seconds: 2 s, so players see new
 *   segments, and never "stale-while-revalidate" (it would hide the ENDLIST).
 * - A poster: a week; the storyboard (sprite and WebVTT) is written once per run like it, and kept as long.
 * While a video is still processing, segments get only 5 minutes in the browser: a failed attempt is
 * retried from scratch, and its segments must not outlive it in anyone's cache.
 */
export type FileKind = "playlist" | "segment" | "poster";

export function fileKind(path: string): FileKind {
  if (path.endsWith(".m3u8")) return "playlist";
  if (path.endsWith(".jpg") || path.endsWith(".vtt")) return "poster";
  return "segment";
}

export function cacheControlFor(kind: FileKind, finished: boolean): string {
  if (kind === "segment") return finished ? "public, max-age=31536000, immutable" : "public, max-age=300";
  if (kind === "poster") return finished ? "public, max-age=604800" : "public, max-age=60";
  return finished ? "public, max-age=3600, stale-while-revalidate=86400" : "public, max-age=2";
}

/** Seconds the edge cache (Cache API) keeps a file; growing playlists are not kept at all. */
export function edgeTtlFor(kind: FileKind, finished: boolean): number {
  if (kind === "segment") return 31_536_000;
  if (kind === "poster") return finished ? 604_800 : 60;
  return finished ? 3_600 : 0;
}
