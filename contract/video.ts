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
