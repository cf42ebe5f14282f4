/**
 * Views and playback quality beyond the beacon itself: the metering of beacons and stats requests,
 * the totals on the list of videos, the country from the edge, the Analytics Engine data points and
 * the daily purge of old sessions.
 */
import { SELF, createScheduledController, env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker, { CRONS } from "../src/index.ts";
import { BASE, tokenFor, usualUsers } from "./helpers.ts";
import { recordPlayback, resetPlaybackRateLimit } from "../src/qoe/record.ts";
import { SESSION_RETENTION_MS } from "../src/qoe/purge.ts";
import { rollUpDay } from "../src/costs/ledger.ts";
import { utcDay } from "../src/costs/meter.ts";
import type { PlaybackStatsResponse, VideoListResponse } from "../../contract/api.ts";

const { alice, bob, admin } = await usualUsers();

async function video(owner = "alice", visibility: "public" | "private" = "public"): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, upload_expires_at, created_at, updated_at)
     VALUES (?, ?, 't', 't.mp4', 'video/mp4', 'READY', 1, ?, 1, 1, ?, ?, ?)`,
  )
    .bind(id, owner, visibility, now + 1e9, now, now)
    .run();
  return id;
}

const session = () => crypto.randomUUID();

async function send(body: unknown, init: RequestInit = {}): Promise<number> {
  const res = await SELF.fetch(`${BASE}/api/playback-events`, {
    method: "POST",
    headers: { "Content-Type": "text/plain;charset=UTF-8" },
    body: JSON.stringify(body),
    ...init,
  });
  await res.body?.cancel();
  return res.status;
}

async function get<T>(path: string, token: string): Promise<T> {
  const res = await SELF.fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status, path).toBe(200);
  return res.json();
}

/** The Worker requests metered for a video ("" is the usage of no video). */
async function requestsOf(videoId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT coalesce(sum(quantity), 0) AS n FROM usage WHERE video_id = ? AND kind = 'workers_requests'")
    .bind(videoId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

beforeEach(() => resetPlaybackRateLimit());

describe("metering", () => {
  it("bills accepted beacons and the video's stats to the video, refused beacons and the QoE page to no video", async () => {
    const id = await video();
    const priv = await video("alice", "private");
    await rollUpDay(env, utcDay(Date.now())); // starts from flushed counters
    const noneBefore = await requestsOf("");
    const sid = session();
    expect(await send({ videoId: id, sessionId: sid, type: "start", startupMs: 300 })).toBe(204);
    expect(await send({ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: 30_000 })).toBe(204);
    expect(await send({ videoId: priv, sessionId: session(), type: "start" })).toBe(404);
    expect(await send({ videoId: id, sessionId: sid, type: "pause" })).toBe(400);
    await get(`/api/videos/${id}/stats`, alice);
    await get("/api/admin/qoe?days=7", admin);
    await rollUpDay(env, utcDay(Date.now())); // flushes this isolate's counters
    expect(await requestsOf(id)).toBe(3);
    expect(await requestsOf(priv)).toBe(0);
    // The refused beacons (404, 400) and the admin's QoE page: counted, billed to no video.
    expect((await requestsOf("")) - noneBefore).toBe(3);
  });
});

describe("flood", () => {
  it("limits one session id's burst across videos too, and the refused beacons change nothing", async () => {
    const ids = [await video(), await video(), await video()];
    const sid = session();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await send({ videoId: ids[i % 3], sessionId: sid, type: "start", startupMs: 100 }));
    expect(statuses.filter((s) => s === 204)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
    const views = await env.DB.prepare(`SELECT sum(views) AS n FROM playback_daily WHERE video_id IN (?, ?, ?)`)
      .bind(...ids)
      .first<{ n: number }>();
    expect(views?.n).toBe(3);
  });
});

describe("views and watch time on the list of videos", () => {
  it("gives every item its all-time views and watch seconds, zero for a video never watched", async () => {
    const watched = await video("carol");
    const unwatched = await video("carol");
    for (let i = 0; i < 3; i++) {
      const sid = session();
      expect(await send({ videoId: watched, sessionId: sid, type: "start", startupMs: 500 })).toBe(204);
      expect(await send({ videoId: watched, sessionId: sid, type: "heartbeat", watchedMs: 20_400 })).toBe(204);
    }
    // A day long gone still counts: the list shows all-time totals.
    await env.DB.prepare("INSERT INTO playback_daily (day, video_id, views, watch_ms) VALUES ('2020-01-01', ?, 2, 10000)")
      .bind(watched)
      .run();
    const carol = await tokenFor("carol");
    const list = await get<VideoListResponse>("/api/videos", carol);
    const byId = new Map(list.videos.map((v) => [v.id, v]));
    expect(byId.get(watched)).toMatchObject({ views: 5, watchSeconds: 71 });
    expect(byId.get(unwatched)).toMatchObject({ views: 0, watchSeconds: 0 });
    // The stats page of the last day holds today's three.
    expect((await get<PlaybackStatsResponse>(`/api/videos/${watched}/stats?days=1`, carol)).views).toBe(3);
    // Other creators see neither the video nor its numbers.
    const bobs = await get<VideoListResponse>("/api/videos", bob);
    expect(bobs.videos.some((v) => v.id === watched)).toBe(false);
  });
});

describe("country", () => {
  it("counts views per country from the edge's request.cf.country, and an odd value as unknown", async () => {
    const id = await video();
    const countries = ["EG", "EG", "SA", "T1"];
    for (const country of countries) {
      const init = { cf: { country } } as RequestInit;
      expect(await send({ videoId: id, sessionId: session(), type: "start", startupMs: 700 }, init)).toBe(204);
    }
    const s = await get<PlaybackStatsResponse>(`/api/videos/${id}/stats?days=1`, alice);
    expect(s.byCountry).toEqual([
      { country: "EG", views: 2, startupMsP50: 750 },
      { country: "SA", views: 1, startupMsP50: 750 },
      { country: "XX", views: 1, startupMsP50: 750 },
    ]);
  });
});

describe("Analytics Engine", () => {
  it("writes one data point per accepted beacon (no session id), none for a repeat beyond the burst", async () => {
    const id = await video();
    const points: AnalyticsEngineDataPoint[] = [];
    const withDataset = { ...env, PLAYBACK_EVENTS: { writeDataPoint: (p?: AnalyticsEngineDataPoint) => p && points.push(p) } } as Env;
    const sid = session();
    const now = Date.now();
    const start = { videoId: id, sessionId: sid, type: "start" as const, startupMs: 640, tier: "240p" };
    expect(await recordPlayback(withDataset, start, "EG", now)).toBe("recorded");
    expect(points).toEqual([{ indexes: [id], blobs: ["start", "EG", "240p", ""], doubles: [640, -1, -1, -1] }]);
    expect(JSON.stringify(points)).not.toContain(sid);
    for (let i = 0; i < 20; i++) await recordPlayback(withDataset, start, "EG", now);
    // The burst limit (10 in its window) refuses the rest before D1 or the dataset see them.
    expect(points).toHaveLength(10);
  });
});

describe("daily purge of playback sessions", () => {
  it("forgets sessions silent for longer than the retention, keeps the rest and every aggregate", async () => {
    const id = await video();
    const old = session();
    const recent = session();
    for (const sid of [old, recent]) {
      expect(await send({ videoId: id, sessionId: sid, type: "start", startupMs: 400 })).toBe(204);
      expect(await send({ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: 10_000 })).toBe(204);
    }
    const now = Date.now();
    await env.DB.prepare("UPDATE playback_sessions SET updated_at = ? WHERE session_id = ?")
      .bind(now - SESSION_RETENTION_MS - 60_000, old)
      .run();
    const before = await get<PlaybackStatsResponse>(`/api/videos/${id}/stats`, alice);

    await worker.scheduled(createScheduledController({ cron: CRONS.daily, scheduledTime: now }), env);

    const left = await env.DB.prepare("SELECT session_id AS s FROM playback_sessions WHERE video_id = ?").bind(id).all<{ s: string }>();
    expect(left.results.map((r) => r.s)).toEqual([recent]);
    expect(await get<PlaybackStatsResponse>(`/api/videos/${id}/stats`, alice)).toEqual(before);
    expect(before.views).toBe(2);
    // The other crons leave sessions alone.
    await env.DB.prepare("UPDATE playback_sessions SET updated_at = 0 WHERE session_id = ?").bind(recent).run();
    await worker.scheduled(createScheduledController({ cron: CRONS.every6Hours, scheduledTime: now }), env);
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM playback_sessions WHERE video_id = ?").bind(id).first<{ n: number }>())?.n,
    ).toBe(1);
  });
});
