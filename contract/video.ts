/**
 * A video's states and visibility, and the metadata a creator sends with an upload: the words every
 * side uses (API, database schema, web app). The database schema imports these, never the reverse.
 */

/** Every state a video passes through. */
export const VIDEO_STATUSES = ["UPLOADING", "QUEUED", "HELD", "PROCESSING", "READY", "FAILED", "CANCELLED"] as const;
export type VideoStatus = (typeof VIDEO_STATUSES)[number];

export const VISIBILITIES = ["public", "private"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Upload-Metadata as the product reads it (sanitized): the file's name and type, and a title. */
export interface VideoMetadata {
  filename: string;
  filetype: string;
  title: string;
}

/** The largest upload by default (500 MiB): the Worker's MAX_UPLOAD_BYTES, advertised as Tus-Max-Size. */
export const DEFAULT_MAX_UPLOAD_BYTES = 524_288_000;

/** Video ids (= upload ids) are random UUIDs (version 4); anything else never reaches storage. */
export const VIDEO_ID_SOURCE = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
const VIDEO_ID = new RegExp(`^${VIDEO_ID_SOURCE}$`);
export const isVideoId = (value: string): boolean => VIDEO_ID.test(value);
