/**
 * Progress reports to the Worker, at most one per `intervalMs` and one at a time; when nothing
 * changed, one every `heartbeatMs` anyway (the reports extend the job's lease on the Worker side).
 * Becoming playable is reported at once.
 *
 * A 409 answer means the attempt is over: `onStop` is called once and reporting stops. Other
 * failures (network, 5xx) are logged and the next tick tries again with the latest state.
 */
import type { TranscodeProgress } from "../../contract/transcode.ts";
import { JobStoppedError } from "./callback.ts";
import type { Logger } from "./run-ffmpeg.ts";

export interface ProgressReporterOptions {
  /** One try; resolves false on a non-2xx answer, throws JobStoppedError on 409. */
  post: (progress: TranscodeProgress) => Promise<boolean>;
  logger: Logger;
  onStop: (error: JobStoppedError) => void;
  intervalMs?: number;
  heartbeatMs?: number;
}

export class ProgressReporter {
  private readonly opts: ProgressReporterOptions;
  private state: TranscodeProgress = { progress: 0, playable: false };
  private sent: TranscodeProgress | undefined;
  private sentAt = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(opts: ProgressReporterOptions) {
    this.opts = opts;
  }

  /** Record the latest state; progress never goes down, playable never goes back to false. */
  set(progress: number, playable?: boolean): void {
    const clamped = Math.min(100, Math.max(0, Math.round(progress * 10) / 10));
    const becamePlayable = playable === true && !this.state.playable;
    this.state = {
      progress: Math.max(this.state.progress, clamped),
      playable: this.state.playable || playable === true,
    };
    // "Playable" is what the creator is waiting for: report it now, not on the next tick (after
    // the report in flight, if any).
    if (becamePlayable && this.timer && !this.stopped) {
      void (this.inFlight ?? Promise.resolve()).then(() => {
        if (!this.stopped && !this.inFlight && !this.sent?.playable) void this.send();
      });
    }
  }

  get current(): TranscodeProgress {
    return { ...this.state };
  }

  start(): void {
    const intervalMs = this.opts.intervalMs ?? 1000;
    this.timer = setInterval(() => {
      if (this.inFlight || this.stopped) return;
      const changed = this.sent?.progress !== this.state.progress || this.sent?.playable !== this.state.playable;
      if (changed || Date.now() - this.sentAt >= (this.opts.heartbeatMs ?? 10_000)) void this.send();
    }, intervalMs);
  }

  /** Stop the timer (an in-flight report completes on its own). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Send the current state now (after any report in flight) and stop the timer. Rejects with
   * JobStoppedError if the Worker answers 409; other failures are only logged.
   */
  async flush(): Promise<void> {
    this.stop();
    await this.inFlight;
    await this.post(this.state, true);
  }

  private send(): Promise<void> {
    const p = this.post(this.state, false).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = p;
    return p;
  }

  private async post(state: TranscodeProgress, rethrowStop: boolean): Promise<void> {
    const snapshot = { ...state };
    try {
      const ok = await this.opts.post(snapshot);
      this.sentAt = Date.now();
      if (ok) this.sent = snapshot;
      else this.opts.logger.warn("progress report refused; retrying on the next tick", { ...snapshot });
    } catch (err) {
      if (err instanceof JobStoppedError) {
        this.stop();
        if (rethrowStop) throw err;
        this.opts.onStop(err);
        return;
      }
      // The job's own abort (cancel) lands here too: not news, the job handles it.
      if ((err as Error | undefined)?.name === "AbortError") return;
      this.opts.logger.warn("progress report failed; retrying on the next tick", { error: String(err) });
    }
  }
}
