import { createScheduledController, env, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker, { CRONS } from "../src/index.ts";
import { count, flushCounters, meter, pricesFrom, utcDay } from "../src/costs/meter.ts";
import { rollUpDay } from "../src/costs/ledger.ts";
import { closeDay } from "../src/costs/daily.ts";
import { deliverPendingAlerts } from "../src/costs/alerts.ts";
import { DEFAULT_BUDGET, getBudget, parseBudget } from "../src/costs/budget.ts";
import { HELD_MESSAGES, transcodingGate } from "../src/costs/gate.ts";
import { ledgerUsd, runningSpendUsd } from "../src/db/costs.ts";
import { findVideo } from "../src/db/videos.ts";
import { dispatchNext } from "../src/jobs/dispatch.ts";
import type { TranscoderClient } from "../src/jobs/transcoder-client.ts";
import type { TranscodeRequest } from "../../contract/transcode.ts";
import { BASE, tokenFor } from "./helpers.ts";

class TwinTranscoder implements TranscoderClient {
  started: TranscodeRequest[] = [];
  async start(request: TranscodeRequest) {
    this.started.push(request);
    return "accepted" as const;
  }
  async cancel() {}
}

/** A D1 twin that records the SQL of every statement prepared through it, and a KV twin counting reads. */
function recordingEnv(base: Env = env) {
  const statements: string[] = [];
  const kvReads: string[] = [];
  const db = new Proxy(base.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (query: string) => {
          statements.push(query);
          return target.prepare(query);
        };
      }
      if (prop === "exec") {
        return (query: string) => {
          statements.push(query);
          return target.exec(query);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const kv = new Proxy(base.CONFIG, {
    get(target, prop) {
      if (prop === "get") {
        return (key: string, type?: unknown) => {
          kvReads.push(key);
          return target.get(key, type as "text");
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const writes = () => statements.filter((s) => !/^\s*select\b/i.test(s));
  return { env: { ...base, DB: db, CONFIG: kv } as Env, statements, kvReads, writes };
}

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
  return id;
}

const setBudget = (patch: Partial<typeof DEFAULT_BUDGET>) => env.CONFIG.put("budget", JSON.stringify({ ...DEFAULT_BUDGET, ...patch }));
const prices = pricesFrom(env);

beforeEach(async () => {
  await env.CONFIG.delete("budget");
  await env.DB.prepare("UPDATE videos SET status = 'CANCELLED' WHERE status IN ('QUEUED', 'PROCESSING', 'HELD')").run();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("the budget gate", () => {
  it("only reads: the budget from KV once and the running total once, with usage recorded today", async () => {
    const now = Date.now();
    await meter(env.DB, prices, [{ videoId: null, kind: "workers_requests", quantity: 1_000_000 }], { now });
    const id = await queuedVideo();
    const video = (await findVideo(env.DB, id))!;
    const twin = recordingEnv();
    expect(await transcodingGate(twin.env, video, now)).toEqual({ allowed: true });
    expect(twin.writes()).toEqual([]);
    expect(twin.statements).toHaveLength(1);
    expect(twin.statements[0]).toMatch(/spend_running/);
    expect(twin.kvReads).toEqual(["budget"]);
  });

  it("when it holds a job, writes only the cap alert's row, once a day", async () => {
    await setBudget({ monthlyCapUsd: 0 });
    const now = Date.parse("2026-03-03T10:00:00Z");
    const video = (await findVideo(env.DB, await queuedVideo()))!;
    const twin = recordingEnv();
    for (let i = 0; i < 3; i++) {
      expect(await transcodingGate(twin.env, video, now + i)).toEqual({ allowed: false, message: HELD_MESSAGES.BUDGET });
    }
    expect(twin.writes().every((s) => /^insert into "cost_alerts"/i.test(s))).toBe(true);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM cost_alerts WHERE day = '2026-03-03' AND kind = 'budget_reached'").first<{
      n: number;
    }>();
    expect(rows?.n).toBe(1);
  });

  it("does not crash on a malformed stored budget: each bad field falls back to its default, with a log line", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const video = (await findVideo(env.DB, await queuedVideo()))!;

    await env.CONFIG.put("budget", "{not json");
    expect(await getBudget(env.CONFIG)).toEqual(DEFAULT_BUDGET);
    expect(await transcodingGate(env, video)).toEqual({ allowed: true });

    await env.CONFIG.put("budget", JSON.stringify({ monthlyCapUsd: "lots", transcodingEnabled: false, spikeThresholdPct: 80, colour: 1 }));
    expect(await getBudget(env.CONFIG)).toEqual({ monthlyCapUsd: 200, transcodingEnabled: false, spikeThresholdPct: 80 });
    expect(await transcodingGate(env, video)).toEqual({ allowed: false, message: HELD_MESSAGES.SWITCHED_OFF });

    await env.CONFIG.put("budget", JSON.stringify({ monthlyCapUsd: null }));
    expect(await transcodingGate(env, video)).toEqual({ allowed: true });
    expect(logged.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(/monthlyCapUsd/);

    // The dispatch loop goes on with the defaults.
    await env.CONFIG.put("budget", "[");
    expect(await dispatchNext(env, { client: new TwinTranscoder() })).toEqual([video.id]);
  });

  it("reads a PUT body with the same parser, which reports every bad field without throwing", async () => {
    expect(parseBudget({ monthlyCapUsd: 12.345, colour: "red" })).toMatchObject({
      settings: { monthlyCapUsd: 12.35 },
      errors: [{ code: "unknown_field" }],
    });
    const admin = await tokenFor("root", "admin");
    const res = await SELF.fetch(`${BASE}/api/admin/budget`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ spikeThresholdPct: 0 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_threshold" });
  });
});

describe("the running total", () => {
  it("equals the priced sum of the month's usage, one-off events once, and each day's storage once however often it is rolled up", async () => {
    // Counts other tests left in this isolate go to another month first.
    await flushCounters(env.DB, prices, Date.parse("2025-01-01T00:00:00Z"));
    const day1 = Date.parse("2025-03-10T12:00:00Z");
    const day2 = Date.parse("2025-03-11T12:00:00Z");
    const video = "00000000-0000-4000-8000-0000000000c1";
    await meter(env.DB, prices, [{ videoId: video, kind: "r2_class_a", quantity: 1_000_000 }], { now: day1 }); // $4.50
    await meter(
      env.DB,
      prices,
      [
        { videoId: null, kind: "workers_requests", quantity: 2_000_000 }, // $0.60
        { videoId: video, kind: "r2_class_b", quantity: 0 }, // nothing
      ],
      { now: day1 },
    );
    for (let i = 0; i < 3; i++) {
      await meter(env.DB, prices, [{ videoId: video, kind: "container_vcpu_seconds", quantity: 40 }], {
        now: day2,
        onceKey: `encode:${video}:1`,
      }); // $0.0008, once
    }
    count(video, "do_requests", 1_000_000); // $0.15
    await flushCounters(env.DB, prices, day2);
    expect(await runningSpendUsd(env.DB, "2025-03")).toBeCloseTo(4.5 + 0.6 + 0.0008 + 0.15, 9);
    expect(await runningSpendUsd(env.DB, "2025-04")).toBe(0);

    // 3 GB stored from the start of day 1 on: $0.0015 a day, counted at each day's roll-up.
    await env.DB.prepare(
      `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes, uploaded_at)
       VALUES (?, 'alice', 't', 't.mp4', 'video/mp4', 'QUEUED', 0, ?, ?, 3000000000, ?)`,
    )
      .bind(video, Date.parse("2025-03-10T00:00:00Z"), day1, Date.parse("2025-03-10T00:00:00Z"))
      .run();
    const end = Date.parse("2025-03-12T00:10:00Z");
    for (let i = 0; i < 2; i++) {
      await rollUpDay(env, "2025-03-10", end);
      await rollUpDay(env, "2025-03-11", end);
    }
    const gbDay = (3 / 30) * 0.015;
    expect(await runningSpendUsd(env.DB, "2025-03")).toBeCloseTo(4.5 + 0.6 + 0.0008 + 0.15 + 2 * gbDay, 9);
    expect(await runningSpendUsd(env.DB, "2025-03")).toBeCloseTo(await ledgerUsd(env.DB, "2025-03-01", "2025-03-31"), 9);
    await env.DB.prepare("UPDATE videos SET status = 'CANCELLED', source_deleted_at = ? WHERE id = ?").bind(end, video).run();
  });
});

describe("the cap alert", () => {
  const withHook = () => ({ ...env, ALERT_WEBHOOK_URL: "https://hooks.test/costs" }) as Env;

  it("is recorded by the dispatch without calling the webhook, and delivered once by the minute cron", async () => {
    const webhook = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      if (String(input instanceof Request ? input.url : input).startsWith("https://hooks.test/")) return new Response("ok");
      throw new Error("no network in tests");
    });
    await setBudget({ monthlyCapUsd: 0 });
    const id = await queuedVideo();
    expect(await dispatchNext(withHook(), { client: new TwinTranscoder() })).toEqual([]);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "HELD" });
    expect(webhook).not.toHaveBeenCalled();
    const today = utcDay(Date.now());
    const recorded = () =>
      env.DB.prepare("SELECT delivered, delivery_attempts FROM cost_alerts WHERE kind = 'budget_reached' AND day = ?")
        .bind(today)
        .first<{ delivered: number; delivery_attempts: number }>();
    expect(await recorded()).toEqual({ delivered: 0, delivery_attempts: 0 });

    await worker.scheduled(createScheduledController({ cron: CRONS.everyMinute, scheduledTime: Date.now() }), withHook());
    expect(webhook).toHaveBeenCalledTimes(1);
    const [url, init] = webhook.mock.calls[0];
    expect(url).toBe("https://hooks.test/costs");
    expect(JSON.parse(String(init?.body))).toMatchObject({ kind: "budget_reached", day: today });
    expect(await recorded()).toEqual({ delivered: 1, delivery_attempts: 1 });
    // Delivered: never sent again.
    expect(await deliverPendingAlerts(withHook(), globalThis.fetch)).toBe(0);
    expect(webhook).toHaveBeenCalledTimes(1);
  });
});

describe("the daily close", () => {
  it("rolls up yesterday (and its baseline) and sends a spike alert once", async () => {
    const calls: unknown[] = [];
    const webhook = async (_url: string, init: RequestInit) => {
      calls.push(JSON.parse(String(init.body)));
      return new Response("ok");
    };
    const hookEnv = { ...env, ALERT_WEBHOOK_URL: "https://hooks.test/costs" } as Env;
    await env.DB.prepare(
      "INSERT INTO usage (day, video_id, kind, quantity) VALUES ('2025-05-01', '', 'workers_requests', 1000000), ('2025-05-02', '', 'workers_requests', 2000000)",
    ).run();
    const cron = Date.parse("2025-05-03T00:10:00Z");
    await closeDay(hookEnv, cron, webhook);
    await closeDay(hookEnv, cron, webhook);
    expect(calls).toEqual([expect.objectContaining({ kind: "daily_spike", day: "2025-05-02", usd: expect.closeTo(0.6, 6) })]);
  });
});
