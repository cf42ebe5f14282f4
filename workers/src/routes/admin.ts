import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../http/auth.ts";
import { ApiError } from "../http/errors.ts";
import { BudgetError, getBudget, putBudget, validateBudgetPatch, type BudgetSettings } from "../costs/budget.ts";
import { monthToDateUsd, rollUpDay } from "../costs/ledger.ts";
import { utcDay } from "../costs/meter.ts";
import { PLAN_DEFAULTS, planEstimateUsd, type PlanEstimateParams } from "../costs/model.ts";
import { dispatchNext } from "../jobs/dispatch.ts";
import { alertsOfMonth, computeOfMonth, ledgerDaysOfMonth, ledgerVideosOfMonth } from "../db/costs.ts";
import {
  BODY_ERRORS,
  ERRORS,
  SECURITY,
  jsonBody,
  jsonContent,
  jsonRequest,
  openApiRoutes,
  rejectInput,
  type SameShape,
} from "../http/openapi.ts";
import { CostEstimateSchema, CostsSchema } from "../costs/schemas.ts";

/** Admin API: budget settings (KV) and costs (the D1 ledger). Admin role only (403 otherwise). */
export const admin = openApiRoutes();
admin.use("*", requireAdmin);

const ADMIN = { security: SECURITY.user, "x-required-role": "admin" } as const;
const FAILURES = { 400: ERRORS[400], 401: ERRORS[401], 403: ERRORS[403] };

const BudgetSchema = z
  .object({
    monthlyCapUsd: z.number().min(0).max(1_000_000).openapi({ description: "Dollars a month; spending stops at it." }),
    transcodingEnabled: z.boolean().openapi({ description: "The kill switch: false holds every new job." }),
    spikeThresholdPct: z.number().min(1).max(10_000).openapi({ description: "A day this much above the one before raises an alert." }),
  })
  .openapi("Budget");

const getBudgetRoute = createRoute({
  method: "get",
  path: "/budget",
  summary: "The budget settings",
  ...ADMIN,
  responses: { 200: jsonContent(BudgetSchema, "The settings in force."), ...FAILURES },
});
admin.openapi(getBudgetRoute, async (c) => c.json(await getBudget(c.env.CONFIG), 200));

const putBudgetRoute = createRoute({
  method: "put",
  path: "/budget",
  summary: "Change the budget settings",
  description: "Any subset of the fields; a raised cap or a switch turned back on releases held jobs at once.",
  ...ADMIN,
  middleware: [jsonBody({ body: ["invalid_json", "The body must be JSON."] })] as const,
  request: { body: jsonRequest(BudgetSchema.partial().strict()) },
  responses: { 200: jsonContent(BudgetSchema, "The settings now in force."), ...FAILURES, 415: BODY_ERRORS[415] },
});

admin.openapi(
  putBudgetRoute,
  async (c) => {
    const settings = await putBudget(c.env, c.get("user").id, budgetPatch(c.req.valid("json")));
    // A raised cap or a switch turned back on releases held jobs, in order, now.
    c.executionCtx.waitUntil(dispatchNext(c.env));
    return c.json(settings, 200);
  },
  // The budget's own reading names the exact field and code (the stored value is read the same way).
  rejectInput(budgetPatch),
);

const costsRoute = createRoute({
  method: "get",
  path: "/costs",
  summary: "The month's costs",
  ...ADMIN,
  request: {
    query: z.object({
      month: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
        .optional()
        .openapi({ description: "YYYY-MM; this month by default.", example: "2026-01" }),
    }),
  },
  responses: { 200: jsonContent(CostsSchema, "Spend by day and by video, with the month's alerts."), ...FAILURES },
});

admin.openapi(
  costsRoute,
  async (c) => {
    const now = Date.now();
    const month = c.req.valid("query").month ?? utcDay(now).slice(0, 7);
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
    return c.json(
      {
        month,
        monthToDateUsd: days.reduce((sum, d) => sum + d.usd, 0),
        capUsd: budget.monthlyCapUsd,
        days: days.map((d, i) => ({ date: d.day, usd: d.usd, breakdown: breakdowns[i]! })),
        videos: perVideo,
        compute: { ...compute, usd: computeUsd },
        alerts,
      },
      200,
    );
  },
  rejectInput({ month: ["invalid_month", "month must be YYYY-MM."] }),
);

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
const decimal = (description: string) =>
  z
    .string()
    .regex(DECIMAL)
    .refine((v) => Number(v) <= MAX_PARAMETER)
    .openapi({ description, example: "500" });

const estimateRoute = createRoute({
  method: "get",
  path: "/costs/estimate",
  summary: "The plan's cost estimate",
  description: "The plan's formula with its assumptions as parameters, beside a projection from this month's metered spend.",
  ...ADMIN,
  request: {
    query: z.object({
      activeUsers: decimal("Monthly active users."),
      videosPerUserPerMonth: decimal(`Default ${PLAN_DEFAULTS.videosPerUserPerMonth}.`).optional(),
      mbPerVideo: decimal(`Default ${PLAN_DEFAULTS.mbPerVideo}.`).optional(),
      outputFactor: decimal(`Default ${PLAN_DEFAULTS.outputFactor}.`).optional(),
      usdPerGbMonth: decimal(`Default ${PLAN_DEFAULTS.usdPerGbMonth}.`).optional(),
    }),
  },
  responses: { 200: jsonContent(CostEstimateSchema, "The estimate and the metered projection."), ...FAILURES },
});

/** The plan's formula with its assumptions as parameters, beside a projection from this month's metered spend. */
admin.openapi(
  estimateRoute,
  async (c) => {
    const params = estimateParams(c.req.valid("query"));
    const estimateUsd = planEstimateUsd(params);
    if (!Number.isFinite(estimateUsd))
      throw new ApiError(400, "estimate_out_of_range", "These parameters give an estimate too large to compute; use smaller values.");
    const now = Date.now();
    const spent = await monthToDateUsd(c.env, now);
    const date = new Date(now);
    const daysInMonth = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
    const elapsedDays = date.getUTCDate() - 1 + (now % 86_400_000) / 86_400_000;
    return c.json(
      {
        formula: "activeUsers × videosPerUserPerMonth × mbPerVideo × outputFactor / 1000 × usdPerGbMonth",
        params,
        estimateUsd,
        metered: { monthToDateUsd: spent, projectedMonthUsd: elapsedDays > 0 ? (spent / elapsedDays) * daysInMonth : 0 },
      },
      200,
    );
  },
  rejectInput(estimateParams),
);

/** The query's numbers, or the 400 naming the first one missing or not a plain decimal number. */
function estimateParams(input: unknown): PlanEstimateParams {
  const query = (input ?? {}) as Record<string, string | undefined>;
  const param = (name: keyof PlanEstimateParams, fallback: number) => {
    const raw = query[name];
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
  if (query.activeUsers === undefined) throw new ApiError(400, "missing_active_users", "Give activeUsers, e.g. ?activeUsers=500.");
  return {
    activeUsers: param("activeUsers", 0),
    videosPerUserPerMonth: param("videosPerUserPerMonth", PLAN_DEFAULTS.videosPerUserPerMonth),
    mbPerVideo: param("mbPerVideo", PLAN_DEFAULTS.mbPerVideo),
    outputFactor: param("outputFactor", PLAN_DEFAULTS.outputFactor),
    usdPerGbMonth: param("usdPerGbMonth", PLAN_DEFAULTS.usdPerGbMonth),
  };
}

function sumBreakdowns(parts: string[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) {
    for (const [kind, usd] of Object.entries(JSON.parse(part) as Record<string, number>)) total[kind] = (total[kind] ?? 0) + usd;
  }
  return total;
}

const sameBudget: SameShape<z.infer<typeof BudgetSchema>, BudgetSettings> = true;
void sameBudget;
