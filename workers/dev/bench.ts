/**
 * `npm run bench`: figures measured side by side in one run on this machine. Not part of `npm test`
 * (tests never assert timings). Prints a table; each row says how it was measured.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, applyMigrations, assertNodeVersion, ensureWebBuilt, startWrangler, type RunningStack } from "./stack.ts";
import { openFlakyLink } from "./flaky-link.ts";
import { tusUpload } from "./tus-client.ts";
import { freePort } from "../test/e2e/fixture.ts";

const MiB = 1024 * 1024;
const rows: { metric: string; ours: string; baseline: string; note: string }[] = [];
const mbps = (bytes: number, ms: number) => `${((bytes * 8) / (ms / 1000) / 1e6).toFixed(1)} Mbit/s`;

async function devToken(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/dev-login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId: "bench", role: "creator" }),
  });
  return ((await res.json()) as { token: string }).token;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** Row: tus upload throughput on loopback vs a plain Worker → R2 put of the same file. */
async function tusVersusPlainPut(stack: RunningStack, token: string, state: string): Promise<void> {
  const file = randomBytes(96 * MiB);
  const plain = await startWrangler({ port: await freePort(), persistTo: join(state, "plain"), config: join(ROOT, "workers/dev/bench/plain-put.wrangler.toml") });
  try {
    const [, putMs] = await timed(async () => {
      const res = await fetch(`${plain.baseUrl}/bench-object`, { method: "PUT", body: file });
      if (!res.ok) throw new Error(`plain put failed: ${res.status}`);
    });
    const [, tusMs] = await timed(() => tusUpload({ endpoint: `${stack.baseUrl}/api/video/uploads`, token, file, chunkSize: 50 * MiB }));
    rows.push({
      metric: "upload throughput, 96 MiB on loopback",
      ours: `${mbps(file.length, tusMs)} (tus-js-client, 50 MiB chunks)`,
      baseline: `${mbps(file.length, putMs)} (plain Worker→R2 put)`,
      note: `ratio ${(putMs / tusMs).toFixed(2)}`,
    });
  } finally {
    await plain.stop();
  }
}

/** Row: goodput and bytes re-sent per drop through a 10 Mbit/s link cut every 20 s. */
async function flakyLinkGoodput(stack: RunningStack, token: string): Promise<void> {
  const file = randomBytes(48 * MiB);
  const link = await openFlakyLink({ host: "127.0.0.1", port: Number(new URL(stack.baseUrl).port) }, { upBytesPerSec: 10e6 / 8 });
  let drops = 0;
  const timer = setInterval(() => {
    drops++;
    link.dropAll();
  }, 20_000);
  try {
    const [, ms] = await timed(() =>
      tusUpload({ endpoint: `http://127.0.0.1:${link.port}/api/video/uploads`, token, file, chunkSize: 50 * MiB, retryDelays: [0, 500, 1000, 2000] }),
    );
    const extra = link.bytesUp() - file.length;
    rows.push({
      metric: "goodput through 10 Mbit/s, cut every 20 s",
      ours: `${mbps(file.length, ms)}, ${drops} drops, ${Math.round(extra / Math.max(drops, 1) / 1024)} KiB re-sent+headers per drop`,
      baseline: "10.0 Mbit/s link",
      note: "48 MiB file",
    });
  } finally {
    clearInterval(timer);
    await link.close();
  }
}

async function main(): Promise<void> {
  assertNodeVersion();
  const state = mkdtempSync(join(tmpdir(), "edge-video-bench-"));
  applyMigrations(state);
  ensureWebBuilt();
  const stack = await startWrangler({ port: await freePort(), persistTo: state });
  try {
    const token = await devToken(stack.baseUrl);
    await tusVersusPlainPut(stack, token, state);
    await flakyLinkGoodput(stack, token);
  } finally {
    await stack.stop();
    rmSync(state, { recursive: true, force: true });
  }
  console.log(`\nMeasured ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.versions.node}\n`);
  console.table(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
