/**
 * The behaviour every implementation of the Worker's internal job routes (JOB_ROUTES) must share:
 * the real routes in the Worker, and the in-memory twin the transcoder's tests talk to. One suite,
 * run against both, so the twin cannot drift from what the transcoder meets in production.
 *
 * Only vitest and contract types here: the suite is imported from both sides of the boundary.
 */
import { describe, expect, it } from "vitest";
import { JOB_ROUTES, parseTranscodeProgress, parseTranscodeResult, type TranscodeProgress, type TranscodeResult } from "../transcode.ts";

/** One job made current by the Worker under test. */
export interface IssuedJob {
  videoId: string;
  /** The bearer token of the current run. */
  token: string;
  /** The source the Worker serves for this job. */
  source: Uint8Array;
}

/** How the suite drives one implementation of the internal routes. */
export interface WorkerUnderTest {
  /** Makes a fresh job current (its source stored) and returns it. */
  issueJob(): Promise<IssuedJob>;
  /** A token the Worker signed for the same video, but for a run that is not the current one. */
  tokenOfAnotherRun(job: IssuedJob): Promise<string>;
  /** A request to `route` (relative to the job's callbackBase, as JOB_ROUTES names it). */
  fetch(job: IssuedJob, route: string, init: RequestInit): Promise<Response>;
  /** The bytes stored for output `path` of the job's run, or null when there are none. */
  storedFile(job: IssuedJob, path: string): Promise<Uint8Array | null>;
  /** Whether the job's run is still the current one. */
  isCurrent(job: IssuedJob): Promise<boolean>;
}

/** A successful result for `job`: its own source's size and digest, one 360p tier. */
async function resultFor(job: IssuedJob): Promise<TranscodeResult> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", job.source));
  return {
    ok: true,
    durationSec: 2,
    renditions: [{ name: "360p", width: 640, height: 360, videoBitrate: 800_000, bandwidth: 1_100_000 }],
    sourceBytes: job.source.byteLength,
    sourceSha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    encodeSeconds: 1,
  };
}
/** A successful result but for its tiers, which each malformed case below gets wrong. */
const noTiers = { ok: true, durationSec: 2, sourceBytes: 1, sourceSha256: "0".repeat(64), encodeSeconds: 1 };
const progress: TranscodeProgress = { progress: 42, playable: true };

const malformedProgress: unknown[] = [{ progress: "50", playable: true }, { progress: 150, playable: true }, { progress: 5 }, []];
const malformedResults: unknown[] = [
  noTiers,
  { ...noTiers, renditions: [] },
  { ...noTiers, renditions: [{ name: "360p", width: 640 }] },
  { ...noTiers, renditions: [{ name: "../x", width: 1, height: 1, videoBitrate: 1, bandwidth: 1 }] },
  { ok: false, error: "ffmpeg crashed" },
  { ok: "yes" },
];
// Dot segments are left out: the client resolves them before any route sees the URL.
const badPaths = ["evil.html", "240p/seg_1.ts", "240p/seg_00000.m4s", "poster.png", "sources/x", "storyboard.png", "240p/storyboard.vtt"];

export function internalRoutesSuite(name: string, worker: () => WorkerUnderTest): void {
  const call = (job: IssuedJob, route: string, token: string | null, init: RequestInit = {}) =>
    worker().fetch(job, route, {
      ...init,
      headers: { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), ...(init.headers as Record<string, string>) },
    });
  const post = (job: IssuedJob, route: string, token: string, body: unknown) =>
    call(job, route, token, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const put = (job: IssuedJob, path: string, token: string, body: string) =>
    call(job, JOB_ROUTES.file(path), token, { method: "PUT", body, headers: { "content-type": "application/octet-stream" } });
  /** The status, with the body read so no response is left open. */
  const statusOf = async (res: Promise<Response>) => {
    const r = await res;
    await r.arrayBuffer();
    return r.status;
  };

  describe(`internal job routes: ${name}`, () => {
    it("refuse a call without the job's token (401) on every route", async () => {
      const job = await worker().issueJob();
      const other = await worker().issueJob();
      for (const token of [null, "", "not-a-token", other.token]) {
        const label = `token ${JSON.stringify(token)}`;
        expect(await statusOf(call(job, JOB_ROUTES.source, token)), label).toBe(401);
        expect(await statusOf(put(job, "240p/index.m3u8", token ?? "", "#EXTM3U\n")), label).toBe(401);
        expect(await statusOf(post(job, JOB_ROUTES.progress, token ?? "", progress)), label).toBe(401);
        expect(await statusOf(post(job, JOB_ROUTES.result, token ?? "", await resultFor(job))), label).toBe(401);
      }
      expect(await worker().storedFile(job, "240p/index.m3u8")).toBeNull();
      expect(await worker().isCurrent(job)).toBe(true);
    });

    it("refuse a run that is not the current one (409) on every route", async () => {
      const job = await worker().issueJob();
      const stale = await worker().tokenOfAnotherRun(job);
      expect(await statusOf(call(job, JOB_ROUTES.source, stale))).toBe(409);
      expect(await statusOf(put(job, "240p/index.m3u8", stale, "#EXTM3U\n"))).toBe(409);
      expect(await statusOf(post(job, JOB_ROUTES.progress, stale, progress))).toBe(409);
      expect(await statusOf(post(job, JOB_ROUTES.result, stale, await resultFor(job)))).toBe(409);
      expect(await worker().storedFile(job, "240p/index.m3u8")).toBeNull();
      expect(await worker().isCurrent(job)).toBe(true);
    });

    it("serve the job's source to its token", async () => {
      const job = await worker().issueJob();
      const res = await call(job, JOB_ROUTES.source, job.token);
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(job.source);
    });

    it("store an output file, readable afterwards; refuse a path that is not an output file (400)", async () => {
      const job = await worker().issueJob();
      const playlist = "#EXTM3U\n#EXTINF:2,\nseg_00000.ts\n";
      const stored = await put(job, "240p/index.m3u8", job.token, playlist);
      expect(stored.status).toBe(204);
      await stored.arrayBuffer();
      expect(new TextDecoder().decode((await worker().storedFile(job, "240p/index.m3u8")) ?? new Uint8Array())).toBe(playlist);
      // The storyboard: its sprite and its WebVTT, beside the poster.
      for (const path of ["storyboard.jpg", "storyboard.vtt"]) expect(await statusOf(put(job, path, job.token, "x")), path).toBe(204);
      for (const path of badPaths) {
        expect(await statusOf(put(job, path, job.token, "x")), path).toBe(400);
      }
    });

    it("refuse a malformed progress report or result (400, naming the field) and keep the run", async () => {
      const job = await worker().issueJob();
      for (const body of malformedProgress) {
        const res = await post(job, JOB_ROUTES.progress, job.token, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        const check = parseTranscodeProgress(body);
        expect(((await res.json()) as { message: string }).message).toContain(check.ok ? "?" : check.error);
      }
      for (const body of malformedResults) {
        const res = await post(job, JOB_ROUTES.result, job.token, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        const check = parseTranscodeResult(body);
        expect(((await res.json()) as { message: string }).message).toContain(check.ok ? "?" : check.error);
      }
      expect(await worker().isCurrent(job)).toBe(true);
    });

    it("take progress with {continue: true}, then the result with 204, after which the run is no longer current", async () => {
      const job = await worker().issueJob();
      const res = await post(job, JOB_ROUTES.progress, job.token, progress);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ continue: true });
      expect(await statusOf(post(job, JOB_ROUTES.result, job.token, await resultFor(job)))).toBe(204);
      expect(await worker().isCurrent(job)).toBe(false);
      expect(await statusOf(post(job, JOB_ROUTES.progress, job.token, progress))).toBe(409);
      expect(await statusOf(put(job, "240p/index.m3u8", job.token, "#EXTM3U\n"))).toBe(409);
      expect(await statusOf(post(job, JOB_ROUTES.result, job.token, await resultFor(job)))).toBe(409);
    });
  });
}
