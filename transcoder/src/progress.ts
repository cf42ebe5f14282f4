/**
 * Parser for ffmpeg's `-progress` output: blocks of `key=value` lines, each block ending with
 * `progress=continue` (or `progress=end` when ffmpeg is done), about twice a second.
 *
 *   frame=120
 *   out_time_us=4000000
 *   out_time_ms=4000000      ← despite the name, also microseconds (long-standing ffmpeg quirk)
 *   out_time=00:00:04.000000
 *   progress=continue
 *
 * Pure and chunk-agnostic: feed it whatever the pipe delivers, lines may be split anywhere.
 */

/** "00:01:02.500000" → 62.5; "N/A", "-577014:32:22.77" (ffmpeg before the first frame) → undefined. */
export function parseClockTime(value: string): number | undefined {
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

/** Seconds of output written, from one progress block; undefined if the block has no usable time. */
export function outTimeSeconds(block: ReadonlyMap<string, string>): number | undefined {
  for (const key of ["out_time_us", "out_time_ms"]) {
    const raw = block.get(key);
    if (raw === undefined || !/^\d+$/.test(raw)) continue; // "N/A" or negative before first frame
    return Number(raw) / 1_000_000;
  }
  const clock = block.get("out_time");
  return clock === undefined ? undefined : parseClockTime(clock);
}

export class ProgressParser {
  private buffered = "";
  private block = new Map<string, string>();
  private best = 0;
  private readonly durationSec: number;

  /** @param durationSec the source's duration; percent is output time over this. */
  constructor(durationSec: number) {
    this.durationSec = durationSec;
  }

  /**
   * Feed a chunk of stdout. Returns the percentages (0-100, never decreasing) of the blocks that
   * the chunk completed, in order; usually zero or one.
   */
  push(chunk: string): number[] {
    this.buffered += chunk;
    const lines = this.buffered.split(/\r?\n/);
    this.buffered = lines.pop() ?? "";
    const completed: number[] = [];
    for (const line of lines) {
      const eq = line.indexOf("=");
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      this.block.set(key, value);
      if (key === "progress") {
        completed.push(this.finishBlock(value === "end"));
      }
    }
    return completed;
  }

  private finishBlock(isEnd: boolean): number {
    const seconds = outTimeSeconds(this.block);
    this.block = new Map();
    let percent = this.best;
    if (isEnd) percent = 100;
    else if (seconds !== undefined && this.durationSec > 0) {
      // Capped below 100 until ffmpeg says "end": the last block before the trailer is written
      // can already show the full duration.
      percent = Math.min(99.9, Math.max(0, (seconds / this.durationSec) * 100));
    }
    this.best = Math.max(this.best, percent);
    return Math.round(this.best * 10) / 10;
  }
}
