import { and, asc, desc, eq, gt, gte, inArray, isNotNull, like, lt, lte, ne, sql } from "drizzle-orm";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { budgetChanges, costAlerts, costDaily, spendRunning, usage, usageEvents, videos } from "./schema.ts";
import type { CostsResponse } from "../../../contract/api.ts";

/** Queries of the cost control: usage, the ledger, the running month-to-date spend, alerts, budget changes. */

const STORAGE_KIND = "r2_storage_gb_month";
const monthOf = (day: string) => day.slice(0, 7);

/** Adds dollars to a month's running total (the row is created on first use). */
const addToRunning = (d: DrizzleD1Database, month: string, usd: number | ReturnType<typeof sql>) =>
  d
    .insert(spendRunning)
    .values({ month, usd })
    .onConflictDoUpdate({ target: spendRunning.month, set: { usd: sql`${spendRunning.usd} + excluded.usd` } });

// ---- Usage (the meter) ----

/** True the first time `key` is seen: a one-off event (a redelivered result, a retried report) counts once. */
export async function claimUsageEvent(db: D1Database, key: string, now: number): Promise<boolean> {
  const first = await drizzle(db)
    .insert(usageEvents)
    .values({ key, at: now })
    .onConflictDoNothing()
    .returning({ key: usageEvents.key })
    .get();
  return first !== undefined;
}

export interface UsageCount {
  videoId: string;
  kind: string;
  quantity: number;
}

/**
 * Adds usage counters of one day and their priced dollars to the month's running total, in one
 * batch: both are written or neither, so the total never drifts from the counters it sums.
 */
export async function addUsage(db: D1Database, day: string, counts: UsageCount[], usd: number): Promise<void> {
  if (counts.length === 0) return;
  const d = drizzle(db);
  const upserts = counts.map((c) =>
    d
      .insert(usage)
      .values({ day, ...c })
      .onConflictDoUpdate({
        target: [usage.day, usage.videoId, usage.kind],
        set: { quantity: sql`${usage.quantity} + excluded.quantity` },
      }),
  );
  await d.batch([addToRunning(d, monthOf(day), usd), ...upserts]);
}

/** The month's running total (YYYY-MM): what the budget gate compares with the cap. */
export async function runningSpendUsd(db: D1Database, month: string): Promise<number> {
  const row = await drizzle(db).select({ usd: spendRunning.usd }).from(spendRunning).where(eq(spendRunning.month, month)).get();
  return row?.usd ?? 0;
}

// ---- The ledger (daily roll-up) ----

export const usageOfDay = (db: D1Database, day: string) =>
  drizzle(db).select({ videoId: usage.videoId, kind: usage.kind, quantity: usage.quantity }).from(usage).where(eq(usage.day, day)).all();

/** Videos whose source was uploaded before `before` (ms): their source and outputs are stored over time. */
export const videosUploadedBefore = (db: D1Database, before: number) =>
  drizzle(db)
    .select({
      id: videos.id,
      sourceBytes: videos.sourceBytes,
      uploadedAt: videos.uploadedAt,
      sourceDeletedAt: videos.sourceDeletedAt,
      outputBytes: videos.outputBytes,
      readyAt: videos.readyAt,
    })
    .from(videos)
    .where(and(isNotNull(videos.uploadedAt), lt(videos.uploadedAt, before)))
    .all();

/**
 * Unfinished uploads holding bytes during [dayStart, dayEnd): held from creation until the upload
 * completed, or, when it never did, until its row last changed (expired, cancelled), or while it is
 * open until `until` (at most until its expiry).
 */
export function uploadsHoldingBytes(db: D1Database, dayStart: number, dayEnd: number, until: number) {
  const heldUntil = sql<number>`coalesce(${videos.uploadedAt}, CASE WHEN ${videos.status} = 'UPLOADING' THEN min(${until}, ${videos.uploadExpiresAt}) ELSE ${videos.updatedAt} END)`;
  return drizzle(db)
    .select({ id: videos.id, receivedBytes: videos.receivedBytes, createdAt: videos.createdAt, heldUntil })
    .from(videos)
    .where(and(gt(videos.receivedBytes, 0), lt(videos.createdAt, dayEnd), gt(heldUntil, dayStart)))
    .all();
}

export interface LedgerRow {
  videoId: string;
  usd: number;
  breakdown: Record<string, number>;
}

/**
 * Replaces one day's ledger rows. The day's storage dollars replace its previous share in the
 * month's running total (computed from the rows being replaced), in the same batch, so a re-run
 * never counts a day's storage twice. Usage events are already in the total (the meter adds them).
 */
export async function replaceLedgerDay(db: D1Database, day: string, rows: LedgerRow[], storageUsd: number, now: number): Promise<void> {
  const d = drizzle(db);
  const previousStorage = sql`(SELECT coalesce(sum(json_extract(${costDaily.breakdown}, ${`$.${STORAGE_KIND}`})), 0) FROM ${costDaily} WHERE ${costDaily.day} = ${day})`;
  await d.batch([
    addToRunning(d, monthOf(day), sql`${storageUsd} - ${previousStorage}`),
    d.delete(costDaily).where(eq(costDaily.day, day)),
    ...rows.map((r) => d.insert(costDaily).values({ day, ...r, rolledUpAt: now })),
  ]);
}

/** The ledger's total of the days from `from` to `to` (YYYY-MM-DD, both included). */
export async function ledgerUsd(db: D1Database, from: string, to = from): Promise<number> {
  const row = await drizzle(db)
    .select({ usd: sql<number>`coalesce(sum(${costDaily.usd}), 0)` })
    .from(costDaily)
    .where(and(gte(costDaily.day, from), lte(costDaily.day, to)))
    .get();
  return row?.usd ?? 0;
}

/** A month's ledger (YYYY-MM) per day, with each day's breakdowns as a JSON array of JSON texts. */
export const ledgerDaysOfMonth = (db: D1Database, month: string) =>
  drizzle(db)
    .select({ day: costDaily.day, usd: sql<number>`sum(${costDaily.usd})`, parts: sql<string>`json_group_array(${costDaily.breakdown})` })
    .from(costDaily)
    .where(like(costDaily.day, `${month}-%`))
    .groupBy(costDaily.day)
    .orderBy(asc(costDaily.day))
    .all();

/** A month's container compute (YYYY-MM), in the units it is billed in: vCPU-seconds and GiB-seconds. */
export async function computeOfMonth(db: D1Database, month: string): Promise<{ vcpuSeconds: number; gibSeconds: number }> {
  const rows = await drizzle(db)
    .select({ kind: usage.kind, quantity: sql<number>`sum(${usage.quantity})` })
    .from(usage)
    .where(and(like(usage.day, `${month}-%`), inArray(usage.kind, ["container_vcpu_seconds", "container_gib_seconds"])))
    .groupBy(usage.kind)
    .all();
  const of = (kind: string) => rows.find((r) => r.kind === kind)?.quantity ?? 0;
  return { vcpuSeconds: of("container_vcpu_seconds"), gibSeconds: of("container_gib_seconds") };
}

/** The month's costliest videos (at most 100). */
export const ledgerVideosOfMonth = (db: D1Database, month: string) => {
  const usd = sql<number>`sum(${costDaily.usd})`;
  return drizzle(db)
    .select({ id: costDaily.videoId, usd })
    .from(costDaily)
    .where(and(like(costDaily.day, `${month}-%`), ne(costDaily.videoId, "")))
    .groupBy(costDaily.videoId)
    .orderBy(desc(usd))
    .limit(100)
    .all();
};

// ---- Alerts ----

export interface AlertRecord {
  day: string;
  kind: string;
  message: string;
  usd: number;
  previousUsd: number | null;
}

/** Records an alert unless one of its kind exists for that day (unique index); its id when it is new. */
export async function insertAlert(db: D1Database, alert: AlertRecord, now: number): Promise<number | null> {
  const row = await drizzle(db)
    .insert(costAlerts)
    .values({ ...alert, createdAt: now })
    .onConflictDoNothing()
    .returning({ id: costAlerts.id })
    .get();
  return row?.id ?? null;
}

/**
 * Takes delivery attempt number `attempt` of an undelivered alert: true only for the one caller
 * that moves the count from `attempt - 1`, so two deliverers never send the same attempt.
 */
export async function claimDeliveryAttempt(db: D1Database, id: number, attempt: number): Promise<boolean> {
  const result = await drizzle(db)
    .update(costAlerts)
    .set({ deliveryAttempts: attempt })
    .where(and(eq(costAlerts.id, id), eq(costAlerts.delivered, false), eq(costAlerts.deliveryAttempts, attempt - 1)))
    .run();
  return result.meta.changes === 1;
}

export const markAlertDelivered = (db: D1Database, id: number) =>
  drizzle(db).update(costAlerts).set({ delivered: true }).where(eq(costAlerts.id, id)).run();

/** Alerts of `sinceDay` or later that no one has tried to deliver yet. */
export const undeliveredAlerts = (db: D1Database, sinceDay: string) =>
  drizzle(db)
    .select({
      id: costAlerts.id,
      day: costAlerts.day,
      kind: costAlerts.kind,
      message: costAlerts.message,
      usd: costAlerts.usd,
      previousUsd: costAlerts.previousUsd,
    })
    .from(costAlerts)
    .where(and(eq(costAlerts.delivered, false), eq(costAlerts.deliveryAttempts, 0), gte(costAlerts.day, sinceDay)))
    .orderBy(asc(costAlerts.id))
    .all();

export const alertsOfMonth = (db: D1Database, month: string): Promise<CostsResponse["alerts"]> =>
  drizzle(db)
    .select({
      day: costAlerts.day,
      kind: costAlerts.kind,
      message: costAlerts.message,
      usd: costAlerts.usd,
      previousUsd: costAlerts.previousUsd,
      delivered: costAlerts.delivered,
      createdAt: costAlerts.createdAt,
    })
    .from(costAlerts)
    .where(like(costAlerts.day, `${month}-%`))
    .orderBy(desc(costAlerts.createdAt))
    .all();

// ---- Budget audit log ----

export const insertBudgetChange = (db: D1Database, change: { at: number; adminId: string; before: unknown; after: unknown }) =>
  drizzle(db).insert(budgetChanges).values(change).run();
