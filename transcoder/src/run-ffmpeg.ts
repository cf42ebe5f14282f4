/**
 * Run one ffmpeg command: spawn without a shell, report progress, keep the end of stderr for the
 * error message, and stop it when asked.
 */
import { spawn } from "node:child_process";
import { ProgressParser } from "./progress.ts";
import type { ProcessWatcher } from "./usage.ts";

/** The subset of a logger this module uses; `console` fits, so does pino. */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface RunFfmpegOptions {
  ffmpegPath: string;
  args: readonly string[];
  /** Source duration, for turning output time into a percentage. */
  durationSec: number;
  /** Called about twice a second with 0-100 (never decreasing), and with 100 at the end. */
  onProgress?: (percent: number) => void;
  logger: Logger;
  signal?: AbortSignal;
  /** Told of the ffmpeg process, to sample what it uses (the job's meter). */
  usage?: ProcessWatcher;
}

/** How many stderr lines to keep for the error message. */
const STDERR_TAIL_LINES = 50;
/** After SIGTERM, ffmpeg gets this long to flush and exit before SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** ffmpeg ran and failed. `stderrTail` is its last words, which usually name the problem. */
export class FfmpegError extends Error {
  override name = "FfmpegError";
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  readonly stderrTail: string;
  constructor(exitCode: number | null, exitSignal: NodeJS.Signals | null, stderrTail: string) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${exitSignal ?? "a signal"}`;
    super(stderrTail ? `ffmpeg ${how}:\n${stderrTail}` : `ffmpeg ${how} (no error output).`);
    this.exitCode = exitCode;
    this.exitSignal = exitSignal;
    this.stderrTail = stderrTail;
  }
}

/**
 * The run was cancelled through the AbortSignal. Same `name` as the DOM's AbortError so callers
 * can test `err.name === 'AbortError'` whatever produced it.
 */
export class AbortError extends Error {
  override name = "AbortError";
  constructor(message = "ffmpeg was stopped because the job was cancelled.") {
    super(message);
  }
}

/** Last N lines of a stream, without holding the whole of it. */
class LineTail {
  private lines: string[] = [];
  private partial = "";
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }

  /** Returns the complete lines this chunk finished. */
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split(/\r?\n|\r/);
    this.partial = parts.pop() ?? "";
    const done = parts.filter((l) => l.trim() !== "");
    this.lines.push(...done);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    return done;
  }

  text(): string {
    const all = this.partial.trim() ? [...this.lines, this.partial] : this.lines;
    return all.slice(-this.max).join("\n");
  }
}

export function runFfmpeg(options: RunFfmpegOptions): Promise<void> {
  const { ffmpegPath, args, durationSec, onProgress, logger, signal, usage } = options;
  if (signal?.aborted) return Promise.reject(new AbortError());

  return new Promise<void>((resolve, reject) => {
    logger.debug("ffmpeg start", { ffmpegPath, args });
    const child = spawn(ffmpegPath, args, { stdio: ["ignore", "pipe", "pipe"], shell: false });
    const unwatch = child.pid !== undefined ? usage?.watch(child.pid) : undefined;
    const progress = new ProgressParser(durationSec);
    const stderr = new LineTail(STDERR_TAIL_LINES);
    let killTimer: NodeJS.Timeout | undefined;
    let aborted = false;
    let settled = false;

    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      unwatch?.();
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve();
    };

    function onAbort(): void {
      if (aborted) return;
      aborted = true;
      logger.info("ffmpeg abort requested; sending SIGTERM");
      // SIGTERM first: ffmpeg stops cleanly. Note it then finalizes its outputs (playlists get
      // #EXT-X-ENDLIST), so outputs of an aborted run must be discarded, not published.
      child.kill("SIGTERM");
      killTimer = setTimeout(() => {
        logger.warn("ffmpeg did not exit after SIGTERM; sending SIGKILL");
        child.kill("SIGKILL");
      }, KILL_GRACE_MS);
    }
    signal?.addEventListener("abort", onAbort, { once: true });

    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      for (const percent of progress.push(chunk)) {
        try {
          onProgress?.(percent);
        } catch (err) {
          // A failing progress report must not kill the encode.
          logger.warn("onProgress threw", { error: String(err) });
        }
      }
    });

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      for (const line of stderr.push(chunk)) logger.debug(`ffmpeg: ${line}`);
    });

    child.on("error", (err) => {
      // Spawn failure (ENOENT, EACCES): no 'close' may follow.
      settle(new Error(`ffmpeg could not be started (${ffmpegPath}): ${err.message}`));
    });

    child.on("close", (code, exitSignal) => {
      if (aborted) {
        settle(new AbortError());
      } else if (code === 0) {
        logger.debug("ffmpeg done");
        settle();
      } else {
        settle(new FfmpegError(code, exitSignal, stderr.text()));
      }
    });
  });
}
