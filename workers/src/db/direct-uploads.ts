import { and, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { directUploads, type DirectUploadRow } from "./schema.ts";

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
