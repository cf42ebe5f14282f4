/**
 * The meter: usage is counted where the cost happens, attributed to a video. Rare, costly events
 * (R2 parts and objects, encodes, queue messages) are written at once; frequent cheap ones (Worker
 * and Durable Object requests, R2 reads on cache misses) are summed per isolate and flushed every
 * few seconds — an isolate that dies loses at most those few seconds of request counts.
 * Metering never fails the operation it measures. Each write also adds the usage's dollars (at
 * the prices given) to the month's running total that the budget gate reads.
 */
import { addUsage, claimUsageEvent } from "../db/costs.ts";
import { usdOf, type UsageKind } from "./model.ts";
import type { Prices } from "./prices.ts";

export { pricesFrom } from "./prices.ts";

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export interface UsageEntry {
  videoId: string | null;
  kind: UsageKind;
  quantity: number;
}

/**
 * Adds usage now, priced with `prices` into the month's running total in the same batch. With
 * `onceKey`, the entries are counted only the first time that key is seen (a redelivered result,
 * a retried report).
 */
export async function meter(
  db: D1Database,
  prices: Prices,
  entries: UsageEntry[],
  opts: { now?: number; onceKey?: string } = {},
): Promise<void> {
  const now = opts.now ?? Date.now();
  try {
    if (opts.onceKey && !(await claimUsageEvent(db, opts.onceKey, now))) return;
    const counted = entries.filter((e) => e.quantity > 0);
    const usd = counted.reduce((sum, e) => sum + usdOf(e.kind, e.quantity, prices), 0);
    await addUsage(
      db,
      utcDay(now),
      counted.map((e) => ({ videoId: e.videoId ?? "", kind: e.kind, quantity: e.quantity })),
      usd,
    );
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

export async function flushCounters(db: D1Database, prices: Prices, now = Date.now()): Promise<void> {
  if (pending.size === 0) return;
  const entries = [...pending.values()];
  pending.clear();
  lastFlush = now;
  await meter(db, prices, entries, { now });
}
