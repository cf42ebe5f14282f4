import { and, eq, inArray, isNotNull, isNull, lt, notExists, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { directUploads, videos, type DirectUploadRow } from "./schema.ts";

/** Queries on direct upload links (POST /api/direct-uploads). */

export async function insertDirectUpload(db: D1Database, row: DirectUploadRow): Promise<void> {
  await drizzle(db).insert(directUploads).values(row);
}

export async function findDirectUpload(db: D1Database, videoId: string): Promise<DirectUploadRow | undefined> {
  return drizzle(db).select().from(directUploads).where(eq(directUploads.videoId, videoId)).get();
}

/**
 * Takes the link's one upload: true for exactly one caller, however many creations race. A
 * creation refused afterwards (quota) gives it back with `releaseDirectUpload`.
 */
export async function claimDirectUpload(db: D1Database, videoId: string, now: number): Promise<boolean> {
  const claimed = await drizzle(db)
    .update(directUploads)
    .set({ usedAt: now })
    .where(and(eq(directUploads.videoId, videoId), isNull(directUploads.usedAt)))
    .returning({ videoId: directUploads.videoId })
    .all();
  return claimed.length === 1;
}

export async function releaseDirectUpload(db: D1Database, videoId: string): Promise<void> {
  await drizzle(db).update(directUploads).set({ usedAt: null }).where(eq(directUploads.videoId, videoId));
}

/** The duration cap of the video's upload link, if it came through one. */
export async function maxDurationFor(db: D1Database, videoId: string): Promise<number | null> {
  const row = await drizzle(db)
    .select({ maxDurationSec: directUploads.maxDurationSec })
    .from(directUploads)
    .where(eq(directUploads.videoId, videoId))
    .get();
  return row?.maxDurationSec ?? null;
}

/**
 * Removes the links nobody needs any more, at most `limit` of them: those that expired unused
 * before `expiredBefore`, and used ones (taken before `usedBefore`) whose video is gone. A used
 * link whose video still exists stays: its duration cap and its token's access to the upload live
 * in the row. The grace period in the cutoffs covers a creation between taking the link and
 * writing the video row. Returns how many rows went.
 */
export async function purgeDirectUploads(db: D1Database, expiredBefore: number, usedBefore: number, limit = 1000): Promise<number> {
  const d = drizzle(db);
  const t = directUploads;
  const stale = d
    .select({ videoId: t.videoId })
    .from(t)
    .where(
      or(
        and(isNull(t.usedAt), lt(t.expiresAt, expiredBefore)),
        and(
          isNotNull(t.usedAt),
          lt(t.usedAt, usedBefore),
          notExists(d.select({ one: sql`1` }).from(videos).where(eq(videos.id, t.videoId))),
        ),
      ),
    )
    .limit(limit);
  const removed = await d.delete(t).where(inArray(t.videoId, stale)).returning({ videoId: t.videoId }).all();
  return removed.length;
}
