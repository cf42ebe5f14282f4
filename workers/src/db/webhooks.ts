import { and, asc, desc, eq, inArray, lt, lte, ne, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "./schema.ts";

/** Queries of the webhooks: endpoints, deliveries (the source of truth of each send) and their attempts. */

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect;
export type NewWebhookDelivery = Pick<WebhookDeliveryRow, "id" | "endpointId" | "type" | "videoId" | "payload" | "eventAt" | "createdAt">;

// ---- Endpoints ----

export async function insertEndpoint(db: D1Database, row: WebhookEndpointRow): Promise<void> {
  await drizzle(db).insert(webhookEndpoints).values(row);
}

export async function listEndpoints(db: D1Database): Promise<WebhookEndpointRow[]> {
  return drizzle(db).select().from(webhookEndpoints).orderBy(asc(webhookEndpoints.createdAt)).all();
}

export async function findEndpoint(db: D1Database, id: string): Promise<WebhookEndpointRow | undefined> {
  return drizzle(db).select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get();
}

/** The endpoint, its deliveries and their attempts, in one batch; false when there was no such endpoint. */
export async function deleteEndpoint(db: D1Database, id: string): Promise<boolean> {
  const d = drizzle(db);
  const ofEndpoint = d.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id));
  const [, , removed] = await d.batch([
    d.delete(webhookAttempts).where(inArray(webhookAttempts.deliveryId, ofEndpoint)),
    d.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id)),
    d.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id }),
  ]);
  return removed.length > 0;
}

// ---- Deliveries ----

export async function insertDeliveries(db: D1Database, rows: NewWebhookDelivery[]): Promise<void> {
  if (!rows.length) return;
  await drizzle(db)
    .insert(webhookDeliveries)
    .values(rows.map((r) => ({ ...r, nextAttemptAt: r.createdAt })));
}

export async function findDelivery(db: D1Database, id: string): Promise<WebhookDeliveryRow | undefined> {
  return drizzle(db).select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).get();
}

/**
 * The first delivery of the same video to the same endpoint that comes before `row` (by event
 * time, then insertion) and is still pending: while there is one, `row` waits ("per video, events
 * arrive in order").
 */
export async function earlierPending(db: D1Database, row: WebhookDeliveryRow): Promise<WebhookDeliveryRow | undefined> {
  if (!row.videoId) return undefined;
  const t = webhookDeliveries;
  return drizzle(db)
    .select()
    .from(t)
    .where(
      and(
        eq(t.endpointId, row.endpointId),
        eq(t.videoId, row.videoId),
        eq(t.status, "pending"),
        ne(t.id, row.id),
        or(lt(t.eventAt, row.eventAt), and(eq(t.eventAt, row.eventAt), lt(t.seq, row.seq))),
      ),
    )
    .orderBy(asc(t.eventAt), asc(t.seq))
    .get();
}

/** The next pending delivery of the same video to the same endpoint after `row`, made due now. */
export async function wakeNextOfVideo(db: D1Database, row: WebhookDeliveryRow, now: number): Promise<string | undefined> {
  if (!row.videoId) return undefined;
  const t = webhookDeliveries;
  const next = await drizzle(db)
    .select({ seq: t.seq, id: t.id })
    .from(t)
    .where(
      and(
        eq(t.endpointId, row.endpointId),
        eq(t.videoId, row.videoId),
        eq(t.status, "pending"),
        or(sql`${t.eventAt} > ${row.eventAt}`, and(eq(t.eventAt, row.eventAt), sql`${t.seq} > ${row.seq}`)),
      ),
    )
    .orderBy(asc(t.eventAt), asc(t.seq))
    .get();
  if (!next) return undefined;
  await drizzle(db).update(t).set({ nextAttemptAt: now }).where(eq(t.seq, next.seq));
  return next.id;
}

/** Moves a pending delivery's next attempt (it waits behind an earlier one). */
export async function postponeDelivery(db: D1Database, id: string, until: number): Promise<void> {
  const t = webhookDeliveries;
  await drizzle(db)
    .update(t)
    .set({ nextAttemptAt: until })
    .where(and(eq(t.id, id), eq(t.status, "pending")));
}

/**
 * Takes the next attempt of a due, pending delivery: one conditional UPDATE, so a message delivered
 * twice (or the sweep and a message at once) never sends the same attempt twice. `leaseUntil`
 * becomes its next attempt time until the outcome is written: if the Worker dies mid-send, the
 * sweep picks it up after that. Returns the attempt number, or null when someone else took it.
 */
export async function claimAttempt(db: D1Database, row: WebhookDeliveryRow, now: number, leaseUntil: number): Promise<number | null> {
  const t = webhookDeliveries;
  const claimed = await drizzle(db)
    .update(t)
    .set({ attempts: sql`${t.attempts} + 1`, roundAttempts: sql`${t.roundAttempts} + 1`, nextAttemptAt: leaseUntil, lastAttemptAt: now })
    .where(and(eq(t.id, row.id), eq(t.status, "pending"), eq(t.attempts, row.attempts), lte(t.nextAttemptAt, now)))
    .returning({ attempts: t.attempts })
    .get();
  return claimed?.attempts ?? null;
}

export interface AttemptOutcome {
  attempt: number;
  at: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  status: "pending" | "delivered" | "failed";
  nextAttemptAt: number;
}

/**
 * Logs the attempt and writes its outcome on the delivery, in one batch. Nothing is written if the
 * endpoint (and so the delivery) was deleted during the attempt.
 */
export async function recordAttempt(db: D1Database, deliveryId: string, o: AttemptOutcome): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ?1)`,
      )
      .bind(deliveryId, o.attempt, o.at, o.statusCode, o.error, o.durationMs),
    db
      .prepare(
        `UPDATE webhook_deliveries SET status = ?1, next_attempt_at = ?2, last_status = ?3, last_error = ?4,
           delivered_at = COALESCE(?5, delivered_at)
         WHERE id = ?6 AND attempts = ?7`,
      )
      .bind(o.status, o.nextAttemptAt, o.statusCode, o.error, o.status === "delivered" ? o.at + o.durationMs : null, deliveryId, o.attempt),
  ]);
}

/** An admin's resend: pending again, due now, with a fresh retry budget (the log keeps every attempt). */
export async function resendDelivery(db: D1Database, endpointId: string, id: string, now: number): Promise<WebhookDeliveryRow | undefined> {
  const t = webhookDeliveries;
  return drizzle(db)
    .update(t)
    .set({ status: "pending", roundAttempts: 0, nextAttemptAt: now })
    .where(and(eq(t.id, id), eq(t.endpointId, endpointId)))
    .returning()
    .get();
}

/** The newest deliveries of an endpoint, with their attempts. */
export async function deliveriesOfEndpoint(
  db: D1Database,
  endpointId: string,
  limit = 100,
): Promise<{ deliveries: WebhookDeliveryRow[]; attempts: WebhookAttemptRow[] }> {
  const d = drizzle(db);
  const deliveries = await d
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .orderBy(desc(webhookDeliveries.seq))
    .limit(limit)
    .all();
  if (!deliveries.length) return { deliveries, attempts: [] };
  const attempts = await d
    .select()
    .from(webhookAttempts)
    .where(
      inArray(
        webhookAttempts.deliveryId,
        deliveries.map((r) => r.id),
      ),
    )
    .orderBy(asc(webhookAttempts.attempt))
    .all();
  return { deliveries, attempts };
}

/** Pending deliveries whose attempt was due before `dueBefore` (their message was lost or their sender died). */
export async function overdueDeliveries(db: D1Database, dueBefore: number, limit = 100): Promise<string[]> {
  const t = webhookDeliveries;
  const rows = await drizzle(db)
    .select({ id: t.id })
    .from(t)
    .where(and(eq(t.status, "pending"), lt(t.nextAttemptAt, dueBefore)))
    .orderBy(asc(t.nextAttemptAt))
    .limit(limit)
    .all();
  return rows.map((r) => r.id);
}

/**
 * Removes finished deliveries (delivered or given up) created before `before`, with their
 * attempts, at most `limit` of them; pending ones stay whatever their age (they still have to go
 * out, and later deliveries of their video wait for them). Returns how many deliveries went.
 */
export async function purgeFinishedDeliveries(db: D1Database, before: number, limit = 1000): Promise<number> {
  const d = drizzle(db);
  const t = webhookDeliveries;
  // A subquery, not a list of ids: D1 binds at most 100 parameters per query.
  const old = () =>
    d
      .select({ id: t.id })
      .from(t)
      .where(and(ne(t.status, "pending"), lt(t.createdAt, before)))
      .orderBy(asc(t.seq))
      .limit(limit);
  // Attempts first, in the same batch: a purge never leaves attempts without their delivery.
  const [, removed] = await d.batch([
    d.delete(webhookAttempts).where(inArray(webhookAttempts.deliveryId, old())),
    d.delete(t).where(inArray(t.id, old())).returning({ id: t.id }),
  ]);
  return removed.length;
}
