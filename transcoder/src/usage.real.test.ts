/**
 * The job meter against real ffmpeg encoding a lavfi clip. Only sanity bounds that cannot flake:
 * some CPU was spent, and no more than every core of the machine could give over the wall time.
 */
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveBinaries } from "./binaries.ts";
import { runFfmpeg, type Logger } from "./run-ffmpeg.ts";
import { JobMeter } from "./usage.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const onLinux = process.platform === "linux";

/** Two seconds of 720p encoded to nowhere: real work, no file. */
const encodeArgs = [
  ...["-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1", "-nostats"],
  ...["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "2"],
  ...["-c:v", "libx264", "-preset", "veryfast", "-f", "null", "-"],
];

describe("JobMeter", () => {
  it.runIf(onLinux)("counts the CPU of ffmpeg and of the transcoder, within what the cores allow", async () => {
    const { ffmpegPath } = await resolveBinaries();
    const meter = new JobMeter();
    const startedAt = performance.now();
    await runFfmpeg({ ffmpegPath, args: encodeArgs, durationSec: 2, logger: quiet, usage: meter });
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const usage = meter.finish();

    expect(usage.cpuSeconds).toBeGreaterThan(0);
    // Slack: the /proc tick (10 ms) and the meter's own reads.
    expect(usage.cpuSeconds).toBeLessThanOrEqual(wallSeconds * availableParallelism() + 0.5);
    // ffmpeg's high-water mark is in it: more than this Node process holds alone.
    expect(usage.peakMemoryBytes).toBeGreaterThan(process.resourceUsage().maxRSS * 1024);
    // The measurement is over: asking again gives the same figures.
    expect(meter.finish()).toEqual(usage);
  });

  it.runIf(onLinux)("gives no CPU figure for jobs that overlapped (the growth would hold both)", async () => {
    const { ffmpegPath } = await resolveBinaries();
    const a = new JobMeter();
    const b = new JobMeter();
    await Promise.all([
      runFfmpeg({ ffmpegPath, args: encodeArgs, durationSec: 2, logger: quiet, usage: a }),
      runFfmpeg({ ffmpegPath, args: encodeArgs, durationSec: 2, logger: quiet, usage: b }),
    ]);
    expect(a.finish().cpuSeconds).toBeUndefined();
    expect(b.finish().cpuSeconds).toBeUndefined();
    // A job that starts after both ended is alone again.
    const c = new JobMeter();
    await runFfmpeg({ ffmpegPath, args: encodeArgs, durationSec: 2, logger: quiet, usage: c });
    expect(c.finish().cpuSeconds).toBeGreaterThan(0);
  });

  it("gives no CPU or memory figure where /proc cannot be read (not Linux)", async () => {
    const { ffmpegPath } = await resolveBinaries();
    const meter = new JobMeter(join(tmpdir(), "no-procfs-here"));
    await runFfmpeg({ ffmpegPath, args: encodeArgs, durationSec: 2, logger: quiet, usage: meter });
    expect(meter.finish()).toEqual({});
  });
});
