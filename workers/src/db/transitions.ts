import { and, eq, ne, sql, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type VideoRow, type VideoStatus } from "./schema.ts";
import type { Rendition } from "../../../contract/transcode.ts";
import { MESSAGES, RUNNING, TRANSITIONS, nextStatus, type FailureOutcome, type VideoEventType } from "../videos/lifecycle.ts";

/**
 * The one writer of `videos.status`. Every change of a video's state is one conditional UPDATE,
 * allowed by the lifecycle table (`videos/lifecycle.ts`) and conditional on the status it changes
 * from (and, for a run's own reports, on that run still being the current one), so two writers
 * that race can never both apply, and a superseded run can change nothing.
 */

/** An event with what it writes besides the status. */
export type VideoChange =
  | { event: "uploaded"; sourceBytes: number }
  | { event: "expired" }
  /** `message`: why it waits (one of HELD_MESSAGES). */
  | { event: "held"; message: string }
  | { event: "claimed"; leaseExpiresAt: number }
  /** The transcoder was busy (next in line at once) or unreachable (asked again at `retryAt`). */
  | { event: "released"; run: number; transcoder: "busy" | "unavailable"; retryAt: number | null }
  | { event: "progressed" | "playable"; run: number; progress: number; leaseExpiresAt: number }
  | {
      event: "succeeded";
      run: number;
      result: {
        durationSec: number;
        renditions: Rendition[];
        sourceSha256: string;
        encodeSeconds?: number;
        storyboard?: boolean;
        download?: boolean;
      };
    }
  | { event: "retrying"; run: number; outcome: Extract<FailureOutcome, { event: "retrying" }> }
  | { event: "failed"; run: number; outcome: Extract<FailureOutcome, { event: "failed" }> }
  | { event: "cancelled" }
  | { event: "retried" }
  | { event: "prioritized" };

/** The change a failed attempt makes, as the retry-or-fail rule decided. */
export function failureChange(run: number, outcome: FailureOutcome): VideoChange {
  return outcome.event === "failed" ? { event: "failed", run, outcome } : { event: "retrying", run, outcome };
}

export interface WrittenTransition {
  event: VideoEventType;
  from: VideoStatus;
  to: VideoStatus;
  row: VideoRow;
}

/** The current-run condition: the video is running, with this run. */
export const currentRunWhere = (job: { videoId: string; run: number }) =>
  and(eq(videos.id, job.videoId), eq(videos.status, RUNNING), eq(videos.run, job.run));

/** The video's row while `job` is its current run, else undefined. */
export async function findCurrentRun(db: D1Database, job: { videoId: string; run: number }): Promise<VideoRow | undefined> {
  return drizzle(db).select().from(videos).where(currentRunWhere(job)).get();
}

/** What each event writes besides the status. */
function columnsFor(change: VideoChange, now: number) {
  switch (change.event) {
    case "uploaded":
      return { message: MESSAGES.QUEUED, sourceBytes: change.sourceBytes, progress: 0, uploadedAt: now, updatedAt: now };
    case "expired":
      return { error: "upload expired", message: MESSAGES.UPLOAD_EXPIRED, updatedAt: now };
    case "held":
      return { message: change.message, updatedAt: now };
    case "claimed":
      // A claim spends one attempt of the round's retry budget and starts a new run. The run number
      // only grows (an admin's retry resets `attempts`, never `run`), so the token, the outputs and
      // the metering of this run can never be confused with those of an earlier one.
      return {
        attempts: sql`${videos.attempts} + 1`,
        run: sql`${videos.run} + 1`,
        leaseExpiresAt: change.leaseExpiresAt,
        message: MESSAGES.PROCESSING,
        progress: 0,
        updatedAt: now,
      };
    case "released":
      // The attempt is given back (this was not the job's fault); the run number is not: an
      // unreachable transcoder may have received the request all the same.
      return {
        attempts: sql`${videos.attempts} - 1`,
        leaseExpiresAt: null,
        nextAttemptAt: change.retryAt,
        message: change.transcoder === "busy" ? MESSAGES.QUEUED : MESSAGES.WAITING_FOR_TRANSCODER,
        updatedAt: now,
      };
    case "progressed":
    case "playable":
      return {
        progress: sql`max(${videos.progress}, ${change.progress})`,
        leaseExpiresAt: change.leaseExpiresAt,
        updatedAt: now,
        ...(change.event === "playable"
          ? { playable: true, playableAt: sql`coalesce(${videos.playableAt}, ${now})`, message: MESSAGES.PLAYABLE }
          : {}),
      };
    case "succeeded":
      return {
        progress: 100,
        playable: true,
        playableAt: sql`coalesce(${videos.playableAt}, ${now})`,
        durationSec: change.result.durationSec,
        renditions: change.result.renditions,
        sourceSha256: change.result.sourceSha256,
        encodeSeconds: change.result.encodeSeconds,
        hasStoryboard: change.result.storyboard === true,
        hasDownload: change.result.download === true,
        message: MESSAGES.READY,
        error: null,
        leaseExpiresAt: null,
        readyAt: now,
        updatedAt: now,
      };
    case "retrying":
      return {
        lastError: change.outcome.reason,
        nextAttemptAt: now + change.outcome.waitMs,
        leaseExpiresAt: null,
        playable: false,
        message: change.outcome.message,
        updatedAt: now,
      };
    case "failed":
      return {
        error: change.outcome.reason,
        lastError: change.outcome.reason,
        message: change.outcome.message,
        leaseExpiresAt: null,
        updatedAt: now,
      };
    case "cancelled":
      return { message: MESSAGES.CANCELLED, playable: false, leaseExpiresAt: null, updatedAt: now };
    case "retried":
      // Only `attempts` starts again: `run` keeps growing, so the next run gets a new token, new
      // output paths, a new cache key and is metered on its own.
      return {
        attempts: 0,
        error: null,
        lastError: null,
        nextAttemptAt: null,
        progress: 0,
        playable: false,
        message: MESSAGES.QUEUED,
        updatedAt: now,
      };
    case "prioritized":
      // Above every other job's priority, and no backoff left to wait.
      return { priority: sql`(SELECT coalesce(max(priority), 0) + 1 FROM videos)`, nextAttemptAt: null, updatedAt: now };
  }
}

/** Conditions an event adds to "this video, in that status (with that run)". */
function extraWhere(change: VideoChange, from: VideoStatus): SQL | undefined {
  // The first playable report only; later ones are progress.
  if (change.event === "playable") return eq(videos.playable, false);
  // A job held again for the same reason is left as it is: no write, no event.
  if (change.event === "held" && from === "HELD") return ne(videos.message, change.message);
  return undefined;
}

/**
 * Applies `change` to the video if the lifecycle table allows it from the video's status: one
 * conditional UPDATE. `seen` is the status the caller read (saves a read); when the video has moved
 * on meanwhile to another status the event still applies from, it is tried once more from there.
 * Returns what changed, or null when the table (or the run) refuses it.
 */
export async function writeTransition(
  db: D1Database,
  videoId: string,
  change: VideoChange,
  now: number,
  seen?: VideoStatus,
): Promise<WrittenTransition | null> {
  const d = drizzle(db);
  const rule = TRANSITIONS[change.event];
  const readStatus = async () => (await d.select({ status: videos.status }).from(videos).where(eq(videos.id, videoId)).get())?.status;
  let from = seen ?? (rule.from.length === 1 ? rule.from[0] : await readStatus());
  for (let tries = 0; tries < 3 && from !== undefined; tries++) {
    const to = nextStatus(change.event, from);
    if (to === null) return null;
    // A run's own events apply only while that run is the current one.
    const state =
      rule.runScoped && "run" in change
        ? currentRunWhere({ videoId, run: change.run })
        : and(eq(videos.id, videoId), eq(videos.status, from));
    const row = await d
      .update(videos)
      .set({ ...columnsFor(change, now), ...(to === from ? {} : { status: to }) })
      .where(and(state, extraWhere(change, from)))
      .returning()
      .get();
    if (row) return { event: change.event, from, to, row };
    if (rule.from.length === 1) return null;
    const current = await readStatus();
    if (current === from) return null; // refused by the run or the event's own condition, not by a race
    from = current;
  }
  return null;
}
