/**
 * Reads a PATCH body chunk by chunk. Stops at the upload's byte limit (overflow), when a newer
 * PATCH takes over (stopped), when the client goes away (broken), or when no byte arrived for the
 * idle timeout (stalled) — in every case what was read so far has been handed out, so the caller
 * can keep it.
 */
export class BodyReader {
  broken = false;
  overflow = false;
  /** The body went silent for longer than the idle timeout: a trickling or stuck client. */
  stalled = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | null;
  private readonly stop: Promise<"stopped">;
  /** A read still waiting for bytes; kept across `next()` calls so a wake-up never loses a chunk. */
  private pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  private lastByteAt = Date.now();
  private done = false;

  constructor(
    body: ReadableStream<Uint8Array> | null,
    /** Bytes the upload can still take. */
    private room: number,
    stopped: AbortSignal,
    private readonly onBroken: (error: unknown) => void,
    /** The longest wait for the next byte before the body counts as stalled. */
    private readonly idleMs = 30_000,
  ) {
    this.reader = body?.getReader() ?? null;
    this.stop = new Promise((resolve) => stopped.addEventListener("abort", () => resolve("stopped")));
  }

  /**
   * The next chunk, or null when the body is over for any reason. With `wakeAfterMs`, an empty
   * chunk when nothing arrived by then (the caller gets a chance to persist what it holds).
   */
  async next(wakeAfterMs?: number): Promise<Uint8Array | null> {
    if (!this.reader || this.done) return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const idleLeft = Math.max(0, this.lastByteAt + this.idleMs - Date.now());
      const wake = wakeAfterMs === undefined ? idleLeft : Math.min(Math.max(0, wakeAfterMs), idleLeft);
      const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), wake)));
      if (!this.pending) {
        this.pending = this.reader.read();
        // It may fail while nobody awaits it (between calls); the next call still sees the error.
        this.pending.catch(() => undefined);
      }
      const next = await Promise.race([this.pending, this.stop, timeout]);
      if (next === "stopped") return this.end(true);
      if (next === "timeout") {
        if (Date.now() - this.lastByteAt < this.idleMs) return new Uint8Array(0);
        this.stalled = true;
        return this.end(true);
      }
      this.pending = null;
      if (next.done) return this.end(false);
      this.lastByteAt = Date.now();
      if (next.value.length <= this.room) {
        this.room -= next.value.length;
        return next.value;
      }
      this.overflow = true;
      const allowed = next.value.subarray(0, this.room);
      this.room = 0;
      await this.end(false);
      return allowed.length > 0 ? allowed : null;
    } catch (error) {
      // The client went away mid-body ("Network connection lost"): what arrived is still ours.
      this.pending = null;
      this.onBroken(error);
      return this.end(true);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  private async end(broken: boolean): Promise<null> {
    this.done = true;
    this.broken ||= broken;
    await this.reader?.cancel().catch(() => undefined);
    return null;
  }
}
