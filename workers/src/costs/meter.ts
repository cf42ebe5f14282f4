/**
 * The meter: usage is counted where the cost happens, attributed to a video. Rare, costly events
 * (R2 parts and objects, encodes, queue messages) are written at once; frequent cheap ones (Worker
 * and Durable Object requests, R2 reads on cache misses) are summed per isolate and flushed every
 * few seconds — an isolate that dies loses at most those few seconds of request counts.
 * Metering never fails the operation it measures.
 */
import type { UsageKind } from "./model.ts";

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export interface UsageEntry {
  videoId: string | null;
  kind: UsageKind;
  quantity: number;
}

const UPSERT = `INSERT INTO usage (day, video_id, kind, quantity) VALUES (?, ?, ?, ?)
  ON CONFLICT(day, video_id, kind) DO UPDATE SET quantity = quantity + excluded.quantity`;

/**
 * Adds usage now. With `onceKey`, the entries are counted only the first time that key is seen
 * (a redelivered result, a retried report).
 */
export async function meter(db: D1Database, entries: UsageEntry[], opts: { now?: number; onceKey?: string } = {}): Promise<void> {
  const now = opts.now ?? Date.now();
  try {
    if (opts.onceKey) {
      const first = await db
        .prepare("INSERT INTO usage_events (key, at) VALUES (?, ?) ON CONFLICT(key) DO NOTHING RETURNING key")
        .bind(opts.onceKey, now)
        .first();
      if (!first) return;
    }
    const day = utcDay(now);
    await db.batch(entries.filter((e) => e.quantity > 0).map((e) => db.prepare(UPSERT).bind(day, e.videoId ?? "", e.kind, e.quantity)));
  } catch (error) {
    console.error("metering failed", String(error));
  }
}

/** Per-isolate sums of frequent events, flushed by `flushCounters`. */
const pending = new Map<string, UsageEntry>();
let lastFlush = Date.now();
const FLUSH_EVERY_MS = 10_000;
const FLUSH_AT_ENTRIES = 200;

export function count(videoId: string | null, kind: UsageKind, quantity = 1): void {
  const key = `${videoId ?? ""}|${kind}`;
  const entry = pending.get(key);
  if (entry) entry.quantity += quantity;
  else pending.set(key, { videoId, kind, quantity });
}

/** True when the buffered counts should be written now. */
export function countersDue(now = Date.now()): boolean {
  return pending.size > 0 && (pending.size >= FLUSH_AT_ENTRIES || now - lastFlush >= FLUSH_EVERY_MS);
}

export async function flushCounters(db: D1Database, now = Date.now()): Promise<void> {
  if (pending.size === 0) return;
  const entries = [...pending.values()];
  pending.clear();
  lastFlush = now;
  await meter(db, entries, { now });
}
