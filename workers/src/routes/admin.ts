import { Hono } from "hono";
import { requireAdmin, type AppEnv } from "../http/auth.ts";
import { ApiError } from "../http/errors.ts";
import { BudgetError, getBudget, putBudget, validateBudgetPatch, type BudgetSettings } from "../costs/budget.ts";
import { monthToDateUsd, rollUpDay } from "../costs/ledger.ts";
import { utcDay } from "../costs/meter.ts";
import { PLAN_DEFAULTS, planEstimateUsd, type PlanEstimateParams } from "../costs/model.ts";
import { dispatchNext } from "../jobs/dispatch.ts";
import { alertsOfMonth, computeOfMonth, ledgerDaysOfMonth, ledgerVideosOfMonth } from "../db/costs.ts";
import type { CostEstimateResponse, CostsResponse } from "../../../contract/api.ts";

/** Admin API: budget settings (KV) and costs (the D1 ledger). Admin role only (403 otherwise). */
export const admin = new Hono<AppEnv>();
admin.use("*", requireAdmin);

admin.get("/budget", async (c) => c.json<BudgetSettings>(await getBudget(c.env.CONFIG)));

admin.put("/budget", async (c) => {
  const body = await c.req.json().catch(() => {
    throw new ApiError(400, "invalid_json", "The body must be JSON.");
  });
  const settings = await putBudget(c.env, c.get("user").id, budgetPatch(body));
  // A raised cap or a switch turned back on releases held jobs, in order, now.
  c.executionCtx.waitUntil(dispatchNext(c.env));
  return c.json<BudgetSettings>(settings);
});

admin.get("/costs", async (c) => {
  const now = Date.now();
  const month = c.req.query("month") ?? utcDay(now).slice(0, 7);
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new ApiError(400, "invalid_month", "month must be YYYY-MM.");
  const today = utcDay(now);
  if (today.startsWith(month)) await rollUpDay(c.env, today, now);
  const [budget, days, perVideo, alerts, compute] = await Promise.all([
    getBudget(c.env.CONFIG),
    ledgerDaysOfMonth(c.env.DB, month),
    ledgerVideosOfMonth(c.env.DB, month),
    alertsOfMonth(c.env.DB, month),
    computeOfMonth(c.env.DB, month),
  ]);
  const breakdowns = days.map((d) => sumBreakdowns(JSON.parse(d.parts) as string[]));
  const computeUsd = breakdowns.reduce((sum, b) => sum + (b.container_vcpu_seconds ?? 0) + (b.container_gib_seconds ?? 0), 0);
  return c.json<CostsResponse>({
    month,
    monthToDateUsd: days.reduce((sum, d) => sum + d.usd, 0),
    capUsd: budget.monthlyCapUsd,
    days: days.map((d, i) => ({ date: d.day, usd: d.usd, breakdown: breakdowns[i] })),
    videos: perVideo,
    compute: { ...compute, usd: computeUsd },
    alerts,
  });
});

/** The budget's own errors become 400 answers with their code and sentence. */
function budgetPatch(body: unknown): Partial<BudgetSettings> {
  try {
    return validateBudgetPatch(body);
  } catch (error) {
    throw error instanceof BudgetError ? new ApiError(400, error.code, error.message) : error;
  }
}

const DECIMAL = /^\d{1,15}(\.\d{1,15})?$/;
/** Far above any real audience or price; keeps every product of the formula finite. */
const MAX_PARAMETER = 1e12;

/** The plan's formula with its assumptions as parameters, beside a projection from this month's metered spend. */
admin.get("/costs/estimate", async (c) => {
  const param = (name: keyof PlanEstimateParams, fallback: number) => {
    const raw = c.req.query(name);
    if (raw === undefined) return fallback;
    // Plain decimal notation only: Number() would also read "0x10" as 16, "1e400" as Infinity, "" as 0.
    const value = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value) || value > MAX_PARAMETER) {
      throw new ApiError(
        400,
        "invalid_parameter",
        `${name} must be a decimal number from 0 to ${MAX_PARAMETER.toLocaleString("en")}, such as 500 or 0.015.`,
      );
    }
    return value;
  };
  if (c.req.query("activeUsers") === undefined) throw new ApiError(400, "missing_active_users", "Give activeUsers, e.g. ?activeUsers=500.");
  const params: PlanEstimateParams = {
    activeUsers: param("activeUsers", 0),
    videosPerUserPerMonth: param("videosPerUserPerMonth", PLAN_DEFAULTS.videosPerUserPerMonth),
    mbPerVideo: param("mbPerVideo", PLAN_DEFAULTS.mbPerVideo),
    outputFactor: param("outputFactor", PLAN_DEFAULTS.outputFactor),
    usdPerGbMonth: param("usdPerGbMonth", PLAN_DEFAULTS.usdPerGbMonth),
  };
  const estimateUsd = planEstimateUsd(params);
  if (!Number.isFinite(estimateUsd))
    throw new ApiError(400, "estimate_out_of_range", "These parameters give an estimate too large to compute; use smaller values.");
  const now = Date.now();
  const spent = await monthToDateUsd(c.env, now);
  const date = new Date(now);
  const daysInMonth = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  const elapsedDays = date.getUTCDate() - 1 + (now % 86_400_000) / 86_400_000;
  return c.json<CostEstimateResponse>({
    formula: "activeUsers × videosPerUserPerMonth × mbPerVideo × outputFactor / 1000 × usdPerGbMonth",
    params,
    estimateUsd,
    metered: { monthToDateUsd: spent, projectedMonthUsd: elapsedDays > 0 ? (spent / elapsedDays) * daysInMonth : 0 },
  });
});

function sumBreakdowns(parts: string[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) {
    for (const [kind, usd] of Object.entries(JSON.parse(part) as Record<string, number>)) total[kind] = (total[kind] ?? 0) + usd;
  }
  return total;
}
