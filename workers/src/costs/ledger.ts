/**
 * The ledger: usage rolled up into dollars per UTC day and video (cron for yesterday, on demand
 * for today), and the month-to-date figures the budget and the admin page read.
 */
import { priceBreakdown, storageGbMonthsInDay, USAGE_KINDS, type UsageKind } from "./model.ts";
import { pricesFrom } from "./prices.ts";
import { flushCounters, utcDay } from "./meter.ts";

const DAY_MS = 86_400_000;

interface StoredVideo {
  id: string;
  source_bytes: number | null;
  uploaded_at: number | null;
  source_deleted_at: number | null;
  output_bytes: number;
  ready_at: number | null;
}

/** Rolls up one day (YYYY-MM-DD) and returns its total. Re-running it replaces that day's rows. */
export async function rollUpDay(env: Env, day: string, now = Date.now()): Promise<number> {
  if (day === utcDay(now)) await flushCounters(env.DB, now);
  const dayStart = Date.parse(`${day}T00:00:00Z`);
  const perVideo = new Map<string, Partial<Record<UsageKind, number>>>();
  const add = (videoId: string, kind: UsageKind, quantity: number) => {
    const q = perVideo.get(videoId) ?? {};
    q[kind] = (q[kind] ?? 0) + quantity;
    perVideo.set(videoId, q);
  };

  const usage = await env.DB.prepare("SELECT video_id, kind, quantity FROM usage WHERE day = ?")
    .bind(day)
    .all<{ video_id: string; kind: string; quantity: number }>();
  for (const row of usage.results) {
    if ((USAGE_KINDS as readonly string[]).includes(row.kind)) add(row.video_id, row.kind as UsageKind, row.quantity);
  }

  // Storage over time: the source from upload to deletion, the outputs from READY on.
  const stored = await env.DB.prepare(
    "SELECT id, source_bytes, uploaded_at, source_deleted_at, output_bytes, ready_at FROM videos WHERE uploaded_at IS NOT NULL AND uploaded_at < ?",
  )
    .bind(dayStart + DAY_MS)
    .all<StoredVideo>();
  const until = Math.min(now, dayStart + DAY_MS);
  for (const v of stored.results) {
    const gbMonths =
      storageGbMonthsInDay(v.source_bytes ?? 0, v.uploaded_at!, v.source_deleted_at ?? until, dayStart) +
      (v.ready_at ? storageGbMonthsInDay(v.output_bytes, v.ready_at, until, dayStart) : 0);
    if (gbMonths > 0) add(v.id, "r2_storage_gb_month", gbMonths);
  }

  // Unfinished uploads hold bytes too (R2 parts and the session's tail): from creation until the
  // upload completed, or, when it never did, until its row last changed (expired, cancelled), or
  // while it is open until now (at most until its expiry). The row knows only the bytes held last,
  // so the whole window is counted at that size (an estimate on the high side).
  const heldUntil = "coalesce(uploaded_at, CASE WHEN status = 'UPLOADING' THEN min(?1, upload_expires_at) ELSE updated_at END)";
  const unfinished = await env.DB.prepare(
    `SELECT id, received_bytes, created_at, ${heldUntil} AS held_until
     FROM videos WHERE received_bytes > 0 AND created_at < ?2 AND ${heldUntil} > ?3`,
  )
    .bind(until, dayStart + DAY_MS, dayStart)
    .all<{ id: string; received_bytes: number; created_at: number; held_until: number }>();
  for (const v of unfinished.results) {
    const gbMonths = storageGbMonthsInDay(v.received_bytes, v.created_at, v.held_until, dayStart);
    if (gbMonths > 0) add(v.id, "r2_storage_gb_month", gbMonths);
  }

  const prices = pricesFrom(env);
  let total = 0;
  const statements = [env.DB.prepare("DELETE FROM cost_daily WHERE day = ?").bind(day)];
  for (const [videoId, quantities] of perVideo) {
    const { usd, breakdown } = priceBreakdown(quantities, prices);
    total += usd;
    statements.push(
      env.DB.prepare("INSERT INTO cost_daily (day, video_id, usd, breakdown, rolled_up_at) VALUES (?, ?, ?, ?, ?)").bind(
        day,
        videoId,
        usd,
        JSON.stringify(breakdown),
        now,
      ),
    );
  }
  await env.DB.batch(statements);
  return total;
}

export async function dayTotal(db: D1Database, day: string): Promise<number> {
  const row = await db.prepare("SELECT coalesce(sum(usd), 0) AS usd FROM cost_daily WHERE day = ?").bind(day).first<{ usd: number }>();
  return row?.usd ?? 0;
}

/** Month-to-date spend: today rolled up on demand, plus the days already in the ledger. */
export async function monthToDateUsd(env: Env, now = Date.now()): Promise<number> {
  const today = utcDay(now);
  await rollUpDay(env, today, now);
  const row = await env.DB.prepare("SELECT coalesce(sum(usd), 0) AS usd FROM cost_daily WHERE day >= ? AND day <= ?")
    .bind(`${today.slice(0, 7)}-01`, today)
    .first<{ usd: number }>();
  return row?.usd ?? 0;
}

export const previousDay = (day: string): string => utcDay(Date.parse(`${day}T00:00:00Z`) - DAY_MS);
