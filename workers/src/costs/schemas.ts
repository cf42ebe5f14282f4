import { z } from "@hono/zod-openapi";
import type { SameShape } from "../http/openapi.ts";
import type { CostEstimateResponse, CostsResponse } from "../../../contract/api.ts";

/** The admin cost answers as schemas (routes/admin.ts documents them); checked against contract/api.ts below. */
export const CostsSchema = z
  .object({
    month: z.string().openapi({ example: "2026-01" }),
    monthToDateUsd: z.number(),
    capUsd: z.number(),
    days: z.array(z.object({ date: z.string(), usd: z.number(), breakdown: z.record(z.string(), z.number()) })),
    videos: z.array(z.object({ id: z.string(), usd: z.number() })),
    compute: z.object({ vcpuSeconds: z.number(), gibSeconds: z.number(), usd: z.number() }),
    alerts: z.array(
      z.object({
        day: z.string(),
        kind: z.string(),
        message: z.string(),
        usd: z.number(),
        previousUsd: z.number().nullable(),
        delivered: z.boolean(),
        createdAt: z.number(),
      }),
    ),
  })
  .openapi("Costs");

const EstimateParams = z.object({
  activeUsers: z.number(),
  videosPerUserPerMonth: z.number(),
  mbPerVideo: z.number(),
  outputFactor: z.number(),
  usdPerGbMonth: z.number(),
});

export const CostEstimateSchema = z
  .object({
    formula: z.string(),
    params: EstimateParams,
    estimateUsd: z.number(),
    metered: z.object({ monthToDateUsd: z.number(), projectedMonthUsd: z.number() }),
  })
  .openapi("CostEstimate");

const sameCosts: SameShape<z.infer<typeof CostsSchema>, CostsResponse> = true;
const sameEstimate: SameShape<z.infer<typeof CostEstimateSchema>, CostEstimateResponse> = true;
void [sameCosts, sameEstimate];
