import { countInStatus, findStalledJobs, nextWaitingJob } from "../db/jobs.ts";
import { failureChange } from "../db/transitions.ts";
import { maxDurationFor } from "../db/direct-uploads.ts";
import { transcodingGate } from "../costs/gate.ts";
import { signJobToken } from "./job-token.ts";
import { SEGMENT_SECONDS, UNAVAILABLE_RETRY_MS, jobTimings } from "./policy.ts";
import { RUNNING, STALLED_REASON, TRANSITIONS, afterFailure } from "../videos/lifecycle.ts";
import { onVideoEvent, transition, type VideoEventHandler } from "../videos/transitions.ts";
import { transcoderFor, type TranscoderClient } from "./transcoder-client.ts";

/**
 * Jobs wait in D1, not in the queue: a queue message, a finished job and the minute cron only say
 * "look for work". The next job is the highest priority, then the oldest, QUEUED video whose
 * backoff has passed (HELD ones included, so they resume by themselves, in order, once the budget
 * allows) — which is how an admin's "make it next" works although Queues have no
 * priority. A claim is one conditional UPDATE, so two dispatchers never start the same job.
 */
/** Jobs waiting for a transcoder: QUEUED, or HELD by the budget (released by the same loop when it allows). */
const WAITING = [...TRANSITIONS.claimed.from];

export interface DispatchDeps {
  client?: TranscoderClient;
  now?: number;
}

export async function dispatchNext(env: Env, deps: DispatchDeps = {}): Promise<string[]> {
  const now = deps.now ?? Date.now();
  const client = deps.client ?? transcoderFor(env);
  await recoverStalledJobs(env, now);
  const capacity = Math.max(1, Number(env.TRANSCODER_CONCURRENCY) || 1);
  const started: string[] = [];

  for (;;) {
    if ((await countInStatus(env.DB, RUNNING)) >= capacity) break;
    const next = await nextWaitingJob(env.DB, WAITING, now);
    if (!next) break;

    const gate = await transcodingGate(env, next, now);
    if (!gate.allowed) {
      // Held in order: nothing behind the first held job may overtake it.
      await transition(env, next.id, { event: "held", message: gate.message }, { now, seen: next.status });
      break;
    }

    const claimed = await transition(
      env,
      next.id,
      { event: "claimed", leaseExpiresAt: now + jobTimings(env).leaseMs },
      { now, seen: next.status },
    );
    if (!claimed) continue; // another dispatcher took it

    // A direct upload's duration cap travels with every run, so the probe refuses a longer source.
    const maxDurationSec = await maxDurationFor(env.DB, next.id);
    const outcome = await client.start({
      videoId: next.id,
      attempt: claimed.row.run,
      token: await signJobToken(env.JWT_SECRET, { videoId: next.id, run: claimed.row.run }),
      callbackBase: `${env.PUBLIC_URL.replace(/\/$/, "")}/internal/jobs/${next.id}`,
      segmentSeconds: SEGMENT_SECONDS,
      ...(maxDurationSec === null ? {} : { maxDurationSec }),
    });
    if (outcome === "accepted") {
      started.push(next.id);
      continue;
    }
    // Not started: the attempt is given back. A busy transcoder calls for the next dispatch when
    // its job ends; an unreachable one is asked again a little later.
    await transition(
      env,
      next.id,
      { event: "released", run: claimed.row.run, transcoder: outcome, retryAt: outcome === "busy" ? null : now + UNAVAILABLE_RETRY_MS },
      { now },
    );
    break;
  }
  return started;
}

/** A running attempt whose lease ran out lost its transcoder: retry it with backoff, or fail it after the last attempt. */
export async function recoverStalledJobs(env: Env, now = Date.now()): Promise<void> {
  const stalled = await findStalledJobs(env.DB, RUNNING, now);
  for (const job of stalled) {
    // A lost lease is a failed attempt like a failed report: the same retry-or-fail rule.
    const outcome = afterFailure({ attempts: job.attempts, reason: STALLED_REASON, retryBaseMs: jobTimings(env).retryBaseMs });
    await transition(env, job.id, failureChange(job.run, outcome), { now });
  }
}

/**
 * A completed upload is announced by its queue message (the durable wake-up); dispatching at once
 * as well saves the queue's batching delay. A subscriber, so the upload side need not know about jobs.
 */
export const dispatchOnUpload: VideoEventHandler = (event, { env }) => {
  if (event.type !== "uploaded") return;
  return dispatchNext(env).then(
    () => undefined,
    (error) => console.warn("early dispatch failed", String(error)),
  );
};
onVideoEvent(dispatchOnUpload);
