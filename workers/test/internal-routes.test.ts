import { SELF, env } from "cloudflare:test";
import { internalRoutesSuite, type IssuedJob } from "../../contract/testing/internal-routes-suite.ts";
import { dispatchNext } from "../src/jobs/dispatch.ts";
import { signJobToken } from "../src/jobs/job-token.ts";
import { findVideo } from "../src/db/videos.ts";
import { outputKey, sourceKey } from "../src/storage/keys.ts";
import { BASE } from "./helpers.ts";
import { TwinTranscoder } from "./twins/transcoder.ts";

/**
 * The real internal routes (routes/internal.ts, through the whole Worker) against the contract the
 * transcoder's twin of them also passes (transcoder/src/testing/worker-twin.test.ts).
 */

/** The run each issued job was dispatched as. */
const runs = new Map<string, number>();
let clock = Date.now();

internalRoutesSuite("the Worker", () => ({
  async issueJob(): Promise<IssuedJob> {
    const videoId = crypto.randomUUID();
    const now = ++clock;
    const source = new TextEncoder().encode(`source of ${videoId}`);
    await env.DB.prepare(
      `INSERT INTO videos (id, owner_id, title, filename, filetype, status, upload_expires_at, created_at, updated_at, source_bytes)
       VALUES (?, 'alice', 't', 't.mp4', 'video/mp4', 'QUEUED', ?, ?, ?, ?)`,
    )
      .bind(videoId, now + 1e9, now, now, source.byteLength)
      .run();
    await env.MEDIA.put(sourceKey(videoId), source);
    // Dispatched as the Worker does it; room for every job of this file at once.
    const twin = new TwinTranscoder();
    await dispatchNext({ ...env, TRANSCODER_CONCURRENCY: "1000" }, { client: twin });
    const request = twin.started.find((r) => r.videoId === videoId);
    if (!request) throw new Error(`the dispatcher did not start ${videoId}`);
    runs.set(videoId, request.attempt);
    return { videoId, token: request.token, source };
  },
  tokenOfAnotherRun(job) {
    return signJobToken(env.JWT_SECRET, { videoId: job.videoId, run: runs.get(job.videoId)! + 1 });
  },
  fetch(job, route, init) {
    return SELF.fetch(`${BASE}/internal/jobs/${job.videoId}/${route}`, init);
  },
  async storedFile(job, path) {
    const object = await env.MEDIA.get(outputKey(job.videoId, runs.get(job.videoId)!, path));
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  },
  async isCurrent(job) {
    const row = await findVideo(env.DB, job.videoId);
    return row?.status === "PROCESSING" && row.run === runs.get(job.videoId);
  },
}));
