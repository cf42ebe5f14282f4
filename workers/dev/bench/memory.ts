/**
 * Peak memory, sampled every 100 ms:
 * - of the Worker's isolate (the Worker and its Durable Objects share it under wrangler dev), through
 *   the DevTools protocol wrangler dev exposes: `Runtime.getHeapUsage`, JS heap plus the ArrayBuffers
 *   behind it — what the 128 MB isolate limit counts;
 * - of a process tree from /proc (Linux): the whole workerd runtime, or the transcoder's Node process
 *   with its ffmpeg child.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { tusUpload } from "../tus-client.ts";
import type { RunningStack } from "../stack.ts";
import type { Row } from "./table.ts";

const MiB = 1024 * 1024;

function parentOf(pid: number): number {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The root and every live descendant of it. */
export function processTree(root: number): number[] {
  const pids = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const pid of pids) {
      if (!tree.has(pid) && tree.has(parentOf(pid))) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

export interface MemorySampler {
  /** Stops sampling; the highest summed RSS seen, and the RSS when sampling started. */
  stop(): { peak: number; start: number };
}

/** Samples the summed RSS of the processes `pids()` names. */
export function sampleMemory(pids: () => number[]): MemorySampler {
  const total = () => pids().reduce((sum, pid) => sum + rssBytes(pid), 0);
  const start = total();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, total())), 100);
  return {
    stop() {
      clearInterval(timer);
      return { peak: Math.max(peak, total()), start };
    },
  };
}

interface HeapUsage {
  usedSize: number;
  totalSize: number;
  backingStorageSize: number;
}

/**
 * Samples the isolate's heap through wrangler dev's inspector every 100 ms; `stop()` gives the peak.
 * With `collectEveryMs`, a full GC is forced that often and the peak is of what is left after it:
 * the live set, rather than live + garbage V8 has not needed to collect yet.
 */
async function sampleIsolate(
  inspectorPort: number,
  collectEveryMs?: number,
): Promise<{ stop(): Promise<{ peak: number; start: number }> }> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  // wrangler's inspector proxy only admits local origins; Node's WebSocket sends none by itself.
  const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { Origin: "http://127.0.0.1" } } as unknown as string[]);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("error", () => reject(new Error("cannot reach the Worker's inspector")));
  });
  const replies = new Map<number, (result: HeapUsage) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: HeapUsage };
    if (message.id !== undefined) replies.get(message.id)?.(message.result!);
  });
  let id = 0;
  // A reply that never comes (the inspector can drop one under load) must not hang the benchmark.
  const call = (method: string) =>
    new Promise<HeapUsage | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 5_000);
      replies.set(++id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      ws.send(JSON.stringify({ id, method }));
    });
  const used = async () => {
    if (collectEveryMs) {
      // Twice: ArrayBuffer backing stores found dead by one full GC are released by the next.
      await call("HeapProfiler.collectGarbage");
      await call("HeapProfiler.collectGarbage");
    }
    const heap = await call("Runtime.getHeapUsage");
    return heap ? heap.usedSize + heap.backingStorageSize : 0;
  };
  const start = await used();
  let peak = start;
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise((r) => setTimeout(r, collectEveryMs ?? 100));
      peak = Math.max(peak, await used());
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      ws.close();
      return { peak, start };
    },
  };
}

export const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

/**
 * Peak memory of the Worker isolate while 500 MB videos are uploaded (tus-js-client, 50 MiB chunks):
 * once left alone (what V8 lets accumulate), once with a GC forced every second (the live set).
 */
export async function workerMemoryRow(stack: RunningStack, token: string, inspectorPort: number): Promise<Row> {
  const workerd = processTree(stack.wrangler.pid!).filter((pid) => commandOf(pid).includes("workerd"));
  if (!workerd.length) throw new Error("no workerd process under wrangler dev");
  const file = randomBytes(500 * 1e6);
  const uploadSampled = async (collectEveryMs?: number) => {
    const isolate = await sampleIsolate(inspectorPort, collectEveryMs);
    await tusUpload({ endpoint: `${stack.baseUrl}/api/video/uploads`, token, file, chunkSize: 50 * MiB, filename: "500mb.mp4" });
    return isolate.stop();
  };
  const rss = sampleMemory(() => workerd);
  const untouched = await uploadSampled();
  const live = await uploadSampled(1000);
  const process = rss.stop();
  return {
    metric: "peak memory of the Worker isolate during a 500 MB upload (tus-js-client, 50 MiB chunks)",
    ours: `live set ${mb(live.peak)} (full GC forced every 1 s); ${mb(untouched.peak)} with uncollected garbage (${mb(untouched.start)} idle)`,
    baseline: "isolate limit 128 MB",
    note: `JS heap + ArrayBuffers of the Worker + Durable Object isolate (DevTools Runtime.getHeapUsage, every 100 ms); whole workerd process RSS ${mb(process.start)} → ${mb(process.peak)} (local runtime, local R2)`,
  };
}
