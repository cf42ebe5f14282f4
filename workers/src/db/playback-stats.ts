import type { PlaybackEvent } from "../../../contract/playback-events.ts";

/** Queries of views and playback quality: the per-session state and the per-day aggregates. */

export interface RecordedEvent {
  event: PlaybackEvent;
  /** UTC day (YYYY-MM-DD) the beacon arrived: what is new in it is counted on that day. */
  day: string;
  country: string;
  /** The startup time's histogram bucket, when the beacon reports one. */
  startupBucket: number | null;
  /** Beacons a session may send in all; beyond it nothing changes. */
  maxEvents: number;
  now: number;
}

/**
 * Applies one beacon, in one D1 batch (a transaction): every aggregate adds only the difference
 * between the beacon's cumulative totals and the highest ones the session reported before, a
 * session's first "start" is its one view, and its first "error" its one error. So the same beacon
 * twice (or an older one late) changes nothing. Returns "capped" when the session has used up its
 * beacons; then nothing at all changed.
 */
export async function recordPlaybackEvent(db: D1Database, r: RecordedEvent): Promise<"recorded" | "capped"> {
  const e = r.event;
  // The beacon as a one-row table, the same for every statement (so each binds the same values).
  const beacon = `WITH b (video, session, day, cap, is_start, is_end, is_error, watched, rb_count, rb_ms, startup, bucket, tier, country, now)
    AS (VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15))`;
  const params = [
    e.videoId,
    e.sessionId,
    r.day,
    r.maxEvents,
    e.type === "start" ? 1 : 0,
    e.type === "end" ? 1 : 0,
    e.type === "error" ? 1 : 0,
    e.watchedMs ?? null,
    e.rebufferCount ?? null,
    e.rebufferMs ?? null,
    e.startupMs ?? null,
    r.startupBucket,
    e.tier ?? null,
    r.country,
    r.now,
  ];
  const statement = (sql: string) => db.prepare(`${beacon}\n${sql}`).bind(...params);
  // The session as it was before this beacon, unless it has used up its beacons.
  const session = "FROM b JOIN playback_sessions s ON s.video_id = b.video AND s.session_id = b.session WHERE s.events < b.cap";
  const firstStart = "b.is_start = 1 AND s.started = 0";
  const results = await db.batch<{ events: number }>([
    statement(
      `INSERT INTO playback_sessions (video_id, session_id, country, created_at, updated_at)
       SELECT video, session, country, now, now FROM b WHERE true
       ON CONFLICT DO NOTHING`,
    ),
    statement(
      `INSERT INTO playback_daily (day, video_id, views, watch_ms, rebuffer_count, rebuffer_ms, errors)
       SELECT b.day, b.video,
         CASE WHEN ${firstStart} THEN 1 ELSE 0 END,
         max(0, coalesce(b.watched, 0) - s.watched_ms),
         max(0, coalesce(b.rb_count, 0) - s.rebuffer_count),
         max(0, coalesce(b.rb_ms, 0) - s.rebuffer_ms),
         CASE WHEN b.is_error = 1 AND s.errored = 0 THEN 1 ELSE 0 END
       ${session}
       ON CONFLICT (day, video_id) DO UPDATE SET
         views = views + excluded.views, watch_ms = watch_ms + excluded.watch_ms,
         rebuffer_count = rebuffer_count + excluded.rebuffer_count, rebuffer_ms = rebuffer_ms + excluded.rebuffer_ms,
         errors = errors + excluded.errors`,
    ),
    statement(
      `INSERT INTO playback_country_daily (day, video_id, country, views)
       SELECT b.day, b.video, s.country, 1 ${session} AND ${firstStart}
       ON CONFLICT (day, video_id, country) DO UPDATE SET views = views + 1`,
    ),
    statement(
      `INSERT INTO playback_startup_daily (day, video_id, country, bucket, count)
       SELECT b.day, b.video, s.country, b.bucket, 1 ${session} AND ${firstStart} AND b.bucket IS NOT NULL
       ON CONFLICT (day, video_id, country, bucket) DO UPDATE SET count = count + 1`,
    ),
    statement(
      `INSERT INTO playback_tier_daily (day, video_id, tier, watch_ms)
       SELECT b.day, b.video, b.tier, b.watched - s.watched_ms ${session} AND b.tier IS NOT NULL AND b.watched > s.watched_ms
       ON CONFLICT (day, video_id, tier) DO UPDATE SET watch_ms = watch_ms + excluded.watch_ms`,
    ),
    // Last: the statements above compare with the totals as they were before this beacon.
    statement(
      `UPDATE playback_sessions AS s SET
         events = s.events + 1,
         started = max(s.started, b.is_start), ended = max(s.ended, b.is_end), errored = max(s.errored, b.is_error),
         startup_ms = CASE WHEN b.is_start = 1 AND s.started = 0 THEN b.startup ELSE s.startup_ms END,
         watched_ms = max(s.watched_ms, coalesce(b.watched, 0)),
         rebuffer_count = max(s.rebuffer_count, coalesce(b.rb_count, 0)),
         rebuffer_ms = max(s.rebuffer_ms, coalesce(b.rb_ms, 0)),
         updated_at = b.now
       FROM b WHERE s.video_id = b.video AND s.session_id = b.session AND s.events < b.cap
       RETURNING events`,
    ),
  ]);
  return (results[results.length - 1]?.results.length ?? 0) === 1 ? "recorded" : "capped";
}

export interface PlaybackAggregates {
  days: { day: string; views: number; watchMs: number; rebufferMs: number }[];
  countries: { country: string; views: number }[];
  startup: { country: string; bucket: number; count: number }[];
  tiers: { tier: string; watchMs: number }[];
}

/** The aggregates of the UTC days `from`..`to` (inclusive), of one video or, with null, of all videos. */
export async function playbackAggregates(db: D1Database, videoId: string | null, from: string, to: string): Promise<PlaybackAggregates> {
  const where = "WHERE day BETWEEN ?2 AND ?3 AND (?1 IS NULL OR video_id = ?1)";
  const read = (sql: string) => db.prepare(sql).bind(videoId, from, to);
  const [days, countries, startup, tiers] = await db.batch([
    read(
      `SELECT day, sum(views) AS views, sum(watch_ms) AS watchMs, sum(rebuffer_ms) AS rebufferMs
       FROM playback_daily ${where} GROUP BY day ORDER BY day`,
    ),
    read(`SELECT country, sum(views) AS views FROM playback_country_daily ${where} GROUP BY country`),
    read(`SELECT country, bucket, sum(count) AS count FROM playback_startup_daily ${where} GROUP BY country, bucket`),
    read(`SELECT tier, sum(watch_ms) AS watchMs FROM playback_tier_daily ${where} GROUP BY tier`),
  ]);
  return {
    days: days.results as PlaybackAggregates["days"],
    countries: countries.results as PlaybackAggregates["countries"],
    startup: startup.results as PlaybackAggregates["startup"],
    tiers: tiers.results as PlaybackAggregates["tiers"],
  };
}

/** All-time views and watch time of each of `videoIds` (one query; videos never watched are absent). */
export async function playbackTotals(db: D1Database, videoIds: string[]): Promise<Map<string, { views: number; watchMs: number }>> {
  const totals = new Map<string, { views: number; watchMs: number }>();
  // D1 binds at most 100 parameters per statement: a list page is at most 100 videos.
  for (let i = 0; i < videoIds.length; i += 100) {
    const ids = videoIds.slice(i, i + 100);
    const { results } = await db
      .prepare(
        `SELECT video_id AS id, sum(views) AS views, sum(watch_ms) AS watchMs FROM playback_daily
         WHERE video_id IN (${ids.map(() => "?").join(", ")}) GROUP BY video_id`,
      )
      .bind(...ids)
      .all<{ id: string; views: number; watchMs: number }>();
    for (const r of results) totals.set(r.id, { views: r.views, watchMs: r.watchMs });
  }
  return totals;
}

/**
 * Forgets the sessions whose last beacon arrived before `before` (ms). Their views and watch time
 * are already in the daily tables (every beacon adds to them at once); only the per-session
 * high-water marks go, which a beacon arriving that late would need to be recognised as a repeat.
 */
export async function purgePlaybackSessions(db: D1Database, before: number): Promise<number> {
  const res = await db.prepare("DELETE FROM playback_sessions WHERE updated_at < ?").bind(before).run();
  return res.meta.changes ?? 0;
}
