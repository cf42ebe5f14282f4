/**
 * What one job used, measured the way Containers bill it: CPU-seconds actually spent (vCPU is
 * billed on active use) and, for information, the peak memory.
 *
 * How, and why this way: Node does not give a child's rusage, and ffmpeg's own `-benchmark` line is
 * printed at a log level our ffmpeg commands keep quiet. Linux, though, adds every child's CPU time
 * (its own and its reaped children's) to the parent's `cutime`/`cstime` in /proc/self/stat the
 * moment the parent reaps it, which Node does before it emits 'exit'. So the children's CPU of a
 * job is the growth of those two fields between its start and its end, exactly, ffprobe included;
 * the transcoder's own CPU is the growth of `process.resourceUsage()`. Memory has no such sum: each
 * ffmpeg's high-water mark (VmHWM in /proc/<pid>/status) is sampled while it runs.
 *
 * Honest by construction: where /proc cannot be read (not Linux) there is no figure, and a job
 * that overlapped another in this process reports no CPU either (the growth would hold both), so
 * the Worker falls back to pricing wall time, which over-estimates and never under-.
 */
import { readFileSync } from "node:fs";

/** Linux reports /proc times in USER_HZ ticks, 100 per second on every architecture it ships. */
const TICKS_PER_SECOND = 100;
/** How often a running ffmpeg's memory high-water mark is read. */
const SAMPLE_MS = 250;

/** The job's figures, as the result carries them (absent: not measurable here). */
export interface JobUsage {
  cpuSeconds?: number;
  peakMemoryBytes?: number;
}

/** Lets runFfmpeg report the processes it starts. */
export interface ProcessWatcher {
  /** Starts watching a child; the returned function is called once it has exited. */
  watch(pid: number): () => void;
}

/** cutime + cstime of this process in ticks, or undefined without /proc. */
function reapedChildrenTicks(proc: string): number | undefined {
  try {
    const stat = readFileSync(`${proc}/self/stat`, "utf8");
    // Fields after the command name (which may hold spaces) in parentheses; cutime and cstime are
    // fields 16 and 17 of proc(5), so 14th and 15th after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[13]) + Number(fields[14]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** VmHWM of a running process in bytes, or undefined (gone, or no /proc). */
function highWaterMarkBytes(proc: string, pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`${proc}/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const ownCpuMicros = (): number => {
  const u = process.resourceUsage();
  return u.userCPUTime + u.systemCPUTime;
};

/** The meters of the jobs running in this process now. */
const active = new Set<JobMeter>();

export class JobMeter implements ProcessWatcher {
  private readonly startTicks: number | undefined;
  private readonly startMicros = ownCpuMicros();
  private readonly childPeaks = new Map<number, number>();
  private overlapped = active.size > 0;
  private result: JobUsage | undefined;

  private readonly proc: string;

  /** `proc`: where procfs is mounted (tests point it at a folder without one). */
  constructor(proc = "/proc") {
    this.proc = proc;
    this.startTicks = reapedChildrenTicks(proc);
    for (const other of active) other.overlapped = true;
    active.add(this);
  }

  watch(pid: number): () => void {
    const sample = (): void => {
      const bytes = highWaterMarkBytes(this.proc, pid);
      if (bytes !== undefined) this.childPeaks.set(pid, Math.max(bytes, this.childPeaks.get(pid) ?? 0));
    };
    sample();
    const timer = setInterval(sample, SAMPLE_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** The job's figures so far; the first call ends the measurement (later calls give the same). */
  finish(): JobUsage {
    if (this.result) return this.result;
    active.delete(this);
    const endTicks = reapedChildrenTicks(this.proc);
    const ownSeconds = (ownCpuMicros() - this.startMicros) / 1e6;
    const result: JobUsage = {};
    if (this.startTicks !== undefined && endTicks !== undefined && !this.overlapped) {
      result.cpuSeconds = Math.round((ownSeconds + (endTicks - this.startTicks) / TICKS_PER_SECOND) * 100) / 100;
    }
    if (this.childPeaks.size > 0) {
      // An upper bound rather than a sample of one moment: the poster and storyboard runs overlap
      // the encode, so their peaks are added to its peak and to the transcoder's own (whose
      // maxRSS is the process's lifetime high).
      const children = [...this.childPeaks.values()].reduce((sum, b) => sum + b, 0);
      result.peakMemoryBytes = process.resourceUsage().maxRSS * 1024 + children;
    }
    this.result = result;
    return result;
  }
}
