import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type VideoRow } from "./schema.ts";
import type { VideoResponse } from "../../../contract/api.ts";
import { isRendition, type Rendition } from "../../../contract/transcode.ts";
import type { VideoMetadata } from "../../../contract/video.ts";
import { MESSAGES } from "../videos/lifecycle.ts";
import { writeTransition } from "./transitions.ts";

/** Queries on the videos table. Every function takes the D1 binding so callers stay testable. */

/** What one user's unfinished uploads may add up to; a deferred length counts as `deferredBytes`. */
export interface OpenUploadQuota {
  maxUploads: number;
  maxBytes: number;
  deferredBytes: number;
}

export type InsertUploadResult = "inserted" | "too_many_uploads" | "too_many_bytes";

/**
 * Creates the row of a new upload unless its owner's open (UPLOADING) uploads would pass the
 * quota. Check and insert are one statement, so concurrent creations cannot all slip through.
 */
export async function insertUploadingVideo(
  db: D1Database,
  v: { id: string; ownerId: string; meta: VideoMetadata; length: number | null; expiresAt: number; now: number },
  quota: OpenUploadQuota,
): Promise<InsertUploadResult> {
  const declared = v.length ?? quota.deferredBytes;
  const inserted = await db
    .prepare(
      `INSERT INTO videos (id, owner_id, title, filename, filetype, status, message, source_bytes, upload_expires_at, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, 'UPLOADING', ?6, ?7, ?8, ?9, ?9
       WHERE (SELECT count(*) FROM videos WHERE owner_id = ?2 AND status = 'UPLOADING') < ?10
         AND (SELECT coalesce(sum(coalesce(source_bytes, ?11)), 0) FROM videos WHERE owner_id = ?2 AND status = 'UPLOADING') + ?12 <= ?13`,
    )
    .bind(
      v.id,
      v.ownerId,
      v.meta.title,
      v.meta.filename,
      v.meta.filetype,
      MESSAGES.UPLOADING,
      v.length,
      v.expiresAt,
      v.now,
      quota.maxUploads,
      quota.deferredBytes,
      declared,
      quota.maxBytes,
    )
    .run();
  if (inserted.meta.changes === 1) return "inserted";
  // Refused: say which limit (read after the fact; only the wording depends on it).
  const open = await db
    .prepare("SELECT count(*) AS n FROM videos WHERE owner_id = ? AND status = 'UPLOADING'")
    .bind(v.ownerId)
    .first<{ n: number }>();
  return (open?.n ?? 0) >= quota.maxUploads ? "too_many_uploads" : "too_many_bytes";
}

/**
 * Bytes an unfinished upload holds (and its length once a deferred one is declared). Only grows,
 * so writes that land out of order cannot move it back.
 */
export async function recordReceivedBytes(db: D1Database, id: string, bytes: number, length: number | null): Promise<void> {
  await drizzle(db)
    .update(videos)
    .set({ receivedBytes: sql`max(${videos.receivedBytes}, ${bytes})`, sourceBytes: sql`coalesce(${videos.sourceBytes}, ${length})` })
    .where(eq(videos.id, id));
}

/**
 * What a READY run left for storage metering: the outputs' size and, when the source was removed,
 * when. Not a change of state.
 */
export async function recordOutputs(db: D1Database, id: string, outputBytes: number, sourceDeletedAt: number | null): Promise<void> {
  await drizzle(db)
    .update(videos)
    .set({ outputBytes, ...(sourceDeletedAt === null ? {} : { sourceDeletedAt }) })
    .where(eq(videos.id, id));
}

export async function findVideo(db: D1Database, id: string): Promise<VideoRow | undefined> {
  return drizzle(db).select().from(videos).where(eq(videos.id, id)).get();
}

/** Where a page of the list starts: after this row (newest first, id breaks ties). */
export interface ListCursor {
  createdAt: number;
  id: string;
}

/**
 * One page of videos, newest first with the id as tie-breaker, so a row appears exactly once while
 * paging even when many share a creation time. Returns `limit + 1` rows at most: the extra one
 * tells the caller there is a next page.
 */
export async function listVideos(
  db: D1Database,
  ownerId: string | null,
  limit: number,
  after: ListCursor | null = null,
): Promise<VideoRow[]> {
  const afterCursor = after
    ? or(lt(videos.createdAt, after.createdAt), and(eq(videos.createdAt, after.createdAt), lt(videos.id, after.id)))
    : undefined;
  return drizzle(db)
    .select()
    .from(videos)
    .where(and(ownerId === null ? undefined : eq(videos.ownerId, ownerId), afterCursor))
    .orderBy(desc(videos.createdAt), desc(videos.id))
    .limit(limit + 1)
    .all();
}

/**
 * Title and/or visibility; returns the updated row. A visibility that changes bumps the playback
 * version in the same statement (compared with the stored value, not the caller's copy), so every
 * URL signed before the change stops working.
 */
export async function updateVideo(
  db: D1Database,
  id: string,
  patch: Partial<Pick<VideoRow, "title" | "visibility" | "downloadable">>,
  now: number,
): Promise<VideoRow | undefined> {
  const bump =
    patch.visibility === undefined
      ? {}
      : {
          playbackVersion: sql`CASE WHEN ${videos.visibility} = ${patch.visibility} THEN ${videos.playbackVersion} ELSE ${videos.playbackVersion} + 1 END`,
        };
  return drizzle(db)
    .update(videos)
    .set({ ...patch, ...bump, updatedAt: now })
    .where(eq(videos.id, id))
    .returning()
    .get();
}

/** Voids every signed playback URL (and share link) of the video at once; returns the new version. */
export async function bumpPlaybackVersion(db: D1Database, id: string, now: number): Promise<number | undefined> {
  const row = await drizzle(db)
    .update(videos)
    .set({ playbackVersion: sql`${videos.playbackVersion} + 1`, updatedAt: now })
    .where(eq(videos.id, id))
    .returning({ playbackVersion: videos.playbackVersion })
    .get();
  return row?.playbackVersion;
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

/**
 * The lifecycle's "expired" change without telling subscribers (the cron goes through
 * `videos/transitions.ts`, which does).
 */
export async function markUploadExpired(db: D1Database, id: string, now: number): Promise<void> {
  await writeTransition(db, id, { event: "expired" }, now);
}

/**
 * The API shape of a row. Only the owner or an admin ever gets a private video's
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
    // Only READY: the storyboard is uploaded last, and a later run (an admin's retry) has not made its own yet.
    storyboardUrl: row.hasStoryboard && row.status === "READY" ? `${base}/storyboard.vtt` : null,
    durationSec: row.durationSec ?? null,
    renditions: storedRenditions(row.renditions).map(({ name, width, height, bandwidth }) => ({ name, width, height, bandwidth })),
    sourceBytes: row.sourceBytes ?? null,
    sourceSha256: row.sourceSha256 ?? null,
    error: row.error ?? null,
    createdAt: new Date(row.createdAt).toISOString(),
    readyAt: row.readyAt ? new Date(row.readyAt).toISOString() : null,
    downloadable: row.downloadable,
    // A viewer's URL (the owner's is made in routes/videos.ts): only READY, when the run made the MP4.
    downloadUrl: row.downloadable && row.hasDownload && row.status === "READY" ? `${base}/download.mp4` : null,
  };
}

/** A stored value that is not a list of renditions (a row written before results were checked) shows as none, never as an error. */
function storedRenditions(value: unknown): Rendition[] {
  return Array.isArray(value) ? value.filter(isRendition) : [];
}

/** What playback checks before serving any file of a video (delivery/playback-state.ts). */
export async function findPlaybackState(db: D1Database, id: string) {
  return drizzle(db)
    .select({
      id: videos.id,
      visibility: videos.visibility,
      status: videos.status,
      playable: videos.playable,
      run: videos.run,
      playbackVersion: videos.playbackVersion,
      downloadable: videos.downloadable,
      title: videos.title,
    })
    .from(videos)
    .where(eq(videos.id, id))
    .get();
}
