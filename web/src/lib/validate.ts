/** Checks a picked file before anything is sent (pure: works on name, type and size). */

import { DEFAULT_MAX_UPLOAD_BYTES } from "../../../contract/video.ts";

/** The server's Tus-Max-Size (MAX_UPLOAD_BYTES): 500 MiB. */
export const MAX_UPLOAD_BYTES = DEFAULT_MAX_UPLOAD_BYTES;

/** Extensions accepted when the browser gives no MIME type (some Android pickers). */
export const VIDEO_EXTENSIONS = ["mp4", "m4v", "mov", "mkv", "webm", "avi", "3gp", "3g2", "mpg", "mpeg", "ts", "mts", "flv", "wmv", "ogv"];

export type FileProblem = { code: "empty" } | { code: "not_video"; type: string } | { code: "too_big"; size: number; max: number };

export interface FileLike {
  name: string;
  type: string;
  size: number;
}

export function isVideoFile(file: FileLike): boolean {
  if (file.type) return file.type.startsWith("video/");
  const ext = file.name.toLowerCase().split(".").pop() ?? "";
  return VIDEO_EXTENSIONS.includes(ext);
}

export function checkFile(file: FileLike, max = MAX_UPLOAD_BYTES): FileProblem | null {
  if (!isVideoFile(file)) return { code: "not_video", type: file.type || file.name.split(".").pop() || "" };
  if (file.size === 0) return { code: "empty" };
  if (file.size > max) return { code: "too_big", size: file.size, max };
  return null;
}

/** The MIME type sent as tus metadata (`filetype`): the browser's, else guessed from the name. */
export function fileType(file: FileLike): string {
  if (file.type) return file.type;
  const ext = file.name.toLowerCase().split(".").pop() ?? "";
  const known: Record<string, string> = {
    mp4: "video/mp4",
    m4v: "video/mp4",
    mov: "video/quicktime",
    mkv: "video/x-matroska",
    webm: "video/webm",
    avi: "video/x-msvideo",
    "3gp": "video/3gpp",
  };
  return known[ext] ?? "application/octet-stream";
}

/** A default title from the file name: "my_trip-2024.mp4" → "my trip 2024". */
export function titleFromFilename(name: string): string {
  const base = name
    .replace(/\.[^.]+$/, "")
    .replace(/[_\-.]+/g, " ")
    .trim();
  return (base || name).slice(0, 200);
}
