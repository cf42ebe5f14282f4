/**
 * Fault: the transcoder (with its ffmpeg) dies mid-job, like a container that is lost. Its lease
 * runs out, the minute cron puts the job back with backoff, a fresh transcoder takes attempt 2,
 * and the video ends READY — one job, never two at once. Leases and backoff are shortened here
 * (JOB_LEASE_SECONDS, JOB_RETRY_BASE_SECONDS); production keeps 90 s and 30 s.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "./fixture.ts";
import { tusUpload } from "../../dev/tus-client.ts";
import type { VideoListResponse, VideoResponse } from "../../../contract/api.ts";

let stack: TestStack;
let admin: string;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack({ transcoder: true, vars: { JOB_LEASE_SECONDS: "8", JOB_RETRY_BASE_SECONDS: "1" } });
  admin = await stack.tokenFor("root", "admin");
  dir = mkdtempSync(join(tmpdir(), "edge-video-crash-"));
});
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function job(id: string): Promise<VideoListResponse["videos"][number]> {
  const res = await fetch(`${stack.baseUrl}/api/videos?include=job`, { headers: { Authorization: `Bearer ${admin}` } });
  return ((await res.json()) as VideoListResponse).videos.find((v) => v.id === id)!;
}

async function until(
  id: string,
  done: (v: VideoResponse) => boolean,
  tick?: () => Promise<void>,
): Promise<VideoListResponse["videos"][number]> {
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    await tick?.();
    const v = await job(id);
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`video ${id} stuck: ${JSON.stringify(await job(id))}`);
}

describe("transcoder killed mid-job", () => {
  it("loses its lease, is retried by a fresh transcoder, and the video ends READY", async () => {
    const file = join(dir, "clip.mp4");
    execFileSync("ffmpeg", [
      "-v",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=1280x720:rate=30",
      "-f",
      "lavfi",
      "-i",
      "sine",
      "-t",
      "12",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      file,
    ]);
    const bytes = readFileSync(file);
    const url = await tusUpload({ endpoint: `${stack.baseUrl}/api/video/uploads`, token: admin, file: bytes, chunkSize: 50 * 1024 * 1024 });
    const id = url.split("/").pop()!;

    const running = await until(id, (v) => v.status === "PROCESSING" && v.progress > 5);
    expect(running.job?.attempts).toBe(1);
    await stack.crashTranscoder();

    // The minute cron, asked every tick: it re-queues the stalled job once its lease is over, then dispatches it.
    const cron = async () => void (await (await fetch(`${stack.baseUrl}/__scheduled?cron=*+*+*+*+*`)).arrayBuffer());
    const ready = await until(id, (v) => v.status === "READY" || v.status === "FAILED", cron);
    expect(ready).toMatchObject({ status: "READY", progress: 100, sourceSha256: createHash("sha256").update(bytes).digest("hex") });
    expect(ready.job?.attempts).toBe(2);
  });
});
