/**
 * Test clips made with ffmpeg's lavfi sources (testsrc2 picture, sine tone), encoded fast, the
 * duration ffmpeg itself reads from a file or URL, and a look at which processes still run inside
 * a directory. The one place the transcoder's tests and the end-to-end tests make their media.
 */
import { execFile, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** H.264 as fast as it gets, in the pixel format every player decodes. */
export const H264_FAST = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];

/** A clip from lavfi sources: a picture, a tone or none, and how it is encoded. */
export interface LavfiClip {
  /** The picture source, e.g. `testsrc2=size=1280x720:rate=30`. */
  picture: string;
  /** The sound source, e.g. `sine=frequency=440` (encoded as AAC); none: no audio track. */
  tone?: string;
  /** The clip's length (`-t`), for sources that do not end by themselves. */
  seconds?: number;
  /** Video output options; default H264_FAST. */
  video?: string[];
  /** End with the shorter of picture and tone. */
  shortest?: boolean;
}

/** The ffmpeg arguments that write `clip` to `file`. */
export function lavfiArgs(file: string, clip: LavfiClip): string[] {
  return [
    ...["-hide_banner", "-nostdin", "-v", "error", "-y"],
    ...["-f", "lavfi", "-i", clip.picture],
    ...(clip.tone ? ["-f", "lavfi", "-i", clip.tone] : []),
    ...(clip.seconds === undefined ? [] : ["-t", String(clip.seconds)]),
    ...(clip.video ?? H264_FAST),
    ...(clip.tone ? ["-c:a", "aac"] : []),
    ...(clip.shortest ? ["-shortest"] : []),
    file,
  ];
}

/** Writes `clip` to `file` and returns `file` (blocking: for set-up code and end-to-end tests). */
export function makeLavfiClip(file: string, clip: LavfiClip, ffmpegPath = "ffmpeg"): string {
  execFileSync(ffmpegPath, lavfiArgs(file, clip));
  return file;
}

export interface ClipOptions {
  size: string;
  rate: number;
  seconds: number;
  audio: boolean;
}

/** The test pattern (and a 440 Hz tone) for exactly `seconds`, written to `file`. */
export async function makeClip(ffmpegPath: string, file: string, opts: ClipOptions): Promise<string> {
  await run(
    ffmpegPath,
    lavfiArgs(file, {
      picture: `testsrc2=size=${opts.size}:rate=${opts.rate}:duration=${opts.seconds}`,
      ...(opts.audio ? { tone: `sine=frequency=440:sample_rate=44100:duration=${opts.seconds}` } : {}),
    }),
  );
  return file;
}

/** The duration ffprobe reads for a file or URL (a served master playlist included), in seconds. */
export async function mediaDuration(ffprobePath: string, fileOrUrl: string): Promise<number> {
  const { stdout } = await run(ffprobePath, ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", fileOrUrl]);
  return Number(stdout.trim());
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
