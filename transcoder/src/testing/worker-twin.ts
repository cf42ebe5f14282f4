/**
 * An in-memory twin of the Worker's internal job routes (JOB_ROUTES), for the transcoder's tests:
 * serves a source, keeps PUT files in a Map (with the order they completed in), records progress
 * and result posts, and misbehaves on demand (409 on progress, errors on PUTs, a held source).
 *
 * Routes: /internal/jobs/<videoId>/{source, progress, result, files/<OUTPUT_FILE path>}, each
 * checking `Authorization: Bearer <token>` against the tokens registered for that video. It answers
 * as the real routes do (workers/src/routes/internal.ts), which the shared contract suite
 * (contract/testing/internal-routes-suite.ts) checks for both: 401 for a token it does not know,
 * 409 for a run that ended (its result was taken, or `endRun`), 400 with a JSON `{error, message}`
 * for a bad output path or a report the contract's validators refuse, 204 for a stored file.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  OUTPUT_FILE,
  parseTranscodeProgress,
  parseTranscodeResult,
  type TranscodeProgress,
  type TranscodeResult,
} from "../../../contract/transcode.ts";

export interface TwinPut {
  path: string;
  contentType: string;
  body: Buffer;
  /** Global order in which PUT bodies were fully received (across all jobs). */
  seq: number;
  token: string;
}

export interface TwinJobOptions {
  source: Buffer;
  /** Accepted bearer tokens (one per attempt); each stays current until its run ends. */
  tokens: string[];
  /** Status for the n-th progress post (0-based); default 200. */
  progressStatus?: (n: number, job: TwinJob) => number;
  /** Status to answer the n-th PUT (0-based) of `path` with instead of storing it; below 300 (default 201), stored and 204 as the Worker answers. */
  putStatus?: (path: string, n: number) => number;
  /** When it returns a promise, the source response waits for it before sending anything. */
  holdSource?: (token: string) => Promise<void> | undefined;
  /** Awaited before the result is answered, as the Worker starts its next dispatch while taking a result. */
  onResult?: (job: TwinJob) => Promise<void> | void;
}

export interface TwinJob {
  videoId: string;
  options: TwinJobOptions;
  /** Latest content of every file. */
  files: Map<string, Buffer>;
  puts: TwinPut[];
  /** PUTs answered with an injected error status. */
  failedPuts: Array<{ path: string; status: number }>;
  progress: Array<TranscodeProgress & { token: string; status: number }>;
  results: Array<{ token: string; result: TranscodeResult }>;
  sourceRequests: string[];
  /** Tokens whose run is over: every route answers them 409, as the Worker does for a run that is not current. */
  ended: Set<string>;
}

export class WorkerTwin {
  private readonly server: Server;
  private readonly jobs = new Map<string, TwinJob>();
  private seq = 0;
  url = "";

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
        else res.destroy();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addJob(videoId: string, options: TwinJobOptions): TwinJob {
    const job: TwinJob = {
      videoId,
      options,
      files: new Map(),
      puts: [],
      failedPuts: [],
      progress: [],
      results: [],
      sourceRequests: [],
      ended: new Set(),
    };
    this.jobs.set(videoId, job);
    return job;
  }

  /** Ends the run of `token` (cancelled, superseded): from now on its calls get 409. */
  endRun(videoId: string, token: string): void {
    this.jobs.get(videoId)?.ended.add(token);
  }

  /** Whether `token` names a run of `videoId` that is still current. */
  isCurrent(videoId: string, token: string): boolean {
    const job = this.jobs.get(videoId);
    return !!job && job.options.tokens.includes(token) && !job.ended.has(token);
  }

  callbackBase(videoId: string): string {
    return `${this.url}/internal/jobs/${videoId}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/internal\/jobs\/([^/]+)\/(source|progress|result|files\/(.+))$/.exec(req.url ?? "");
    if (!match) return void res.writeHead(404).end();
    const job = this.jobs.get(match[1]!);
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    // As the Worker: a token it did not sign for this video is 401, one of a run that is over 409.
    if (!job?.options.tokens.includes(token)) return sendError(res, 401, "invalid_job_token", "This route needs the job's own token.");
    if (job.ended.has(token))
      return sendError(res, 409, "job_not_current", "This job was cancelled, retried or removed: stop working on it.");
    const route = match[2]!;

    if (route === "source" && req.method === "GET") {
      job.sourceRequests.push(token);
      const hold = job.options.holdSource?.(token);
      if (hold) await hold;
      if (res.destroyed) return;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": job.options.source.length });
      res.end(job.options.source);
      return;
    }
    const body = await readBody(req);
    if (route === "progress" && req.method === "POST") {
      const report = parseTranscodeProgress(parseJson(body));
      if (!report.ok) return sendError(res, 400, "invalid_progress", `${report.error} Send {progress: 0–100, playable: boolean}.`);
      const status = job.options.progressStatus?.(job.progress.length, job) ?? 200;
      job.progress.push({ ...report.value, token, status });
      if (status === 200) return void res.writeHead(200, { "content-type": "application/json" }).end('{"continue":true}');
      return void res.writeHead(status).end();
    }
    if (route === "result" && req.method === "POST") {
      const result = parseTranscodeResult(parseJson(body));
      if (!result.ok) return sendError(res, 400, "invalid_result", result.error);
      job.results.push({ token, result: result.value });
      // The result ends the run: later calls with its token are refused.
      job.ended.add(token);
      await job.options.onResult?.(job);
      return void res.writeHead(204).end();
    }
    const path = match[3];
    if (path !== undefined && req.method === "PUT") {
      if (!OUTPUT_FILE.test(path)) return sendError(res, 400, "invalid_output_path", `Not an output file name: ${path}`);
      const tries = job.puts.filter((p) => p.path === path).length + job.failedPuts.filter((p) => p.path === path).length;
      const status = job.options.putStatus?.(path, tries) ?? 201;
      if (status >= 300) {
        job.failedPuts.push({ path, status });
        return void res.writeHead(status).end();
      }
      const put: TwinPut = { path, contentType: String(req.headers["content-type"]), body, seq: ++this.seq, token };
      job.puts.push(put);
      job.files.set(path, body);
      return void res.writeHead(204).end();
    }
    res.writeHead(404).end();
  }
}

function sendError(res: ServerResponse, status: number, error: string, message: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error, message }));
}

/** The body as JSON, or null when it is not JSON (refused by the validators like any bad shape). */
function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString());
  } catch {
    return null;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Poll until `check` is true (or throw after `timeoutMs`). */
export async function waitFor(check: () => boolean, timeoutMs = 30_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
