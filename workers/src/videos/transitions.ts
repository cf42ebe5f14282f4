import { writeTransition, type VideoChange, type WrittenTransition } from "../db/transitions.ts";
import type { VideoRow, VideoStatus } from "../db/schema.ts";
import type { VideoEventType } from "./lifecycle.ts";

/**
 * Applies a lifecycle event to a video (the write is `db/transitions.ts`) and tells whoever listens.
 * Every change of a video's state goes through `transition`, so what happens "when a video becomes
 * READY" (or HELD, or FAILED, …) is written once, as a subscriber, not at each place that changes it.
 * Later features — webhooks, analytics, usage metering — subscribe here with `onVideoEvent`.
 */

export interface VideoEvent {
  type: VideoEventType;
  videoId: string;
  from: VideoStatus;
  to: VideoStatus;
  /** Epoch ms of the change. */
  at: number;
  /** The row as this change wrote it (what a webhook shows of the video at that moment). */
  row?: VideoRow;
}

/** What a subscriber may use: the bindings, and the request's (or object's) `waitUntil` when there is one. */
export interface EventScope {
  env: Env;
  waitUntil?(promise: Promise<unknown>): void;
}

export type VideoEventHandler = (event: VideoEvent, scope: EventScope) => void | Promise<void>;

const handlers = new Set<VideoEventHandler>();

/**
 * Subscribes to every video event, in the order they are applied (in-process: a module registers
 * when it is loaded). A handler runs after the write and cannot undo or fail it: a throw or a
 * rejected promise is logged. Work that outlives the call belongs in the returned promise, which is
 * handed to `waitUntil` so the runtime keeps it alive. Returns the unsubscribe function.
 */
export function onVideoEvent(handler: VideoEventHandler): () => void {
  handlers.add(handler);
  return () => handlers.delete(handler);
}

export function offVideoEvent(handler: VideoEventHandler): void {
  handlers.delete(handler);
}

function emit(event: VideoEvent, scope: EventScope): void {
  const failed = (error: unknown) => console.error(`video ${event.videoId}: a subscriber of "${event.type}" failed`, String(error));
  for (const handler of handlers) {
    try {
      const pending = handler(event, scope);
      if (pending instanceof Promise) {
        const settled = pending.catch(failed);
        scope.waitUntil?.(settled);
      }
    } catch (error) {
      failed(error);
    }
  }
}

export interface TransitionOptions {
  now?: number;
  /** The status the caller read, if it did (saves a read). */
  seen?: VideoStatus;
  waitUntil?(promise: Promise<unknown>): void;
}

/**
 * Applies `change` if the lifecycle allows it: the status it left, the one it entered and the updated
 * row; or null (refused: nothing changed, nothing emitted).
 */
export async function transition(
  env: Env,
  videoId: string,
  change: VideoChange,
  opts: TransitionOptions = {},
): Promise<WrittenTransition | null> {
  const at = opts.now ?? Date.now();
  const written = await writeTransition(env.DB, videoId, change, at, opts.seen);
  if (!written) return null;
  emit(
    { type: written.event, videoId, from: written.from, to: written.to, at, row: written.row },
    { env, waitUntil: opts.waitUntil?.bind(opts) },
  );
  return written;
}

/** UPLOADING → QUEUED once the source object is complete in R2. Idempotent (a second call changes and emits nothing). */
export async function markUploadComplete(
  env: Env,
  id: string,
  bytes: number,
  now: number,
  scope?: { waitUntil(promise: Promise<unknown>): void },
): Promise<void> {
  await transition(env, id, { event: "uploaded", sourceBytes: bytes }, { now, waitUntil: scope?.waitUntil.bind(scope) });
}

export type VideoRemovedHandler = (row: VideoRow, env: Env) => Promise<void>;
const removedHandlers = new Set<VideoRemovedHandler>();

/**
 * Subscribes to the removal of a video (not a lifecycle event: the row is gone afterwards). The
 * handler gets the row as it was, and the removal waits for it, so what it records is not lost
 * with the request; its failures are logged, never passed back.
 */
export function onVideoRemoved(handler: VideoRemovedHandler): () => void {
  removedHandlers.add(handler);
  return () => removedHandlers.delete(handler);
}

/** Called by `removeVideo` once the video is gone. */
export async function videoRemoved(env: Env, row: VideoRow): Promise<void> {
  await Promise.all(
    [...removedHandlers].map((handler) =>
      Promise.resolve()
        .then(() => handler(row, env))
        .catch((error) => console.error(`video ${row.id}: a subscriber of its removal failed`, String(error))),
    ),
  );
}
