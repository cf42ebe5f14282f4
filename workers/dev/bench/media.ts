/** ffmpeg helpers for the benchmark: clips, timed runs, SSIM. */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function makeClip(dir: string, seconds: number, size = "1280x720"): string {
  const file = join(dir, `source-${seconds}s-${size}.mp4`);
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${size}:rate=30`,
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=48000",
    "-t",
    String(seconds),
    "-c:v",
    "libx264",
    "-preset",
    "fast",
    "-b:v",
    "5M",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-b:a",
    "128k",
    "-shortest",
    file,
  ]);
  return file;
}

/** CPU seconds (user + system) of this process's finished children, from /proc (Linux). */
function childrenCpuSeconds(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  // Fields after "(comm) ": state is 3rd; cutime and cstime are the 16th and 17th, in clock ticks (100/s).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Wall seconds of one ffmpeg run. */
export function timedFfmpeg(args: string[], cwd: string): number {
  return cpuTimedFfmpeg(args, cwd).wall;
}

/** Wall and CPU seconds of one ffmpeg run. */
export function cpuTimedFfmpeg(args: string[], cwd: string): { wall: number; cpu: number } {
  const cpuBefore = childrenCpuSeconds();
  const start = performance.now();
  const result = spawnSync("ffmpeg", args, { cwd, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr.slice(-2000)}`);
  return { wall: (performance.now() - start) / 1000, cpu: childrenCpuSeconds() - cpuBefore };
}

/** SSIM (All) of an HLS tier against the source scaled to the tier's size. */
export function ssim(playlist: string, source: string, width: number, height: number): number {
  const result = spawnSync(
    "ffmpeg",
    [
      "-v",
      "info",
      "-i",
      playlist,
      "-i",
      source,
      "-lavfi",
      `[0:v]setpts=PTS-STARTPTS[d];[1:v]scale=${width}:${height}:flags=bicubic,setsar=1,setpts=PTS-STARTPTS[r];[d][r]ssim`,
      "-f",
      "null",
      "-",
    ],
    { encoding: "utf8" },
  );
  const m = /All:([\d.]+)/.exec(result.stderr);
  if (!m) throw new Error(`no SSIM for ${playlist}: ${result.stderr.slice(-1000)}`);
  return Number(m[1]);
}
