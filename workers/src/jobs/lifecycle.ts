import type { VideoRow, VideoStatus } from "../db/schema.ts";
import { failureChange, findCurrentRun } from "../db/transitions.ts";
import { recordOutputs } from "../db/videos.ts";
import { outputPrefix, runPrefix, sourceKey } from "../storage/keys.ts";
import { deleteObjects } from "../storage/objects.ts";
import type { TranscodeProgress, TranscodeResult } from "../../../contract/transcode.ts";
import type { JobClaims } from "./job-token.ts";
import { jobTimings } from "./policy.ts";
import { RUNNING, afterFailure } from "../videos/lifecycle.ts";
import { transition } from "../videos/transitions.ts";
import { transcoderFor, type TranscoderClient } from "./transcoder-client.ts";
import { forgetPlaybackState } from "../delivery/playback-state.ts";
import { count, meter, pricesFrom } from "../costs/meter.ts";
import { encodeUsage } from "../costs/model.ts";

/**
 * What happens to a job after dispatch, through the lifecycle (`videos/lifecycle.ts`): QUEUED →
 * PROCESSING → READY | FAILED | CANCELLED (and back to QUEUED for a retry). Every change is
 * conditional on the run that asks for it still being the current one (`videos.run`, which only
 * grows), so a superseded or cancelled run can change nothing.
 */

/** Whether `job` is the video's current run. */
export async function isCurrentRun(env: Env, job: JobClaims): Promise<boolean> {
  return (await findCurrentRun(env.DB, job)) !== undefined;
}

export interface EventDeps {
  now?: number;
  /** Keeps the subscribers' background work alive (a request's execution context will do). */
  waitUntil?(promise: Promise<unknown>): void;
}

/** The options of a transition from `deps` (an execution context's `waitUntil` is a method: bound, not copied). */
const eventOptions = (deps: EventDeps, seen?: VideoStatus) => ({
  now: deps.now ?? Date.now(),
  waitUntil: deps.waitUntil?.bind(deps),
  seen,
});

/** Progress report: moves progress and playability forward and extends the lease. False: the run is not current. */
export async function recordProgress(env: Env, job: JobClaims, report: TranscodeProgress, deps: EventDeps = {}): Promise<boolean> {
  const opts = eventOptions(deps);
  const reported = {
    run: job.run,
    progress: Math.max(0, Math.min(99, Math.floor(report.progress))),
    leaseExpiresAt: opts.now + jobTimings(env).leaseMs,
  };
  // The first report that says "playable" is an event of its own; the others are progress.
  if (report.playable && (await transition(env, job.videoId, { event: "playable", ...reported }, opts))) return true;
  return (await transition(env, job.videoId, { event: "progressed", ...reported }, opts)) !== null;
}

/** Final report. False: the run is not current (nothing changed). */
export async function recordResult(env: Env, job: JobClaims, result: TranscodeResult, deps: EventDeps = {}): Promise<boolean> {
  const opts = eventOptions(deps);
  const now = opts.now;
  const row = await findCurrentRun(env.DB, job);
  if (!row) return false;
  await meterEncode(env, job, result, now);
  if (result.ok) {
    const done = await transition(env, job.videoId, { event: "succeeded", run: job.run, result }, opts);
    if (!done) return false;
    // Storage is metered over time from these two facts: the outputs' size, and when the source left.
    const outputBytes = await keepOnlyRun(env, job);
    // The plan's choice: the source goes once the ladder exists (KEEP_SOURCE keeps it).
    const dropSource = env.KEEP_SOURCE !== "true";
    if (dropSource) await env.MEDIA.delete(sourceKey(job.videoId));
    await recordOutputs(env.DB, job.videoId, outputBytes, dropSource ? now : null);
    return true;
  }
  const outcome = afterFailure({
    attempts: row.attempts,
    reason: result.error,
    permanent: result.permanent,
    retryBaseMs: jobTimings(env).retryBaseMs,
  });
  await transition(env, job.videoId, failureChange(job.run, outcome), opts);
  return true;
}

/** Compute of a run, counted once per run whatever its outcome (a failed encode is billed too). */
async function meterEncode(env: Env, job: JobClaims, result: TranscodeResult, now: number): Promise<void> {
  const instanceType = result.instanceType ?? env.TRANSCODER_INSTANCE_TYPE;
  // Results without cpuSeconds (older transcoders) are priced on wall time × vCPUs (see encodeUsage).
  const { vcpuSeconds, gibSeconds } = encodeUsage(result.encodeSeconds ?? 0, instanceType, result.cpuSeconds);
  if (vcpuSeconds <= 0 && gibSeconds <= 0) return;
  console.log("encode metered", {
    videoId: job.videoId,
    run: job.run,
    instanceType,
    encodeSeconds: result.encodeSeconds,
    cpuSeconds: result.cpuSeconds,
    peakMemoryBytes: result.peakMemoryBytes,
  });
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

export interface CancelDeps extends EventDeps {
  /** The transcoder to stop a running job on (tests inject a twin; default: the env's). */
  client?: TranscoderClient;
}

/**
 * Cancels whatever the video is waiting for or doing. A running ffmpeg is stopped through the
 * transcoder and the outputs of every run are removed; the source stays, so an admin can retry.
 */
export async function cancelJob(env: Env, video: VideoRow, deps: CancelDeps = {}): Promise<boolean> {
  const cancelled = await transition(env, video.id, { event: "cancelled" }, eventOptions(deps, video.status));
  if (!cancelled) return false;
  forgetPlaybackState(video.id);
  if (cancelled.from === RUNNING) await (deps.client ?? transcoderFor(env)).cancel(video.id);
  await deleteObjects(env.MEDIA, outputPrefix(video.id));
  return true;
}

/** Makes a waiting job the next one: its priority goes above every other job's. */
export async function prioritizeJob(env: Env, videoId: string, deps: EventDeps = {}): Promise<boolean> {
  return (await transition(env, videoId, { event: "prioritized" }, eventOptions(deps))) !== null;
}

/**
 * Puts a FAILED or CANCELLED video back in line with a fresh retry budget (its source must still
 * exist); the run number keeps growing.
 */
export async function retryJob(env: Env, video: VideoRow, deps: EventDeps = {}): Promise<boolean> {
  if (!(await env.MEDIA.head(sourceKey(video.id)))) return false;
  return (await transition(env, video.id, { event: "retried" }, eventOptions(deps, video.status))) !== null;
}
