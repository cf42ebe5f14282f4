import { and, eq, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type VideoRow } from "../db/schema.ts";
import { outputPrefix, sourceKey } from "../storage/keys.ts";
import { deleteObjects } from "../storage/objects.ts";
import type { TranscodeProgress, TranscodeResult } from "../shared/transcode.ts";
import type { JobClaims } from "./job-token.ts";
import { JOB_MESSAGES, LEASE_MS, MAX_ATTEMPTS, backoffMs } from "./policy.ts";
import { transcoderFor } from "./transcoder-client.ts";
import { forgetPlaybackState } from "../delivery/playback-state.ts";

/**
 * State changes of a job after dispatch: QUEUED → PROCESSING → READY | FAILED | CANCELLED (and back
 * to QUEUED for a retry). Every change is conditional on the attempt that asks for it still being
 * the current one, so a superseded or cancelled attempt can change nothing.
 */

const currentAttempt = (job: JobClaims) =>
  and(eq(videos.id, job.videoId), eq(videos.status, "PROCESSING"), eq(videos.attempts, job.attempt));

/** Progress report: moves progress and playability forward and extends the lease. False: the attempt is not current. */
export async function recordProgress(env: Env, job: JobClaims, report: TranscodeProgress, now = Date.now()): Promise<boolean> {
  const progress = Math.max(0, Math.min(99, Math.floor(report.progress)));
  const updated = await drizzle(env.DB)
    .update(videos)
    .set({
      progress: sql`max(${videos.progress}, ${progress})`,
      leaseExpiresAt: now + LEASE_MS,
      updatedAt: now,
      ...(report.playable
        ? { playable: true, playableAt: sql`coalesce(${videos.playableAt}, ${now})`, message: JOB_MESSAGES.PLAYABLE }
        : {}),
    })
    .where(currentAttempt(job))
    .returning({ id: videos.id })
    .get();
  return updated !== undefined;
}

/** Final report. False: the attempt is not current (nothing changed). */
export async function recordResult(env: Env, job: JobClaims, result: TranscodeResult, now = Date.now()): Promise<boolean> {
  const db = drizzle(env.DB);
  if (result.ok) {
    const done = await db
      .update(videos)
      .set({
        status: "READY",
        progress: 100,
        playable: true,
        playableAt: sql`coalesce(${videos.playableAt}, ${now})`,
        durationSec: result.durationSec,
        renditions: result.renditions,
        sourceSha256: result.sourceSha256,
        encodeSeconds: result.encodeSeconds,
        message: JOB_MESSAGES.READY,
        error: null,
        leaseExpiresAt: null,
        readyAt: now,
        updatedAt: now,
      })
      .where(currentAttempt(job))
      .returning({ id: videos.id })
      .get();
    // The plan's choice: the source goes once the ladder exists (KEEP_SOURCE keeps it).
    if (done && env.KEEP_SOURCE !== "true") await env.MEDIA.delete(sourceKey(job.videoId));
    return done !== undefined;
  }
  const row = await db.select().from(videos).where(currentAttempt(job)).get();
  if (!row) return false;
  const final = result.permanent || row.attempts >= MAX_ATTEMPTS;
  const wait = backoffMs(row.attempts);
  await db
    .update(videos)
    .set(
      final
        ? { status: "FAILED", error: result.error, lastError: result.error, message: JOB_MESSAGES.FAILED(result.error), leaseExpiresAt: null, updatedAt: now }
        : {
            status: "QUEUED",
            lastError: result.error,
            nextAttemptAt: now + wait,
            playable: false,
            leaseExpiresAt: null,
            message: JOB_MESSAGES.RETRYING(row.attempts, result.error, wait / 1000),
            updatedAt: now,
          },
    )
    .where(currentAttempt(job));
  return true;
}

const CANCELLABLE = ["UPLOADING", "QUEUED", "HELD", "PROCESSING"] as const;

/**
 * Cancels whatever the video is waiting for or doing. A running ffmpeg is stopped through the
 * transcoder and the partial outputs are removed; the source stays, so an admin can retry.
 */
export async function cancelJob(env: Env, video: VideoRow, now = Date.now()): Promise<boolean> {
  const cancelled = await drizzle(env.DB)
    .update(videos)
    .set({ status: "CANCELLED", message: JOB_MESSAGES.CANCELLED, playable: false, leaseExpiresAt: null, updatedAt: now })
    .where(and(eq(videos.id, video.id), inArray(videos.status, [...CANCELLABLE])))
    .returning({ id: videos.id })
    .get();
  if (!cancelled) return false;
  forgetPlaybackState(video.id);
  if (video.status === "PROCESSING") await transcoderFor(env).cancel(video.id);
  await deleteObjects(env.MEDIA, outputPrefix(video.id));
  return true;
}

/** Makes a waiting job the next one: its priority goes above every other job's. */
export async function prioritizeJob(env: Env, videoId: string, now = Date.now()): Promise<boolean> {
  const updated = await drizzle(env.DB)
    .update(videos)
    .set({ priority: sql`(SELECT coalesce(max(priority), 0) + 1 FROM videos)`, nextAttemptAt: null, updatedAt: now })
    .where(and(eq(videos.id, videoId), inArray(videos.status, ["QUEUED", "HELD"])))
    .returning({ id: videos.id })
    .get();
  return updated !== undefined;
}

/** Puts a FAILED or CANCELLED video back in line with fresh attempts (its source must still exist). */
export async function retryJob(env: Env, video: VideoRow, now = Date.now()): Promise<boolean> {
  if (!(await env.MEDIA.head(sourceKey(video.id)))) return false;
  const updated = await drizzle(env.DB)
    .update(videos)
    .set({ status: "QUEUED", attempts: 0, error: null, lastError: null, nextAttemptAt: null, progress: 0, playable: false, message: JOB_MESSAGES.QUEUED, updatedAt: now })
    .where(and(eq(videos.id, video.id), inArray(videos.status, ["FAILED", "CANCELLED"])))
    .returning({ id: videos.id })
    .get();
  return updated !== undefined;
}
