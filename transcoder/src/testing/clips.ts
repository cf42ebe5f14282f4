/**
 * Test clips made with ffmpeg's lavfi sources (testsrc2 picture, sine tone), encoded fast, and a
 * look at which processes still run inside a directory.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ClipOptions {
  size: string;
  rate: number;
  seconds: number;
  audio: boolean;
}

export async function makeClip(ffmpegPath: string, file: string, opts: ClipOptions): Promise<string> {
  const inputs = ["-f", "lavfi", "-i", `testsrc2=size=${opts.size}:rate=${opts.rate}:duration=${opts.seconds}`];
  if (opts.audio) inputs.push("-f", "lavfi", "-i", `sine=frequency=440:sample_rate=44100:duration=${opts.seconds}`);
  const codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", ...(opts.audio ? ["-c:a", "aac"] : [])];
  await run(ffmpegPath, ["-hide_banner", "-nostdin", "-v", "error", "-y", ...inputs, ...codecs, file]);
  return file;
}

/** Command lines of live processes that mention `text` (e.g. a job's directory), from /proc. */
export function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(join("/proc", pid, "cmdline"), "utf8")
        .split("\0")
        .join(" ");
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
