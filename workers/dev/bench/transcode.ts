/**
 * Transcode speed and quality: our one-decode ladder vs the plan's three sequential ffmpeg passes
 * (libx264 default preset, 10 s segments), on the same 60 s 720p30 source, in one run.
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { probe } from "../../../transcoder/src/probe.ts";
import { chooseLadder } from "../../../transcoder/src/ladder.ts";
import { buildHlsArgs } from "../../../transcoder/src/ffmpeg.ts";
import {
  buildStoryboardArgs,
  STORYBOARD_SPRITE,
  storyboardCues,
  storyboardLayout,
  writeStoryboardVtt,
} from "../../../transcoder/src/storyboard.ts";
import { SEGMENT_SECONDS } from "../../src/jobs/policy.ts";
import { cpuTimedFfmpeg, ssim } from "./media.ts";
import type { Row } from "./table.ts";

const PLAN_TIERS = [
  { name: "240p", height: 240, bitrate: "400k" },
  { name: "480p", height: 480, bitrate: "800k" },
  { name: "720p", height: 720, bitrate: "1500k" },
];

/**
 * The plan's ladder: one ffmpeg pass per tier, default x264 preset, 10 s segments, into `dir/plan`,
 * plus a master playlist listing the tiers lowest first (what a player of the plan is given).
 * Returns the wall seconds of the three passes.
 */
export function encodePlanLadder(source: string, dir: string): { seconds: number; cpu: number; dir: string } {
  const plan = join(dir, "plan");
  mkdirSync(plan, { recursive: true });
  let seconds = 0;
  let cpu = 0;
  for (const tier of PLAN_TIERS) {
    const run = cpuTimedFfmpeg(
      [
        "-v",
        "error",
        "-y",
        "-i",
        source,
        "-vf",
        `scale=-2:${tier.height}`,
        "-c:v",
        "libx264",
        "-b:v",
        tier.bitrate,
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-f",
        "hls",
        "-hls_time",
        "10",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_filename",
        `${tier.name}_%03d.ts`,
        `${tier.name}.m3u8`,
      ],
      plan,
    );
    seconds += run.wall;
    cpu += run.cpu;
  }
  const master = [
    "#EXTM3U",
    ...PLAN_TIERS.flatMap((t) => [
      `#EXT-X-STREAM-INF:BANDWIDTH=${(parseInt(t.bitrate, 10) + 128) * 1000},RESOLUTION=${Math.round((t.height * 16) / 9 / 2) * 2}x${t.height}`,
      `${t.name}.m3u8`,
    ]),
  ];
  writeFileSync(join(plan, "index.m3u8"), `${master.join("\n")}\n`);
  return { seconds, cpu, dir: plan };
}

export async function transcodeRows(source: string, dir: string): Promise<Row[]> {
  const info = await probe("ffprobe", source);
  const renditions = chooseLadder(info);

  const ours = join(dir, "ours");
  mkdirSync(ours, { recursive: true });
  const args = buildHlsArgs({
    input: source,
    outputDir: ours,
    renditions,
    hasAudio: info.hasAudio,
    fps: info.frameRate,
    segmentSeconds: SEGMENT_SECONDS,
  });
  const { wall: oursSeconds, cpu: oursCpu } = cpuTimedFfmpeg(args, ours);

  const { seconds: planSeconds, dir: plan } = encodePlanLadder(source, dir);

  const rows: Row[] = [
    {
      metric: `transcode 60 s 720p30, 3 tiers (realtime factor)`,
      ours: `${(info.durationSec / oursSeconds).toFixed(2)}× (${oursSeconds.toFixed(1)} s, one decode, x264 veryfast)`,
      baseline: `${(info.durationSec / planSeconds).toFixed(2)}× (${planSeconds.toFixed(1)} s, plan: 3 passes, default preset)`,
      note: `target ≥ 4×; ours used ${oursCpu.toFixed(0)} CPU-s on ${cpus().length} cores (CPU-bound), so ≈ ${((info.durationSec * 4) / oursCpu).toFixed(1)}× on the 4 vCPU of a standard-4 container if it scales (projected, not measured)`,
    },
  ];
  for (const r of renditions) {
    const planTier = PLAN_TIERS.find((t) => t.name === r.name);
    if (!planTier) continue;
    const oursSsim = ssim(join(ours, r.name, "index.m3u8"), source, r.width, r.height);
    const planSsim = ssim(join(plan, `${planTier.name}.m3u8`), source, r.width, r.height);
    rows.push({
      metric: `SSIM ${r.name} vs source`,
      ours: oursSsim.toFixed(4),
      baseline: `${planSsim.toFixed(4)} (plan)`,
      note: `Δ ${(oursSsim - planSsim).toFixed(4)} (target within 0.01)`,
    });
  }
  rows.push(storyboardRow(source, info, ours));
  return rows;
}

/** The storyboard's one ffmpeg call on the same source: its bytes and its time. */
export function storyboardRow(source: string, info: { durationSec: number; width: number; height: number }, dir: string): Row {
  const layout = storyboardLayout(info.durationSec, info.width, info.height);
  const { wall, cpu } = cpuTimedFfmpeg(buildStoryboardArgs({ input: source, output: join(dir, STORYBOARD_SPRITE), layout }), dir);
  const bytes = statSync(join(dir, STORYBOARD_SPRITE)).size;
  // What a viewer who seeks downloads: the VTT first, then the sprite.
  const vttBytes = Buffer.byteLength(writeStoryboardVtt(storyboardCues(layout, info.durationSec)));
  return {
    metric: "storyboard of 60 s 720p30 (sprite bytes, encode time)",
    ours: `${(bytes / 1024).toFixed(1)} KB sprite + ${(vttBytes / 1024).toFixed(1)} KB VTT, ${wall.toFixed(2)} s (${cpu.toFixed(1)} CPU-s)`,
    baseline: "≤ 100 KB (issue 13)",
    note: `${layout.count} frames of ${layout.tileWidth}x${layout.tileHeight}, one every ${layout.intervalSec} s, ${layout.columns}x${layout.rows} grid; made alongside the encode`,
  };
}

/** The storyboard row alone (`npm run bench -- storyboard`): no ladder, no SSIM. */
export async function storyboardRows(source: string, dir: string): Promise<Row[]> {
  const out = join(dir, "storyboard");
  mkdirSync(out, { recursive: true });
  return [storyboardRow(source, await probe("ffprobe", source), out)];
}
