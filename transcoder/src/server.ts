/**
 * The transcoder's HTTP server: the Worker POSTs a job, the job runs in the background and talks
 * back to the Worker's internal routes (see job.ts). Entry point: `node transcoder/src/server.ts`;
 * the only module that reads the environment:
 *
 *   TRANSCODER_CONTROL_KEY  required: the key the Worker sends on POST /jobs and DELETE /jobs/:id
 *                           (HMAC-SHA256 of a fixed label under the Worker's JWT_SECRET, see
 *                           contract/control-key.ts; at least 32 characters)
 *   PUBLIC_URL              required: the Worker's origin; the only one a job may call back
 *   TRANSCODER_PORT         8788
 *   TRANSCODER_HOST         127.0.0.1 (the container image sets 0.0.0.0)
 *   TRANSCODER_CONCURRENCY  1         jobs at once; more answers 503
 *   TRANSCODER_WORKDIR      os.tmpdir()
 *   TRANSCODER_DEBUG        1 to log ffmpeg's command lines and warnings
 *   FFMPEG_PATH / FFPROBE_PATH        see binaries.ts
 *
 * Routes (POST and DELETE need `Authorization: Bearer <TRANSCODER_CONTROL_KEY>`, else 401):
 *   GET    /health           200 {ok: true, running: <count>, capacity} (no ids, no paths: it is open)
 *   POST   /jobs             TranscodeRequest → 202 TranscoderAccepted. callbackBase must be
 *                            <PUBLIC_URL's origin>/internal/jobs/<videoId>, else 400. Same videoId and attempt
 *                            already running → 202 again (redelivery); same videoId, other attempt
 *                            → the old attempt is stopped (no result) and the new one starts;
 *                            at capacity → 503 {error: "busy"}; bad body → 400.
 *   DELETE /jobs/:videoId    stop it (ffmpeg killed, temp dir removed, no result) → 204; unknown → 404.
 * Errors are JSON `{error, message}`.
 */
import { StatusError } from "../../contract/errors.ts";
import { isVideoId } from "../../contract/video.ts";
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import type { TranscodeRequest, TranscoderAccepted, TranscodeResult } from "../../contract/transcode.ts";
import { resolveBinaries } from "./binaries.ts";
import { runJob } from "./job.ts";
import type { Logger } from "./run-ffmpeg.ts";

export interface TranscoderSettings {
  port: number;
  host: string;
  /** Jobs at once. */
  concurrency: number;
  /** Parent of the per-job temp dirs. */
  workDir: string;
  ffmpegPath: string;
  ffprobePath: string;
  logger: Logger;
  /** The key the Worker sends on POST /jobs and DELETE /jobs/:id. */
  controlKey: string;
  /** The Worker's URL: a job's callbackBase must be its origin + /internal/jobs/<videoId>. */
  publicUrl: string;
  fetch?: typeof fetch;
  /** Passed to runJob (tests use shorter intervals). */
  pollMs?: number;
  progressIntervalMs?: number;
}

interface RunningJob {
  request: TranscodeRequest;
  controller: AbortController;
  done: Promise<TranscodeResult | null>;
}

export interface TranscoderServer {
  server: Server;
  /** The bound URL, e.g. http://127.0.0.1:8788 (the real port when started on 0). */
  url: string;
  /** videoId → promise of the job's end, for tests and shutdown. */
  running: ReadonlyMap<string, RunningJob>;
  /** Stop every job, wait for them to clean up, and close the server. */
  close(): Promise<void>;
}

/** Request bodies are small JSON; anything bigger is not a job. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_SEGMENT_SECONDS = 30;

class HttpError extends StatusError {}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "bad_request", "The request body is not valid JSON.");
  }
}

/** Keys shorter than this are refused at start (the derived key is 64 hex digits). */
export const MIN_CONTROL_KEY_LENGTH = 32;

/** Constant-time comparison of the presented key (hashes first, so lengths never leak or throw). */
export function controlKeyMatches(header: string | undefined, controlKey: string): boolean {
  const presented = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1] ?? "";
  const digest = (text: string): Buffer => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(presented), digest(controlKey)) && presented.length > 0;
}

/**
 * Check the shape of a TranscodeRequest; throws a 400 naming the first problem. The job will fetch
 * its callbackBase with its token: only the Worker's own internal routes for that video are
 * accepted, never another host (request forgery) or another video's routes.
 */
export function parseTranscodeRequest(body: unknown, publicUrl: string): TranscodeRequest {
  const bad = (message: string): never => {
    throw new HttpError(400, "bad_request", message);
  };
  if (typeof body !== "object" || body === null || Array.isArray(body)) return bad("The body must be a JSON object.");
  const b = body as Record<string, unknown>;
  if (typeof b.videoId !== "string" || !isVideoId(b.videoId)) {
    return bad("videoId must be a video id (a UUID) as the Worker makes it.");
  }
  if (typeof b.attempt !== "number" || !Number.isInteger(b.attempt) || b.attempt < 1) return bad("attempt must be a positive integer.");
  if (typeof b.token !== "string" || b.token === "") return bad("token must be a non-empty string.");
  let url: URL | undefined;
  try {
    url = typeof b.callbackBase === "string" ? new URL(b.callbackBase) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) return bad("callbackBase must be an http(s) URL.");
  const expected = `${new URL(publicUrl).origin}/internal/jobs/${b.videoId}`;
  const exact = url.origin === new URL(publicUrl).origin && url.pathname.replace(/\/+$/, "") === `/internal/jobs/${b.videoId}`;
  if (!exact || url.username || url.password || url.search || url.hash) return bad(`callbackBase must be ${expected}.`);
  if (typeof b.segmentSeconds !== "number" || !(b.segmentSeconds > 0) || b.segmentSeconds > MAX_SEGMENT_SECONDS) {
    return bad(`segmentSeconds must be a number above 0 and at most ${MAX_SEGMENT_SECONDS}.`);
  }
  if (
    b.maxDurationSec !== undefined &&
    !(typeof b.maxDurationSec === "number" && b.maxDurationSec > 0 && Number.isFinite(b.maxDurationSec))
  ) {
    return bad("maxDurationSec, when given, must be a number of seconds above 0.");
  }
  return {
    videoId: b.videoId,
    attempt: b.attempt,
    token: b.token,
    callbackBase: b.callbackBase as string,
    segmentSeconds: b.segmentSeconds,
    ...(b.maxDurationSec === undefined ? {} : { maxDurationSec: b.maxDurationSec as number }),
  };
}

export async function createTranscoderServer(settings: TranscoderSettings): Promise<TranscoderServer> {
  const { logger } = settings;
  const jobs = new Map<string, RunningJob>();
  /** Jobs stopped (superseded, cancelled) but still cleaning up, so close() can wait for them. */
  const finishing = new Set<Promise<unknown>>();

  function startJob(request: TranscodeRequest): void {
    const controller = new AbortController();
    // The slot is freed before the result goes out (the Worker dispatches the next job on it, and
    // would otherwise find this transcoder still busy); close() still waits for the post.
    const free = (): void => {
      if (jobs.get(request.videoId) !== job) return; // a superseded attempt must not remove its successor
      jobs.delete(request.videoId);
      finishing.add(done);
      void done.finally(() => finishing.delete(done));
    };
    const done = runJob(request, {
      onWorkDone: free,
      ffmpegPath: settings.ffmpegPath,
      ffprobePath: settings.ffprobePath,
      workDir: settings.workDir,
      logger,
      signal: controller.signal,
      fetch: settings.fetch,
      pollMs: settings.pollMs,
      progressIntervalMs: settings.progressIntervalMs,
    });
    const job: RunningJob = { request, controller, done };
    jobs.set(request.videoId, job);
    void done.finally(() => {
      // A superseded attempt must not remove its successor.
      if (jobs.get(request.videoId) === job) jobs.delete(request.videoId);
    });
  }

  function stopJob(job: RunningJob, why: string): void {
    job.controller.abort(new Error(why));
    finishing.add(job.done);
    void job.done.finally(() => finishing.delete(job.done));
  }

  async function postJob(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parseTranscodeRequest(await readJson(req), settings.publicUrl);
    const accepted: TranscoderAccepted = { accepted: true, videoId: request.videoId };
    const existing = jobs.get(request.videoId);
    if (existing && existing.request.attempt === request.attempt) {
      logger.info("job redelivered; already running", { videoId: request.videoId, attempt: request.attempt });
      return sendJson(res, 202, accepted);
    }
    if (!existing && jobs.size >= settings.concurrency) {
      throw new HttpError(503, "busy", `The transcoder is busy (${jobs.size} of ${settings.concurrency} jobs running); try again later.`);
    }
    if (existing) {
      logger.info("new attempt supersedes the running one", {
        videoId: request.videoId,
        old: existing.request.attempt,
        new: request.attempt,
      });
      jobs.delete(request.videoId);
      stopJob(existing, `superseded by attempt ${request.attempt}`);
    }
    startJob(request);
    sendJson(res, 202, accepted);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://transcoder").pathname;
    if (path === "/health" && req.method === "GET") {
      // Open to anyone who can reach the port (health checks): a count, never video ids or paths.
      return sendJson(res, 200, { ok: true, running: jobs.size, capacity: settings.concurrency });
    }
    const match = /^\/jobs\/([^/]+)$/.exec(path);
    const control = (path === "/jobs" && req.method === "POST") || (match !== null && req.method === "DELETE");
    // Only the Worker may start or stop a job; checked before the body is even read.
    if (control && !controlKeyMatches(req.headers.authorization, settings.controlKey)) {
      req.resume();
      throw new HttpError(401, "unauthorized", "Starting or stopping a job needs the control key (Authorization: Bearer <key>).");
    }
    if (path === "/jobs" && req.method === "POST") return postJob(req, res);
    if (match && req.method === "DELETE") {
      const videoId = decodeURIComponent(match[1]!);
      const job = jobs.get(videoId);
      if (!job) throw new HttpError(404, "not_found", `No job is running for video ${videoId}.`);
      logger.info("job cancelled by request", { videoId });
      jobs.delete(videoId);
      stopJob(job, "cancelled by DELETE /jobs");
      res.writeHead(204).end();
      return;
    }
    throw new HttpError(404, "not_found", `No route for ${req.method} ${path}.`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.code, message: err.message });
      logger.error("request failed", { error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: "internal", message: "The transcoder failed to handle the request." });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;

  return {
    server,
    url: `http://${host}:${port}`,
    running: jobs,
    async close() {
      for (const job of [...jobs.values()]) stopJob(job, "the transcoder is shutting down");
      jobs.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...finishing]);
      await closed;
    },
  };
}

/** One JSON line per log entry on stdout/stderr; debug only when asked. */
export function consoleLogger(debug: boolean): Logger {
  const line = (level: string, message: string, meta?: Record<string, unknown>): string =>
    JSON.stringify({ time: new Date().toISOString(), level, message, ...meta });
  return {
    debug: (m, meta) => {
      if (debug) console.log(line("debug", m, meta));
    },
    info: (m, meta) => console.log(line("info", m, meta)),
    warn: (m, meta) => console.warn(line("warn", m, meta)),
    error: (m, meta) => console.error(line("error", m, meta)),
  };
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name} must be an integer of at least ${min}, got "${raw}".`);
    process.exit(1);
  }
  return n;
}

/** The control key and PUBLIC_URL, or a one-line reason to refuse to start. */
export function controlSettingsFromEnv(env: NodeJS.ProcessEnv): { controlKey: string; publicUrl: string } | string {
  const controlKey = env.TRANSCODER_CONTROL_KEY ?? "";
  if (controlKey.length < MIN_CONTROL_KEY_LENGTH) {
    return `TRANSCODER_CONTROL_KEY must be set (at least ${MIN_CONTROL_KEY_LENGTH} characters): only the Worker holding it may start or stop jobs.`;
  }
  let url: URL | undefined;
  try {
    url = new URL(env.PUBLIC_URL ?? "");
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return `PUBLIC_URL must be set to the Worker's http(s) URL: jobs call back only there (got "${env.PUBLIC_URL ?? ""}").`;
  }
  return { controlKey, publicUrl: url.toString() };
}

async function main(): Promise<void> {
  const control = controlSettingsFromEnv(process.env);
  if (typeof control === "string") {
    console.error(`The transcoder cannot start: ${control}`);
    process.exit(1);
  }
  let binaries: Awaited<ReturnType<typeof resolveBinaries>>;
  try {
    binaries = await resolveBinaries();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
  const host = process.env.TRANSCODER_HOST || "127.0.0.1";
  const port = intFromEnv("TRANSCODER_PORT", 8788, 0);
  const transcoder = await createTranscoderServer({
    host,
    port,
    concurrency: intFromEnv("TRANSCODER_CONCURRENCY", 1, 1),
    workDir: process.env.TRANSCODER_WORKDIR || tmpdir(),
    ...binaries,
    ...control,
    logger: consoleLogger(process.env.TRANSCODER_DEBUG === "1"),
  }).catch((err: unknown) => {
    console.error(`The transcoder could not listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
  console.log(`transcoder listening on ${transcoder.url}`);

  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`transcoder: ${signal} received; stopping running jobs`);
    transcoder.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void main();
}
