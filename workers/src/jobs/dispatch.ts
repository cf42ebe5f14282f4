import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos } from "../db/schema.ts";
import { transcodingGate } from "../costs/gate.ts";
import { signJobToken } from "./job-token.ts";
import { JOB_MESSAGES, MAX_ATTEMPTS, SEGMENT_SECONDS, UNAVAILABLE_RETRY_MS, backoffMs, jobTimings } from "./policy.ts";
import { transcoderFor, type TranscoderClient } from "./transcoder-client.ts";

/**
 * Jobs wait in D1, not in the queue: a queue message, a finished job and the minute cron only say
 * "look for work". The next job is the highest priority, then the oldest, QUEUED video whose
 * backoff has passed (HELD ones included, so they resume by themselves, in order, once the budget
 * allows) — which is how an admin's "make it next" works although Queues have no
 * priority. A claim is one conditional UPDATE, so two dispatchers never start the same job.
 */
/** Jobs waiting for a transcoder: QUEUED, or HELD by the budget (released by the same loop when it allows). */
const WAITING: ("QUEUED" | "HELD")[] = ["QUEUED", "HELD"];

export interface DispatchDeps {
  client?: TranscoderClient;
  now?: number;
}

export async function dispatchNext(env: Env, deps: DispatchDeps = {}): Promise<string[]> {
  const now = deps.now ?? Date.now();
  const client = deps.client ?? transcoderFor(env);
  const db = drizzle(env.DB);
  await recoverStalledJobs(env, now);
  const capacity = Math.max(1, Number(env.TRANSCODER_CONCURRENCY) || 1);
  const started: string[] = [];

  for (;;) {
    const running = await db.select({ n: sql<number>`count(*)` }).from(videos).where(eq(videos.status, "PROCESSING")).get();
    if ((running?.n ?? 0) >= capacity) break;
    const next = await db
      .select()
      .from(videos)
      .where(and(inArray(videos.status, WAITING), or(isNull(videos.nextAttemptAt), lte(videos.nextAttemptAt, now))))
      .orderBy(desc(videos.priority), asc(videos.createdAt))
      .limit(1)
      .get();
    if (!next) break;

    const gate = await transcodingGate(env, next, now);
    if (!gate.allowed) {
      // Held in order: nothing behind the first held job may overtake it.
      await db
        .update(videos)
        .set({ status: "HELD", message: gate.message, updatedAt: now })
        .where(and(eq(videos.id, next.id), inArray(videos.status, WAITING)));
      break;
    }

    // A claim spends one attempt of the round's retry budget and starts a new run. The run number
    // only grows (an admin's retry resets `attempts`, never `run`), so the token, the outputs and
    // the metering of this run can never be confused with those of an earlier one.
    const claimed = await db
      .update(videos)
      .set({
        status: "PROCESSING",
        attempts: sql`${videos.attempts} + 1`,
        run: sql`${videos.run} + 1`,
        leaseExpiresAt: now + jobTimings(env).leaseMs,
        message: JOB_MESSAGES.PROCESSING,
        progress: 0,
        updatedAt: now,
      })
      .where(and(eq(videos.id, next.id), inArray(videos.status, WAITING)))
      .returning({ attempts: videos.attempts, run: videos.run })
      .get();
    if (!claimed) continue; // another dispatcher took it

    const outcome = await client.start({
      videoId: next.id,
      attempt: claimed.run,
      token: await signJobToken(env.JWT_SECRET, { videoId: next.id, run: claimed.run }),
      callbackBase: `${env.PUBLIC_URL.replace(/\/$/, "")}/internal/jobs/${next.id}`,
      segmentSeconds: SEGMENT_SECONDS,
    });
    if (outcome === "accepted") {
      started.push(next.id);
      continue;
    }
    // Not started: give the attempt back; this was not the job's fault. The run number is not given
    // back: an "unavailable" transcoder may have received the request all the same. A busy
    // transcoder calls for the next dispatch when its job ends; an unreachable one is asked again
    // a little later.
    await db
      .update(videos)
      .set({
        status: "QUEUED",
        attempts: claimed.attempts - 1,
        leaseExpiresAt: null,
        nextAttemptAt: outcome === "busy" ? null : now + UNAVAILABLE_RETRY_MS,
        message: outcome === "busy" ? JOB_MESSAGES.QUEUED : JOB_MESSAGES.WAITING_FOR_TRANSCODER,
        updatedAt: now,
      })
      .where(and(eq(videos.id, next.id), eq(videos.status, "PROCESSING"), eq(videos.run, claimed.run)));
    break;
  }
  return started;
}

/** A running attempt whose lease ran out lost its transcoder: retry it with backoff, or fail it after the last attempt. */
export async function recoverStalledJobs(env: Env, now = Date.now()): Promise<void> {
  const db = drizzle(env.DB);
  const stalled = await db
    .select()
    .from(videos)
    .where(and(eq(videos.status, "PROCESSING"), lt(videos.leaseExpiresAt, now)))
    .all();
  for (const job of stalled) {
    const reason = "the transcoder stopped responding";
    const current = and(eq(videos.id, job.id), eq(videos.status, "PROCESSING"), eq(videos.run, job.run));
    if (job.attempts >= MAX_ATTEMPTS) {
      await db
        .update(videos)
        .set({
          status: "FAILED",
          error: reason,
          lastError: reason,
          message: JOB_MESSAGES.FAILED(reason),
          leaseExpiresAt: null,
          updatedAt: now,
        })
        .where(current);
    } else {
      const wait = backoffMs(job.attempts, jobTimings(env).retryBaseMs);
      await db
        .update(videos)
        .set({
          status: "QUEUED",
          lastError: reason,
          nextAttemptAt: now + wait,
          leaseExpiresAt: null,
          playable: false,
          message: JOB_MESSAGES.RETRYING(job.attempts, reason, wait / 1000),
          updatedAt: now,
        })
        .where(current);
    }
  }
}
