/**
 * Upload rows, each against its baselines in the same run:
 * - tus on loopback vs a plain Worker→R2 put of the same bytes, and vs the reference Node tus server
 *   (`@tus/server` + `@tus/file-store`) driven by the same client;
 * - goodput through a 10 Mbit/s loopback link cut every 20 s, and bytes re-sent per cut, ours vs the
 *   reference server through the same kind of link.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startWrangler, stopProcess, waitUntil, type RunningStack } from "../stack.ts";
import { openFlakyLink } from "../flaky-link.ts";
import { tusUpload } from "../tus-client.ts";
import { freePort } from "../../test/e2e/fixture.ts";
import { mbps, timed, type Row } from "./table.ts";

const MiB = 1024 * 1024;
const CHUNK = 50 * MiB;
const LINK_BYTES_PER_SEC = 10e6 / 8;
const CUT_EVERY_MS = 20_000;

interface TusTarget {
  port: number;
  /** Upload creation path on that port. */
  path: string;
  token: string;
}

/** The reference server in a child process, files in `dir`. */
export async function startReferenceTus(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, "workers/dev/bench/reference-tus-server.ts"), dir, String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await waitUntil(
    async () => (await fetch(`http://127.0.0.1:${port}/files`, { method: "OPTIONS" }).catch(() => null))?.status === 204,
    20_000,
    () => "the reference tus server did not start",
  );
  return { port, stop: () => stopProcess(child) };
}

const upload = (t: TusTarget, file: Buffer, port = t.port, retryDelays?: number[]) =>
  tusUpload({ endpoint: `http://127.0.0.1:${port}${t.path}`, token: t.token, file, chunkSize: CHUNK, retryDelays });

export async function loopbackThroughput(stack: RunningStack, token: string, state: string): Promise<Row> {
  const file = randomBytes(96 * MiB);
  const plain = await startWrangler({
    port: await freePort(),
    persistTo: join(state, "plain"),
    config: join(ROOT, "workers/dev/bench/plain-put.wrangler.toml"),
  });
  const reference = await startReferenceTus(join(state, "reference-tus"));
  try {
    const [, putMs] = await timed(async () => {
      const res = await fetch(`${plain.baseUrl}/bench-object`, { method: "PUT", body: file });
      if (!res.ok) throw new Error(`plain put failed: ${res.status}`);
    });
    const [, oursMs] = await timed(() => upload({ port: Number(new URL(stack.baseUrl).port), path: "/api/video/uploads", token }, file));
    const [, refMs] = await timed(() => upload({ port: reference.port, path: "/files", token }, file));
    return {
      metric: "upload throughput, 96 MiB on loopback (tus-js-client, 50 MiB chunks)",
      ours: `${mbps(file.length, oursMs)} (Worker → Durable Object → R2)`,
      baseline: `plain Worker→R2 put ${mbps(file.length, putMs)}; @tus/server + file store ${mbps(file.length, refMs)}`,
      note: `ours / plain put ${(putMs / oursMs).toFixed(2)} (target ≥ 0.8); ours / reference ${(refMs / oursMs).toFixed(2)}`,
    };
  } finally {
    await reference.stop();
    await plain.stop();
  }
}

/** One upload through a fresh throttled link that drops every connection every CUT_EVERY_MS. */
interface FlakyRun {
  ms: number;
  drops: number;
  /** Per cut: bytes the client pushed into the link beyond the file (bodies sent again, plus request headers)… */
  resentPerDrop: number;
  /** …and, of those, the ones that had reached the server (the rest died in the link). */
  deliveredAgainPerDrop: number;
}

async function throughFlakyLink(t: TusTarget, file: Buffer): Promise<FlakyRun> {
  const link = await openFlakyLink({ host: "127.0.0.1", port: t.port }, { upBytesPerSec: LINK_BYTES_PER_SEC });
  let drops = 0;
  const timer = setInterval(() => {
    drops++;
    link.dropAll();
  }, CUT_EVERY_MS);
  try {
    const [, ms] = await timed(() => upload(t, file, link.port, [0, 500, 1000, 2000]));
    const perDrop = (bytes: number) => (bytes - file.length) / Math.max(drops, 1);
    return { ms, drops, resentPerDrop: perDrop(link.bytesUp()), deliveredAgainPerDrop: perDrop(link.bytesDelivered()) };
  } finally {
    clearInterval(timer);
    await link.close();
  }
}

export async function flakyLinkGoodput(stack: RunningStack, token: string, state: string): Promise<Row> {
  const file = randomBytes(48 * MiB);
  const reference = await startReferenceTus(join(state, "reference-tus-flaky"));
  try {
    const ours = await throughFlakyLink({ port: Number(new URL(stack.baseUrl).port), path: "/api/video/uploads", token }, file);
    const ref = await throughFlakyLink({ port: reference.port, path: "/files", token }, file);
    const kib = (n: number) => `${Math.round(n / 1024)} KiB`;
    const describe = (r: FlakyRun) =>
      `${mbps(file.length, r.ms)}, ${r.drops} cuts; per cut ${kib(r.resentPerDrop)} re-sent + headers, of which ${kib(r.deliveredAgainPerDrop)} had reached the server`;
    return {
      metric: "goodput through a 10 Mbit/s link cut every 20 s (48 MiB, tus-js-client)",
      ours: describe(ours),
      baseline: `@tus/server + file store: ${describe(ref)}`,
      note: `ours / reference ${(ref.ms / ours.ms).toFixed(3)} (target ≥ 0.98, ≤ 64 KiB re-sent per cut; bytes in flight in the link die with it whatever the server; our final 204 waits for R2 complete + D1 + queue, ≈ 0.3 s)`,
    };
  } finally {
    await reference.stop();
  }
}
