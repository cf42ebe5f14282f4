import type { VideoRow } from "../db/schema.ts";
import { getBudget } from "./budget.ts";
import { monthToDateUsd } from "./ledger.ts";
import { estimateJobUsd } from "./model.ts";
import { pricesFrom } from "./prices.ts";
import { raiseAlert } from "./alerts.ts";
import { utcDay } from "./meter.ts";
import { HELD_MESSAGES } from "../videos/lifecycle.ts";

export type TranscodingGate = { allowed: true } | { allowed: false; message: string };

/** The held sentences live with every other sentence of a video's lifecycle. */
export { HELD_MESSAGES };

/**
 * Asked before a job is dispatched: the kill switch, then the monthly cap (month-to-date spend plus
 * this job's estimate). A held job waits as HELD with a sentence for its creator.
 */
export async function transcodingGate(env: Env, video: VideoRow, now = Date.now()): Promise<TranscodingGate> {
  const budget = await getBudget(env.CONFIG);
  if (!budget.transcodingEnabled) return { allowed: false, message: HELD_MESSAGES.SWITCHED_OFF };
  const spent = await monthToDateUsd(env, now);
  const estimate = estimateJobUsd(video.sourceBytes ?? 0, pricesFrom(env));
  if (spent + estimate <= budget.monthlyCapUsd) return { allowed: true };
  await raiseAlert(
    env,
    {
      day: utcDay(now),
      kind: "budget_reached",
      message: `The monthly cap of $${budget.monthlyCapUsd} is reached ($${spent.toFixed(4)} spent, next job ≈ $${estimate.toFixed(4)}); new jobs are held.`,
      usd: spent,
      previousUsd: null,
    },
    fetch,
    now,
  );
  return { allowed: false, message: HELD_MESSAGES.BUDGET };
}
