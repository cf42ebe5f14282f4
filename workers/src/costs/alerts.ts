/**
 * Alerts: a day whose cost jumps past the previous day's by more than the threshold, and the month's
 * cap being reached. Each is recorded once per day and kind (a unique index), shown on the admin
 * page, and POSTed as JSON to ALERT_WEBHOOK_URL when set, with retries.
 */
import { dayTotal, previousDay } from "./ledger.ts";
import { getBudget } from "./budget.ts";

export type AlertKind = "daily_spike" | "budget_reached";

export interface CostAlert {
  day: string;
  kind: AlertKind;
  message: string;
  usd: number;
  previousUsd: number | null;
}

type Fetcher = (url: string, init: RequestInit) => Promise<Response>;
const RETRY_DELAYS_MS = [0, 1_000, 3_000];

/** Records the alert unless one of its kind exists for that day; delivers it if it is new. */
export async function raiseAlert(env: Env, alert: CostAlert, fetcher: Fetcher = fetch, now = Date.now()): Promise<boolean> {
  const inserted = await env.DB.prepare(
    `INSERT INTO cost_alerts (day, kind, message, usd, previous_usd, created_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(day, kind) DO NOTHING RETURNING id`,
  )
    .bind(alert.day, alert.kind, alert.message, alert.usd, alert.previousUsd, now)
    .first<{ id: number }>();
  if (!inserted) return false;
  await deliver(env, inserted.id, alert, fetcher);
  return true;
}

async function deliver(env: Env, id: number, alert: CostAlert, fetcher: Fetcher): Promise<void> {
  const url = env.ALERT_WEBHOOK_URL;
  if (!url) return;
  for (const [attempt, delay] of RETRY_DELAYS_MS.entries()) {
    if (delay) await new Promise((r) => setTimeout(r, delay));
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
    await env.DB.prepare("UPDATE cost_alerts SET delivery_attempts = ?, delivered = ? WHERE id = ?")
      .bind(attempt + 1, ok ? 1 : 0, id)
      .run();
    if (ok) return;
  }
  console.error(`cost alert ${alert.kind} for ${alert.day} could not be delivered to the webhook`);
}

/** Compares a day with the one before it (both from the ledger). */
export async function checkSpike(env: Env, day: string, fetcher: Fetcher = fetch, now = Date.now()): Promise<boolean> {
  const [current, previous] = await Promise.all([dayTotal(env.DB, day), dayTotal(env.DB, previousDay(day))]);
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
