import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTestStack } from "./fixture.ts";
import { makeLavfiClip } from "../../../transcoder/src/testing/clips.ts";
import { tusUpload } from "../../dev/tus-client.ts";
import type { VideoListResponse, VideoResponse } from "../../../contract/api.ts";

const e2e = useTestStack({
  transcoder: true,
  vars: { JOB_LEASE_SECONDS: "8", JOB_RETRY_BASE_SECONDS: "1" },
  user: { id: "root", role: "admin" },
});

async function job(id: string): Promise<VideoListResponse["videos"][number]> {
  const res = await fetch(`${e2e.stack.baseUrl}/api/videos?include=job`, { headers: { Authorization: `Bearer ${e2e.token}` } });
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
    const file = makeLavfiClip(join(e2e.dir, "clip.mp4"), { picture: "testsrc2=size=1280x720:rate=30", tone: "sine", seconds: 12 });
    const bytes = readFileSync(file);
    const url = await tusUpload({
      endpoint: `${e2e.stack.baseUrl}/api/video/uploads`,
      token: e2e.token,
      file: bytes,
      chunkSize: 50 * 1024 * 1024,
    });
    const id = url.split("/").pop()!;

    const running = await until(id, (v) => v.status === "PROCESSING" && v.progress > 5);
    expect(running.job?.attempts).toBe(1);
    await e2e.stack.crashTranscoder();

    // The minute cron, asked every tick: it re-queues the stalled job once its lease is over, then dispatches it.
    const cron = async () => void (await (await fetch(`${e2e.stack.baseUrl}/__scheduled?cron=*+*+*+*+*`)).arrayBuffer());
    const ready = await until(id, (v) => v.status === "READY" || v.status === "FAILED", cron);
    expect(ready).toMatchObject({ status: "READY", progress: 100, sourceSha256: createHash("sha256").update(bytes).digest("hex") });
    expect(ready.job?.attempts).toBe(2);
  });
});
