/** Retry and lease policy of transcoding jobs. Pure. */

export const MAX_ATTEMPTS = 3;
/** A running attempt must report within this time (its progress reports extend it). */
export const LEASE_MS = 90_000;
const RETRY_BASE_MS = 30_000;

/** JOB_LEASE_SECONDS / JOB_RETRY_BASE_SECONDS shorten both for fault tests; unset in production. */
export interface JobTimings {
  leaseMs: number;
  retryBaseMs: number;
}

export function jobTimings(env: { JOB_LEASE_SECONDS?: string; JOB_RETRY_BASE_SECONDS?: string }): JobTimings {
  const seconds = (value: string | undefined) => (Number(value) > 0 ? Number(value) * 1000 : null);
  return { leaseMs: seconds(env.JOB_LEASE_SECONDS) ?? LEASE_MS, retryBaseMs: seconds(env.JOB_RETRY_BASE_SECONDS) ?? RETRY_BASE_MS };
}
/**
 * Segment length asked of the transcoder: 6 s, as Apple's HLS authoring rules say. A third of the
 * segment requests of 2 s segments for the same video.
 */
export const SEGMENT_SECONDS = 6;
/** When the transcoder cannot be reached or is busy, the job waits this long before the next try. */
export const UNAVAILABLE_RETRY_MS = 15_000;

/** Exponential backoff before attempt `attempt + 1`: 30 s, 2 min, 8 min (with the default base). */
export function backoffMs(attemptsMade: number, baseMs = RETRY_BASE_MS): number {
  return baseMs * 4 ** Math.max(0, attemptsMade - 1);
}
