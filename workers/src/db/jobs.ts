import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type VideoRow, type VideoStatus } from "./schema.ts";

/** Queries of the job queue (a job waits in its video's row). */

/** How many videos are in `status` (the running jobs, against the transcoder's capacity). */
export async function countInStatus(db: D1Database, status: VideoStatus): Promise<number> {
  const row = await drizzle(db).select({ n: sql<number>`count(*)` }).from(videos).where(eq(videos.status, status)).get();
  return row?.n ?? 0;
}

/** The next job: the highest priority, then the oldest, among `waiting` videos whose backoff has passed. */
export async function nextWaitingJob(db: D1Database, waiting: readonly VideoStatus[], now: number): Promise<VideoRow | undefined> {
  return drizzle(db)
    .select()
    .from(videos)
    .where(and(inArray(videos.status, [...waiting]), or(isNull(videos.nextAttemptAt), lte(videos.nextAttemptAt, now))))
    .orderBy(desc(videos.priority), asc(videos.createdAt))
    .limit(1)
    .get();
}

/** Runs whose lease ran out: their transcoder went silent. */
export async function findStalledJobs(db: D1Database, running: VideoStatus, now: number): Promise<VideoRow[]> {
  return drizzle(db)
    .select()
    .from(videos)
    .where(and(eq(videos.status, running), lt(videos.leaseExpiresAt, now)))
    .all();
}
