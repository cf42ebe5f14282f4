import { SELF, env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { dispatchNext, dispatchOnUpload } from "../src/jobs/dispatch.ts";
import { cancelJob, recordProgress, recordResult } from "../src/jobs/lifecycle.ts";
import { findVideo } from "../src/db/videos.ts";
import { sourceKey } from "../src/storage/keys.ts";
import { MESSAGES } from "../src/videos/lifecycle.ts";
import { markUploadComplete, offVideoEvent, onVideoEvent, transition, type VideoEvent } from "../src/videos/transitions.ts";
import type { TranscoderClient } from "../src/jobs/transcoder-client.ts";
import type { TranscodeRequest, TranscodeResult } from "../../contract/transcode.ts";
import type { VideoListResponse } from "../../contract/api.ts";
import { BASE, tokenFor } from "./helpers.ts";

class TwinTranscoder implements TranscoderClient {
  started: TranscodeRequest[] = [];
  async start(request: TranscodeRequest) {
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

async function video(status: "UPLOADING" | "QUEUED" | "FAILED"): Promise<string> {
  await env.DB.prepare("UPDATE videos SET status = 'CANCELLED' WHERE status IN ('QUEUED', 'PROCESSING', 'HELD')").run();
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes)
     VALUES (?, 'alice', 't', 't.mp4', 'video/mp4', ?, ?, ?, ?, 5)`,
  )
    .bind(id, status, now + 1e9, now, now)
    .run();
  await env.MEDIA.put(sourceKey(id), "hello");
  return id;
}

/** Records the events of one video; unsubscribed after each test. */
const unsubscribe: (() => void)[] = [];
function record(id: string): VideoEvent[] {
  const seen: VideoEvent[] = [];
  unsubscribe.push(onVideoEvent((event) => void (event.videoId === id && seen.push(event))));
  return seen;
}
afterEach(() => {
  for (const off of unsubscribe.splice(0)) off();
});

describe("video events", () => {
  it("a subscriber sees the events of a whole job, in order", async () => {
    // The early dispatch (a subscriber itself) would race the twin here: this test dispatches.
    offVideoEvent(dispatchOnUpload);
    unsubscribe.push(() => onVideoEvent(dispatchOnUpload));
    const id = await video("UPLOADING");
    const seen = record(id);

    await markUploadComplete(env, id, 5, Date.now());
    const twin = new TwinTranscoder();
    expect(await dispatchNext(env, { client: twin })).toEqual([id]);
    const job = { videoId: id, run: twin.started[0].attempt };
    expect(await recordProgress(env, job, { progress: 30, playable: true })).toBe(true);
    expect(await recordProgress(env, job, { progress: 60, playable: true })).toBe(true);
    expect(await recordResult(env, job, okResult)).toBe(true);
    // A late report of the finished run changes nothing and says nothing.
    expect(await recordProgress(env, job, { progress: 70, playable: true })).toBe(false);

    expect(seen.map((e) => [e.type, e.from, e.to])).toEqual([
      ["uploaded", "UPLOADING", "QUEUED"],
      ["claimed", "QUEUED", "PROCESSING"],
      ["playable", "PROCESSING", "PROCESSING"],
      ["progressed", "PROCESSING", "PROCESSING"],
      ["succeeded", "PROCESSING", "READY"],
    ]);
    expect(seen.every((e) => e.videoId === id && typeof e.at === "number")).toBe(true);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "READY", message: MESSAGES.READY, progress: 100 });
  });

  it("a throwing or rejecting subscriber does not break the transition, nor the subscribers after it", async () => {
    const id = await video("QUEUED");
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    unsubscribe.push(() => logged.mockRestore());
    unsubscribe.push(
      onVideoEvent(() => {
        throw new Error("webhook down");
      }),
    );
    unsubscribe.push(onVideoEvent(async () => Promise.reject(new Error("analytics down"))));
    const seen = record(id);
    const background: Promise<unknown>[] = [];

    const row = (await findVideo(env.DB, id))!;
    expect(await cancelJob(env, row, { waitUntil: (p) => background.push(p) })).toBe(true);
    await Promise.all(background); // the rejection was caught, not passed on
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "CANCELLED", message: MESSAGES.CANCELLED });
    expect(seen.map((e) => e.type)).toEqual(["cancelled"]);
    expect(logged.mock.calls.map((c) => String(c[1]))).toEqual(
      expect.arrayContaining([expect.stringMatching(/webhook down/), expect.stringMatching(/analytics down/)]),
    );
  });

  it("a refused transition writes nothing and emits nothing", async () => {
    const id = await video("FAILED");
    const seen = record(id);
    expect(await transition(env, id, { event: "uploaded", sourceBytes: 5 })).toBeNull();
    expect(await transition(env, id, { event: "cancelled" })).toBeNull();
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "FAILED" });
    expect(seen).toEqual([]);
  });

  it("a completed upload wakes the dispatcher through its subscriber (the upload side does not call it)", async () => {
    const id = await video("UPLOADING");
    const seen = record(id);
    const background: Promise<unknown>[] = [];
    await markUploadComplete(env, id, 5, Date.now(), { waitUntil: (p) => background.push(p) });
    await Promise.all(background);
    // The tests' transcoder URL is a closed port: the job was claimed, then given back.
    expect(seen.map((e) => e.type)).toEqual(["uploaded", "claimed", "released"]);
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "QUEUED", attempts: 0, run: 1, message: MESSAGES.WAITING_FOR_TRANSCODER });
  });

  it("the admin's job table carries the actions the lifecycle allows", async () => {
    const failed = await video("FAILED");
    const res = await SELF.fetch(`${BASE}/api/videos?include=job`, {
      headers: { Authorization: `Bearer ${await tokenFor("root", "admin")}` },
    });
    const listed = ((await res.json()) as VideoListResponse).videos.find((v) => v.id === failed);
    expect(listed?.job?.actions).toEqual({ cancel: false, retry: true, prioritize: false });
    // The default video response keeps its published key set.
    expect(listed && "actions" in listed).toBe(false);
  });
});
