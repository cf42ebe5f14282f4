/**
 * Client for the Worker's internal routes of one job (JOB_ROUTES, relative to callbackBase).
 *
 * Every call carries the job's bearer token. A 409 anywhere means "this attempt is over"
 * (cancelled or superseded): it surfaces as JobStoppedError and the job ends without a result.
 * PUTs and the result POST are retried on network errors, 429 and 5xx (3 tries, backoff);
 * any other status is an error. Progress posts are not retried here: the next tick is the retry.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import {
  JOB_ROUTES,
  OUTPUT_FILE,
  parseTranscodeProgress,
  parseTranscodeResult,
  type TranscodeProgress,
  type TranscodeResult,
} from "../../contract/transcode.ts";

/** A report that does not pass the shared schema: a bug on this side, caught before the Worker sees it. */
export class MalformedReportError extends Error {
  override name = "MalformedReportError";
}

/** The Worker answered 409: the attempt was cancelled or superseded. Stop, report nothing. */
export class JobStoppedError extends Error {
  override name = "JobStoppedError";
  constructor(what: string) {
    super(`The Worker refused ${what} (409): this attempt was cancelled or superseded.`);
  }
}

/** A call that failed for good (after retries, or with a status that is not worth retrying). */
export class CallbackError extends Error {
  override name = "CallbackError";
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

export interface CallbackOptions {
  callbackBase: string;
  token: string;
  /** The job's signal: cancels in-flight calls and retry waits. */
  signal: AbortSignal;
  fetch?: typeof fetch;
  /** Tries per PUT / result POST (default 3), and the first backoff (default 500 ms, doubled). */
  tries?: number;
  backoffMs?: number;
}

/** Per-request time limits: a hung connection must not hang the job. */
const PUT_TIMEOUT_MS = 120_000;
const POST_TIMEOUT_MS = 30_000;

export interface DownloadedSource {
  bytes: number;
  sha256: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const retryable = (status: number): boolean => status === 429 || status >= 500;

export class JobCallbacks {
  private readonly base: string;
  private readonly token: string;
  private readonly signal: AbortSignal;
  private readonly fetch: typeof fetch;
  private readonly tries: number;
  private readonly backoffMs: number;

  constructor(opts: CallbackOptions) {
    this.base = opts.callbackBase.replace(/\/+$/, "");
    this.token = opts.token;
    this.signal = opts.signal;
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.tries = opts.tries ?? 3;
    this.backoffMs = opts.backoffMs ?? 500;
  }

  private url(route: string): string {
    return `${this.base}/${route}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...extra };
  }

  /**
   * Stream the source into `dest`, hashing and counting on the way (never the whole file in
   * memory). `onBytes` gets (received, total) where total is Content-Length (0 when absent).
   */
  async downloadSource(dest: string, onBytes?: (received: number, total: number) => void): Promise<DownloadedSource> {
    const res = await this.fetch(this.url(JOB_ROUTES.source), { headers: this.headers(), signal: this.signal });
    if (res.status === 409) throw new JobStoppedError("the source download");
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      throw new CallbackError(`Downloading the source failed with HTTP ${res.status}.`, res.status);
    }
    const total = Number(res.headers.get("content-length") ?? 0) || 0;
    const hash = createHash("sha256");
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        received += chunk.length;
        onBytes?.(received, total);
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), meter, createWriteStream(dest), {
      signal: this.signal,
    });
    if (total && received !== total) {
      throw new CallbackError(`The source download ended after ${received} of ${total} bytes.`);
    }
    return { bytes: received, sha256: hash.digest("hex") };
  }

  /**
   * One call with retries. `send` makes the request (a fresh one per try, with its own timeout);
   * returns the final successful response.
   */
  private async withRetries(what: string, timeoutMs: number, send: (signal: AbortSignal) => Promise<Response>): Promise<Response> {
    let lastError = "";
    for (let attempt = 1; attempt <= this.tries; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs * 2 ** (attempt - 2), this.signal);
      let res: Response;
      try {
        res = await send(AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)]));
      } catch (err) {
        if (this.signal.aborted) throw this.signal.reason;
        lastError = `network error: ${(err as Error).message}`;
        continue;
      }
      if (res.ok) return res;
      await res.body?.cancel();
      if (res.status === 409) throw new JobStoppedError(what);
      lastError = `HTTP ${res.status}`;
      if (!retryable(res.status)) throw new CallbackError(`${what} failed with HTTP ${res.status}.`, res.status);
    }
    throw new CallbackError(`${what} failed after ${this.tries} tries (${lastError}).`);
  }

  /** PUT one output file; `path` must match OUTPUT_FILE (checked here, before the Worker does). */
  async putFile(path: string, body: Uint8Array, contentType: string): Promise<void> {
    if (!OUTPUT_FILE.test(path)) throw new Error(`Output path "${path}" does not match OUTPUT_FILE.`);
    const res = await this.withRetries(`uploading ${path}`, PUT_TIMEOUT_MS, (signal) =>
      this.fetch(this.url(JOB_ROUTES.file(path)), {
        method: "PUT",
        headers: this.headers({ "content-type": contentType }),
        body,
        signal,
      }),
    );
    await res.body?.cancel();
  }

  /**
   * One progress report, one try. Returns false on a network error or unexpected status (logged
   * by the caller, retried next tick); throws JobStoppedError on 409.
   */
  async postProgress(progress: TranscodeProgress): Promise<boolean> {
    const checked = parseTranscodeProgress(progress);
    if (!checked.ok) throw new MalformedReportError(`Refusing to send a malformed progress report: ${checked.error}`);
    const res = await this.fetch(this.url(JOB_ROUTES.progress), {
      method: "POST",
      headers: this.headers({ "content-type": "application/json" }),
      body: JSON.stringify(checked.value),
      signal: AbortSignal.any([this.signal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
    });
    await res.body?.cancel();
    if (res.status === 409) throw new JobStoppedError("a progress report");
    return res.ok;
  }

  /**
   * The final report, with retries (a stopped job never gets here: it reports nothing). Checked
   * against the shared schema first: a malformed one is never sent.
   */
  async postResult(result: TranscodeResult): Promise<void> {
    const checked = parseTranscodeResult(result);
    if (!checked.ok) throw new MalformedReportError(`Refusing to send a malformed result: ${checked.error}`);
    const res = await this.withRetries("posting the result", POST_TIMEOUT_MS, (signal) =>
      this.fetch(this.url(JOB_ROUTES.result), {
        method: "POST",
        headers: this.headers({ "content-type": "application/json" }),
        body: JSON.stringify(checked.value),
        signal,
      }),
    );
    await res.body?.cancel();
  }
}
