/**
 * The MP4 download (`/videos/<id>/download.mp4`): who may have it, the owner's URL, and the
 * attachment's file name. The MP4 is one file of the current run (`r<run>/download.mp4`), written
 * by the transcoder right before the run's result, so a READY video has it.
 */
import type { VideoRow } from "../db/schema.ts";
import type { PlaybackState } from "./playback-state.ts";
import { signDownloadToken, verifyDownloadToken, verifyPlaybackToken } from "./playback-token.ts";

export const DOWNLOAD_PATH = "download.mp4";

/**
 * The owner's downloadUrl ("always for the owner"): the public path when anyone may download, else a
 * path with the owner's download token. null until the video is READY (no MP4 before), and for
 * videos made before MP4 downloads existed (their run has none).
 */
export async function ownerDownloadUrl(env: Env, row: VideoRow): Promise<string | null> {
  if (row.status !== "READY" || !row.hasDownload) return null;
  if (row.visibility === "public" && row.downloadable) return `/videos/${row.id}/${DOWNLOAD_PATH}`;
  return `/videos/${row.id}/p/${await signDownloadToken(env.JWT_SECRET, row.id, row.playbackVersion)}/${DOWNLOAD_PATH}`;
}

/**
 * May this request have the MP4? Checked on every request against the video's current state (never
 * cached with the bytes), so turning `downloadable` off stops it at once in this isolate and within
 * the playback state's few seconds everywhere else.
 * - the owner's download token: always;
 * - otherwise only a downloadable video: a public one for anyone, a private one with a valid
 *   playback token (a share link's viewer).
 * Everything else is a 404 ("a non-owner of a non-downloadable video gets 404").
 */
export async function mayDownload(secret: string, state: PlaybackState, token: string | null): Promise<boolean> {
  if (state.status !== "READY") return false;
  if (token && (await verifyDownloadToken(secret, state.id, state.playbackVersion, token))) return true;
  if (!state.downloadable) return false;
  if (state.visibility === "public") return token === null;
  return token !== null && (await verifyPlaybackToken(secret, state.id, state.playbackVersion, token));
}

const MAX_NAME = 100;

/** The title as a file name: no control characters, path separators or quotes; never empty. */
export function downloadFileName(title: string, id: string): string {
  const cleaned = title
    .normalize("NFC")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/[/\\:*?"<>|]/g, " ")
    .replace(/\s+/g, " ")
    // No hidden or relative names ("..", ".profile"), no trailing dot or space (Windows drops them).
    .replace(/^[.\s]+|[.\s]+$/g, "");
  const base = [...cleaned].slice(0, MAX_NAME).join("").trim() || `video-${id}`;
  return `${base}.mp4`;
}

/** RFC 5987 `value-chars`: attr-chars as they are, everything else percent-encoded UTF-8. */
function extValue(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `Content-Disposition: attachment` with the title as the name (RFC 6266 §4.3): `filename*` in
 * UTF-8 for any script (an Arabic title included), and an ASCII `filename` for clients that do not
 * read `filename*` (Latin letters without their accents; the video's id when nothing is left).
 */
export function contentDisposition(title: string, id: string): string {
  const name = downloadFileName(title, id);
  const stem = name.slice(0, -".mp4".length);
  const ascii =
    stem
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^\x20-\x7e]/g, "")
      .replace(/[%\\"]/g, "")
      .replace(/\s+/g, " ")
      .trim() || `video-${id}`;
  return `attachment; filename="${ascii}.mp4"; filename*=UTF-8''${extValue(name)}`;
}
