/**
 * Load: 20 concurrent tus uploads and 200 concurrent segment readers on loopback for 60 s, bounded
 * and self-stopping. Reports failures, reader latency, and whether every upload is byte-exact in R2.
 */
import { createHash, randomBytes } from "node:crypto";
import { tusUpload } from "../tus-client.ts";
import type { Row } from "./table.ts";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../stack.ts";

const SECONDS = 60;
const UPLOADERS = 20;
const READERS = 200;
const UPLOAD_BYTES = 8 * 1024 * 1024;

function r2Sha256(persistTo: string, key: string): string | null {
  const file = join(persistTo, `load-${Date.now()}`);
  const result = spawnSync(
    join(ROOT, "node_modules", ".bin", "wrangler"),
    ["r2", "object", "get", `edge-video-media/${key}`, "--local", "--persist-to", persistTo, "--file", file],
    { cwd: ROOT },
  );
  if (result.status !== 0) return null;
  const digest = createHash("sha256").update(readFileSync(file)).digest("hex");
  rmSync(file);
  return digest;
}

export async function loadRows(baseUrl: string, token: string, videoId: string, persistTo: string): Promise<Row[]> {
  const tiers = ["240p", "480p", "720p"];
  const urls: string[] = [];
  for (const tier of tiers) {
    const playlist = await (await fetch(`${baseUrl}/videos/${videoId}/${tier}/index.m3u8`)).text();
    for (const name of playlist.split("\n").filter((l) => l.endsWith(".ts"))) urls.push(`${baseUrl}/videos/${videoId}/${tier}/${name}`);
  }
  const deadline = performance.now() + SECONDS * 1000;
  const latencies: number[] = [];
  let readFailures = 0;
  const readers = Array.from({ length: READERS }, async (_, i) => {
    for (let n = i; performance.now() < deadline; n++) {
      const start = performance.now();
      try {
        const res = await fetch(urls[n % urls.length]);
        await res.arrayBuffer();
        if (res.ok) latencies.push(performance.now() - start);
        else readFailures++;
      } catch {
        readFailures++;
      }
    }
  });
  const files = Array.from({ length: UPLOADERS }, () => randomBytes(UPLOAD_BYTES));
  let uploadFailures = 0;
  const uploads = files.map((file, i) =>
    tusUpload({ endpoint: `${baseUrl}/api/video/uploads`, token, file, chunkSize: 5 * 1024 * 1024, filename: `load-${i}.mp4` }).catch(
      () => {
        uploadFailures++;
        return null;
      },
    ),
  );
  const urlsUploaded = await Promise.all(uploads);
  await Promise.all(readers);

  let exact = 0;
  urlsUploaded.forEach((url, i) => {
    if (url && r2Sha256(persistTo, `sources/${url.split("/").pop()}`) === createHash("sha256").update(files[i]).digest("hex")) exact++;
  });
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]?.toFixed(0) ?? "-";
  return [
    {
      metric: `load: ${UPLOADERS} concurrent 8 MiB uploads + ${READERS} segment readers, ${SECONDS} s`,
      ours: `uploads: ${exact}/${UPLOADERS} byte-exact, ${uploadFailures} failed; reads: ${latencies.length} ok (${(latencies.length / SECONDS).toFixed(0)}/s), ${readFailures} failed, p50 ${pct(50)} ms, p95 ${pct(95)} ms`,
      baseline: "zero failures expected",
      note: exact === UPLOADERS && uploadFailures === 0 && readFailures === 0 ? "met" : "MISSED",
    },
  ];
}
