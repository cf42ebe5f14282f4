/**
 * The transcoder's HTTP server on port 0, with jobs talking to an in-memory twin of the Worker's
 * internal routes. Real ffmpeg; no timing assertions.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TranscodeRequest } from "../../contract/transcode.ts";
import { resolveBinaries, type FfmpegBinaries } from "./binaries.ts";
import type { Logger } from "./ffmpeg.ts";
import { createTranscoderServer, parseTranscodeRequest, type TranscoderServer } from "./server.ts";
import { transcoderControlKey } from "../../contract/control-key.ts";
import { makeClip, processesMentioning } from "./testing/clips.ts";
import { waitFor, WorkerTwin } from "./testing/worker-twin.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), "transcoder-server-test-"));
const workDir = mkdtempSync(join(dir, "work-"));
let bin: FfmpegBinaries;
let twin: WorkerTwin;
let transcoder: TranscoderServer;
let small: Buffer;
let long: Buffer;
let controlKey: string;

beforeAll(async () => {
  bin = await resolveBinaries();
  twin = await new WorkerTwin().start();
  const [smallFile, longFile] = await Promise.all([
    makeClip(bin.ffmpegPath, join(dir, "small.mp4"), { size: "320x240", rate: 25, seconds: 2, audio: true }),
    makeClip(bin.ffmpegPath, join(dir, "long.mp4"), { size: "640x360", rate: 30, seconds: 30, audio: true }),
  ]);
  small = readFileSync(smallFile);
  long = readFileSync(longFile);
  controlKey = await transcoderControlKey("test-secret");
  transcoder = await createTranscoderServer({
    port: 0,
    host: "127.0.0.1",
    concurrency: 1,
    workDir,
    ...bin,
    logger: quiet,
    controlKey,
    publicUrl: twin.url,
    pollMs: 200,
    progressIntervalMs: 250,
  });
});

afterAll(async () => {
  await transcoder?.close();
  await twin?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Video ids are UUIDs, as the Worker makes them. */
const ID_INTRUDER = "11111111-1111-4111-8111-111111111111";
const ID_FORGERY = "22222222-2222-4222-8222-222222222222";
const ID_SHAPE = "33333333-3333-4333-8333-333333333333";
const ID_VIDEO_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const ID_VIDEO_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const ID_VIDEO_C = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";
const ID_ANOTHER_VIDEO = "dddddddd-dddd-4ddd-8ddd-dddddddddddd";

function jobRequest(videoId: string, attempt = 1): TranscodeRequest {
  return { videoId, attempt, token: `${videoId}-token-${attempt}`, callbackBase: twin.callbackBase(videoId), segmentSeconds: 2 };
}

/** A call as the Worker makes it: with the control key, unless `key` says otherwise (null: none). */
async function call(
  method: string,
  path: string,
  body?: unknown,
  key: string | null = controlKey,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${transcoder.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe("transcoder server", () => {
  it("reports its health without video ids or paths, to anyone", async () => {
    expect(await call("GET", "/health", undefined, null)).toEqual({ status: 200, json: { ok: true, running: 0, capacity: 1 } });
  });

  it("lets only the holder of the control key start or stop a job", async () => {
    const req = jobRequest(ID_INTRUDER);
    const twinJob = twin.addJob(req.videoId, { source: small, tokens: [req.token] });
    for (const key of [null, "", "wrong-key", `${controlKey}x`, await transcoderControlKey("another-secret")]) {
      const start = await call("POST", "/jobs", req, key);
      expect(start).toMatchObject({ status: 401, json: { error: "unauthorized" } });
      expect((await call("DELETE", `/jobs/${ID_INTRUDER}`, undefined, key)).status).toBe(401);
    }
    const bearerless = await fetch(`${transcoder.url}/jobs`, {
      method: "POST",
      headers: { authorization: controlKey },
      body: JSON.stringify(req),
    });
    expect(bearerless.status).toBe(401);
    await bearerless.body?.cancel();
    expect(transcoder.running.size).toBe(0);
    expect(twinJob.sourceRequests).toEqual([]);
  });

  it("calls back only the Worker's own internal routes for the job's video", async () => {
    const good = jobRequest(ID_FORGERY);
    const elsewhere = twin.callbackBase(ID_FORGERY).replace("127.0.0.1", "localhost");
    for (const callbackBase of [
      "http://169.254.169.254/latest/meta-data",
      elsewhere,
      twin.callbackBase(ID_ANOTHER_VIDEO),
      `${twin.url}/internal/jobs/${ID_FORGERY}/../../../admin`,
      `${twin.url}/internal/jobs/${ID_FORGERY}?x=1`,
      `${twin.url.replace("http://", "http://user:pw@")}/internal/jobs/${ID_FORGERY}`,
      `${twin.url}/api/videos`,
    ]) {
      const res = await call("POST", "/jobs", { ...good, callbackBase });
      expect(res.status, callbackBase).toBe(400);
      expect((res.json as { message: string }).message).toBe(`callbackBase must be ${twin.url}/internal/jobs/${ID_FORGERY}.`);
    }
    expect(transcoder.running.size).toBe(0);
    expect(parseTranscodeRequest({ ...good, callbackBase: `${good.callbackBase}/` }, twin.url).callbackBase).toBe(`${good.callbackBase}/`);
  });

  it("refuses to start, in one line, without a control key or PUBLIC_URL", () => {
    const server = fileURLToPath(new URL("./server.ts", import.meta.url));
    const { TRANSCODER_CONTROL_KEY: _k, PUBLIC_URL: _u, ...env } = process.env;
    for (const [extra, reason] of [
      [{}, /TRANSCODER_CONTROL_KEY/],
      [{ TRANSCODER_CONTROL_KEY: "short" }, /TRANSCODER_CONTROL_KEY/],
      [{ TRANSCODER_CONTROL_KEY: controlKey }, /PUBLIC_URL/],
      [{ TRANSCODER_CONTROL_KEY: controlKey, PUBLIC_URL: "not a url" }, /PUBLIC_URL/],
    ] as const) {
      const run = spawnSync(process.execPath, [server], {
        env: { ...env, ...extra, TRANSCODER_PORT: "0" },
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe("");
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^The transcoder cannot start: /);
      expect(lines[0]).toMatch(reason);
    }
  });

  it("answers 404 with a JSON error for unknown routes and jobs", async () => {
    expect(await call("GET", "/nothing")).toMatchObject({ status: 404, json: { error: "not_found" } });
    expect(await call("DELETE", "/jobs/unknown")).toMatchObject({ status: 404, json: { error: "not_found" } });
  });

  it("refuses a bad body with 400 and a sentence", async () => {
    const notJson = await call("POST", "/jobs", "{nope");
    expect(notJson).toEqual({ status: 400, json: { error: "bad_request", message: "The request body is not valid JSON." } });
    const good = jobRequest(ID_SHAPE);
    for (const bad of [
      [],
      { ...good, videoId: "../etc" },
      { ...good, attempt: 0 },
      { ...good, token: "" },
      { ...good, callbackBase: "ftp://example.com/x" },
      { ...good, callbackBase: "not a url" },
      { ...good, segmentSeconds: "2" },
      { ...good, maxDurationSec: 0 },
      { ...good, maxDurationSec: "60" },
    ]) {
      const res = await call("POST", "/jobs", bad);
      expect(res.status).toBe(400);
      expect((res.json as { message: string }).message).toMatch(/^[A-Za-z].*\.$/);
    }
    expect(parseTranscodeRequest({ ...good, extra: true }, twin.url)).toEqual(good);
    // A direct upload's duration cap passes through to the job.
    expect(parseTranscodeRequest({ ...good, maxDurationSec: 2.5 }, twin.url)).toEqual({ ...good, maxDurationSec: 2.5 });
    expect((await call("GET", "/health")).json).toMatchObject({ running: 0 });
  });

  it("accepts a job, is idempotent on redelivery, busy at capacity, and cancels on DELETE", async () => {
    const a = jobRequest(ID_VIDEO_A);
    const twinA = twin.addJob(a.videoId, { source: long, tokens: [a.token] });
    expect(await call("POST", "/jobs", a)).toEqual({ status: 202, json: { accepted: true, videoId: ID_VIDEO_A } });
    expect(await call("POST", "/jobs", a)).toEqual({ status: 202, json: { accepted: true, videoId: ID_VIDEO_A } });
    expect((await call("GET", "/health")).json).toMatchObject({ running: 1 });

    const b = jobRequest(ID_VIDEO_B);
    const busy = await call("POST", "/jobs", b);
    expect(busy).toMatchObject({ status: 503, json: { error: "busy" } });

    // Once the encode is under way, cancel it.
    await waitFor(() => twinA.puts.some((p) => p.path.endsWith(".ts")), 60_000, "a first segment");
    expect(twinA.sourceRequests).toEqual([a.token]); // the redelivery did not start a second run
    expect((await call("DELETE", `/jobs/${ID_VIDEO_A}`)).status).toBe(204);
    await waitFor(() => readdirSync(workDir).length === 0, 15_000, "the job directory to be removed");
    expect(processesMentioning(workDir)).toEqual([]);
    expect((await call("GET", "/health")).json).toMatchObject({ running: 0 });
    expect(twinA.results).toEqual([]);
  });

  it("replaces a running attempt with a newer one; only the newer one reports", async () => {
    const first = jobRequest(ID_VIDEO_C, 1);
    const second = jobRequest(ID_VIDEO_C, 2);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const twinC = twin.addJob(ID_VIDEO_C, {
      source: small,
      tokens: [first.token, second.token],
      holdSource: (token) => (token === first.token ? held : undefined),
    });
    expect((await call("POST", "/jobs", first)).status).toBe(202);
    await waitFor(() => twinC.sourceRequests.length === 1, 10_000, "the first download");
    expect((await call("POST", "/jobs", second)).status).toBe(202);
    await waitFor(() => twinC.results.length > 0, 60_000, "a result");
    release();
    expect(twinC.results).toEqual([{ token: second.token, result: expect.objectContaining({ ok: true }) }]);
    expect(twinC.progress.every((p) => p.token === second.token)).toBe(true);
    await waitFor(() => transcoder.running.size === 0 && readdirSync(workDir).length === 0, 15_000, "cleanup");
  });

  it("is free for the next job by the time it posts a result (the Worker dispatches on it at once)", async () => {
    const first = jobRequest(ID_ANOTHER_VIDEO);
    const next = jobRequest(ID_VIDEO_B, 2);
    let nextStart: { status: number; json: unknown } | undefined;
    const twinFirst = twin.addJob(first.videoId, {
      source: small,
      tokens: [first.token],
      // As the Worker: taking the result, it starts the job that waited for this slot.
      onResult: async () => {
        nextStart = await call("POST", "/jobs", next);
      },
    });
    const twinNext = twin.addJob(next.videoId, { source: small, tokens: [next.token] });
    expect((await call("POST", "/jobs", first)).status).toBe(202);
    await waitFor(() => twinFirst.results.length > 0 && nextStart !== undefined, 60_000, "the first result");
    expect(twinFirst.results).toEqual([{ token: first.token, result: expect.objectContaining({ ok: true }) }]);
    expect(nextStart).toEqual({ status: 202, json: { accepted: true, videoId: ID_VIDEO_B } });
    await waitFor(() => twinNext.results.length > 0, 60_000, "the next job's result");
    await waitFor(() => transcoder.running.size === 0 && readdirSync(workDir).length === 0, 15_000, "cleanup");
  });
});
