import { and, eq, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type VideoRow } from "../db/schema.ts";
import { outputPrefix, sourceKey } from "../storage/keys.ts";
import { deleteObjects } from "../storage/objects.ts";
import type { TranscodeProgress, TranscodeResult } from "../shared/transcode.ts";
import type { JobClaims } from "./job-token.ts";
import { JOB_MESSAGES, MAX_ATTEMPTS, backoffMs, jobTimings } from "./policy.ts";
import { transcoderFor } from "./transcoder-client.ts";
import { forgetPlaybackState } from "../delivery/playback-state.ts";
import { count, meter } from "../costs/meter.ts";
import { encodeUsage } from "../costs/model.ts";

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
      leaseExpiresAt: now + jobTimings(env).leaseMs,
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
  const current = await db.select({ id: videos.id }).from(videos).where(currentAttempt(job)).get();
  if (!current) return false;
  await meterEncode(env, job, result, now);
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
    if (!done) return false;
    // Storage is metered over time from these two facts: the outputs' size, and when the source left.
    const outputBytes = await sizeOfOutputs(env, job.videoId);
    // The plan's choice: the source goes once the ladder exists (KEEP_SOURCE keeps it).
    const dropSource = env.KEEP_SOURCE !== "true";
    if (dropSource) await env.MEDIA.delete(sourceKey(job.videoId));
    await db.update(videos).set({ outputBytes, ...(dropSource ? { sourceDeletedAt: now } : {}) }).where(eq(videos.id, job.videoId));
    return true;
  }
  const row = (await db.select().from(videos).where(currentAttempt(job)).get())!;
  const final = result.permanent || row.attempts >= MAX_ATTEMPTS;
  const wait = backoffMs(row.attempts, jobTimings(env).retryBaseMs);
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

/** Compute of an attempt, counted once per attempt whatever its outcome (a failed encode is billed too). */
async function meterEncode(env: Env, job: JobClaims, result: TranscodeResult, now: number): Promise<void> {
  const seconds = result.encodeSeconds ?? 0;
  if (seconds <= 0) return;
  const { vcpuSeconds, gibSeconds } = encodeUsage(seconds, result.instanceType ?? env.TRANSCODER_INSTANCE_TYPE);
  await meter(
    env.DB,
    [
      { videoId: job.videoId, kind: "container_vcpu_seconds", quantity: vcpuSeconds },
      { videoId: job.videoId, kind: "container_gib_seconds", quantity: gibSeconds },
    ],
    { now, onceKey: `encode:${job.videoId}:${job.attempt}` },
  );
}

async function sizeOfOutputs(env: Env, videoId: string): Promise<number> {
  let bytes = 0;
  let cursor: string | undefined;
  do {
    const page = await env.MEDIA.list({ prefix: outputPrefix(videoId), cursor });
    count(videoId, "r2_class_a"); // a list is a Class A operation
    bytes += page.objects.reduce((sum, o) => sum + o.size, 0);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return bytes;
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
