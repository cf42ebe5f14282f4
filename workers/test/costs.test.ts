import { SELF, env } from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { meter, pricesFrom, utcDay } from "../src/costs/meter.ts";
import { rollUpDay } from "../src/costs/ledger.ts";
import { checkSpike } from "../src/costs/alerts.ts";
import { dispatchNext } from "../src/jobs/dispatch.ts";
import { findVideo } from "../src/db/videos.ts";
import { sourceKey } from "../src/storage/keys.ts";
import type { CostsResponse } from "../../contract/api.ts";
import { BASE, tokenFor } from "./helpers.ts";
import { TwinTranscoder } from "./twins/transcoder.ts";
import { DEFAULT_BUDGET } from "../src/costs/budget.ts";

let admin: string;
let alice: string;
beforeAll(async () => {
  admin = await tokenFor("root", "admin");
  alice = await tokenFor("alice");
});
beforeEach(async () => {
  await env.CONFIG.delete("budget");
  await env.DB.prepare("UPDATE videos SET status = 'CANCELLED' WHERE status IN ('QUEUED', 'PROCESSING', 'HELD')").run();
});

const adminApi = (path: string, init: RequestInit = {}, token = admin) =>
  SELF.fetch(`${BASE}/api/admin${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" } });
const putBudget = (body: unknown) => adminApi("/budget", { method: "PUT", body: JSON.stringify(body) });
/** Budget written straight to KV: the PUT route also dispatches in the background, which would race the twin here. */
const setBudget = (patch: Partial<typeof DEFAULT_BUDGET>) => env.CONFIG.put("budget", JSON.stringify({ ...DEFAULT_BUDGET, ...patch }));

let clock = Date.now();
async function queuedVideo(sourceBytes = 50_000_000): Promise<string> {
  const id = crypto.randomUUID();
  const now = ++clock;
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes, uploaded_at)
     VALUES (?, 'alice', 't', 't.mp4', 'video/mp4', 'QUEUED', ?, ?, ?, ?, ?)`,
  )
    .bind(id, now + 1e9, now, now, sourceBytes, now)
    .run();
  await env.MEDIA.put(sourceKey(id), "x");
  return id;
}

describe("admin API", () => {
  it("is for admins only", async () => {
    for (const path of ["/budget", "/costs", "/costs/estimate?activeUsers=1"]) {
      expect((await adminApi(path, {}, alice)).status, path).toBe(403);
    }
    expect((await adminApi("/budget", { method: "PUT", body: "{}" }, alice)).status).toBe(403);
  });

  it("refuses bad budget values with 400 and a sentence, and logs every change", async () => {
    for (const body of [
      { monthlyCapUsd: -1 },
      { monthlyCapUsd: "10" },
      { transcodingEnabled: "no" },
      { spikeThresholdPct: 0 },
      { colour: "red" },
      [1],
    ]) {
      const res = await putBudget(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { message: string }).message.length).toBeGreaterThan(10);
    }
    expect(await (await putBudget({ monthlyCapUsd: 150, spikeThresholdPct: 80 })).json()).toEqual({
      monthlyCapUsd: 150,
      transcodingEnabled: true,
      spikeThresholdPct: 80,
    });
    expect(await (await adminApi("/budget")).json()).toEqual({ monthlyCapUsd: 150, transcodingEnabled: true, spikeThresholdPct: 80 });
    const log = await env.DB.prepare("SELECT admin_id, after FROM budget_changes ORDER BY id DESC LIMIT 1").first<{
      admin_id: string;
      after: string;
    }>();
    expect(log?.admin_id).toBe("root");
    expect(JSON.parse(log!.after)).toMatchObject({ monthlyCapUsd: 150 });
  });

  it("gives the plan's estimate with its assumptions beside the metered projection", async () => {
    const res = await adminApi("/costs/estimate?activeUsers=500");
    const body = (await res.json()) as { estimateUsd: number; params: Record<string, number>; metered: { projectedMonthUsd: number } };
    expect(body.estimateUsd).toBeCloseTo(3.75);
    expect(body.params).toMatchObject({
      activeUsers: 500,
      videosPerUserPerMonth: 2,
      mbPerVideo: 100,
      outputFactor: 2.5,
      usdPerGbMonth: 0.015,
    });
    expect(body.metered.projectedMonthUsd).toBeGreaterThanOrEqual(0);
    expect((await adminApi("/costs/estimate")).status).toBe(400);
    expect((await adminApi("/costs?month=2026-13")).status).toBe(400);
  });

  it("reads estimate parameters as plain decimals only, and never answers a non-finite estimate", async () => {
    for (const query of [
      "activeUsers=0x10",
      "activeUsers=1e3",
      "activeUsers=",
      "activeUsers=-1",
      "activeUsers=1e400",
      "activeUsers=Infinity",
      "activeUsers=9".concat("9".repeat(400)),
      "activeUsers=5&mbPerVideo=0b11",
    ]) {
      const res = await adminApi(`/costs/estimate?${query}`);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_parameter", message: expect.stringMatching(/decimal/) });
    }
    const ok = (await (await adminApi("/costs/estimate?activeUsers=16&usdPerGbMonth=0.0225")).json()) as {
      estimateUsd: number;
      params: Record<string, number>;
    };
    expect(ok.params).toMatchObject({ activeUsers: 16, usdPerGbMonth: 0.0225 });
    expect(Number.isFinite(ok.estimateUsd)).toBe(true);
  });
});

describe("budget cap and kill switch", () => {
  it("a cap of 0 holds a new job (HELD, with a sentence); raising it releases the job, which then completes", async () => {
    await setBudget({ monthlyCapUsd: 0 });
    const id = await queuedVideo();
    const twin = new TwinTranscoder();
    expect(await dispatchNext(env, { client: twin })).toEqual([]);
    const held = await findVideo(env.DB, id);
    expect(held).toMatchObject({ status: "HELD" });
    expect(held!.message).toMatch(/budget/);
    const api = await SELF.fetch(`${BASE}/api/videos/${id}`, { headers: { Authorization: `Bearer ${alice}` } });
    expect(await api.json()).toMatchObject({ status: "HELD", message: expect.stringMatching(/safe/) });
    expect(await env.DB.prepare("SELECT kind FROM cost_alerts WHERE kind = 'budget_reached'").first()).not.toBeNull();

    await setBudget({ monthlyCapUsd: 100 });
    expect(await dispatchNext(env, { client: twin })).toEqual([id]);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "PROCESSING", attempts: 1 });
    const result = await SELF.fetch(`${BASE}/internal/jobs/${id}/result`, {
      method: "POST",
      headers: { Authorization: `Bearer ${twin.started[0].token}`, "content-type": "application/json" },
      body: JSON.stringify({
        ok: true,
        durationSec: 60,
        renditions: [{ name: "240p", width: 426, height: 240, videoBitrate: 400_000, bandwidth: 700_000 }],
        sourceBytes: 1,
        sourceSha256: "0".repeat(64),
        encodeSeconds: 20,
        instanceType: "standard-4",
      }),
    });
    expect(result.status).toBe(204);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "READY" });
    // The encode was metered once, at the instance's size: 20 s × 4 vCPU.
    const vcpu = await env.DB.prepare("SELECT quantity FROM usage WHERE video_id = ? AND kind = 'container_vcpu_seconds'")
      .bind(id)
      .first<{ quantity: number }>();
    expect(vcpu?.quantity).toBe(80);
  });

  it("turning transcoding off mid-queue holds what waits, in order; turning it on resumes them in order", async () => {
    const first = await queuedVideo();
    const second = await queuedVideo();
    const third = await queuedVideo();
    const twin = new TwinTranscoder();
    expect(await dispatchNext(env, { client: twin })).toEqual([first]);
    await setBudget({ transcodingEnabled: false });
    await env.DB.prepare("UPDATE videos SET status = 'READY' WHERE id = ?").bind(first).run();
    expect(await dispatchNext(env, { client: twin })).toEqual([]);
    expect(await findVideo(env.DB, second)).toMatchObject({ status: "HELD", message: expect.stringMatching(/paused/) });
    expect(await findVideo(env.DB, third)).toMatchObject({ status: "QUEUED" });
    await setBudget({ transcodingEnabled: true });
    expect(await dispatchNext(env, { client: twin })).toEqual([second]);
  });
});

describe("ledger", () => {
  it("rolls usage up per day and video across days, with storage over time, idempotently", async () => {
    const d1 = Date.parse("2026-10-01T10:00:00Z");
    const d2 = Date.parse("2026-10-02T10:00:00Z");
    const video = "00000000-0000-4000-8000-00000000000a";
    await meter(env.DB, pricesFrom(env), [{ videoId: video, kind: "r2_class_a", quantity: 1_000_000 }], { now: d1 });
    await meter(env.DB, pricesFrom(env), [{ videoId: video, kind: "r2_class_a", quantity: 1_000_000 }], { now: d1 });
    await meter(env.DB, pricesFrom(env), [{ videoId: null, kind: "workers_requests", quantity: 1_000_000 }], { now: d2 });
    // 3 GB source uploaded at the start of day 1, deleted when READY at the start of day 2, with 1.5 GB of outputs.
    await env.DB.prepare(
      `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes, uploaded_at, source_deleted_at, ready_at, output_bytes)
       VALUES (?, 'alice', 't', 't.mp4', 'video/mp4', 'READY', 0, ?, ?, 3000000000, ?, ?, ?, 1500000000)`,
    )
      .bind(
        video,
        Date.parse("2026-10-01T00:00:00Z"),
        d2,
        Date.parse("2026-10-01T00:00:00Z"),
        Date.parse("2026-10-02T00:00:00Z"),
        Date.parse("2026-10-02T00:00:00Z"),
      )
      .run();
    const end = Date.parse("2026-10-05T00:00:00Z");
    const day1 = await rollUpDay(env, "2026-10-01", end);
    const day2 = await rollUpDay(env, "2026-10-02", end);
    expect(day1).toBeCloseTo(9 + (3 / 30) * 0.015, 6); // 2 M class A + 3 GB for a day
    expect(day2).toBeCloseTo(0.3 + (1.5 / 30) * 0.015, 6); // 1 M requests + 1.5 GB for a day
    expect(await rollUpDay(env, "2026-10-01", end)).toBeCloseTo(day1, 9);
    const rows = await env.DB.prepare("SELECT video_id, usd, breakdown FROM cost_daily WHERE day = '2026-10-01'").all<{
      video_id: string;
      breakdown: string;
    }>();
    expect(rows.results).toHaveLength(1);
    expect(Object.keys(JSON.parse(rows.results[0].breakdown)).sort()).toEqual(["r2_class_a", "r2_storage_gb_month"]);
  });

  it("counts the bytes held by unfinished uploads, from creation until they completed, expired or now", async () => {
    const day = "2026-06-01";
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    const end = Date.parse("2026-06-05T00:00:00Z");
    const insert = (id: string, status: string, received: number, created: number, updated: number, uploadedAt: number | null) =>
      env.DB.prepare(
        `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes, received_bytes, uploaded_at)
         VALUES (?, 'alice', 't', 't.mp4', 'video/mp4', ?, ?, ?, ?, 3000000000, ?, ?)`,
      )
        .bind(id, status, created + 48 * 3600_000, created, updated, received, uploadedAt)
        .run();
    const open = "00000000-0000-4000-8000-0000000000b1";
    const expired = "00000000-0000-4000-8000-0000000000b2";
    const finished = "00000000-0000-4000-8000-0000000000b3";
    // 3 GB held all day by an upload that is still open; 3 GB held for half the day by one that
    // expired at noon; 3 GB for a quarter of the day by one completed at 06:00 (then it is the source).
    await insert(open, "UPLOADING", 3e9, dayStart - 3600_000, dayStart, null);
    await insert(expired, "FAILED", 3e9, dayStart - 3600_000, dayStart + 12 * 3600_000, null);
    await insert(finished, "QUEUED", 3e9, dayStart, dayStart + 6 * 3600_000, dayStart + 6 * 3600_000);
    await rollUpDay(env, day, end);
    const rows = await env.DB.prepare("SELECT video_id, breakdown FROM cost_daily WHERE day = ?")
      .bind(day)
      .all<{ video_id: string; breakdown: string }>();
    const storage = Object.fromEntries(rows.results.map((r) => [r.video_id, JSON.parse(r.breakdown).r2_storage_gb_month as number]));
    const gbDay = (3 / 30) * 0.015; // 3 GB for one day at the list price
    expect(storage[open]).toBeCloseTo(gbDay, 9);
    expect(storage[expired]).toBeCloseTo(gbDay / 2, 9);
    // A quarter day while uploading, then the whole source for the rest of the day.
    expect(storage[finished]).toBeCloseTo(gbDay, 9);
    // These rows would count on the later days other tests roll up.
    await env.DB.prepare("DELETE FROM videos WHERE id IN (?, ?, ?)").bind(open, expired, finished).run();
  });

  it("counts a one-off event once, however often it is reported", async () => {
    const now = Date.parse("2026-09-15T10:00:00Z");
    for (let i = 0; i < 3; i++) {
      await meter(env.DB, pricesFrom(env), [{ videoId: "v-once", kind: "container_vcpu_seconds", quantity: 40 }], {
        now,
        onceKey: "encode:v-once:1",
      });
    }
    const row = await env.DB.prepare("SELECT quantity FROM usage WHERE video_id = 'v-once'").first<{ quantity: number }>();
    expect(row?.quantity).toBe(40);
  });

  it("reports the month's days, videos and alerts to the admin", async () => {
    const now = Date.now();
    const month = utcDay(now).slice(0, 7);
    const computeBefore = ((await (await adminApi(`/costs?month=${month}`)).json()) as CostsResponse).compute;
    await meter(env.DB, pricesFrom(env), [{ videoId: "00000000-0000-4000-8000-00000000000b", kind: "r2_class_a", quantity: 1000 }], {
      now,
    });
    // An encode's compute: 30 vCPU-seconds used, 240 GiB-seconds provisioned.
    await meter(
      env.DB,
      pricesFrom(env),
      [
        { videoId: "00000000-0000-4000-8000-00000000000b", kind: "container_vcpu_seconds", quantity: 30 },
        { videoId: "00000000-0000-4000-8000-00000000000b", kind: "container_gib_seconds", quantity: 240 },
      ],
      { now },
    );
    const res = await adminApi(`/costs?month=${month}`);
    const body = (await res.json()) as CostsResponse;
    // The compute line, in the units it is billed in, and its dollars.
    expect(body.compute.vcpuSeconds - computeBefore.vcpuSeconds).toBeCloseTo(30, 6);
    expect(body.compute.gibSeconds - computeBefore.gibSeconds).toBeCloseTo(240, 6);
    expect(body.compute.usd - computeBefore.usd).toBeCloseTo(30 * 0.00002 + 240 * 0.0000025, 9);
    expect(body.month).toBe(utcDay(now).slice(0, 7));
    expect(body.capUsd).toBe(200);
    const today = body.days.find((d) => d.date === utcDay(now))!;
    expect(today.breakdown.r2_class_a).toBeGreaterThan(0);
    expect(body.videos.map((v) => v.id)).toContain("00000000-0000-4000-8000-00000000000b");
    expect(body.monthToDateUsd).toBeCloseTo(
      body.days.reduce((s, d) => s + d.usd, 0),
      9,
    );
  });
});

describe("spike alert", () => {
  it("is delivered once to the webhook when a day exceeds the previous by more than the threshold", async () => {
    const calls: { url: string; body: unknown }[] = [];
    let failFirst = true;
    const webhook = async (url: string, init: RequestInit) => {
      calls.push({ url, body: JSON.parse(String(init.body)) });
      if (failFirst) {
        failFirst = false;
        return new Response("down", { status: 503 });
      }
      return new Response("ok");
    };
    const withHook = { ...env, ALERT_WEBHOOK_URL: "https://hooks.test/costs" };
    await meter(env.DB, pricesFrom(env), [{ videoId: null, kind: "workers_requests", quantity: 1_000_000 }], {
      now: Date.parse("2026-08-01T12:00:00Z"),
    });
    await meter(env.DB, pricesFrom(env), [{ videoId: null, kind: "workers_requests", quantity: 1_600_000 }], {
      now: Date.parse("2026-08-02T12:00:00Z"),
    });
    const end = Date.parse("2026-08-03T00:10:00Z");
    await rollUpDay(env, "2026-08-01", end);
    await rollUpDay(env, "2026-08-02", end);
    expect(await checkSpike(withHook, "2026-08-02", webhook, end)).toBe(true);
    expect(await checkSpike(withHook, "2026-08-02", webhook, end)).toBe(false);
    // One failed attempt, then delivered; never twice.
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({
      url: "https://hooks.test/costs",
      body: { kind: "daily_spike", day: "2026-08-02", usd: expect.closeTo(0.48, 6), previousUsd: expect.closeTo(0.3, 6) },
    });
    const stored = await env.DB.prepare("SELECT delivered, delivery_attempts FROM cost_alerts WHERE day = '2026-08-02'").first<{
      delivered: number;
      delivery_attempts: number;
    }>();
    expect(stored).toEqual({ delivered: 1, delivery_attempts: 2 });
  });

  it("stays quiet under the threshold", async () => {
    await meter(env.DB, pricesFrom(env), [{ videoId: null, kind: "workers_requests", quantity: 1_000_000 }], {
      now: Date.parse("2026-07-01T12:00:00Z"),
    });
    await meter(env.DB, pricesFrom(env), [{ videoId: null, kind: "workers_requests", quantity: 1_400_000 }], {
      now: Date.parse("2026-07-02T12:00:00Z"),
    });
    const end = Date.parse("2026-07-03T00:10:00Z");
    await rollUpDay(env, "2026-07-01", end);
    await rollUpDay(env, "2026-07-02", end);
    expect(await checkSpike(env, "2026-07-02", async () => new Response("ok"), end)).toBe(false);
  });
});

describe("request attribution", () => {
  const rowsFor = async (videoId: string) =>
    (await env.DB.prepare("SELECT kind, quantity FROM usage WHERE video_id = ?").bind(videoId).all<{ kind: string; quantity: number }>())
      .results;

  it("never bills a made-up video id: 401/404 answers count as requests of no video", async () => {
    const ghost = crypto.randomUUID();
    await SELF.fetch(`${BASE}/api/videos/${ghost}`); // 404: signed out, no such video
    await SELF.fetch(`${BASE}/api/videos/${ghost}`, { headers: { Authorization: `Bearer ${alice}` } }); // 404
    await SELF.fetch(`${BASE}/videos/${ghost}/index.m3u8`); // 404
    await SELF.fetch(`${BASE}/api/video/uploads/${ghost}`, {
      method: "HEAD",
      headers: { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${alice}` },
    }); // 404 from the session
    await SELF.fetch(`${BASE}/api/video/uploads/${ghost}`, {
      method: "PATCH",
      headers: {
        "Tus-Resumable": "1.0.0",
        Authorization: `Bearer ${alice}`,
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0",
      },
      body: "abc",
    });
    await rollUpDay(env, utcDay(Date.now())); // flushes this isolate's counters, then rolls up today
    expect(await rowsFor(ghost)).toEqual([]);
    const ledger = await env.DB.prepare("SELECT count(*) AS n FROM cost_daily WHERE video_id = ?").bind(ghost).first<{ n: number }>();
    expect(ledger?.n).toBe(0);
  });

  it("bills a found video's requests to it", async () => {
    const created = await SELF.fetch(`${BASE}/api/video/uploads`, {
      method: "POST",
      headers: {
        "Tus-Resumable": "1.0.0",
        Authorization: `Bearer ${alice}`,
        "Upload-Length": "10",
        "Upload-Metadata": `filename ${btoa("a.mp4")}`,
      },
    });
    const id = created.headers.get("Location")!.split("/").pop()!;
    await SELF.fetch(`${BASE}/api/video/uploads/${id}`, {
      method: "HEAD",
      headers: { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${alice}` },
    });
    await SELF.fetch(`${BASE}/api/videos/${id}`, { headers: { Authorization: `Bearer ${alice}` } });
    await rollUpDay(env, utcDay(Date.now()));
    const kinds = Object.fromEntries((await rowsFor(id)).map((r) => [r.kind, r.quantity]));
    expect(kinds.workers_requests).toBeGreaterThanOrEqual(2);
    expect(kinds.do_requests).toBeGreaterThanOrEqual(2);
  });
});
