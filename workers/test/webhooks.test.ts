import { SELF, env } from "cloudflare:test";
import { Hono } from "hono";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { dispatchNext, dispatchOnUpload } from "../src/jobs/dispatch.ts";
import { recordProgress, recordResult } from "../src/jobs/lifecycle.ts";
import { findVideo } from "../src/db/videos.ts";
import { deleteEndpoint, findDelivery, insertDeliveries, insertEndpoint } from "../src/db/webhooks.ts";
import { sourceKey } from "../src/storage/keys.ts";
import { markUploadComplete, offVideoEvent, onVideoEvent, transition } from "../src/videos/transitions.ts";
import { removeVideo } from "../src/videos/remove.ts";
import { recordAlert } from "../src/costs/alerts.ts";
import { attemptDelivery, sweepOverdueDeliveries, type Fetcher } from "../src/webhooks/deliver.ts";
import { MAX_ATTEMPTS, checkEndpointUrl, newMessageId, newSecret, retryDelaySec, signatureHeaders } from "../src/webhooks/policy.ts";
import { webhooks } from "../src/routes/webhooks.ts";
import { renderError } from "../src/http/errors.ts";
import type { AppEnv, AuthUser } from "../src/http/auth.ts";
import type { TranscoderClient } from "../src/jobs/transcoder-client.ts";
import type { TranscodeResult } from "../../contract/transcode.ts";
import type { Scope } from "../../contract/scopes.ts";
import type {
  WebhookDeliveryListResponse,
  WebhookEndpointCreated,
  WebhookEndpointListResponse,
  WebhookPayload,
} from "../../contract/webhooks.ts";
import { BASE, usualUsers } from "./helpers.ts";

const HOOKS = `${BASE}/api/admin/webhooks`;
const json = (token: string, body: unknown) => ({
  method: "POST",
  headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify(body),
});
const get = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

/** The webhook routes behind a caller that is an API key with `scopes` (the key middleware is someone else's). */
function asKey(scopes: Scope[], devAuth = "true") {
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("user", { id: "key_1", role: "creator", scopes } satisfies AuthUser);
    await next();
  });
  app.route("/", webhooks);
  app.onError(renderError);
  return (path: string, init?: RequestInit) => app.request(path, init, { ...env, DEV_AUTH: devAuth });
}

afterEach(() => vi.restoreAllMocks());

describe("webhook endpoints: who may manage them", () => {
  it("an admin adds one and sees its secret once; a creator gets 403; the list never carries secrets", async () => {
    const { alice, admin } = await usualUsers();
    const refused = await SELF.fetch(HOOKS, json(alice, { url: "https://hooks.example.com/in", events: ["video.ready"] }));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: "forbidden", message: expect.stringContaining("webhooks:manage") });

    const res = await SELF.fetch(HOOKS, json(admin, { url: "https://hooks.example.com/in", events: ["video.ready", "video.failed"] }));
    expect(res.status).toBe(201);
    const created = await res.json<WebhookEndpointCreated>();
    expect(created).toMatchObject({ url: "https://hooks.example.com/in", events: ["video.ready", "video.failed"] });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    const list = await (await SELF.fetch(HOOKS, get(admin))).json<WebhookEndpointListResponse>();
    expect(list.endpoints.find((e) => e.id === created.id)).toEqual({
      id: created.id,
      url: created.url,
      events: created.events,
      createdAt: created.createdAt,
    });
    expect(JSON.stringify(list)).not.toContain(created.secret);
    expect((await SELF.fetch(`${HOOKS}/${created.id}`, { method: "DELETE", headers: get(alice).headers })).status).toBe(403);
    expect((await SELF.fetch(`${HOOKS}/${created.id}`, { method: "DELETE", headers: get(admin).headers })).status).toBe(204);
    expect((await SELF.fetch(`${HOOKS}/${created.id}`, { method: "DELETE", headers: get(admin).headers })).status).toBe(404);
  });

  it("an API key needs the webhooks:manage scope", async () => {
    const body = { url: "https://hooks.example.com/key", events: ["video.uploaded"] };
    const without = await asKey(["videos:read"])("/", json("x", body));
    expect(without.status).toBe(403);
    expect(await without.json()).toEqual({ error: "forbidden", message: "This API key lacks the webhooks:manage scope." });
    const withScope = await asKey(["webhooks:manage"])("/", json("x", body));
    expect(withScope.status).toBe(201);
  });

  it("refuses bad events and bad bodies with a sentence", async () => {
    const { admin } = await usualUsers();
    for (const events of [[], ["video.exploded"], "video.ready", null]) {
      const res = await SELF.fetch(HOOKS, json(admin, { url: "https://hooks.example.com/in", events }));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_events", message: expect.stringContaining("video.uploaded") });
    }
    const notJson = await SELF.fetch(HOOKS, { ...json(admin, {}), body: "{" });
    expect(notJson.status).toBe(400);
  });
});

describe("webhook endpoint URLs", () => {
  it("production accepts public https only", () => {
    const ok = (url: string) => checkEndpointUrl(url, false).ok;
    expect(ok("https://hooks.example.com/in?x=1")).toBe(true);
    expect(ok("https://93.184.216.34/in")).toBe(true);
    for (const url of [
      "http://hooks.example.com/in",
      "ftp://hooks.example.com/in",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "https://localhost/in",
      "https://app.localhost/in",
      "https://127.0.0.1/in",
      "https://127.1.2.3:8443/in",
      "https://[::1]/in",
      "https://10.0.0.5/in",
      "https://172.20.1.1/in",
      "https://192.168.1.10/in",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/in",
      "https://0.0.0.0/in",
      "https://[fd00::1]/in",
      "https://[fe80::1]/in",
      "https://[::ffff:10.0.0.1]/in",
      "https://intranet/in",
      "https://user:pass@hooks.example.com/in",
      "not a url",
      "",
    ]) {
      const checked = checkEndpointUrl(url, false);
      expect(checked.ok, url).toBe(false);
      if (!checked.ok) expect(checked.message, url).toMatch(/^\S.+\.$/);
    }
  });

  it("loopback only when DEV_AUTH is on, and private addresses never", () => {
    expect(checkEndpointUrl("http://127.0.0.1:9999/hook", true)).toEqual({ ok: true, url: "http://127.0.0.1:9999/hook" });
    expect(checkEndpointUrl("http://localhost:9999/hook", true).ok).toBe(true);
    expect(checkEndpointUrl("http://127.0.0.1:9999/hook", false).ok).toBe(false);
    expect(checkEndpointUrl("http://192.168.1.10/hook", true).ok).toBe(false);
    expect(checkEndpointUrl("http://hooks.example.com/hook", true).ok).toBe(false);
  });

  it("the route answers 400 with the sentence", async () => {
    const res = await asKey(["webhooks:manage"], "false")("/", json("x", { url: "http://127.0.0.1:9999/hook", events: ["video.ready"] }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "invalid_url",
      message: "127.0.0.1 is a loopback address; webhooks are delivered to public https URLs only.",
    });
  });
});

describe("signatures", () => {
  it("the standardwebhooks package verifies what the Worker signs", async () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: "video.ready", timestamp: new Date().toISOString(), data: { id: "v1", title: "é ✓" } });
    const id = newMessageId();
    const headers = await signatureHeaders(secret, id, Math.floor(Date.now() / 1000), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // One changed byte, another secret or a replayed old timestamp are refused.
    expect(() => new Webhook(secret).verify(body.replace("v1", "v2"), headers)).toThrow();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
    const old = await signatureHeaders(secret, id, Math.floor(Date.now() / 1000) - 3600, body);
    expect(() => new Webhook(secret).verify(body, old)).toThrow();
  });
});

// ---- Deliveries, driven step by step (the clock is 10 days ahead, so the real queue's copies of these
// messages always find them not yet due and leave them alone) ----

const FUTURE = Date.now() + 10 * 86_400_000;
const SEC = 1000;

async function endpoint(
  events: string[] = ["video.uploaded", "video.playable", "video.ready"],
  url = `https://hooks.example.com/${crypto.randomUUID()}`,
) {
  const row = {
    id: newMessageId("wh"),
    url,
    events: JSON.stringify(events),
    secret: newSecret(),
    createdBy: "root",
    createdAt: FUTURE,
  };
  await insertEndpoint(env.DB, row);
  return row;
}

async function delivery(endpointId: string, type: string, videoId: string, eventAt: number) {
  const id = newMessageId();
  const payload = JSON.stringify({ type, timestamp: new Date(eventAt).toISOString(), data: { id: videoId } });
  await insertDeliveries(env.DB, [{ id, endpointId, type, videoId, payload, eventAt, createdAt: eventAt }]);
  return id;
}

/** A receiver: answers with the next status of `statuses` (then 200), records what it got. */
function receiver(statuses: (number | "down")[] = []) {
  const got: { id: string; type: string; timestamp: string; signature: string; body: string }[] = [];
  const fetcher: Fetcher = async (_url, init) => {
    const h = new Headers(init.headers);
    const next = statuses.shift() ?? 200;
    if (next === "down") throw new TypeError("Network connection lost.");
    const body = String(init.body);
    got.push({
      id: h.get("webhook-id") ?? "",
      type: (JSON.parse(body) as { type: string }).type,
      timestamp: h.get("webhook-timestamp") ?? "",
      signature: h.get("webhook-signature") ?? "",
      body,
    });
    return new Response(next === 200 ? "ok" : "try later", { status: next });
  };
  return { got, fetcher };
}

describe("delivery attempts", () => {
  it("retries with exponential backoff, logs every attempt and gives up after the last", async () => {
    const ep = await endpoint();
    const id = await delivery(ep.id, "video.ready", "vid-backoff", FUTURE);
    const { got, fetcher } = receiver(Array(MAX_ATTEMPTS).fill(503));
    let now = FUTURE;
    const waits: number[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // Not before it is due.
      if (attempt > 1) expect(await attemptDelivery(env, id, fetcher, now - SEC)).toBe("skipped");
      const result = await attemptDelivery(env, id, fetcher, now);
      expect(result).toBe(attempt < MAX_ATTEMPTS ? "retrying" : "failed");
      const row = (await findDelivery(env.DB, id))!;
      if (attempt < MAX_ATTEMPTS) {
        waits.push(Math.round((row.nextAttemptAt - now) / SEC));
        now = row.nextAttemptAt;
      }
    }
    // The default base (30 s) × 4 per attempt, at most 12 h: about 23 hours in all.
    expect(waits).toEqual([30, 120, 480, 1920, 7680, 30720, 43200]);
    expect(waits.reduce((a, b) => a + b)).toBeGreaterThan(6 * 3600);
    // WEBHOOK_RETRY_BASE_SECONDS scales it (the end-to-end tests use 1 s); never beyond a queue's 12 h delay.
    expect([1, 2, 3].map((n) => retryDelaySec(n, 1))).toEqual([1, 4, 16]);
    expect(retryDelaySec(40, 1)).toBe(43_200);
    expect(got).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(got.map((g) => g.id))).toEqual(new Set([id])); // one webhook-id for every attempt

    const row = (await findDelivery(env.DB, id))!;
    expect(row).toMatchObject({
      status: "failed",
      attempts: MAX_ATTEMPTS,
      lastStatus: 503,
      lastError: "The receiver answered 503: try later",
    });
    const { admin } = await usualUsers();
    const list = await (await SELF.fetch(`${HOOKS}/${ep.id}/deliveries`, get(admin))).json<WebhookDeliveryListResponse>();
    const shown = list.deliveries.find((d) => d.id === id)!;
    expect(shown).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS, lastStatus: 503, nextAttemptAt: null });
    expect(shown.attemptLog.map((a) => [a.attempt, a.statusCode])).toEqual(Array.from({ length: MAX_ATTEMPTS }, (_, i) => [i + 1, 503]));
  });

  it("signs each attempt with its own time, and the signature is the package's", async () => {
    const ep = await endpoint();
    const id = await delivery(ep.id, "video.ready", "vid-sign", FUTURE);
    const { got, fetcher } = receiver(["down" as const, 200]);
    expect(await attemptDelivery(env, id, fetcher, FUTURE)).toBe("retrying");
    const row = (await findDelivery(env.DB, id))!;
    expect(row).toMatchObject({ status: "pending", lastStatus: null, lastError: expect.stringContaining("could not be reached") });
    expect(await attemptDelivery(env, id, fetcher, row.nextAttemptAt)).toBe("delivered");
    expect(got).toHaveLength(1);
    const { timestamp, signature, body } = got[0]!;
    expect(Number(timestamp)).toBe(Math.floor(row.nextAttemptAt / 1000));
    expect(signature).toBe(new Webhook(ep.secret).sign(id, new Date(Number(timestamp) * 1000), body));
    expect((await findDelivery(env.DB, id))!).toMatchObject({ status: "delivered", attempts: 2, lastStatus: 200, lastError: null });
    // Delivered: a late copy of its message sends nothing.
    expect(await attemptDelivery(env, id, fetcher, row.nextAttemptAt + 3600 * SEC)).toBe("skipped");
  });

  it("a receiver that does not answer in time counts as a failed attempt", async () => {
    const ep = await endpoint();
    const id = await delivery(ep.id, "video.ready", "vid-slow", FUTURE);
    const slow: Fetcher = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    const fast = { ...env, WEBHOOK_TIMEOUT_SECONDS: "0.2" };
    expect(await attemptDelivery(fast, id, slow, FUTURE)).toBe("retrying");
    expect((await findDelivery(env.DB, id))!.lastError).toBe("The receiver did not answer within 0.2 s.");
  });

  it("per video and endpoint, a delivery waits for the earlier ones: uploaded → playable → ready", async () => {
    const ep = await endpoint();
    const t0 = FUTURE;
    const uploaded = await delivery(ep.id, "video.uploaded", "vid-order", t0);
    const playable = await delivery(ep.id, "video.playable", "vid-order", t0 + 5 * SEC);
    const ready = await delivery(ep.id, "video.ready", "vid-order", t0 + 9 * SEC);
    const other = await delivery(ep.id, "video.ready", "vid-other", t0 + 9 * SEC);
    const { got, fetcher } = receiver([503]);

    // The first attempt of `uploaded` fails; the later ones may not overtake it.
    expect(await attemptDelivery(env, uploaded, fetcher, t0 + 10 * SEC)).toBe("retrying");
    expect(await attemptDelivery(env, ready, fetcher, t0 + 10 * SEC)).toBe("waiting");
    expect(await attemptDelivery(env, playable, fetcher, t0 + 10 * SEC)).toBe("waiting");
    // Another video's delivery is not held up.
    expect(await attemptDelivery(env, other, fetcher, t0 + 10 * SEC)).toBe("delivered");

    const retryAt = (await findDelivery(env.DB, uploaded))!.nextAttemptAt;
    expect((await findDelivery(env.DB, playable))!.nextAttemptAt).toBeGreaterThan(retryAt);
    expect(await attemptDelivery(env, uploaded, fetcher, retryAt)).toBe("delivered");
    // Delivering `uploaded` made `playable` due at once; `ready` still waits for it.
    expect(await attemptDelivery(env, ready, fetcher, retryAt + SEC)).toBe("waiting");
    expect(await attemptDelivery(env, playable, fetcher, retryAt + SEC)).toBe("delivered");
    expect(await attemptDelivery(env, ready, fetcher, retryAt + 2 * SEC)).toBe("delivered");

    // What the receiver saw: the failed attempt of `uploaded`, its retry, then the others in order.
    expect(got.filter((g) => g.body.includes("vid-order")).map((g) => g.type)).toEqual([
      "video.uploaded",
      "video.uploaded",
      "video.playable",
      "video.ready",
    ]);
  });

  it("an admin resends a delivery with the same webhook-id and a fresh retry budget", async () => {
    const { admin } = await usualUsers();
    const ep = await endpoint();
    const id = await delivery(ep.id, "video.ready", "vid-resend", FUTURE);
    const { got, fetcher } = receiver();
    expect(await attemptDelivery(env, id, fetcher, FUTURE)).toBe("delivered");

    const res = await SELF.fetch(`${HOOKS}/${ep.id}/deliveries/${id}/resend`, { method: "POST", headers: get(admin).headers });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ id, status: "pending" });
    const row = (await findDelivery(env.DB, id))!;
    expect(row).toMatchObject({ status: "pending", roundAttempts: 0, attempts: 1 });
    expect(await attemptDelivery(env, id, fetcher, Math.max(FUTURE + SEC, row.nextAttemptAt))).toBe("delivered");
    expect(got.map((g) => g.id)).toEqual([id, id]);
    expect((await findDelivery(env.DB, id))!.attempts).toBe(2);

    // Another endpoint's id, or an unknown delivery: 404.
    const elsewhere = await endpoint();
    expect(
      (await SELF.fetch(`${HOOKS}/${elsewhere.id}/deliveries/${id}/resend`, { method: "POST", headers: get(admin).headers })).status,
    ).toBe(404);
    expect((await SELF.fetch(`${HOOKS}/${ep.id}/deliveries/msg_nope/resend`, { method: "POST", headers: get(admin).headers })).status).toBe(
      404,
    );
  });

  it("deleting an endpoint removes its deliveries; their messages send nothing", async () => {
    const { admin } = await usualUsers();
    const ep = await endpoint();
    const id = await delivery(ep.id, "video.ready", "vid-del", FUTURE);
    expect((await SELF.fetch(`${HOOKS}/${ep.id}`, { method: "DELETE", headers: get(admin).headers })).status).toBe(204);
    const { got, fetcher } = receiver();
    expect(await attemptDelivery(env, id, fetcher, FUTURE)).toBe("skipped");
    expect(got).toEqual([]);
    expect(await findDelivery(env.DB, id)).toBeUndefined();
    expect((await SELF.fetch(`${HOOKS}/${ep.id}/deliveries`, get(admin))).status).toBe(404);
  });

  it("an endpoint deleted during an attempt leaves no attempt behind", async () => {
    const ep = await endpoint();
    const id = await delivery(ep.id, "video.ready", "vid-del-during", FUTURE);
    const deleting: Fetcher = async () => {
      await deleteEndpoint(env.DB, ep.id);
      return new Response("ok");
    };
    expect(await attemptDelivery(env, id, deleting, FUTURE)).toBe("delivered");
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_attempts WHERE delivery_id = ?").bind(id).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });
});

// ---- Events from the real lifecycle, through the real queue ----

class TwinTranscoder implements TranscoderClient {
  started: { attempt: number }[] = [];
  async start(request: { attempt: number }) {
    this.started.push(request);
    return "accepted" as const;
  }
  async cancel() {}
}

const okResult: TranscodeResult = {
  ok: true,
  durationSec: 4,
  renditions: [{ name: "240p", width: 426, height: 240, videoBitrate: 400_000, bandwidth: 700_000 }],
  sourceBytes: 5,
  sourceSha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  encodeSeconds: 0,
};

async function uploadingVideo(): Promise<string> {
  await env.DB.prepare("UPDATE videos SET status = 'CANCELLED' WHERE status IN ('QUEUED', 'PROCESSING', 'HELD')").run();
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes)
     VALUES (?, 'alice', 'Hooked', 't.mp4', 'video/mp4', 'UPLOADING', ?, ?, ?, 5)`,
  )
    .bind(id, now + 1e9, now, now)
    .run();
  await env.MEDIA.put(sourceKey(id), "hello");
  return id;
}

describe("events", () => {
  it("a video's events reach the receiver through the queue, signed, in order, with the video as the API shows it", async () => {
    const { admin } = await usualUsers();
    const res = await SELF.fetch(
      HOOKS,
      json(admin, { url: "https://receiver.test/hook", events: ["video.uploaded", "video.playable", "video.ready", "video.deleted"] }),
    );
    const { secret, id: endpointId } = await res.json<WebhookEndpointCreated>();
    const received: WebhookPayload[] = [];
    const original = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("https://receiver.test/")) return original(input, init);
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      received.push(new Webhook(secret).verify(String(init?.body), headers) as WebhookPayload);
      return new Response(null, { status: 204 });
    });

    offVideoEvent(dispatchOnUpload);
    try {
      const id = await uploadingVideo();
      await markUploadComplete(env, id, 5, Date.now());
      const twin = new TwinTranscoder();
      expect(await dispatchNext(env, { client: twin })).toEqual([id]);
      const job = { videoId: id, run: twin.started[0]!.attempt };
      expect(await recordProgress(env, job, { progress: 30, playable: true })).toBe(true);
      expect(await recordResult(env, job, okResult)).toBe(true);
      await vi.waitFor(() => expect(received.map((r) => r.type)).toEqual(["video.uploaded", "video.playable", "video.ready"]), {
        timeout: 15_000,
        interval: 100,
      });

      const [uploaded, playable, ready] = received as [WebhookPayload, WebhookPayload, WebhookPayload];
      expect(uploaded.data).toMatchObject({ id, title: "Hooked", status: "QUEUED", sourceBytes: 5, playable: false });
      expect(playable.data).toMatchObject({ id, status: "PROCESSING", playable: true, hlsUrl: `/videos/${id}/index.m3u8` });
      expect(ready.data).toMatchObject({
        id,
        status: "READY",
        durationSec: 4,
        renditions: [{ name: "240p", width: 426, height: 240, bandwidth: 700_000 }],
      });
      expect(Date.parse(ready.timestamp)).toBeGreaterThanOrEqual(Date.parse(playable.timestamp));

      await removeVideo(env, (await findVideo(env.DB, id))!, new TwinTranscoder());
      await vi.waitFor(() => expect(received.map((r) => r.type).at(-1)).toBe("video.deleted"), { timeout: 15_000, interval: 100 });
      expect(received.at(-1)!.data).toMatchObject({ id, status: "READY" });

      const list = await (await SELF.fetch(`${HOOKS}/${endpointId}/deliveries`, get(admin))).json<WebhookDeliveryListResponse>();
      expect(list.deliveries.map((d) => [d.type, d.status, d.attempts])).toEqual([
        ["video.deleted", "delivered", 1],
        ["video.ready", "delivered", 1],
        ["video.playable", "delivered", 1],
        ["video.uploaded", "delivered", 1],
      ]);
    } finally {
      onVideoEvent(dispatchOnUpload);
      await SELF.fetch(`${HOOKS}/${endpointId}`, { method: "DELETE", headers: get(admin).headers });
    }
  });

  it("a video becoming HELD is budget.held with the video and why; staying HELD sends nothing more", async () => {
    const ep = await endpoint(["budget.held"]);
    const id = await uploadingVideo();
    await env.DB.prepare("UPDATE videos SET status = 'QUEUED' WHERE id = ?").bind(id).run();
    const message = "Your upload is safe. This month's processing budget is used up.";
    expect(await transition(env, id, { event: "held", message })).not.toBeNull();
    // Held again for another reason (the dispatcher re-checks every minute): no new event.
    expect(await transition(env, id, { event: "held", message: "Processing is paused." })).not.toBeNull();
    await vi.waitFor(async () => {
      const rows = await env.DB.prepare("SELECT payload FROM webhook_deliveries WHERE endpoint_id = ?")
        .bind(ep.id)
        .all<{ payload: string }>();
      expect(rows.results.map((r) => JSON.parse(r.payload))).toEqual([
        { type: "budget.held", timestamp: expect.any(String), data: expect.objectContaining({ id, status: "HELD", message }) },
      ]);
    });
  });

  it("a delivery whose queue message was lost is sent by the minute sweep", async () => {
    const received: string[] = [];
    const original = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("https://swept.test/")) return original(input, init);
      received.push(new Headers(init?.headers).get("webhook-id") ?? "");
      return new Response("ok");
    });
    const ep = await endpoint(["video.ready"], "https://swept.test/hook");
    // Recorded two minutes ago, never enqueued (as if the send had failed).
    const id = await delivery(ep.id, "video.ready", "vid-swept", Date.now() - 120_000);
    expect(await sweepOverdueDeliveries(env)).toBeGreaterThanOrEqual(1);
    await vi.waitFor(() => expect(received).toEqual([id]), { timeout: 10_000, interval: 100 });
    expect((await findDelivery(env.DB, id))!.status).toBe("delivered");
  });

  it("a cost alert becomes budget.alert with the budget's state", async () => {
    const ep = await endpoint(["budget.alert"]);
    const fresh = await recordAlert(env, {
      day: "2030-01-02",
      kind: "budget_reached",
      message: "The cap is reached.",
      usd: 201,
      previousUsd: null,
    });
    expect(fresh).toBe(true);
    const row = await env.DB.prepare("SELECT payload FROM webhook_deliveries WHERE endpoint_id = ?")
      .bind(ep.id)
      .first<{ payload: string }>();
    expect(JSON.parse(row!.payload)).toMatchObject({
      type: "budget.alert",
      data: { monthlyCapUsd: 200, transcodingEnabled: true, alert: { kind: "budget_reached", day: "2030-01-02", usd: 201 } },
    });
    // The same alert again is not new, and sends nothing more.
    expect(
      await recordAlert(env, { day: "2030-01-02", kind: "budget_reached", message: "The cap is reached.", usd: 202, previousUsd: null }),
    ).toBe(false);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?")
      .bind(ep.id)
      .first<{ n: number }>();
    expect(count!.n).toBe(1);
  });
});
