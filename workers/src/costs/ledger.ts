/**
 * The ledger: usage rolled up into dollars per UTC day and video (cron for yesterday, on demand
 * for today), and the month-to-date figures the admin page reads.
 */
import { ledgerUsd, replaceLedgerDay, uploadsHoldingBytes, usageOfDay, videosUploadedBefore } from "../db/costs.ts";
import { priceBreakdown, storageGbMonthsInDay, USAGE_KINDS, type UsageKind } from "./model.ts";
import { pricesFrom } from "./prices.ts";
import { flushCounters, utcDay } from "./meter.ts";

const DAY_MS = 86_400_000;

/**
 * Rolls up one day (YYYY-MM-DD) and returns its total. Re-running it replaces that day's rows, and
 * its storage's share of the month's running total (metered usage is already in it).
 */
export async function rollUpDay(env: Env, day: string, now = Date.now()): Promise<number> {
  const prices = pricesFrom(env);
  if (day === utcDay(now)) await flushCounters(env.DB, prices, now);
  const dayStart = Date.parse(`${day}T00:00:00Z`);
  const perVideo = new Map<string, Partial<Record<UsageKind, number>>>();
  const add = (videoId: string, kind: UsageKind, quantity: number) => {
    const q = perVideo.get(videoId) ?? {};
    q[kind] = (q[kind] ?? 0) + quantity;
    perVideo.set(videoId, q);
  };

  for (const row of await usageOfDay(env.DB, day)) {
    if ((USAGE_KINDS as readonly string[]).includes(row.kind)) add(row.videoId, row.kind as UsageKind, row.quantity);
  }

  // Storage over time: the source from upload to deletion, the outputs from READY on.
  const until = Math.min(now, dayStart + DAY_MS);
  for (const v of await videosUploadedBefore(env.DB, dayStart + DAY_MS)) {
    const gbMonths =
      storageGbMonthsInDay(v.sourceBytes ?? 0, v.uploadedAt!, v.sourceDeletedAt ?? until, dayStart) +
      (v.readyAt ? storageGbMonthsInDay(v.outputBytes, v.readyAt, until, dayStart) : 0);
    if (gbMonths > 0) add(v.id, "r2_storage_gb_month", gbMonths);
  }

  // Unfinished uploads hold bytes too (R2 parts and the session's tail). The row knows only the
  // bytes held last, so the whole window is counted at that size (an estimate on the high side).
  for (const v of await uploadsHoldingBytes(env.DB, dayStart, dayStart + DAY_MS, until)) {
    const gbMonths = storageGbMonthsInDay(v.receivedBytes, v.createdAt, v.heldUntil, dayStart);
    if (gbMonths > 0) add(v.id, "r2_storage_gb_month", gbMonths);
  }

  let total = 0;
  let storageUsd = 0;
  const rows = [...perVideo].map(([videoId, quantities]) => {
    const { usd, breakdown } = priceBreakdown(quantities, prices);
    total += usd;
    storageUsd += breakdown.r2_storage_gb_month ?? 0;
    return { videoId, usd, breakdown };
  });
  await replaceLedgerDay(env.DB, day, rows, storageUsd, now);
  return total;
}

export const dayTotal = (db: D1Database, day: string): Promise<number> => ledgerUsd(db, day);

/**
 * Month-to-date spend from the ledger: today rolled up on demand, plus the days already in it
 * (the admin's figures; the budget gate reads the running total instead, without writing).
 */
export async function monthToDateUsd(env: Env, now = Date.now()): Promise<number> {
  const today = utcDay(now);
  await rollUpDay(env, today, now);
  return ledgerUsd(env.DB, `${today.slice(0, 7)}-01`, today);
}

export const previousDay = (day: string): string => utcDay(Date.parse(`${day}T00:00:00Z`) - DAY_MS);
