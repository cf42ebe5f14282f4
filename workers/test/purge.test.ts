import { SELF, createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker, { CRONS } from "../src/index.ts";
import { insertDirectUpload } from "../src/db/direct-uploads.ts";
import { insertDeliveries, insertEndpoint } from "../src/db/webhooks.ts";
import { BASE, metadataHeader, tokenFor, tus } from "./helpers.ts";
import type { DirectUploadResponse } from "../../contract/direct-uploads.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** The 6-hourly cron, as the platform runs it, at `at`. */
const sixHourly = (at: number) => worker.scheduled(createScheduledController({ cron: CRONS.every6Hours, scheduledTime: at }), env);

const ids = async (sql: string) => (await env.DB.prepare(sql).all<{ id: string }>()).results.map((r) => r.id).sort();

describe("purging direct upload links (6-hourly cron)", () => {
  it("removes links that expired unused a day ago and used links whose video is gone; keeps the rest", async () => {
    const admin = await tokenFor("root", "admin");
    const now = Date.now();
    const at = now + 2 * DAY; // when the cron runs
    const row = (videoId: string, expiresAt: number, usedAt: number | null) =>
      insertDirectUpload(env.DB, {
        videoId,
        creatorId: "dora",
        maxBytes: 1000,
        maxDurationSec: null,
        title: null,
        visibility: null,
        expiresAt,
        createdAt: now,
        usedAt,
      });
    await row("expired-long-ago", at - DAY - HOUR, null);
    await row("expired-within-grace", at - HOUR, null); // its 410 sentence still needs the row
    await row("still-valid", at + DAY, null);
    await row("taken-just-now", at + DAY, at - HOUR); // a creation between taking the link and writing the video

    // Two links used for real: one video stays, the other is deleted by its creator.
    const upload = async (creatorId: string) => {
      const res = await SELF.fetch(`${BASE}/api/direct-uploads`, {
        method: "POST",
        headers: { Authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ creatorId }),
      });
      const link = (await res.json()) as DirectUploadResponse;
      const created = await SELF.fetch(link.uploadUrl, {
        method: "POST",
        headers: tus(null, { "Upload-Length": "100", "Upload-Metadata": metadataHeader({ filename: "a.mp4" }) }),
      });
      expect(created.status).toBe(201);
      return link.videoId;
    };
    const kept = await upload("kim");
    const gone = await upload("lea");
    const del = await SELF.fetch(`${BASE}/api/videos/${gone}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${await tokenFor("lea")}` },
    });
    expect(del.status).toBe(204);

    const all = "SELECT video_id AS id FROM direct_uploads";
    expect(await ids(all)).toEqual(["expired-long-ago", "expired-within-grace", gone, kept, "still-valid", "taken-just-now"].sort());
    await sixHourly(at);
    expect(await ids(all)).toEqual(["expired-within-grace", kept, "still-valid", "taken-just-now"].sort());
  });
});

describe("purging old webhook deliveries (6-hourly cron)", () => {
  it("removes delivered and given-up deliveries older than 30 days with their attempts; keeps pending and recent ones", async () => {
    const now = Date.now();
    await insertEndpoint(env.DB, {
      id: "wh_purge",
      url: "https://hooks.example.com/in",
      events: '["video.ready"]',
      secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      createdBy: "root",
      createdAt: now - 60 * DAY,
    });
    const deliveries: [string, "pending" | "delivered" | "failed", number][] = [
      ["old-delivered", "delivered", now - 31 * DAY],
      ["old-failed", "failed", now - 40 * DAY],
      ["old-pending", "pending", now - 31 * DAY], // still has to go out; later events of its video wait for it
      ["recent-delivered", "delivered", now - 29 * DAY],
    ];
    await insertDeliveries(
      env.DB,
      deliveries.map(([id, , createdAt]) => ({
        id,
        endpointId: "wh_purge",
        type: "video.ready",
        videoId: `v-${id}`,
        payload: "{}",
        eventAt: createdAt,
        createdAt,
      })),
    );
    for (const [id, status, createdAt] of deliveries) {
      await env.DB.prepare("UPDATE webhook_deliveries SET status = ?, attempts = 1 WHERE id = ?").bind(status, id).run();
      await env.DB.prepare(
        "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES (?, 1, ?, 204, NULL, 5)",
      )
        .bind(id, createdAt)
        .run();
    }

    await sixHourly(now);
    const left = ["old-pending", "recent-delivered"];
    expect(await ids("SELECT id FROM webhook_deliveries WHERE endpoint_id = 'wh_purge'")).toEqual(left);
    expect(
      await ids("SELECT delivery_id AS id FROM webhook_attempts WHERE delivery_id LIKE 'old-%' OR delivery_id LIKE 'recent-%'"),
    ).toEqual(left);
    // What the admin API shows agrees.
    const res = await SELF.fetch(`${BASE}/api/admin/webhooks/wh_purge/deliveries`, {
      headers: { Authorization: `Bearer ${await tokenFor("root", "admin")}` },
    });
    expect(((await res.json()) as { deliveries: { id: string }[] }).deliveries.map((d) => d.id).sort()).toEqual(left);
  });
});
