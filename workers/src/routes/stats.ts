import { Hono } from "hono";
import { requireAdmin, type AppEnv } from "../http/auth.ts";
import { ApiError } from "../http/errors.ts";
import { playbackAggregates } from "../db/playback-stats.ts";
import { DEFAULT_STATS_DAYS, MAX_STATS_DAYS, dayRange, statsResponse } from "../qoe/stats.ts";
import { visibleVideo } from "./videos.ts";
import type { PlaybackStatsResponse } from "../../../contract/api.ts";

/** Views and playback quality: per video (its owner, admins) and over all videos (admins). */
export const stats = new Hono<AppEnv>();

/** GET /api/videos/:id/stats?days=N: the owner or an admin; anyone else gets 404, as for the video itself. */
stats.get("/videos/:id/stats", async (c) => {
  const row = await visibleVideo(c.env, c.get("user"), c.req.param("id"));
  const range = dayRange(statsDays(c.req.query("days")), Date.now());
  return c.json<PlaybackStatsResponse>(statsResponse(await playbackAggregates(c.env.DB, row.id, range[0]!, range.at(-1)!), range));
});

/** GET /api/admin/qoe?days=N: the same over all videos, admins only (403). */
stats.get("/admin/qoe", requireAdmin, async (c) => {
  const range = dayRange(statsDays(c.req.query("days")), Date.now());
  return c.json<PlaybackStatsResponse>(statsResponse(await playbackAggregates(c.env.DB, null, range[0]!, range.at(-1)!), range));
});

function statsDays(value: string | undefined): number {
  if (value === undefined) return DEFAULT_STATS_DAYS;
  const n = /^\d{1,2}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_STATS_DAYS)) throw new ApiError(400, "invalid_days", `days must be a whole number from 1 to ${MAX_STATS_DAYS}.`);
  return n;
}
