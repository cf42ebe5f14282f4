import { SELF, createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { dispatchNext, recoverStalledJobs } from "../src/jobs/dispatch.ts";
import { cancelJob, prioritizeJob, retryJob } from "../src/jobs/lifecycle.ts";
import { signJobToken } from "../src/jobs/job-token.ts";
import { LEASE_MS, backoffMs } from "../src/jobs/policy.ts";
import { HttpTranscoderClient, transcoderFor } from "../src/jobs/transcoder-client.ts";
import { containerEnvVars } from "../src/jobs/transcoder-container.ts";
import { transcoderControlKey } from "../../contract/control-key.ts";
import { findVideo } from "../src/db/videos.ts";
import { sourceKey } from "../src/storage/keys.ts";
import { removeVideo } from "../src/videos/remove.ts";
import { parseTranscodeResult, type TranscodeJobMessage, type TranscodeRequest, type TranscodeResult } from "../../contract/transcode.ts";
import { BASE, tokenFor } from "./helpers.ts";
import { TwinTranscoder } from "./twins/transcoder.ts";
import type { VideoListResponse } from "../../contract/api.ts";

let alice: string;
let admin: string;
beforeAll(async () => {
  alice = await tokenFor("alice");
  admin = await tokenFor("root", "admin");
});

let clock = Date.now();
/** A video whose upload completed: a QUEUED row and its source in R2 (no queue message, so no race). */
async function queuedVideo(opts: { createdAt?: number; owner?: string } = {}): Promise<string> {
  const id = crypto.randomUUID();
  const now = opts.createdAt ?? ++clock;
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes)
     VALUES (?, ?, 't', 't.mp4', 'video/mp4', 'QUEUED', ?, ?, ?, 5)`,
  )
    .bind(id, opts.owner ?? "alice", now + 1e9, now, now)
    .run();
  await env.MEDIA.put(sourceKey(id), "hello");
  return id;
}

async function clearQueue() {
  await env.DB.prepare("UPDATE videos SET status = 'CANCELLED' WHERE status IN ('QUEUED', 'PROCESSING', 'HELD')").run();
}

const internal = (id: string, path: string, token: string | null, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}/internal/jobs/${id}/${path}`, {
    ...init,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...init.headers },
  });
const postJson = (id: string, path: string, token: string, body: unknown) =>
  internal(id, path, token, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

const okResult: TranscodeResult = {
  ok: true,
  durationSec: 4,
  renditions: [{ name: "240p", width: 426, height: 240, videoBitrate: 400_000, bandwidth: 700_000 }],
  sourceBytes: 5,
  sourceSha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  encodeSeconds: 1.5,
};

describe("dispatch", () => {
  it("starts the oldest job with a token scoped to it, and no more than the capacity", async () => {
    await clearQueue();
    const first = await queuedVideo();
    const second = await queuedVideo();
    const twin = new TwinTranscoder();
    expect(await dispatchNext(env, { client: twin })).toEqual([first]);
    expect(twin.started).toHaveLength(1);
    expect(twin.started[0]).toMatchObject({ videoId: first, attempt: 1, callbackBase: `${env.PUBLIC_URL}/internal/jobs/${first}` });
    expect(await findVideo(env.DB, first)).toMatchObject({ status: "PROCESSING", attempts: 1 });
    expect(await findVideo(env.DB, second)).toMatchObject({ status: "QUEUED", attempts: 0 });
    // Capacity is 1: nothing more starts until the first finishes.
    expect(await dispatchNext(env, { client: twin })).toEqual([]);
  });

  it("gives the attempt back when the transcoder is busy (next in line) or down (asked again later)", async () => {
    await clearQueue();
    const id = await queuedVideo();
    const twin = new TwinTranscoder();
    twin.answer = "busy";
    expect(await dispatchNext(env, { client: twin })).toEqual([]);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "QUEUED", attempts: 0, nextAttemptAt: null });
    twin.answer = "unavailable";
    expect(await dispatchNext(env, { client: twin })).toEqual([]);
    const row = await findVideo(env.DB, id);
    expect(row).toMatchObject({ status: "QUEUED", attempts: 0 });
    expect(row!.nextAttemptAt).toBeGreaterThan(Date.now());
    expect(row!.message).toMatch(/restarting/);
  });

  it("an admin's priority makes a newer job next; a creator cannot ask for it", async () => {
    await clearQueue();
    await queuedVideo();
    const urgent = await queuedVideo();
    expect(await prioritizeJob(env, urgent)).toBe(true);
    const twin = new TwinTranscoder();
    expect(await dispatchNext(env, { client: twin })).toEqual([urgent]);

    const waiting = await queuedVideo();
    const prio = (token: string) =>
      SELF.fetch(`${BASE}/api/videos/${waiting}/priority`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    expect((await prio(alice)).status).toBe(403);
    expect((await prio(admin)).status).toBe(200);
    const top = await env.DB.prepare("SELECT max(priority) AS p FROM videos").first<{ p: number }>();
    expect((await findVideo(env.DB, waiting))!.priority).toBe(top!.p);
  });
});

describe("internal routes", () => {
  async function running(): Promise<{ id: string; token: string }> {
    await clearQueue();
    const id = await queuedVideo();
    const twin = new TwinTranscoder();
    await dispatchNext(env, { client: twin });
    return { id, token: twin.started[0].token };
  }

  it("store the storyboard's sprite and WebVTT with their types; the card's storyboardUrl appears once a result says it exists", async () => {
    const { id, token } = await running();
    const card = async () =>
      (await (await SELF.fetch(`${BASE}/api/videos/${id}`, { headers: { Authorization: `Bearer ${alice}` } })).json()) as {
        storyboardUrl: string | null;
      };
    const put = (path: string, body: string) => internal(id, `files/${path}`, token, { method: "PUT", body });
    expect((await put("storyboard.jpg", "\xff\xd8")).status).toBe(204);
    expect((await put("storyboard.vtt", "WEBVTT\n")).status).toBe(204);
    const vtt = await env.MEDIA.get(`videos/${id}/r1/storyboard.vtt`);
    expect(vtt?.httpMetadata?.contentType).toBe("text/vtt; charset=utf-8");
    await vtt?.body.cancel();
    expect((await postJson(id, "progress", token, { progress: 50, playable: true })).status).toBe(200);
    expect((await card()).storyboardUrl).toBeNull();
    expect((await postJson(id, "result", token, { ...okResult, storyboard: true })).status).toBe(204);
    expect((await card()).storyboardUrl).toBe(`/videos/${id}/storyboard.vtt`);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "READY", hasStoryboard: true });
  });

  it("a result without a storyboard (an older transcoder, or ffmpeg failed on it) leaves storyboardUrl null", async () => {
    const { id, token } = await running();
    expect((await postJson(id, "result", token, okResult)).status).toBe(204);
    const card = (await (await SELF.fetch(`${BASE}/api/videos/${id}`, { headers: { Authorization: `Bearer ${alice}` } })).json()) as Record<
      string,
      unknown
    >;
    expect(card).toMatchObject({ status: "READY", storyboardUrl: null });
  });

  it("the owner's downloadUrl appears once a result says download.mp4 exists, never from an older transcoder's result", async () => {
    const cardOf = async (id: string) =>
      (await (await SELF.fetch(`${BASE}/api/videos/${id}`, { headers: { Authorization: `Bearer ${alice}` } })).json()) as {
        downloadUrl: string | null;
      };
    const older = await running();
    expect((await postJson(older.id, "result", older.token, okResult)).status).toBe(204);
    expect((await cardOf(older.id)).downloadUrl).toBeNull();
    const current = await running();
    expect((await postJson(current.id, "result", current.token, { ...okResult, download: "yes" })).status).toBe(400);
    expect((await postJson(current.id, "result", current.token, { ...okResult, download: true })).status).toBe(204);
    expect((await cardOf(current.id)).downloadUrl).toMatch(new RegExp(`^/videos/${current.id}/p/[^/]+/download\\.mp4$`));
  });

  it("accept only the job's own token", async () => {
    const { id, token } = await running();
    expect((await internal(id, "source", null)).status).toBe(401);
    expect((await internal(id, "source", alice)).status).toBe(401);
    const other = await signJobToken(env.JWT_SECRET, { videoId: crypto.randomUUID(), run: 1 });
    expect((await internal(id, "source", other)).status).toBe(401);
    const staleAttempt = await signJobToken(env.JWT_SECRET, { videoId: id, run: 7 });
    expect((await internal(id, "source", staleAttempt)).status).toBe(409);
    const source = await internal(id, "source", token);
    expect(source.status).toBe(200);
    expect(await source.text()).toBe("hello");
  });

  it("store output files under the video, refusing other names", async () => {
    const { id, token } = await running();
    const put = (path: string) => internal(id, `files/${path}`, token, { method: "PUT", body: "#EXTM3U\n" });
    expect((await put("240p/index.m3u8")).status).toBe(204);
    const stored = await env.MEDIA.get(`videos/${id}/r1/240p/index.m3u8`);
    expect(stored?.httpMetadata?.contentType).toBe("application/vnd.apple.mpegurl");
    await stored?.body.cancel();
    for (const bad of ["../../sources/x", "240p/../../x.ts", "evil.html", "240p/seg_1.ts"]) {
      expect((await put(bad)).status, bad).not.toBe(204);
    }
  });

  it("take progress, then the result: READY, source removed, and the token is spent", async () => {
    const { id, token } = await running();
    const progress = await postJson(id, "progress", token, { progress: 42.7, playable: true });
    expect(progress.status).toBe(200);
    const mid = await findVideo(env.DB, id);
    expect(mid).toMatchObject({ progress: 42, playable: true });
    expect(mid!.leaseExpiresAt).toBeGreaterThan(Date.now() + LEASE_MS / 2);
    expect(mid!.playableAt).not.toBeNull();
    expect((await postJson(id, "result", token, okResult)).status).toBe(204);
    const done = await findVideo(env.DB, id);
    expect(done).toMatchObject({
      status: "READY",
      progress: 100,
      playable: true,
      durationSec: 4,
      sourceSha256: okResult.ok ? okResult.sourceSha256 : "",
    });
    expect(await env.MEDIA.head(sourceKey(id))).toBeNull();
    expect((await postJson(id, "progress", token, { progress: 50, playable: true })).status).toBe(409);
    const api = await SELF.fetch(`${BASE}/api/videos/${id}`, { headers: { Authorization: `Bearer ${alice}` } });
    expect(await api.json()).toMatchObject({
      status: "READY",
      hlsUrl: `/videos/${id}/index.m3u8`,
      renditions: [{ name: "240p", width: 426, height: 240, bandwidth: 700_000 }],
    });
  });

  it("retry a transient failure with backoff, then fail after the third attempt; a permanent failure fails at once", async () => {
    const { id, token } = await running();
    const failure: TranscodeResult = { ok: false, error: "ffmpeg crashed", permanent: false };
    expect((await postJson(id, "result", token, failure)).status).toBe(204);
    let row = await findVideo(env.DB, id);
    expect(row).toMatchObject({ status: "QUEUED", attempts: 1, lastError: "ffmpeg crashed" });
    expect(row!.nextAttemptAt! - Date.now()).toBeGreaterThan(backoffMs(1) - 5_000);
    expect(row!.message).toMatch(/Attempt 1 of 3 failed/);

    for (const attempt of [2, 3]) {
      const twin = new TwinTranscoder();
      await dispatchNext(env, { client: twin, now: Date.now() + 3_600_000 });
      expect(twin.started[0]).toMatchObject({ videoId: id, attempt });
      // The previous attempt's token no longer works.
      expect((await postJson(id, "progress", token, { progress: 1, playable: false })).status).toBe(409);
      expect((await postJson(id, "result", twin.started[0].token, failure)).status).toBe(204);
    }
    row = await findVideo(env.DB, id);
    expect(row).toMatchObject({ status: "FAILED", error: "ffmpeg crashed", attempts: 3 });

    const other = await running();
    await postJson(other.id, "result", other.token, { ok: false, error: "This file is not a video we can read.", permanent: true });
    expect(await findVideo(env.DB, other.id)).toMatchObject({
      status: "FAILED",
      attempts: 1,
      error: "This file is not a video we can read.",
    });
  });

  it("a silent transcoder loses its lease: retried with backoff, FAILED after three attempts", async () => {
    const { id } = await running();
    let now = Date.now();
    for (const attempt of [1, 2, 3]) {
      now += LEASE_MS + 1;
      await recoverStalledJobs(env, now);
      const row = await findVideo(env.DB, id);
      if (attempt < 3) {
        expect(row).toMatchObject({ status: "QUEUED", attempts: attempt, lastError: "the transcoder stopped responding" });
        now += backoffMs(attempt);
        await dispatchNext(env, { client: new TwinTranscoder(), now });
      } else {
        expect(row).toMatchObject({ status: "FAILED", attempts: 3, error: "the transcoder stopped responding" });
      }
    }
  });
});

describe("cancel and retry", () => {
  it("cancels a running job: CANCELLED, outputs removed, its token refused; then an admin retries it", async () => {
    await clearQueue();
    const id = await queuedVideo();
    const twin = new TwinTranscoder();
    await dispatchNext(env, { client: twin });
    await env.MEDIA.put(`videos/${id}/240p/seg_00000.ts`, "x");
    const cancel = await SELF.fetch(`${BASE}/api/videos/${id}/cancel`, { method: "POST", headers: { Authorization: `Bearer ${alice}` } });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ status: "CANCELLED", message: expect.stringMatching(/cancelled/) });
    expect((await env.MEDIA.list({ prefix: `videos/${id}/` })).objects).toHaveLength(0);
    expect((await postJson(id, "progress", twin.started[0].token, { progress: 5, playable: false })).status).toBe(409);
    const again = await SELF.fetch(`${BASE}/api/videos/${id}/cancel`, { method: "POST", headers: { Authorization: `Bearer ${alice}` } });
    expect(again.status).toBe(409);

    const retry = (token: string) =>
      SELF.fetch(`${BASE}/api/videos/${id}/retry`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    expect((await retry(alice)).status).toBe(403);
    expect((await retry(admin)).status).toBe(200);
    // The retry wakes the dispatcher, which finds this project's transcoder URL closed and gives the
    // attempt back (the run number it used is spent). Wait for that, so nothing races the checks below.
    let row = await findVideo(env.DB, id);
    for (let i = 0; i < 100 && !(row!.status === "QUEUED" && row!.nextAttemptAt !== null); i++) {
      await new Promise((r) => setTimeout(r, 20));
      row = await findVideo(env.DB, id);
    }
    expect(row).toMatchObject({ status: "QUEUED", attempts: 0, run: 2, message: expect.stringMatching(/restarting/) });

    // The admin's job table: job bookkeeping on request, and only for admins.
    const list = async (token: string) =>
      (
        (await (
          await SELF.fetch(`${BASE}/api/videos?include=job`, { headers: { Authorization: `Bearer ${token}` } })
        ).json()) as VideoListResponse
      ).videos;
    expect((await list(admin)).find((v) => v.id === id)?.job).toEqual({
      attempts: 0,
      priority: 0,
      lastError: null,
      actions: { cancel: true, retry: false, prioritize: true },
    });
    expect((await list(alice)).find((v) => v.id === id)?.job).toBeUndefined();
  });
});

describe("malformed reports", () => {
  const api = (path: string) => SELF.fetch(`${BASE}/api/videos${path}`, { headers: { Authorization: `Bearer ${admin}` } });

  it("a malformed result or progress report is refused with 400 naming the field, and stores nothing", async () => {
    await clearQueue();
    const id = await queuedVideo();
    const twin = new TwinTranscoder();
    await dispatchNext(env, { client: twin });
    const token = twin.started[0].token;
    const rendition = { name: "240p", width: 426, height: 240, videoBitrate: 400_000, bandwidth: 700_000 };
    const cases: [unknown, RegExp][] = [
      [{ ...okResult, renditions: "not-a-list" }, /renditions/],
      [{ ...okResult, renditions: [] }, /renditions/],
      [{ ...okResult, renditions: [{ ...rendition, width: "426" }] }, /renditions\[0\]/],
      [{ ...okResult, renditions: [rendition, { ...rendition, name: "../x" }] }, /renditions\[1\]/],
      [{ ...okResult, durationSec: "4" }, /durationSec/],
      [{ ...okResult, sourceSha256: "nope" }, /sourceSha256/],
      [{ ...okResult, encodeSeconds: -1 }, /encodeSeconds/],
      [{ ...okResult, instanceType: 42 }, /instanceType/],
      [{ ...okResult, storyboard: "yes" }, /storyboard/],
      [{ ...okResult, cpuSeconds: -0.5 }, /cpuSeconds/],
      [{ ...okResult, cpuSeconds: "12" }, /cpuSeconds/],
      [{ ...okResult, peakMemoryBytes: 1.5 }, /peakMemoryBytes/],
      [{ ok: false, error: "ffmpeg crashed", permanent: false, cpuSeconds: Number.NaN }, /cpuSeconds/],
      [{ ok: false, error: "", permanent: false }, /error/],
      [{ ok: false, error: "ffmpeg crashed" }, /permanent/],
      [{ ok: "yes" }, /ok/],
      [[], /object/],
    ];
    for (const [body, field] of cases) {
      const res = await postJson(id, "result", token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error, message } = (await res.json()) as { error: string; message: string };
      expect(error).toBe("invalid_result");
      expect(message).toMatch(field);
      expect(message).toMatch(/^[A-Za-z].*\.$/);
    }
    for (const body of [{ progress: "50", playable: true }, { progress: 150, playable: true }, { progress: 5 }]) {
      const res = await postJson(id, "progress", token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/progress|playable/);
    }
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "PROCESSING", renditions: [] });
    expect((await api(`/${id}`)).status).toBe(200);
    expect((await api("?include=job")).status).toBe(200);
    // The job can still report properly afterwards.
    expect((await postJson(id, "result", token, okResult)).status).toBe(204);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "READY", renditions: okResult.ok ? okResult.renditions : [] });
  });

  it("the shared validator keeps only the known fields", () => {
    const extra = { ...okResult, renditions: okResult.ok ? [{ ...okResult.renditions[0], secret: 1 }] : [], debug: "x" };
    expect(parseTranscodeResult(extra)).toEqual({ ok: true, value: okResult });
    expect(parseTranscodeResult({ ...okResult, storyboard: true })).toEqual({ ok: true, value: { ...okResult, storyboard: true } });
    expect(parseTranscodeResult({ ...okResult, storyboard: false })).toEqual({ ok: true, value: { ...okResult, storyboard: false } });
    expect(parseTranscodeResult({ ok: false, error: "ffmpeg crashed", permanent: false, encodeSeconds: 2, extra: 1 })).toEqual({
      ok: true,
      value: { ok: false, error: "ffmpeg crashed", permanent: false, encodeSeconds: 2 },
    });
    // What the attempt used, on both shapes; absent (an older transcoder) stays absent.
    const used = { cpuSeconds: 12.5, peakMemoryBytes: 300_000_000 };
    expect(parseTranscodeResult({ ...okResult, ...used })).toEqual({ ok: true, value: { ...okResult, ...used } });
    expect(parseTranscodeResult({ ok: false, error: "ffmpeg crashed", permanent: false, encodeSeconds: 2, ...used })).toEqual({
      ok: true,
      value: { ok: false, error: "ffmpeg crashed", permanent: false, encodeSeconds: 2, ...used },
    });
  });

  it("a row whose stored renditions are corrupt does not break the video or the lists", async () => {
    await clearQueue();
    const ids: string[] = [];
    for (const stored of ['"not-a-list"', '{"name":"240p"}', '[1, null, {"name":"240p"}]', "null"]) {
      const id = await queuedVideo();
      await env.DB.prepare("UPDATE videos SET status = 'READY', playable = 1, renditions = ? WHERE id = ?").bind(stored, id).run();
      ids.push(id);
    }
    for (const id of ids) {
      const one = await api(`/${id}`);
      expect(one.status).toBe(200);
      expect(await one.json()).toMatchObject({ id, renditions: [] });
    }
    for (const [path, token] of [
      ["", alice],
      ["?include=job", admin],
    ] as const) {
      const list = await SELF.fetch(`${BASE}/api/videos${path}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(list.status).toBe(200);
      const listed = ((await list.json()) as VideoListResponse).videos.filter((v) => ids.includes(v.id));
      expect(listed).toHaveLength(ids.length);
      expect(listed.every((v) => v.renditions.length === 0)).toBe(true);
    }
  });
});

describe("runs: an admin retry never reuses a run number", () => {
  /** Dispatches the video (nothing else waits) with a twin; returns the request it got. */
  async function dispatchOnly(id: string): Promise<TranscodeRequest> {
    const twin = new TwinTranscoder();
    expect(await dispatchNext(env, { client: twin, now: Date.now() + 3_600_000 })).toEqual([id]);
    return twin.started[0];
  }
  const row = async (id: string) => (await findVideo(env.DB, id))!;
  const put = (id: string, token: string, path: string, body: string) => internal(id, `files/${path}`, token, { method: "PUT", body });
  const publish = async (id: string, token: string, segment: string) => {
    await put(id, token, "index.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=700000\n240p/index.m3u8\n");
    await put(id, token, "240p/index.m3u8", "#EXTM3U\n#EXTINF:4,\nseg_00000.ts\n");
    await put(id, token, "240p/seg_00000.ts", segment);
    expect((await postJson(id, "progress", token, { progress: 30, playable: true })).status).toBe(200);
  };
  const segment = (id: string) => SELF.fetch(`${BASE}/videos/${id}/240p/seg_00000.ts`);
  /** The segment once it is in the edge cache (filled in the background after a miss). */
  async function cachedSegment(id: string): Promise<string> {
    for (let i = 0; i < 50; i++) {
      const res = await segment(id);
      if (res.headers.get("X-Cache") === "HIT") return res.text();
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("the segment never came from the cache");
  }

  it("a retried run gets a new run number and token; the cancelled run's token stays refused", async () => {
    await clearQueue();
    const id = await queuedVideo();
    const first = await dispatchOnly(id);
    expect(first.attempt).toBe(1);
    expect(await cancelJob(env, await row(id), { client: new TwinTranscoder() })).toBe(true);
    expect(await retryJob(env, await row(id))).toBe(true);
    expect(await row(id)).toMatchObject({ status: "QUEUED", attempts: 0, run: 1 });

    const second = await dispatchOnly(id);
    expect(second.attempt).toBe(2);
    expect(await row(id)).toMatchObject({ status: "PROCESSING", attempts: 1, run: 2, message: expect.not.stringMatching(/Attempt/) });
    expect((await postJson(id, "progress", first.token, { progress: 5, playable: false })).status).toBe(409);
    expect((await internal(id, "source", first.token)).status).toBe(409);
    expect((await postJson(id, "progress", second.token, { progress: 5, playable: false })).status).toBe(200);

    // A transient failure of the new round says "Attempt 1 of 3" (the budget), not the run number.
    expect((await postJson(id, "result", second.token, { ok: false, error: "ffmpeg crashed", permanent: false })).status).toBe(204);
    expect((await row(id)).message).toMatch(/^Attempt 1 of 3 failed/);
  });

  it("a retried run is never served the cancelled run's cached or stored files", async () => {
    await clearQueue();
    const id = await queuedVideo();
    const first = await dispatchOnly(id);
    await publish(id, first.token, "segment of the cancelled run");
    expect(await cachedSegment(id)).toBe("segment of the cancelled run");

    // Cancelled (its outputs removed), then retried by an admin.
    expect(await cancelJob(env, await row(id), { client: new TwinTranscoder() })).toBe(true);
    expect(await retryJob(env, await row(id))).toBe(true);
    const second = await dispatchOnly(id);
    await publish(id, second.token, "segment of the retried run");

    const res = await segment(id);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("segment of the retried run");
    expect(await env.MEDIA.head(`videos/${id}/r${second.attempt}/240p/seg_00000.ts`)).not.toBeNull();
  });

  it("a retry after a metered failure is metered again", async () => {
    await clearQueue();
    const id = await queuedVideo();
    const vcpuSeconds = async () =>
      (await env.DB.prepare("SELECT coalesce(sum(quantity), 0) AS q FROM usage WHERE video_id = ? AND kind = 'container_vcpu_seconds'")
        .bind(id)
        .first<{ q: number }>())!.q;
    const failure: TranscodeResult = { ok: false, error: "This file is not a video we can read.", permanent: true, encodeSeconds: 10 };

    const first = await dispatchOnly(id);
    expect((await postJson(id, "result", first.token, failure)).status).toBe(204);
    const once = await vcpuSeconds();
    expect(once).toBeGreaterThan(0);
    expect(await retryJob(env, await row(id))).toBe(true);
    const second = await dispatchOnly(id);
    expect((await postJson(id, "result", second.token, failure)).status).toBe(204);
    expect(await vcpuSeconds()).toBeCloseTo(2 * once);
  });

  it("compute is metered as billed: vCPU on the CPU-seconds reported, memory on the instance's GiB × wall; without them, wall × vCPU", async () => {
    const usageOf = async (id: string) =>
      Object.fromEntries(
        (
          await env.DB.prepare("SELECT kind, sum(quantity) AS q FROM usage WHERE video_id = ? AND kind LIKE 'container_%' GROUP BY kind")
            .bind(id)
            .all<{ kind: string; q: number }>()
        ).results.map((r) => [r.kind, r.q]),
      );
    const month = new Date().toISOString().slice(0, 7);
    const spend = async () =>
      (await env.DB.prepare("SELECT coalesce(sum(usd), 0) AS usd FROM spend_running WHERE month = ?").bind(month).first<{ usd: number }>())!
        .usd;
    const run = async (result: TranscodeResult) => {
      await clearQueue();
      const id = await queuedVideo();
      const { token } = await dispatchOnly(id);
      const before = await spend();
      expect((await postJson(id, "result", token, result)).status).toBe(204);
      return { usage: await usageOf(id), usd: (await spend()) - before };
    };
    const onStandard4 = { encodeSeconds: 20, instanceType: "standard-4" };

    // A success that kept 1.5 of standard-4's 4 vCPUs busy over its 20 s: 30 vCPU-s; 12 GiB × 20 s.
    const measured = await run({ ...okResult, ...onStandard4, cpuSeconds: 30, peakMemoryBytes: 400_000_000 });
    expect(measured.usage).toEqual({ container_vcpu_seconds: 30, container_gib_seconds: 240 });
    expect(measured.usd).toBeCloseTo(30 * 0.00002 + 240 * 0.0000025, 10);
    // A failure is billed the same way.
    const failed = await run({ ok: false, error: "ffmpeg crashed", permanent: true, ...onStandard4, cpuSeconds: 7 });
    expect(failed.usage).toEqual({ container_vcpu_seconds: 7, container_gib_seconds: 240 });
    // An older transcoder's result, without the figure: wall × the instance's vCPUs, as before.
    const older = await run({ ...okResult, ...onStandard4 });
    expect(older.usage).toEqual({ container_vcpu_seconds: 80, container_gib_seconds: 240 });
    expect(older.usd).toBeGreaterThan(measured.usd);
  });

  it("a READY run removes the leftovers of earlier failed runs", async () => {
    await clearQueue();
    const id = await queuedVideo();
    const first = await dispatchOnly(id);
    await publish(id, first.token, "partial");
    expect((await postJson(id, "result", first.token, { ok: false, error: "ffmpeg crashed", permanent: false })).status).toBe(204);
    const second = await dispatchOnly(id);
    await publish(id, second.token, "final");
    expect((await postJson(id, "result", second.token, okResult)).status).toBe(204);
    const keys = (await env.MEDIA.list({ prefix: `videos/${id}/` })).objects.map((o) => o.key);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`videos/${id}/r2/`))).toBe(true);
    expect(await (await segment(id)).text()).toBe("final");
  });

  it("a row from before runs had their own prefix keeps working (run = attempts, files without a prefix)", async () => {
    await clearQueue();
    // Processing when the migration ran: run was set to attempts, the transcoder holds a token for that number.
    const running = await queuedVideo();
    await env.DB.prepare("UPDATE videos SET status = 'PROCESSING', attempts = 2, run = 2, lease_expires_at = ? WHERE id = ?")
      .bind(Date.now() + LEASE_MS, running)
      .run();
    const token = await signJobToken(env.JWT_SECRET, { videoId: running, run: 2 });
    expect((await postJson(running, "progress", token, { progress: 10, playable: false })).status).toBe(200);

    // READY before the migration: its files have no run prefix, and still play.
    const ready = await queuedVideo();
    await env.DB.prepare("UPDATE videos SET status = 'READY', playable = 1, attempts = 1, run = 1 WHERE id = ?").bind(ready).run();
    await env.MEDIA.put(`videos/${ready}/index.m3u8`, "#EXTM3U\n");
    const res = await SELF.fetch(`${BASE}/videos/${ready}/index.m3u8`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("#EXTM3U\n");
  });
});

describe("transcoder control", () => {
  it("the Worker starts and stops jobs with the control key derived from its JWT_SECRET", async () => {
    const key = await transcoderControlKey(env.JWT_SECRET);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toBe(await transcoderControlKey("another-secret"));
    const calls: { url: string; method?: string; authorization: string | null }[] = [];
    const client = new HttpTranscoderClient("http://transcoder.test", key, () => async (url, init) => {
      calls.push({ url, method: init?.method, authorization: new Headers(init?.headers).get("Authorization") });
      return new Response(null, { status: init?.method === "POST" ? 202 : 204 });
    });
    const request = { videoId: "v1", attempt: 1, token: "t", callbackBase: `${env.PUBLIC_URL}/internal/jobs/v1`, segmentSeconds: 4 };
    expect(await client.start(request)).toBe("accepted");
    await client.cancel("v1");
    expect(calls).toEqual([
      { url: "http://transcoder.test/jobs", method: "POST", authorization: `Bearer ${key}` },
      { url: "http://transcoder.test/jobs/v1", method: "DELETE", authorization: `Bearer ${key}` },
    ]);
    // A transcoder that refuses the key is not "accepted".
    const refused = new HttpTranscoderClient(
      "http://transcoder.test",
      key,
      () => async () => Response.json({ error: "unauthorized" }, { status: 401 }),
    );
    expect(await refused.start(request)).toBe("unavailable");
    expect(transcoderFor(env)).toBeInstanceOf(HttpTranscoderClient);
  });

  it("the production container is started with the control key and PUBLIC_URL", async () => {
    expect(await containerEnvVars(env)).toMatchObject({
      TRANSCODER_CONTROL_KEY: await transcoderControlKey(env.JWT_SECRET),
      PUBLIC_URL: env.PUBLIC_URL,
      TRANSCODER_PORT: "8788",
    });
  });
});

describe("tests reach only the transcoder they inject", () => {
  it("the workerd tests' own transcoder URL is a closed port", () => {
    expect(env.TRANSCODER_URL).toBe("http://127.0.0.1:9");
  });

  it("cancel and delete stop a running job through the injected client", async () => {
    await clearQueue();
    const cancelled = await queuedVideo();
    await dispatchNext(env, { client: new TwinTranscoder() });
    const twin = new TwinTranscoder();
    expect(await cancelJob(env, (await findVideo(env.DB, cancelled))!, { client: twin })).toBe(true);
    expect(twin.cancelled).toEqual([cancelled]);

    await clearQueue();
    const removed = await queuedVideo();
    await dispatchNext(env, { client: new TwinTranscoder() });
    const other = new TwinTranscoder();
    await removeVideo(env, (await findVideo(env.DB, removed))!, other);
    expect(other.cancelled).toEqual([removed]);
    expect(await findVideo(env.DB, removed)).toBeUndefined();
  });
});

describe("queue consumer", () => {
  it("acks every message, including a redelivery for a READY video, which it leaves alone", async () => {
    await clearQueue();
    const id = await queuedVideo();
    await env.DB.prepare("UPDATE videos SET status = 'READY' WHERE id = ?").bind(id).run();
    const batch = createMessageBatch<TranscodeJobMessage>("transcode-jobs", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { videoId: id } },
      { id: "m2", timestamp: new Date(), attempts: 2, body: { videoId: id } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "READY", attempts: 0 });
  });

  it("validates each message on arrival: a malformed one is acked and dropped, never retried", async () => {
    await clearQueue();
    const batch = createMessageBatch<TranscodeJobMessage>("transcode-jobs", [
      { id: "bad-shape", timestamp: new Date(), attempts: 1, body: { video: "x" } as unknown as TranscodeJobMessage },
      { id: "bad-id", timestamp: new Date(), attempts: 1, body: { videoId: "../../etc" } },
      { id: "not-json", timestamp: new Date(), attempts: 1, body: "hello" as unknown as TranscodeJobMessage },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["bad-id", "bad-shape", "not-json"]);
    expect(result.retryMessages).toEqual([]);
  });
});
