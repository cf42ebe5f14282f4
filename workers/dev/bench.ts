/**
 * `npm run bench`: figures measured side by side in one run on this machine. Not part of `npm test`
 * (tests never assert timings). Prints a table (and its Markdown for the README).
 * `npm run bench -- upload transcode storyboard ladder pipeline cost first-frame delivery load` picks
 * sections (default: all; `transcode` includes the storyboard row).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, assertNodeVersion, BENCH_WEB_DIST, buildWeb, startTranscoder, startWrangler } from "./stack.ts";
import { freePort } from "../test/e2e/fixture.ts";
import { markdown, type Row } from "./bench/table.ts";
import { flakyLinkGoodput, loopbackThroughput } from "./bench/upload.ts";
import { makeClip } from "./bench/media.ts";
import { storyboardRows, transcodeRows } from "./bench/transcode.ts";
import { ladderRows } from "./bench/ladder.ts";
import { pipelineRows } from "./bench/pipeline.ts";
import { deliveryRows } from "./bench/delivery.ts";
import { videoCostRows } from "./bench/video-cost.ts";
import { firstFrameRows } from "./bench/first-frame.ts";
import { loadRows } from "./bench/load.ts";
import { mb, processTree, sampleMemory, workerMemoryRow } from "./bench/memory.ts";

const SECTIONS = ["upload", "transcode", "storyboard", "ladder", "pipeline", "cost", "first-frame", "delivery", "load", "memory"] as const;
/** Sections that need the 60 s 720p video uploaded and transcoded through the stack. */
const NEED_VIDEO = ["pipeline", "cost", "first-frame", "delivery", "load", "memory"];

async function main(): Promise<void> {
  assertNodeVersion();
  const wanted = new Set(process.argv.slice(2).length ? process.argv.slice(2) : SECTIONS);
  const dir = mkdtempSync(join(tmpdir(), "edge-video-bench-"));
  const rows: Row[] = [];
  const state = join(dir, "state");
  applyMigrations(state);
  // Its own build of the web app as it is now (not a running `npm start`'s, nor the tests').
  buildWeb(BENCH_WEB_DIST);
  const port = await freePort();
  const transcoder = await startTranscoder({ port: await freePort(), publicUrl: `http://127.0.0.1:${port}` });
  const inspectorPort = await freePort();
  const stack = await startWrangler({
    port,
    inspectorPort,
    persistTo: state,
    assetsDir: BENCH_WEB_DIST,
    vars: { PUBLIC_URL: `http://127.0.0.1:${port}`, TRANSCODER_URL: transcoder.url },
  });
  try {
    const login = await fetch(`${stack.baseUrl}/api/auth/dev-login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: "bench", role: "creator" }),
    });
    const { token } = (await login.json()) as { token: string };
    const source = ["transcode", "storyboard", ...NEED_VIDEO].some((s) => wanted.has(s)) ? makeClip(dir, 60) : "";
    if (wanted.has("upload")) {
      rows.push(await loopbackThroughput(stack, token, state));
      rows.push(await flakyLinkGoodput(stack, token, state));
    }
    if (wanted.has("transcode")) rows.push(...(await transcodeRows(source, dir)));
    else if (wanted.has("storyboard")) rows.push(...(await storyboardRows(source, dir)));
    if (wanted.has("ladder")) rows.push(...(await ladderRows(dir)));
    if (NEED_VIDEO.some((s) => wanted.has(s))) {
      const transcoderMemory = sampleMemory(() => processTree(transcoder.process.pid!));
      const pipeline = await pipelineRows(stack.baseUrl, token, source);
      const { peak } = transcoderMemory.stop();
      if (wanted.has("pipeline")) rows.push(...pipeline.rows);
      if (wanted.has("memory")) {
        rows.push({
          metric: "peak memory of the transcoder on the 60 s 720p job",
          ours: `${mb(peak)} (Node + ffmpeg RSS)`,
          baseline: "container instance standard-4: 12 GiB",
          note: "sampled every 100 ms from /proc during the whole job",
        });
        rows.push(await workerMemoryRow(stack, token, inspectorPort));
      }
      if (wanted.has("cost")) rows.push(...(await videoCostRows(stack.baseUrl, state, pipeline.videoId, 60)));
      if (wanted.has("first-frame")) rows.push(...(await firstFrameRows(stack.baseUrl, token, pipeline.videoId, source, dir)));
      if (wanted.has("delivery")) rows.push(...(await deliveryRows(stack.baseUrl, pipeline.videoId, dir, state)));
      if (wanted.has("load")) rows.push(...(await loadRows(stack.baseUrl, token, pipeline.videoId, state)));
    }
  } finally {
    await stack.stop();
    await transcoder.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\nMeasured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${process.platform}/${process.arch}, Node ${process.versions.node}\n`,
  );
  console.table(rows);
  console.log(`\n${markdown(rows)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
