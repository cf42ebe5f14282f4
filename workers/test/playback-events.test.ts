import { SELF, env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { BASE, usualUsers } from "./helpers.ts";
import { MAX_EVENTS_PER_SESSION, resetPlaybackRateLimit } from "../src/qoe/record.ts";
import type { PlaybackStatsResponse } from "../../contract/api.ts";

const { alice, bob, admin } = await usualUsers();

/** A video row of alice's (no files needed: beacons and stats only read the row). */
async function video(opts: { status?: string; playable?: boolean; visibility?: "public" | "private" } = {}): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, upload_expires_at, created_at, updated_at)
     VALUES (?, 'alice', 't', 't.mp4', 'video/mp4', ?, ?, ?, 1, 1, ?, ?, ?)`,
  )
    .bind(id, opts.status ?? "READY", (opts.playable ?? true) ? 1 : 0, opts.visibility ?? "public", now + 1e9, now, now)
    .run();
  return id;
}

const session = () => crypto.randomUUID();

/** A beacon as sendBeacon sends it: text/plain JSON, no token. */
function beacon(body: unknown, opts: { token?: string; contentType?: string; raw?: string } = {}) {
  return SELF.fetch(`${BASE}/api/playback-events`, {
    method: "POST",
    headers: {
      "Content-Type": opts.contentType ?? "text/plain;charset=UTF-8",
      ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
    },
    body: opts.raw ?? JSON.stringify(body),
  });
}

async function sent(body: unknown, opts: Parameters<typeof beacon>[1] = {}): Promise<number> {
  const res = await beacon(body, opts);
  await res.body?.cancel();
  return res.status;
}

async function stats(id: string, token = alice, days?: number): Promise<PlaybackStatsResponse> {
  const res = await SELF.fetch(`${BASE}/api/videos/${id}/stats${days ? `?days=${days}` : ""}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return res.json();
}

/** Everything the aggregates hold, to prove a refused beacon changed nothing. */
async function snapshot() {
  const tables = ["playback_sessions", "playback_daily", "playback_country_daily", "playback_startup_daily", "playback_tier_daily"];
  return Promise.all(tables.map(async (t) => (await env.DB.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all()).results));
}

const today = () => new Date().toISOString().slice(0, 10);

beforeEach(() => resetPlaybackRateLimit());

describe("POST /api/playback-events", () => {
  it("counts a view once when the same start beacon arrives twice, and heartbeats add watch time once", async () => {
    const id = await video();
    const sid = session();
    const start = { videoId: id, sessionId: sid, type: "start", startupMs: 800, tier: "240p" };
    expect(await sent(start)).toBe(204);
    expect(await sent(start)).toBe(204);
    const hb1 = { videoId: id, sessionId: sid, type: "heartbeat", watchedMs: 30_000, rebufferCount: 1, rebufferMs: 500, tier: "240p" };
    expect(await sent(hb1)).toBe(204);
    expect(await sent(hb1)).toBe(204);
    const hb2 = { videoId: id, sessionId: sid, type: "heartbeat", watchedMs: 50_000, rebufferCount: 1, rebufferMs: 500, tier: "480p" };
    expect(await sent(hb2)).toBe(204);
    // An older beacon arriving late adds nothing either.
    expect(await sent(hb1)).toBe(204);
    expect(await sent({ videoId: id, sessionId: sid, type: "end", watchedMs: 50_000 })).toBe(204);
    expect(await sent({ videoId: id, sessionId: sid, type: "end", watchedMs: 50_000 })).toBe(204);

    const s = await stats(id);
    expect(s.views).toBe(1);
    expect(s.watchSeconds).toBe(50);
    expect(s.byDay.at(-1)).toEqual({ date: today(), views: 1, watchSeconds: 50 });
    expect(s.byTier).toEqual([
      { tier: "240p", seconds: 30 },
      { tier: "480p", seconds: 20 },
    ]);
    expect(s.rebufferRatio).toBeCloseTo(500 / 50_500, 4);
    // No cf.country in tests: the unknown country.
    expect(s.byCountry).toEqual([{ country: "XX", views: 1, startupMsP50: 1000 }]);
  });

  it("accepts JSON sent as application/json too, and answers CORS for any origin", async () => {
    const id = await video();
    const res = await beacon({ videoId: id, sessionId: session(), type: "start", startupMs: 100 }, { contentType: "application/json" });
    expect(res.status).toBe(204);
    const pre = await SELF.fetch(`${BASE}/api/playback-events`, {
      method: "OPTIONS",
      headers: { Origin: "https://elsewhere.example", "Access-Control-Request-Method": "POST" },
    });
    expect(pre.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  it("refuses malformed and oversized beacons with 400/413 and a sentence, and changes nothing", async () => {
    const id = await video();
    const sid = session();
    expect(await sent({ videoId: id, sessionId: sid, type: "start", startupMs: 500 })).toBe(204);
    const before = await snapshot();
    const bad: [unknown, string | undefined][] = [
      [{ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: -1 }, undefined],
      [{ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: 1.5 }, undefined],
      [{ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: "100" }, undefined],
      [{ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: 1e12 }, undefined],
      [{ videoId: id, sessionId: sid, type: "pause" }, undefined],
      [{ videoId: id, sessionId: "x", type: "start" }, undefined],
      [{ videoId: id, sessionId: "a b c d e f g h", type: "start" }, undefined],
      [{ videoId: id, sessionId: sid, type: "heartbeat", tier: "best" }, undefined],
      [{ videoId: id, sessionId: sid, type: "heartbeat", email: "someone@example.com" }, undefined],
      [{ videoId: "../etc", sessionId: sid, type: "start" }, undefined],
      [[1, 2, 3], undefined],
      [null, "{not json"],
    ];
    for (const [body, raw] of bad) {
      const res = await beacon(body, { raw });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = (await res.json()) as { error: string; message: string };
      expect(err.message).toMatch(/\.$/);
    }
    const big = await beacon({ videoId: id, sessionId: sid, type: "error", error: "x".repeat(5000) });
    expect(big.status).toBe(413);
    await big.body?.cancel();
    expect(await snapshot()).toEqual(before);
  });

  it("answers 404 for a private, unplayable or unknown video to strangers, and lets the owner report her own", async () => {
    const priv = await video({ visibility: "private" });
    const uploading = await video({ status: "UPLOADING", playable: false });
    const before = await snapshot();
    for (const id of [priv, uploading, crypto.randomUUID()]) {
      expect(await sent({ videoId: id, sessionId: session(), type: "start", startupMs: 100 })).toBe(404);
      expect(await sent({ videoId: id, sessionId: session(), type: "start", startupMs: 100 }, { token: bob })).toBe(404);
    }
    expect(await snapshot()).toEqual(before);
    expect(await sent({ videoId: priv, sessionId: session(), type: "start", startupMs: 100 }, { token: alice })).toBe(204);
    expect(await sent({ videoId: priv, sessionId: session(), type: "start", startupMs: 100 }, { token: "not-a-token" })).toBe(401);
    expect((await stats(priv)).views).toBe(1);
  });

  it("caps a session's beacons: a burst gets 429, and past the cap nothing changes", async () => {
    const id = await video();
    const sid = session();
    const statuses: number[] = [];
    for (let i = 1; i <= 12; i++) statuses.push(await sent({ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: i * 1000 }));
    expect(statuses.slice(0, 10).every((s) => s === 204)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect((await stats(id)).watchSeconds).toBe(10);

    // The cap in D1 holds across isolates: a session that used up its beacons changes nothing.
    resetPlaybackRateLimit();
    await env.DB.prepare("UPDATE playback_sessions SET events = ? WHERE session_id = ?").bind(MAX_EVENTS_PER_SESSION, sid).run();
    const before = await snapshot();
    const res = await beacon({ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: 60_000 });
    expect(res.status).toBe(429);
    const err = (await res.json()) as { error: string; message: string };
    expect(err.error).toBe("too_many_events");
    expect(err.message).toMatch(/sent all the events it may/);
    expect(await snapshot()).toEqual(before);
  });
});

describe("GET /api/videos/:id/stats and /api/admin/qoe", () => {
  it("computes views, percentiles and tiers from a known set of sessions, the same shape for the admin", async () => {
    const id = await video();
    // Startup times 100..2000 ms in 20 sessions: buckets ≤250 (2), ≤500 (3), ≤750 (2), ≤1000 (3),
    // ≤1500 (5), ≤2000 (5). p50 = the 10th → the ≤1000 bucket; p95 = the 19th → the ≤2000 bucket.
    for (let i = 1; i <= 20; i++) {
      const sid = session();
      expect(await sent({ videoId: id, sessionId: sid, type: "start", startupMs: i * 100 })).toBe(204);
      expect(await sent({ videoId: id, sessionId: sid, type: "heartbeat", watchedMs: 9_000, rebufferMs: 1_000, tier: "720p" })).toBe(204);
    }
    const s = await stats(id, admin, 3);
    expect(s).toEqual({
      views: 20,
      watchSeconds: 180,
      startupMsP50: 1000,
      startupMsP95: 2000,
      rebufferRatio: 0.1,
      byDay: [
        { date: new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10), views: 0, watchSeconds: 0 },
        { date: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), views: 0, watchSeconds: 0 },
        { date: today(), views: 20, watchSeconds: 180 },
      ],
      byCountry: [{ country: "XX", views: 20, startupMsP50: 1000 }],
      byTier: [{ tier: "720p", seconds: 180 }],
    } satisfies PlaybackStatsResponse);
    expect((await stats(id)).byDay).toHaveLength(7);

    const qoe = await SELF.fetch(`${BASE}/api/admin/qoe?days=1`, { headers: { Authorization: `Bearer ${admin}` } });
    expect(qoe.status).toBe(200);
    const all = (await qoe.json()) as PlaybackStatsResponse;
    expect(Object.keys(all).sort()).toEqual(Object.keys(s).sort());
    expect(all.views).toBeGreaterThanOrEqual(20);
    expect(all.byDay).toHaveLength(1);
  });

  it("answers 404 to other users, 403 for qoe to non-admins, 401 signed out, 400 for a bad range", async () => {
    const id = await video();
    const as = (path: string, token?: string) =>
      SELF.fetch(`${BASE}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} }).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      });
    expect(await as(`/api/videos/${id}/stats`, bob)).toBe(404);
    expect(await as(`/api/videos/${id}/stats`)).toBe(401);
    expect(await as("/api/admin/qoe", alice)).toBe(403);
    expect(await as("/api/admin/qoe")).toBe(401);
    for (const days of ["0", "91", "7.5", "-1", "x", ""]) {
      expect(await as(`/api/videos/${id}/stats?days=${days}`, alice), days).toBe(400);
      expect(await as(`/api/admin/qoe?days=${days}`, admin), days).toBe(400);
    }
    expect(await as(`/api/videos/${id}/stats?days=90`, alice)).toBe(200);
  });
});
