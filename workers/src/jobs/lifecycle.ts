import { and, eq, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type VideoRow } from "../db/schema.ts";
import { outputPrefix, runPrefix, sourceKey } from "../storage/keys.ts";
import { deleteObjects } from "../storage/objects.ts";
import type { TranscodeProgress, TranscodeResult } from "../../../contract/transcode.ts";
import type { JobClaims } from "./job-token.ts";
import { JOB_MESSAGES, MAX_ATTEMPTS, backoffMs, jobTimings } from "./policy.ts";
import { transcoderFor, type TranscoderClient } from "./transcoder-client.ts";
import { forgetPlaybackState } from "../delivery/playback-state.ts";
import { count, meter, pricesFrom } from "../costs/meter.ts";
import { encodeUsage } from "../costs/model.ts";

/**
 * State changes of a job after dispatch: QUEUED → PROCESSING → READY | FAILED | CANCELLED (and back
 * to QUEUED for a retry). Every change is conditional on the run that asks for it still being the
 * current one (`videos.run`, which only grows), so a superseded or cancelled run can change nothing.
 */

export const currentRun = (job: JobClaims) => and(eq(videos.id, job.videoId), eq(videos.status, "PROCESSING"), eq(videos.run, job.run));

/** Progress report: moves progress and playability forward and extends the lease. False: the run is not current. */
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
    .where(currentRun(job))
    .returning({ id: videos.id })
    .get();
  return updated !== undefined;
}

/** Final report. False: the run is not current (nothing changed). */
export async function recordResult(env: Env, job: JobClaims, result: TranscodeResult, now = Date.now()): Promise<boolean> {
  const db = drizzle(env.DB);
  const current = await db.select({ id: videos.id }).from(videos).where(currentRun(job)).get();
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
      .where(currentRun(job))
      .returning({ id: videos.id })
      .get();
    if (!done) return false;
    // Storage is metered over time from these two facts: the outputs' size, and when the source left.
    const outputBytes = await keepOnlyRun(env, job);
    // The plan's choice: the source goes once the ladder exists (KEEP_SOURCE keeps it).
    const dropSource = env.KEEP_SOURCE !== "true";
    if (dropSource) await env.MEDIA.delete(sourceKey(job.videoId));
    await db
      .update(videos)
      .set({ outputBytes, ...(dropSource ? { sourceDeletedAt: now } : {}) })
      .where(eq(videos.id, job.videoId));
    return true;
  }
  const row = (await db.select().from(videos).where(currentRun(job)).get())!;
  const final = result.permanent || row.attempts >= MAX_ATTEMPTS;
  const wait = backoffMs(row.attempts, jobTimings(env).retryBaseMs);
  await db
    .update(videos)
    .set(
      final
        ? {
            status: "FAILED",
            error: result.error,
            lastError: result.error,
            message: JOB_MESSAGES.FAILED(result.error),
            leaseExpiresAt: null,
            updatedAt: now,
          }
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
    .where(currentRun(job));
  return true;
}

/** Compute of a run, counted once per run whatever its outcome (a failed encode is billed too). */
async function meterEncode(env: Env, job: JobClaims, result: TranscodeResult, now: number): Promise<void> {
  const seconds = result.encodeSeconds ?? 0;
  if (seconds <= 0) return;
  const { vcpuSeconds, gibSeconds } = encodeUsage(seconds, result.instanceType ?? env.TRANSCODER_INSTANCE_TYPE);
  await meter(
    env.DB,
    pricesFrom(env),
    [
      { videoId: job.videoId, kind: "container_vcpu_seconds", quantity: vcpuSeconds },
      { videoId: job.videoId, kind: "container_gib_seconds", quantity: gibSeconds },
    ],
    { now, onceKey: `encode:${job.videoId}:${job.run}` },
  );
}

/**
 * Once a run is READY, the partial outputs of earlier failed runs are garbage: they go, and the
 * bytes left are the video's outputs. Files without a run prefix (from a run made before runs had
 * one) stay: playback may still serve them.
 */
async function keepOnlyRun(env: Env, job: JobClaims): Promise<number> {
  const all = outputPrefix(job.videoId);
  const mine = runPrefix(job.videoId, job.run);
  const otherRun = (key: string) => !key.startsWith(mine) && /^r[0-9]+\//.test(key.slice(all.length));
  let bytes = 0;
  const stale: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.MEDIA.list({ prefix: all, cursor });
    count(job.videoId, "r2_class_a"); // a list is a Class A operation
    for (const o of page.objects) {
      if (otherRun(o.key)) stale.push(o.key);
      else bytes += o.size;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  for (let i = 0; i < stale.length; i += 1000) await env.MEDIA.delete(stale.slice(i, i + 1000));
  return bytes;
}

const CANCELLABLE = ["UPLOADING", "QUEUED", "HELD", "PROCESSING"] as const;

export interface CancelDeps {
  /** The transcoder to stop a running job on (tests inject a twin; default: the env's). */
  client?: TranscoderClient;
  now?: number;
}

/**
 * Cancels whatever the video is waiting for or doing. A running ffmpeg is stopped through the
 * transcoder and the outputs of every run are removed; the source stays, so an admin can retry.
 */
export async function cancelJob(env: Env, video: VideoRow, deps: CancelDeps = {}): Promise<boolean> {
  const now = deps.now ?? Date.now();
  const cancelled = await drizzle(env.DB)
    .update(videos)
    .set({ status: "CANCELLED", message: JOB_MESSAGES.CANCELLED, playable: false, leaseExpiresAt: null, updatedAt: now })
    .where(and(eq(videos.id, video.id), inArray(videos.status, [...CANCELLABLE])))
    .returning({ id: videos.id })
    .get();
  if (!cancelled) return false;
  forgetPlaybackState(video.id);
  if (video.status === "PROCESSING") await (deps.client ?? transcoderFor(env)).cancel(video.id);
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

/**
 * Puts a FAILED or CANCELLED video back in line with a fresh retry budget (its source must still
 * exist). Only `attempts` starts again: `run` keeps growing, so the next run gets a new token, new
 * output paths, a new cache key and is metered on its own.
 */
export async function retryJob(env: Env, video: VideoRow, now = Date.now()): Promise<boolean> {
  if (!(await env.MEDIA.head(sourceKey(video.id)))) return false;
  const updated = await drizzle(env.DB)
    .update(videos)
    .set({
      status: "QUEUED",
      attempts: 0,
      error: null,
      lastError: null,
      nextAttemptAt: null,
      progress: 0,
      playable: false,
      message: JOB_MESSAGES.QUEUED,
      updatedAt: now,
    })
    .where(and(eq(videos.id, video.id), inArray(videos.status, ["FAILED", "CANCELLED"])))
    .returning({ id: videos.id })
    .get();
  return updated !== undefined;
}
