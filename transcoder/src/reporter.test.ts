import { describe, expect, it } from "vitest";
import type { TranscodeProgress } from "../../contract/transcode.ts";
import { JobStoppedError } from "./callback.ts";
import type { Logger } from "./run-ffmpeg.ts";
import { ProgressReporter } from "./reporter.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("ProgressReporter", () => {
  it("never reports less progress, keeps playable, and tolerates failed posts", async () => {
    const posted: TranscodeProgress[] = [];
    let calls = 0;
    const reporter = new ProgressReporter({
      post: async (p) => {
        calls++;
        if (calls === 1) throw new TypeError("fetch failed");
        posted.push(p);
        return true;
      },
      logger: quiet,
      onStop: () => {
        throw new Error("not expected");
      },
      intervalMs: 10,
    });
    reporter.set(10);
    reporter.start();
    await tick(50);
    reporter.set(5, true);
    reporter.set(20);
    await reporter.flush();
    expect(posted.at(-1)).toEqual({ progress: 20, playable: true });
    expect(posted.map((p) => p.progress)).toEqual([...posted.map((p) => p.progress)].sort((a, b) => a - b));
    expect(calls).toBeGreaterThan(1); // the failed post was tried again
  });

  it("calls onStop once on a 409 and stops reporting; flush rethrows it", async () => {
    const stops: JobStoppedError[] = [];
    let calls = 0;
    const reporter = new ProgressReporter({
      post: async () => {
        calls++;
        throw new JobStoppedError("a progress report");
      },
      logger: quiet,
      onStop: (e) => stops.push(e),
      intervalMs: 10,
    });
    reporter.set(1);
    reporter.start();
    await tick(60);
    expect(stops).toHaveLength(1);
    expect(calls).toBe(1);
    await expect(reporter.flush()).rejects.toBeInstanceOf(JobStoppedError);
  });

  it("reports becoming playable at once, not on the next tick", async () => {
    const posted: TranscodeProgress[] = [];
    const reporter = new ProgressReporter({
      post: async (p) => {
        posted.push(p);
        return true;
      },
      logger: quiet,
      onStop: () => {
        throw new Error("not expected");
      },
      intervalMs: 60_000,
    });
    reporter.start();
    reporter.set(3);
    await tick(20);
    expect(posted).toEqual([]); // plain progress waits for the tick
    reporter.set(4, true);
    await tick(20);
    expect(posted).toEqual([{ progress: 4, playable: true }]);
    reporter.set(5, true); // already reported: nothing new to rush
    await tick(20);
    expect(posted).toHaveLength(1);
    reporter.stop();
  });
});
