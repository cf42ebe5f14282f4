/**
 * Alerts: a day whose cost jumps past the previous day's by more than the threshold, and the month's
 * cap being reached. Each is recorded once per day and kind (a unique index), shown on the admin
 * page, and POSTed as JSON to ALERT_WEBHOOK_URL when set, with retries. Delivery never runs in the
 * dispatch path: the gate only records the cap alert, the minute cron delivers it.
 */
import { claimDeliveryAttempt, insertAlert, ledgerUsd, markAlertDelivered, undeliveredAlerts } from "../db/costs.ts";
import { getBudget } from "./budget.ts";
import { previousDay } from "./ledger.ts";
import { utcDay } from "./meter.ts";

export type AlertKind = "daily_spike" | "budget_reached";

export interface CostAlert {
  day: string;
  kind: AlertKind;
  message: string;
  usd: number;
  previousUsd: number | null;
}

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;
const RETRY_DELAYS_MS = [0, 1_000, 3_000];

export type CostAlertHandler = (alert: CostAlert, env: Env) => Promise<void>;
const alertHandlers = new Set<CostAlertHandler>();

/** Subscribes to every new alert (once per day and kind, when it is recorded); failures are logged, never passed back. */
export function onCostAlert(handler: CostAlertHandler): () => void {
  alertHandlers.add(handler);
  return () => alertHandlers.delete(handler);
}

async function alertRecorded(env: Env, alert: CostAlert): Promise<void> {
  await Promise.all(
    [...alertHandlers].map((handler) =>
      Promise.resolve()
        .then(() => handler(alert, env))
        .catch((error) => console.error(`a subscriber of the ${alert.kind} alert failed`, String(error))),
    ),
  );
}

/** Records the alert unless one of its kind exists for that day; true when it is new. Delivers nothing but tells subscribers. */
export async function recordAlert(env: Env, alert: CostAlert, now = Date.now()): Promise<boolean> {
  const fresh = (await insertAlert(env.DB, alert, now)) !== null;
  if (fresh) await alertRecorded(env, alert);
  return fresh;
}

/** Records the alert unless one of its kind exists for that day; delivers it (with retries) if it is new. */
export async function raiseAlert(env: Env, alert: CostAlert, fetcher: Fetcher = fetch, now = Date.now()): Promise<boolean> {
  const id = await insertAlert(env.DB, alert, now);
  if (id === null) return false;
  await alertRecorded(env, alert);
  await deliver(env, id, alert, fetcher);
  return true;
}

/**
 * Delivers the alerts recorded without delivery (the cap alert of the gate) that no one has tried
 * yet, from yesterday on: a webhook set later does not receive last month's alerts. Returns how
 * many were delivered.
 */
export async function deliverPendingAlerts(env: Env, fetcher: Fetcher = fetch, now = Date.now()): Promise<number> {
  if (!env.ALERT_WEBHOOK_URL) return 0;
  let delivered = 0;
  for (const { id, ...alert } of await undeliveredAlerts(env.DB, previousDay(utcDay(now)))) {
    if (await deliver(env, id, alert as CostAlert, fetcher)) delivered++;
  }
  return delivered;
}

/** Each attempt is claimed before it is sent, so two crons running at once never send an alert twice. */
async function deliver(env: Env, id: number, alert: CostAlert, fetcher: Fetcher): Promise<boolean> {
  const url = env.ALERT_WEBHOOK_URL;
  if (!url) return false;
  for (const [index, delay] of RETRY_DELAYS_MS.entries()) {
    if (delay) await new Promise((r) => setTimeout(r, delay));
    if (!(await claimDeliveryAttempt(env.DB, id, index + 1))) return false;
    const ok = await fetcher(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source: "edge-video", ...alert }),
    })
      .then(async (res) => {
        await res.body?.cancel();
        return res.ok;
      })
      .catch(() => false);
    if (ok) {
      await markAlertDelivered(env.DB, id);
      return true;
    }
  }
  console.error(`cost alert ${alert.kind} for ${alert.day} could not be delivered to the webhook`);
  return false;
}

/** Compares a day with the one before it (both from the ledger). */
export async function checkSpike(env: Env, day: string, fetcher: Fetcher = fetch, now = Date.now()): Promise<boolean> {
  const [current, previous] = await Promise.all([ledgerUsd(env.DB, day), ledgerUsd(env.DB, previousDay(day))]);
  const { spikeThresholdPct } = await getBudget(env.CONFIG);
  if (previous <= 0 || current <= previous * (1 + spikeThresholdPct / 100)) return false;
  const pct = Math.round(((current - previous) / previous) * 100);
  return raiseAlert(
    env,
    {
      day,
      kind: "daily_spike",
      message: `Spend on ${day} is $${current.toFixed(4)}, ${pct} % above the day before ($${previous.toFixed(4)}); the threshold is ${spikeThresholdPct} %.`,
      usd: current,
      previousUsd: previous,
    },
    fetcher,
    now,
  );
}
