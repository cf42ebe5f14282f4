/**
 * Reads a PATCH body chunk by chunk. Stops at the upload's byte limit (overflow), when a newer
 * PATCH takes over (stopped), or when the client goes away (broken) — in every case what was
 * read so far has been handed out, so the caller can keep it.
 */
export class BodyReader {
  broken = false;
  overflow = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | null;
  private readonly stop: Promise<"stopped">;
  private done = false;

  constructor(
    body: ReadableStream<Uint8Array> | null,
    /** Bytes the upload can still take. */
    private room: number,
    stopped: AbortSignal,
    private readonly onBroken: (error: unknown) => void,
  ) {
    this.reader = body?.getReader() ?? null;
    this.stop = new Promise((resolve) => stopped.addEventListener("abort", () => resolve("stopped")));
  }

  /** The next chunk, or null when the body is over for any reason. */
  async next(): Promise<Uint8Array | null> {
    if (!this.reader || this.done) return null;
    try {
      const next = await Promise.race([this.reader.read(), this.stop]);
      if (next === "stopped") return this.end(true);
      if (next.done) return this.end(false);
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
      this.onBroken(error);
      return this.end(true);
    }
  }

  private async end(broken: boolean): Promise<null> {
    this.done = true;
    this.broken ||= broken;
    await this.reader?.cancel().catch(() => undefined);
    return null;
  }
}
