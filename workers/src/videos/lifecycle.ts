import type { VideoStatus } from "../../../contract/video.ts";
import { MAX_ATTEMPTS, backoffMs } from "../jobs/policy.ts";

/**
 * A video's lifecycle, pure (no storage): which event may move a video from which states to which
 * one, every sentence its creator reads, the retry-or-fail rule, and what an admin may do with it.
 * `db/transitions.ts` is the only writer of `videos.status` and asks this table first;
 * `videos/transitions.ts` applies an event and tells the subscribers.
 *
 *   UPLOADING ─uploaded→ QUEUED ─claimed→ PROCESSING ─succeeded→ READY
 *   UPLOADING ─expired→ FAILED        QUEUED/HELD ─held→ HELD ─claimed→ PROCESSING
 *   PROCESSING ─released→ QUEUED (the transcoder was busy or unreachable: not the job's fault)
 *   PROCESSING ─retrying→ QUEUED | ─failed→ FAILED (a failed report or a lost lease: `afterFailure`)
 *   UPLOADING/QUEUED/HELD/PROCESSING ─cancelled→ CANCELLED;  FAILED/CANCELLED ─retried→ QUEUED
 */

export type VideoEventType =
  | "uploaded"
  | "expired"
  | "held"
  | "claimed"
  | "released"
  | "progressed"
  | "playable"
  | "succeeded"
  | "retrying"
  | "failed"
  | "cancelled"
  | "retried"
  | "prioritized";

export interface TransitionRule {
  from: readonly VideoStatus[];
  /** null: the status stays what it was (a report or a new priority, not a change of state). */
  to: VideoStatus | null;
  /** Only the run named by the event may apply it (the transcoder's reports, a lost lease, a give-back). */
  runScoped?: true;
}

/**
 * The status of a video whose run is under way. A run is current while the video is RUNNING with
 * that run number (`currentRunWhere` in db/transitions.ts, the one place that says so).
 */
export const RUNNING: VideoStatus = "PROCESSING";

export const TRANSITIONS: Readonly<Record<VideoEventType, TransitionRule>> = {
  /** The source object is complete in R2. */
  uploaded: { from: ["UPLOADING"], to: "QUEUED" },
  /** An unfinished upload passed its Upload-Expires; its bytes are gone. */
  expired: { from: ["UPLOADING"], to: "FAILED" },
  /** The budget (or the kill switch) does not let the next job start; it resumes by itself. */
  held: { from: ["QUEUED", "HELD"], to: "HELD" },
  /** A dispatcher won the job: one attempt of the round and a new run number. */
  claimed: { from: ["QUEUED", "HELD"], to: RUNNING },
  /** The transcoder was busy or unreachable: the attempt is given back. */
  released: { from: [RUNNING], to: "QUEUED", runScoped: true },
  progressed: { from: [RUNNING], to: null, runScoped: true },
  /** The first report that says the lowest quality can be watched. */
  playable: { from: [RUNNING], to: null, runScoped: true },
  succeeded: { from: [RUNNING], to: "READY", runScoped: true },
  /** A failed report or a lost lease, with attempts left (`afterFailure`). */
  retrying: { from: [RUNNING], to: "QUEUED", runScoped: true },
  /** A permanent failure, or the last attempt failed (`afterFailure`). */
  failed: { from: [RUNNING], to: "FAILED", runScoped: true },
  cancelled: { from: ["UPLOADING", "QUEUED", "HELD", RUNNING], to: "CANCELLED" },
  /** An admin puts it back in line with a fresh retry budget (its source must still exist). */
  retried: { from: ["FAILED", "CANCELLED"], to: "QUEUED" },
  /** An admin's "make it next". */
  prioritized: { from: ["QUEUED", "HELD"], to: null },
};

/** The status after `event` from `status`, or null when the table refuses it. */
export function nextStatus(event: VideoEventType, status: VideoStatus): VideoStatus | null {
  const rule = TRANSITIONS[event];
  if (!rule.from.includes(status)) return null;
  return rule.to ?? status;
}

/** "ffmpeg crashed" → "Ffmpeg crashed." ; a full sentence stays as it is. */
function sentence(text: string): string {
  const t = text.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(capital) ? capital : `${capital}.`;
}

/** Every sentence a creator reads about the state of a video (`videos.message`). */
export const MESSAGES = {
  UPLOADING: "Uploading: the video is saved as it arrives, and the upload resumes if the connection drops.",
  QUEUED: "Upload complete. Waiting for a transcoder.",
  WAITING_FOR_TRANSCODER: "Upload complete. The transcoder is restarting; the video will be processed as soon as it is back.",
  HELD_SWITCHED_OFF: "Your upload is safe. Processing is paused by the administrators and will start by itself when it resumes.",
  HELD_BUDGET:
    "Your upload is safe. This month's processing budget is used up; the video will be processed by itself when the budget allows.",
  PROCESSING: "Processing into 240p, 480p and 720p.",
  PLAYABLE: "Playable now; the remaining qualities are still being processed.",
  READY: "Ready to watch.",
  CANCELLED: "Processing was cancelled.",
  UPLOAD_EXPIRED: "The upload was not finished within the time allowed, so its bytes were removed. Upload the file again.",
  RETRYING: (attempt: number, reason: string, inSec: number) =>
    `Attempt ${attempt} of ${MAX_ATTEMPTS} failed; trying again in ${Math.round(inSec)} s. ${sentence(reason)}`,
  FAILED: (reason: string) => `This video could not be processed. ${sentence(reason)}`,
} as const;

/** The sentences of a held job, by reason (the costs gate picks one). */
export const HELD_MESSAGES = { SWITCHED_OFF: MESSAGES.HELD_SWITCHED_OFF, BUDGET: MESSAGES.HELD_BUDGET } as const;

/** Why a lost lease ends a run. */
export const STALLED_REASON = "the transcoder stopped responding";

export type FailureOutcome =
  | { event: "failed"; reason: string; message: string }
  | { event: "retrying"; reason: string; waitMs: number; message: string };

/**
 * The retry-or-fail rule, for a failed report and a lost lease alike: a permanent failure, or the
 * last attempt of the round, fails the video; otherwise it waits (exponential backoff) and is retried.
 * `attempts` counts the failed attempt.
 */
export function afterFailure(f: { attempts: number; reason: string; permanent?: boolean; retryBaseMs?: number }): FailureOutcome {
  if (f.permanent || f.attempts >= MAX_ATTEMPTS) return { event: "failed", reason: f.reason, message: MESSAGES.FAILED(f.reason) };
  const waitMs = backoffMs(f.attempts, f.retryBaseMs);
  return { event: "retrying", reason: f.reason, waitMs, message: MESSAGES.RETRYING(f.attempts, f.reason, waitMs / 1000) };
}

export interface AllowedActions {
  cancel: boolean;
  retry: boolean;
  prioritize: boolean;
}

/**
 * What an admin may ask of a video now, read from the table (the web app shows these, it does not
 * decide again). Retry still needs the source in storage, which only the request can check.
 */
export function allowedActions(row: { status: VideoStatus }): AllowedActions {
  return {
    cancel: nextStatus("cancelled", row.status) !== null,
    retry: nextStatus("retried", row.status) !== null,
    prioritize: nextStatus("prioritized", row.status) !== null,
  };
}
