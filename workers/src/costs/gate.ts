import type { VideoRow } from "../db/schema.ts";
import { runningSpendUsd } from "../db/costs.ts";
import { getBudget } from "./budget.ts";
import { estimateJobUsd } from "./model.ts";
import { pricesFrom } from "./prices.ts";
import { recordAlert } from "./alerts.ts";
import { utcDay } from "./meter.ts";
import { HELD_MESSAGES } from "../videos/lifecycle.ts";

export type TranscodingGate = { allowed: true } | { allowed: false; message: string };

/** The held sentences live with every other sentence of a video's lifecycle. */
export { HELD_MESSAGES };

/**
 * Asked before a job is dispatched: the kill switch, then the monthly cap (month-to-date spend plus
 * this job's estimate). A held job waits as HELD with a sentence for its creator.
 *
 * A read, called for every dispatch candidate: the budget from KV and the month's running total,
 * nothing rolled up. That total is every metered usage of the month (requests, operations,
 * encodes, queue messages), priced when it was recorded, plus the storage of each day of the month
 * as of that day's latest roll-up (the daily cron for yesterday, the admin's cost page for today).
 * So it is below the rolled-up ledger by at most today's storage not yet rolled up.
 *
 * Its one write is the cap alert's row, when a job is held: at most one row a day (the unique index
 * makes later attempts no-ops). It stays here because the admin page shows the alert as soon as a
 * job is held; the webhook is called by the minute cron, never awaited here.
 */
export async function transcodingGate(env: Env, video: VideoRow, now = Date.now()): Promise<TranscodingGate> {
  const [budget, spent] = await Promise.all([getBudget(env.CONFIG), runningSpendUsd(env.DB, utcDay(now).slice(0, 7))]);
  if (!budget.transcodingEnabled) return { allowed: false, message: HELD_MESSAGES.SWITCHED_OFF };
  const estimate = estimateJobUsd(video.sourceBytes ?? 0, pricesFrom(env));
  if (spent + estimate <= budget.monthlyCapUsd) return { allowed: true };
  await recordAlert(
    env,
    {
      day: utcDay(now),
      kind: "budget_reached",
      message: `The monthly cap of $${budget.monthlyCapUsd} is reached ($${spent.toFixed(4)} spent, next job ≈ $${estimate.toFixed(4)}); new jobs are held.`,
      usd: spent,
      previousUsd: null,
    },
    now,
  );
  return { allowed: false, message: HELD_MESSAGES.BUDGET };
}
