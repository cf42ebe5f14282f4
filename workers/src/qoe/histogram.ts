import { MAX_STARTUP_MS } from "../../../contract/playback-events.ts";

/**
 * Startup times are kept as a histogram with fixed bucket edges (ms), so days, videos and countries
 * add up by plain sums and p50/p95 come from the sums. A bucket holds the times above the previous
 * edge up to its own edge; the last edge is the largest startup time a beacon may report.
 */
export const STARTUP_BUCKETS_MS = [
  250,
  500,
  750,
  1000,
  1500,
  2000,
  3000,
  4000,
  6000,
  8000,
  12_000,
  20_000,
  30_000,
  60_000,
  MAX_STARTUP_MS,
] as const;

/** The bucket (its upper edge) a startup time falls in. */
export function startupBucket(ms: number): number {
  return STARTUP_BUCKETS_MS.find((edge) => ms <= edge) ?? MAX_STARTUP_MS;
}

/**
 * The p-th percentile (0 < p ≤ 1) of a histogram given as bucket edge → count: the upper edge of the
 * bucket where the cumulative count first reaches p of the total (an upper bound of the true value,
 * never more than one bucket off). Null for an empty histogram.
 */
export function percentileFromHistogram(counts: ReadonlyMap<number, number>, p: number): number | null {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const edge of STARTUP_BUCKETS_MS) {
    seen += counts.get(edge) ?? 0;
    if (seen >= rank) return edge;
  }
  return MAX_STARTUP_MS;
}
