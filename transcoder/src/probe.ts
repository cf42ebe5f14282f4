/**
 * What is in a source file, as far as the ladder and the ffmpeg command need to know.
 *
 * `parseProbeOutput` is pure (tested on literal JSON); `probe` runs ffprobe and feeds it.
 */
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import type { SourceProbe } from "../../contract/transcode.ts";

/**
 * The upload is not something we can turn into a video. The job treats this as permanent (no
 * retry); `message` is shown to the creator as is.
 */
export class NotAVideoError extends Error {
  override name = "NotAVideoError";
  constructor(reason: string) {
    super(`This file is not a video we can read (${reason}).`);
  }
}

interface ProbeSideData {
  side_data_type?: string;
  rotation?: number | string;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string | undefined>;
  side_data_list?: ProbeSideData[];
}

export interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { duration?: string; format_name?: string };
}

/** "30000/1001" → 29.97; "0/0", "", garbage → undefined. */
export function parseRational(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const [num, den = "1"] = value.split("/");
  const n = Number(num);
  const d = Number(den);
  if (!Number.isFinite(n) || !Number.isFinite(d) || n <= 0 || d <= 0) return undefined;
  return n / d;
}

function normalizeDegrees(deg: number): number {
  const quarterTurns = Math.round(deg / 90);
  return (((quarterTurns * 90) % 360) + 360) % 360;
}

/**
 * Rotation as the clockwise angle a player must apply (the meaning of the legacy `rotate` tag
 * phones write: a portrait iPhone clip says rotate=90).
 *
 * ffprobe ≥ 5 reports the Display Matrix instead, as a counter-clockwise angle (so that same
 * phone clip shows `rotation: -90`); hence the sign flip. Only 90/180/270 occur in practice;
 * anything else is snapped to the nearest quarter turn. ffmpeg's autorotate does the actual
 * rotation; we need the angle only to know the display dimensions.
 */
export function rotationOf(stream: ProbeStream): number {
  const matrix = stream.side_data_list?.find((sd) => sd.side_data_type === "Display Matrix");
  const matrixRotation = matrix ? Number(matrix.rotation) : NaN;
  if (Number.isFinite(matrixRotation)) return normalizeDegrees(-matrixRotation);
  const tag = Number(stream.tags?.rotate);
  if (Number.isFinite(tag)) return normalizeDegrees(tag);
  return 0;
}

/**
 * Prefer avg_frame_rate (the real average; phones record variable frame rate) and fall back to
 * r_frame_rate, which for VFR sources is only the timebase's "lowest common" rate and can be
 * absurd (e.g. 90000). Implausible values are rejected so the caller's default applies.
 */
function frameRateOf(stream: ProbeStream): number | undefined {
  for (const candidate of [stream.avg_frame_rate, stream.r_frame_rate]) {
    const fps = parseRational(candidate);
    if (fps !== undefined && fps >= 1 && fps <= 240) return fps;
  }
  return undefined;
}

/** Used when the container gives no usable rate (rare; e.g. some raw streams). */
const FALLBACK_FRAME_RATE = 30;

export function parseProbeOutput(output: ProbeOutput): SourceProbe {
  const streams = output.streams ?? [];
  // Cover art in an audio file shows up as a one-frame "video" stream flagged attached_pic.
  const video = streams.find((s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1);
  if (!video) {
    const hasAudioOnly = streams.some((s) => s.codec_type === "audio");
    throw new NotAVideoError(hasAudioOnly ? "it contains only audio" : "no video stream found");
  }
  const codedWidth = video.width ?? 0;
  const codedHeight = video.height ?? 0;
  if (codedWidth <= 0 || codedHeight <= 0) throw new NotAVideoError("the picture has no size");

  // The container's duration, else the stream's ("N/A" and absent both parse to NaN).
  const durationSec = [output.format?.duration, video.duration].map(Number).find((d) => Number.isFinite(d) && d > 0);
  // Still images (jpg/png) probe as a video stream with no duration.
  if (durationSec === undefined) {
    throw new NotAVideoError("it has no duration; it may be a still image or a broken file");
  }

  // Non-square pixels (anamorphic DV, some broadcast captures): the display width is the coded
  // width stretched by the sample aspect ratio. The ffmpeg command resets SAR to 1:1 after scaling.
  const sar = parseRational(video.sample_aspect_ratio?.replace(":", "/")) ?? 1;
  const displayWidth = Math.max(1, Math.round(codedWidth * sar));

  const rotation = rotationOf(video);
  const quarterTurned = rotation === 90 || rotation === 270;
  return {
    durationSec,
    width: quarterTurned ? codedHeight : displayWidth,
    height: quarterTurned ? displayWidth : codedHeight,
    rotation,
    frameRate: frameRateOf(video) ?? FALLBACK_FRAME_RATE,
    hasAudio: streams.some((s) => s.codec_type === "audio"),
    videoCodec: video.codec_name ?? "unknown",
  };
}

function runFfprobe(ffprobePath: string, file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", file];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath, args, { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        // Spawn failure (ENOENT, EACCES) or timeout: our problem, not the file's.
        reject(new Error(`ffprobe could not run: ${error.message}`));
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/**
 * Probe a local file. Throws NotAVideoError when the file is readable but not a usable video;
 * throws a plain Error for our own failures (missing file, ffprobe missing), which are retryable.
 */
export async function probe(ffprobePath: string, file: string): Promise<SourceProbe> {
  const info = await stat(file); // a missing file is an infrastructure problem: plain error
  if (info.size === 0) throw new NotAVideoError("the file is empty");

  const { code, stdout, stderr } = await runFfprobe(ffprobePath, file);
  if (code !== 0) {
    // ffprobe says e.g. "/tmp/job/source: Invalid data found when processing input"; the creator
    // does not need our path.
    const lastLine = stderr.trim().split("\n").pop() ?? "";
    const detail = lastLine.startsWith(`${file}: `) ? lastLine.slice(file.length + 2) : lastLine;
    throw new NotAVideoError(detail ? detail.charAt(0).toLowerCase() + detail.slice(1) : "unrecognized format");
  }
  let parsed: ProbeOutput;
  try {
    parsed = JSON.parse(stdout) as ProbeOutput;
  } catch {
    throw new Error("ffprobe printed output that is not JSON.");
  }
  return parseProbeOutput(parsed);
}
