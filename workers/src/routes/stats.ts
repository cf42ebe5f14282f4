import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../http/auth.ts";
import { playbackAggregates } from "../db/playback-stats.ts";
import { DEFAULT_STATS_DAYS, MAX_STATS_DAYS, dayRange, statsResponse } from "../qoe/stats.ts";
import { visibleVideo } from "./videos.ts";
import { ERRORS, SECURITY, jsonContent, openApiRoutes, rejectInput, type InputErrors, type SameShape } from "../http/openapi.ts";
import { VideoIdParam } from "../http/video-schemas.ts";
import type { PlaybackStatsResponse } from "../../../contract/api.ts";

/** Views and playback quality: per video (its owner, admins) and over all videos (admins). */
export const stats = openApiRoutes();

const StatsSchema = z
  .object({
    views: z.number().int(),
    watchSeconds: z.number(),
    startupMsP50: z.number().nullable(),
    startupMsP95: z.number().nullable(),
    rebufferRatio: z.number(),
    byDay: z.array(z.object({ date: z.string(), views: z.number().int(), watchSeconds: z.number() })),
    byCountry: z.array(z.object({ country: z.string(), views: z.number().int(), startupMsP50: z.number().nullable() })),
    byTier: z.array(z.object({ tier: z.string(), seconds: z.number() })),
  })
  .openapi("PlaybackStats");

const DaysQuery = z.object({
  days: z
    .string()
    .regex(/^\d{1,2}$/)
    .refine((v) => Number(v) >= 1 && Number(v) <= MAX_STATS_DAYS)
    .optional()
    .openapi({ description: `The last N UTC days, today included: 1 to ${MAX_STATS_DAYS}, default ${DEFAULT_STATS_DAYS}.`, example: "7" }),
});
const DAYS_ERRORS: InputErrors = { days: ["invalid_days", `days must be a whole number from 1 to ${MAX_STATS_DAYS}.`] };
const days = (query: { days?: string }) => dayRange(query.days === undefined ? DEFAULT_STATS_DAYS : Number(query.days), Date.now());

const videoStatsRoute = createRoute({
  method: "get",
  path: "/videos/{id}/stats",
  summary: "A video's views and playback quality",
  description: "The owner or an admin; anyone else gets 404, as for the video itself.",
  security: SECURITY.user,
  request: { params: VideoIdParam, query: DaysQuery },
  responses: { 200: jsonContent(StatsSchema, "The figures over the range."), 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404] },
});

/** GET /api/videos/:id/stats?days=N: the owner or an admin; anyone else gets 404, as for the video itself. */
stats.openapi(
  videoStatsRoute,
  async (c) => {
    const row = await visibleVideo(c.env, c.get("user"), c.req.valid("param").id);
    const range = days(c.req.valid("query"));
    return c.json(statsResponse(await playbackAggregates(c.env.DB, row.id, range[0]!, range.at(-1)!), range), 200);
  },
  rejectInput(DAYS_ERRORS),
);

const qoeRoute = createRoute({
  method: "get",
  path: "/admin/qoe",
  summary: "Views and playback quality over all videos",
  security: SECURITY.user,
  "x-required-role": "admin",
  middleware: [requireAdmin] as const,
  request: { query: DaysQuery },
  responses: { 200: jsonContent(StatsSchema, "The figures over the range."), 400: ERRORS[400], 401: ERRORS[401], 403: ERRORS[403] },
});

/** GET /api/admin/qoe?days=N: the same over all videos, admins only (403). */
stats.openapi(
  qoeRoute,
  async (c) => {
    const range = days(c.req.valid("query"));
    return c.json(statsResponse(await playbackAggregates(c.env.DB, null, range[0]!, range.at(-1)!), range), 200);
  },
  rejectInput(DAYS_ERRORS),
);

const sameStats: SameShape<z.infer<typeof StatsSchema>, PlaybackStatsResponse> = true;
void sameStats;
