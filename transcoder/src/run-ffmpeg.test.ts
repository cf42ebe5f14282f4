/**
 * runFfmpeg against a stand-in process (node running a small script), so that exit codes,
 * progress output and signal handling can be staged exactly. Real ffmpeg runs are in
 * ffmpeg.real.test.ts.
 */
import { describe, expect, it } from "vitest";
import { AbortError, FfmpegError, runFfmpeg, type Logger } from "./run-ffmpeg.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function fake(script: string, durationSec = 10, signal?: AbortSignal) {
  const progress: number[] = [];
  const run = runFfmpeg({
    ffmpegPath: process.execPath,
    args: ["-e", script],
    durationSec,
    onProgress: (p) => progress.push(p),
    logger: quiet,
    signal,
  });
  return { run, progress };
}

describe("runFfmpeg", () => {
  it("reports progress from stdout and resolves on exit 0", async () => {
    const { run, progress } = fake(`
      const w = (s) => process.stdout.write(s);
      w('frame=1\\nout_time_us=2500000\\nprogress=continue\\n');
      w('out_time_us=5000');
      setTimeout(() => { w('000\\nprogress=continue\\nout_time_us=10000000\\nprogress=end\\n'); }, 20);
    `);
    await run;
    expect(progress).toEqual([25, 50, 100]);
  });

  it("rejects with the tail of stderr on a non-zero exit", async () => {
    const { run } = fake(`
      for (let i = 0; i < 80; i++) console.error('noise line ' + i);
      console.error('input.mp4: Invalid data found when processing input');
      process.exit(1);
    `);
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    const ffError = error as FfmpegError;
    expect(ffError.exitCode).toBe(1);
    expect(ffError.message).toContain("ffmpeg exited with code 1");
    expect(ffError.message).toContain("Invalid data found when processing input");
    expect(ffError.stderrTail.split("\n")).toHaveLength(50);
    expect(ffError.message).not.toContain("noise line 0\n");
  });

  it("stops the process on abort and rejects with an AbortError", async () => {
    const controller = new AbortController();
    const { run } = fake(
      `setInterval(() => process.stdout.write('out_time_us=1000000\\nprogress=continue\\n'), 50);`,
      10,
      controller.signal,
    );
    setTimeout(() => controller.abort(), 100);
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).name).toBe("AbortError");
  });

  it("escalates to SIGKILL when SIGTERM is ignored", async () => {
    const controller = new AbortController();
    const { run } = fake(`process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);`, 10, controller.signal);
    setTimeout(() => controller.abort(), 300);
    await expect(run).rejects.toBeInstanceOf(AbortError);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(fake("", 10, controller.signal).run).rejects.toBeInstanceOf(AbortError);
  });

  it("rejects with a clear error when the binary cannot be started", async () => {
    const run = runFfmpeg({ ffmpegPath: "/nonexistent/ffmpeg", args: [], durationSec: 1, logger: quiet });
    await expect(run).rejects.toThrow(/ffmpeg could not be started \(\/nonexistent\/ffmpeg\)/);
  });
});
