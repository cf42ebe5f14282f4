/**
 * Cached segment requests per second: the local Worker (Cache API hit path) vs nginx serving the
 * same bytes from disk, both on loopback, both loaded the same way, in one run.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../test/e2e/fixture.ts";
import { ROOT, startWrangler, stopProcess, waitUntil } from "../stack.ts";
import type { Row } from "./table.ts";

const LOAD_SECONDS = 10;
const CONCURRENCY = 32;

async function requestsPerSecond(urls: string[]): Promise<{ rps: number; failures: number }> {
  const deadline = performance.now() + LOAD_SECONDS * 1000;
  let ok = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let i = worker; performance.now() < deadline; i++) {
        try {
          const res = await fetch(urls[i % urls.length]);
          await res.arrayBuffer();
          if (res.ok) ok++;
          else failures++;
        } catch {
          failures++;
        }
      }
    }),
  );
  return { rps: ok / LOAD_SECONDS, failures };
}

/** Requests/s of a trivial Worker answering segment-sized bodies from memory, under wrangler dev too. */
async function runtimeCeiling(sizes: number[], state: string): Promise<number> {
  const plain = await startWrangler({
    port: await freePort(),
    persistTo: join(state, "ceiling"),
    config: join(ROOT, "workers/dev/bench/plain-put.wrangler.toml"),
  });
  try {
    return (await requestsPerSecond(sizes.map((size) => `${plain.baseUrl}/bytes/${size}`))).rps;
  } finally {
    await plain.stop();
  }
}

export async function deliveryRows(workerBase: string, videoId: string, dir: string, state: string): Promise<Row[]> {
  const tier = "240p";
  const playlist = await (await fetch(`${workerBase}/videos/${videoId}/${tier}/index.m3u8`)).text();
  const names = playlist.split("\n").filter((l) => l.endsWith(".ts"));
  const www = join(dir, "www", tier);
  mkdirSync(www, { recursive: true });
  // Warm the Worker's cache and copy the very same bytes to disk for nginx.
  for (const name of names) {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${workerBase}/videos/${videoId}/${tier}/${name}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (i === 0) writeFileSync(join(www, name), bytes);
    }
  }
  const worker = await requestsPerSecond(names.map((n) => `${workerBase}/videos/${videoId}/${tier}/${n}`));
  const ceiling = await runtimeCeiling(
    names.map((n) => statSync(join(www, n)).size),
    state,
  );
  const ceilingNote = `the same wrangler dev serving equal bytes from memory: ${ceiling.toFixed(0)} req/s (ours ${((worker.rps / ceiling) * 100).toFixed(0)} % of it)`;

  if (spawnSync("nginx", ["-v"]).error) {
    return [
      {
        metric: "cached segment requests/s",
        ours: `${worker.rps.toFixed(0)} req/s`,
        baseline: "nginx not installed (apt-get install -y nginx)",
        note: ceilingNote,
      },
    ];
  }
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `user root; worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; keepalive_requests 1000000;
  types { video/mp2t ts; }
  server { listen 127.0.0.1:${port}; root ${join(dir, "www")}; } }
`,
  );
  const nginx = spawn("nginx", ["-c", conf, "-p", dir], { stdio: "ignore" });
  try {
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/${tier}/${names[0]}`).catch(() => null))?.ok === true,
      10_000,
      () => "nginx did not start",
    );
    const baseline = await requestsPerSecond(names.map((n) => `http://127.0.0.1:${port}/${tier}/${n}`));
    return [
      {
        metric: `cached segment requests/s (${CONCURRENCY} clients, ${LOAD_SECONDS} s)`,
        ours: `${worker.rps.toFixed(0)} req/s through the Worker (${worker.failures} failed)`,
        baseline: `${baseline.rps.toFixed(0)} req/s nginx from disk (${baseline.failures} failed)`,
        note: `ratio ${(worker.rps / baseline.rps).toFixed(2)} (target ≥ 0.5); ${ceilingNote}`,
      },
    ];
  } finally {
    await stopProcess(nginx);
  }
}
