/**
 * The content-aware ladder, measured: on three kinds of 30 s 720p30 source made with ffmpeg's
 * generators (a still "talking head", a scrolling screen recording, high motion with noise), each
 * tier's bytes per minute and SSIM against the source, and the CPU time of the encode, for
 *   - ours: buildHlsArgs as it is now (capped CRF, one keyframe per 6 s segment);
 *   - today's: the command before capped CRF (ABR at the tier bitrate, maxrate 1.1×, Main
 *     everywhere, 4 s segments asked), rebuilt from ours by todayArgs below;
 *   - the plan's: three sequential fixed-bitrate passes (encodePlanLadder), the bytes baseline.
 * CPU time is the ffmpeg process's own (user + system) as the kernel accounts it to its reaped
 * parent (cutime/cstime of this process, see cpuTimedFfmpeg): rusage, not wall time.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { probe } from "../../../transcoder/src/probe.ts";
import { chooseLadder } from "../../../transcoder/src/ladder.ts";
import { buildHlsArgs } from "../../../transcoder/src/ffmpeg.ts";
import { segmentDurations } from "../../../transcoder/src/finish.ts";
import { SEGMENT_SECONDS } from "../../src/jobs/policy.ts";
import { cpuTimedFfmpeg, ssim } from "./media.ts";
import { encodePlanLadder } from "./transcode.ts";
import type { Row } from "./table.ts";

const SECONDS = 30;
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

/** Lines of code-like text for the screen recording. */
function screenText(): string {
  const words =
    "const let function return await async import export from type interface video segment playlist bitrate encoder tier master".split(" ");
  const lines: string[] = [];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 1; i <= 80; i++) {
    const n = 2 + next(8);
    lines.push(`${String(i).padStart(3)} ${"  ".repeat(next(4))}${Array.from({ length: n }, () => words[next(words.length)]).join(" ")};`);
  }
  return lines.join("\n");
}

export interface LadderSource {
  kind: "talking head" | "screen recording" | "high motion";
  file: string;
}

/** The three sources, 30 s of 720p30 with a 440 Hz tone, encoded near-losslessly (crf 12). */
export function makeLadderSources(dir: string): LadderSource[] {
  if (!existsSync(FONT)) throw new Error(`The ladder bench draws text with ${FONT}; install the DejaVu fonts.`);
  const textFile = join(dir, "screen.txt");
  writeFileSync(textFile, screenText());
  const graphs: Array<[LadderSource["kind"], string]> = [
    // A still background with a little grain (one frame, repeated: ffmpeg's noise filter would
    // change it every frame); a 360x440 "head" (slowly shifting skin-like gradient, eyes, a mouth
    // that opens and closes) that sways a few pixels: small motion on a still picture.
    [
      "talking head",
      "gradients=s=1280x720:r=30:c0=0x3a4a5a:c1=0x8a7a6a,noise=alls=2:allf=u,trim=end_frame=1,loop=loop=-1:size=1,setpts=N/30/TB[bg];" +
        "gradients=s=360x440:r=30:c0=0xc09070:c1=0x704830:speed=0.01,drawbox=x=110:y=120:w=40:h=24:c=0x302020:t=fill," +
        "drawbox=x=210:y=120:w=40:h=24:c=0x302020:t=fill,drawbox=x=130:y=300:w=100:h='8+10*abs(sin(t*5))':c=0x501818:t=fill[head];" +
        "[bg][head]overlay=x='460+12*sin(t*1.3)':y='200+6*sin(t*0.7)'",
    ],
    // Dark text on a light page, still for 2.5 s then scrolled by 120 px in 0.5 s, again and again.
    [
      "screen recording",
      `color=c=0xf4f4f4:s=1280x2160:r=30,drawtext=fontfile=${FONT}:textfile=${textFile}:fontsize=22:fontcolor=0x202020:x=40:y=20:line_spacing=4,` +
        "crop=1280:720:0:'120*(floor(t/3)+min(1\\,mod(t\\,3)/0.5))'",
    ],
    // The whole picture turning, with strong grain that changes every frame.
    ["high motion", "testsrc2=s=1280x720:r=30,rotate=a=0.6*t:fillcolor=0x204060,noise=alls=12:allf=t+u"],
  ];
  return graphs.map(([kind, graph]) => {
    const file = join(dir, `ladder-${kind.replace(" ", "-")}.mp4`);
    execFileSync("ffmpeg", [
      "-v",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      graph,
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=48000",
      "-t",
      String(SECONDS),
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-crf",
      "12",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-b:a",
      "128k",
      "-shortest",
      file,
    ]);
    return { kind, file };
  });
}

/**
 * Today's command (before capped CRF), from ours: ABR at the tier bitrate with maxrate 1.1× and a
 * 1 s VBV buffer, Main profile everywhere, 4 s segments with a 1 s first one asked (which ffmpeg
 * 5.1 turns into 1 s then 2 s segments), keyframes at 0, 1 s, then every 2 s, and x264's own
 * B-frame count (veryfast: up to 3) on every tier: ours sets one per tier (-bf:v:N); AAC at
 * 128 kbit/s on every tier (ours: the tier's, -b:a:N).
 */
export function todayArgs(ours: string[], bitrates: number[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    const flag = ours[i]!;
    const value = ours[i + 1]!;
    if (/^-bf:v:\d+$/.test(flag)) {
      i++;
      continue;
    }
    if (/^-b:a:\d+$/.test(flag)) {
      args.push(flag, "128000");
      i++;
      continue;
    }
    const tier = /^-(crf|maxrate|bufsize|profile):v:(\d+)$/.exec(flag);
    if (tier) {
      const bitrate = bitrates[Number(tier[2])]!;
      if (tier[1] === "crf") args.push(`-b:v:${tier[2]}`, String(bitrate));
      if (tier[1] === "maxrate") args.push(flag, String(Math.round(bitrate * 1.1)));
      if (tier[1] === "bufsize") args.push(flag, String(bitrate));
      if (tier[1] === "profile") args.push(flag, "main");
      i++;
    } else if (flag === "-hls_time") {
      args.push("-hls_time", "4", "-hls_init_time", "1");
      i++;
    } else if (flag === "-g" || flag === "-keyint_min") {
      args.push(flag, String(Math.round(Number(value) / 3))); // ours: 6 s, today's: 2 s
      i++;
    } else if (flag === "-force_key_frames") {
      args.push(flag, "expr:gte(t,if(eq(n_forced,1),1,(n_forced-1)*2))");
      i++;
    } else args.push(flag);
  }
  return args;
}

/** Bytes of the segments a playlist lists (audio + video + MPEG-TS, what a player downloads). */
function playlistBytes(playlist: string): number {
  const dir = join(playlist, "..");
  return segmentDurations(readFileSync(playlist, "utf8")).segments.reduce((sum, s) => sum + statSync(join(dir, s.uri)).size, 0);
}

const perMinute = (bytes: number) => `${((bytes * 60) / SECONDS / 1e6).toFixed(2)} MB/min`;

/** Target of the issue per kind: bytes ratio to the plan, SSIM allowance below the plan. */
const TARGET: Record<LadderSource["kind"], { bytes: number; ssim: number }> = {
  "talking head": { bytes: 0.6, ssim: 0.005 },
  "screen recording": { bytes: 0.6, ssim: 0.005 },
  "high motion": { bytes: 1.0, ssim: 0.01 },
};

export async function ladderRows(dir: string): Promise<Row[]> {
  const rows: Row[] = [];
  let oursCpuAll = 0;
  let todayCpuAll = 0;
  let planCpuAll = 0;
  for (const source of makeLadderSources(dir)) {
    const info = await probe("ffprobe", source.file);
    const renditions = chooseLadder(info);
    const slug = source.kind.replace(" ", "-");
    const ours = join(dir, `ours-${slug}`);
    const today = join(dir, `today-${slug}`);
    for (const d of [ours, today]) mkdirSync(d, { recursive: true });
    const args = (outputDir: string) =>
      buildHlsArgs({
        input: source.file,
        outputDir,
        renditions,
        hasAudio: info.hasAudio,
        fps: info.frameRate,
        segmentSeconds: SEGMENT_SECONDS,
      });
    const oursRun = cpuTimedFfmpeg(args(ours), ours);
    const todayRun = cpuTimedFfmpeg(
      todayArgs(
        args(today),
        renditions.map((r) => r.videoBitrate),
      ),
      today,
    );
    const planDir = join(dir, `plan-${slug}`);
    mkdirSync(planDir, { recursive: true });
    const plan = encodePlanLadder(source.file, planDir);
    const planCpu = plan.cpu;
    oursCpuAll += oursRun.cpu;
    todayCpuAll += todayRun.cpu;
    planCpuAll += planCpu;

    for (const r of renditions) {
      const oursPlaylist = join(ours, r.name, "index.m3u8");
      const planPlaylist = join(plan.dir, `${r.name}.m3u8`);
      const oursBytes = playlistBytes(oursPlaylist);
      const planBytes = playlistBytes(planPlaylist);
      const todayBytes = playlistBytes(join(today, r.name, "index.m3u8"));
      const oursSsim = ssim(oursPlaylist, source.file, r.width, r.height);
      const planSsim = ssim(planPlaylist, source.file, r.width, r.height);
      const target = TARGET[source.kind];
      const ratio = oursBytes / planBytes;
      const met = ratio <= target.bytes && oursSsim >= planSsim - target.ssim;
      rows.push({
        metric: `ladder ${source.kind} ${r.name}: bytes/min, SSIM`,
        ours: `${perMinute(oursBytes)}, SSIM ${oursSsim.toFixed(4)}`,
        baseline: `plan ${perMinute(planBytes)}, SSIM ${planSsim.toFixed(4)}; today ${perMinute(todayBytes)}`,
        note: `${ratio.toFixed(2)}× plan's bytes, ΔSSIM ${(oursSsim - planSsim).toFixed(4)}; target ≤ ${target.bytes}× and ≥ −${target.ssim}: ${met ? "met" : "MISSED"}`,
      });
    }
    const segments = segmentDurations(readFileSync(join(ours, renditions[0]!.name, "index.m3u8"), "utf8")).segments;
    rows.push({
      metric: `ladder ${source.kind}: CPU-s per minute of output (all tiers)`,
      ours: `${((oursRun.cpu * 60) / SECONDS).toFixed(1)} CPU-s/min`,
      baseline: `today ${((todayRun.cpu * 60) / SECONDS).toFixed(1)}, plan ${((planCpu * 60) / SECONDS).toFixed(1)} CPU-s/min`,
      note: `${(oursRun.cpu / todayRun.cpu).toFixed(2)}× today's (target ≤ 0.75×); segments ${segments.map((s) => s.duration.toFixed(1)).join("/")} s`,
    });
  }
  rows.push({
    metric: "ladder: CPU-s per minute of 720p, 3 sources together",
    ours: `${((oursCpuAll * 60) / (3 * SECONDS)).toFixed(1)} CPU-s/min`,
    baseline: `today ${((todayCpuAll * 60) / (3 * SECONDS)).toFixed(1)}, plan ${((planCpuAll * 60) / (3 * SECONDS)).toFixed(1)}`,
    note: `${(oursCpuAll / todayCpuAll).toFixed(2)}× today's (target ≤ 0.75×: ${oursCpuAll <= 0.75 * todayCpuAll ? "met" : "MISSED"}); ffmpeg's own user+system time (rusage of the reaped child), same run`,
  });
  return rows;
}
