/** Content types of the files we store and serve, by extension. */
const TYPES: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  ts: "video/mp2t",
  m4s: "video/iso.segment",
  mp4: "video/mp4",
  jpg: "image/jpeg",
  // The storyboard's cues; a text type, so the charset is said.
  vtt: "text/vtt; charset=utf-8",
};

export function contentTypeOf(path: string): string {
  return TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream";
}
