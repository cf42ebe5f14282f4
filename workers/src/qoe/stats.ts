import type { PlaybackStatsResponse } from "../../../contract/api.ts";
import type { PlaybackAggregates } from "../db/playback-stats.ts";
import { percentileFromHistogram } from "./histogram.ts";

export const DEFAULT_STATS_DAYS = 7;
export const MAX_STATS_DAYS = 90;

const DAY_MS = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The last `days` UTC days up to today (inclusive), oldest first. */
export function dayRange(days: number, now: number): string[] {
  return Array.from({ length: days }, (_, i) => utcDay(now - (days - 1 - i) * DAY_MS));
}

/** The stats answer from the summed aggregates: every day of the range, percentiles from the histograms. */
export function statsResponse(a: PlaybackAggregates, range: string[]): PlaybackStatsResponse {
  const byDate = new Map(a.days.map((d) => [d.day, d]));
  const byDay = range.map((date) => ({ date, views: byDate.get(date)?.views ?? 0, watchSeconds: seconds(byDate.get(date)?.watchMs ?? 0) }));
  const watchMs = a.days.reduce((sum, d) => sum + d.watchMs, 0);
  const rebufferMs = a.days.reduce((sum, d) => sum + d.rebufferMs, 0);

  const all = new Map<number, number>();
  const perCountry = new Map<string, Map<number, number>>();
  for (const { country, bucket, count } of a.startup) {
    all.set(bucket, (all.get(bucket) ?? 0) + count);
    const h = perCountry.get(country) ?? new Map<number, number>();
    h.set(bucket, (h.get(bucket) ?? 0) + count);
    perCountry.set(country, h);
  }
  return {
    views: a.days.reduce((sum, d) => sum + d.views, 0),
    watchSeconds: seconds(watchMs),
    startupMsP50: percentileFromHistogram(all, 0.5),
    startupMsP95: percentileFromHistogram(all, 0.95),
    // Of the time a viewer spent in the player after it started, the share spent waiting.
    rebufferRatio: watchMs + rebufferMs === 0 ? 0 : Math.round((rebufferMs / (watchMs + rebufferMs)) * 10_000) / 10_000,
    byDay,
    byCountry: a.countries
      .filter((c) => c.views > 0)
      .sort((x, y) => y.views - x.views || x.country.localeCompare(y.country))
      .map((c) => ({
        country: c.country,
        views: c.views,
        startupMsP50: percentileFromHistogram(perCountry.get(c.country) ?? new Map(), 0.5),
      })),
    byTier: a.tiers
      .filter((t) => t.watchMs > 0)
      .sort((x, y) => y.watchMs - x.watchMs || x.tier.localeCompare(y.tier))
      .map((t) => ({ tier: t.tier, seconds: seconds(t.watchMs) })),
  };
}

/** Whole seconds (rounded), as people read watch time. */
const seconds = (ms: number) => Math.round(ms / 1000);
