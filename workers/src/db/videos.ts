import { and, desc, eq, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type VideoRow } from "./schema.ts";
import type { VideoResponse } from "../shared/api.ts";
import { isRendition, type Rendition } from "../shared/transcode.ts";
import type { VideoMetadata } from "../tus/protocol.ts";

/** Queries on the videos table. Every function takes the D1 binding so callers stay testable. */

export const STATUS_MESSAGES = {
  UPLOADING: "Uploading: the video is saved as it arrives, and the upload resumes if the connection drops.",
  QUEUED: "Upload complete. Waiting for a transcoder.",
  UPLOAD_EXPIRED: "The upload was not finished within the time allowed, so its bytes were removed. Upload the file again.",
} as const;

export async function insertUploadingVideo(
  db: D1Database,
  v: { id: string; ownerId: string; meta: VideoMetadata; length: number | null; expiresAt: number; now: number },
): Promise<void> {
  await drizzle(db).insert(videos).values({
    id: v.id,
    ownerId: v.ownerId,
    title: v.meta.title,
    filename: v.meta.filename,
    filetype: v.meta.filetype,
    status: "UPLOADING",
    message: STATUS_MESSAGES.UPLOADING,
    sourceBytes: v.length,
    uploadExpiresAt: v.expiresAt,
    createdAt: v.now,
    updatedAt: v.now,
  });
}

/** UPLOADING → QUEUED once the source object is complete in R2. Idempotent. */
export async function markUploadComplete(db: D1Database, id: string, bytes: number, now: number): Promise<void> {
  await drizzle(db)
    .update(videos)
    .set({ status: "QUEUED", message: STATUS_MESSAGES.QUEUED, sourceBytes: bytes, progress: 0, uploadedAt: now, updatedAt: now })
    .where(and(eq(videos.id, id), eq(videos.status, "UPLOADING")));
}

export async function findVideo(db: D1Database, id: string): Promise<VideoRow | undefined> {
  return drizzle(db).select().from(videos).where(eq(videos.id, id)).get();
}

export async function listVideos(db: D1Database, ownerId: string | null, limit = 200): Promise<VideoRow[]> {
  const query = drizzle(db).select().from(videos);
  const filtered = ownerId === null ? query : query.where(eq(videos.ownerId, ownerId));
  return filtered.orderBy(desc(videos.createdAt)).limit(limit).all();
}

export async function updateVideo(db: D1Database, id: string, patch: Partial<Pick<VideoRow, "title" | "visibility">>, now: number) {
  await drizzle(db).update(videos).set({ ...patch, updatedAt: now }).where(eq(videos.id, id));
}

export async function deleteVideoRow(db: D1Database, id: string): Promise<void> {
  await drizzle(db).delete(videos).where(eq(videos.id, id));
}

export async function findExpiredUploads(db: D1Database, now: number, limit = 100): Promise<VideoRow[]> {
  return drizzle(db)
    .select()
    .from(videos)
    .where(and(eq(videos.status, "UPLOADING"), lt(videos.uploadExpiresAt, now)))
    .limit(limit)
    .all();
}

export async function markUploadExpired(db: D1Database, id: string, now: number): Promise<void> {
  await drizzle(db)
    .update(videos)
    .set({ status: "FAILED", error: "upload expired", message: STATUS_MESSAGES.UPLOAD_EXPIRED, updatedAt: now })
    .where(and(eq(videos.id, id), eq(videos.status, "UPLOADING")));
}

/**
 * The API shape of a row (DESIGN.md §3). Only the owner or an admin ever gets a private video's
 * row, so its URLs carry a signed, expiring playback token (`playbackToken`).
 */
export function toVideoResponse(row: VideoRow, playbackToken: string | null = null): VideoResponse {
  const base = row.visibility === "private" && playbackToken ? `/videos/${row.id}/p/${playbackToken}` : `/videos/${row.id}`;
  return {
    id: row.id,
    ownerId: row.ownerId,
    title: row.title,
    visibility: row.visibility,
    status: row.status,
    message: row.message,
    progress: row.progress,
    playable: row.playable,
    hlsUrl: row.playable ? `${base}/index.m3u8` : null,
    posterUrl: row.playable || row.status === "READY" ? `${base}/poster.jpg` : null,
    durationSec: row.durationSec ?? null,
    renditions: storedRenditions(row.renditions).map(({ name, width, height, bandwidth }) => ({ name, width, height, bandwidth })),
    sourceBytes: row.sourceBytes ?? null,
    sourceSha256: row.sourceSha256 ?? null,
    error: row.error ?? null,
    createdAt: new Date(row.createdAt).toISOString(),
    readyAt: row.readyAt ? new Date(row.readyAt).toISOString() : null,
  };
}

/** A stored value that is not a list of renditions (a row written before results were checked) shows as none, never as an error. */
function storedRenditions(value: unknown): Rendition[] {
  return Array.isArray(value) ? value.filter(isRendition) : [];
}
