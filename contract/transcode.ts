/**
 * Types that cross the Worker ↔ queue ↔ transcoder boundary. Defined once here and imported by
 * workers/ and transcoder/ alike, so both sides always agree on the wire shape.
 */
import { isVideoId } from "./video.ts";

/** The message put on the jobs queue when an upload completes. */
export interface TranscodeJobMessage {
  videoId: string;
}

/** One rung of the HLS ladder, as chosen for a given source. */
export interface Rendition {
  /** "240p", "480p", "720p" (or the source's own height, e.g. "360p"). */
  name: string;
  width: number;
  height: number;
  /** Ceiling of the video bitrate in bits per second (capped CRF: easy content takes less). */
  videoBitrate: number;
  /**
   * Peak BANDWIDTH advertised in the master playlist (video + audio + container overhead): in a
   * result, measured on the finished segments; in the early master, an estimate from the ceiling.
   */
  bandwidth: number;
}

/** What ffprobe told us about a source. */
export interface SourceProbe {
  durationSec: number;
  /** Display dimensions, after rotation is applied. */
  width: number;
  height: number;
  /** Rotation in degrees found in the stream (0, 90, 180, 270). */
  rotation: number;
  frameRate: number;
  hasAudio: boolean;
  videoCodec: string;
}

/** The Worker → transcoder request that starts one job (POST /jobs). */
export interface TranscodeRequest {
  videoId: string;
  /**
   * The run number (`videos.run`), 1-based: it only grows, an admin's retry included, so it names
   * one run for good. The transcoder tags logs with it and tells a redelivery from a new run.
   */
  attempt: number;
  /** Per-job bearer token for the Worker's internal routes. */
  token: string;
  /** Base URL of the Worker's internal routes for this job, e.g. http://127.0.0.1:8787/internal/jobs/<id>. */
  callbackBase: string;
  /** Target HLS segment duration in seconds. */
  segmentSeconds: number;
  /**
   * Longest source accepted, in seconds (a direct upload's cap). Checked right after the probe,
   * before any encoding; a longer source is a permanent failure with `durationCapMessage`.
   */
  maxDurationSec?: number;
}

/** The failure reason of a source longer than its upload's duration cap. */
export function durationCapMessage(durationSec: number, maxDurationSec: number): string {
  const seconds = (n: number) => `${Number(n.toFixed(1))} ${n === 1 ? "second" : "seconds"}`;
  return `This video is ${seconds(durationSec)} long; its upload link accepts videos of at most ${seconds(maxDurationSec)}.`;
}

/** Progress report, transcoder → Worker. */
export interface TranscodeProgress {
  /** 0–100. */
  progress: number;
  /** True once every tier has its first segment in R2 and the playlists are there. */
  playable: boolean;
}

/**
 * What an attempt used, as Containers bill it (both fields optional: transcoders from before they
 * existed omit them, and a platform without /proc gives no figure).
 */
export interface ComputeUsage {
  /**
   * CPU-seconds (user + system) of the transcoder and of every ffmpeg/ffprobe it ran for the
   * attempt: what "vCPU billed on active use" counts.
   */
  cpuSeconds?: number;
  /** Peak resident memory of the transcoder and its ffmpeg runs, in bytes (informative: memory is billed as provisioned). */
  peakMemoryBytes?: number;
}

/** Final report, transcoder → Worker. */
export type TranscodeResult =
  | ({
      ok: true;
      durationSec: number;
      renditions: Rendition[];
      sourceBytes: number;
      sourceSha256: string;
      encodeSeconds: number;
      /** The container instance type the encode ran on (priced by the Worker); absent locally. */
      instanceType?: string;
      /** storyboard.jpg and storyboard.vtt were uploaded (absent: no storyboard, as from older transcoders). */
      storyboard?: boolean;
      /** download.mp4 was uploaded (absent: none, as from transcoders older than MP4 downloads). */
      download?: boolean;
    } & ComputeUsage)
  | ({
      ok: false;
      /** Readable reason for the creator. */
      error: string;
      /** A permanent failure (not a video, unsupported) is not retried. */
      permanent: boolean;
      /** Wall seconds spent encoding before the failure, when any (it is billed all the same). */
      encodeSeconds?: number;
      instanceType?: string;
    } & ComputeUsage);

/**
 * The Worker's internal routes for one job, relative to `TranscodeRequest.callbackBase`. Every
 * call carries `Authorization: Bearer <TranscodeRequest.token>`; the token is scoped to one video
 * and one run and expires, so a superseded or cancelled run is refused (409).
 */
export const JOB_ROUTES = {
  /** GET: the source file, streamed (Content-Length set). */
  source: "source",
  /** PUT `files/<path>`: one output file; `path` must match OUTPUT_FILE. */
  file: (path: string) => `files/${path}`,
  /** POST TranscodeProgress → 200 `{continue: true}`, or 409 when the job must stop. */
  progress: "progress",
  /** POST TranscodeResult → 204. */
  result: "result",
} as const;

/**
 * Output files a job may write: the master playlist, the poster, the storyboard (sprite and its
 * WebVTT), the MP4 download, a tier's playlist or segment.
 */
export const OUTPUT_FILE =
  /^(index\.m3u8|poster\.jpg|storyboard\.(jpg|vtt)|download\.mp4|[0-9]{1,4}p\/(index\.m3u8|iframes\.m3u8|seg_[0-9]{5}\.ts))$/;

/** Answer of the transcoder's `POST /jobs`: 202 accepted, 503 busy (at capacity, try later). */
export interface TranscoderAccepted {
  accepted: true;
  videoId: string;
}

/**
 * Validation of what the transcoder reports, shared by both sides: the Worker refuses a bad report
 * (400) before it stores anything, and the transcoder checks its own before posting it. Pure; no
 * dependency. `error` is a sentence naming the first bad field.
 */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_TEXT = 1000;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumberAtLeast = (v: unknown, min: number): v is number => typeof v === "number" && Number.isFinite(v) && v >= min;
const isPositiveInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;
const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX_TEXT;

class BadField extends Error {}
function need(condition: boolean, message: string): asserts condition {
  if (!condition) throw new BadField(message);
}
function checked<T>(parse: () => T): Checked<T> {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (error instanceof BadField) return { ok: false, error: error.message };
    throw error;
  }
}

/** A rung of the ladder; its name must be a tier directory that OUTPUT_FILE accepts. */
export function isRendition(v: unknown): v is Rendition {
  return (
    isObject(v) &&
    typeof v.name === "string" &&
    OUTPUT_FILE.test(`${v.name}/index.m3u8`) &&
    isPositiveInteger(v.width) &&
    isPositiveInteger(v.height) &&
    isNumberAtLeast(v.videoBitrate, 1) &&
    isNumberAtLeast(v.bandwidth, 1)
  );
}

function optionalInstanceType(b: Record<string, unknown>): { instanceType?: string } {
  if (b.instanceType === undefined) return {};
  need(
    typeof b.instanceType === "string" && /^[a-z0-9-]{1,64}$/.test(b.instanceType),
    'instanceType must be an instance type name such as "standard-4".',
  );
  return { instanceType: b.instanceType };
}

/** The optional compute figures of a result; absent stays absent (the Worker then prices wall time). */
function optionalUsage(b: Record<string, unknown>): ComputeUsage {
  need(b.cpuSeconds === undefined || isNumberAtLeast(b.cpuSeconds, 0), "cpuSeconds must be a number of at least 0.");
  need(
    b.peakMemoryBytes === undefined ||
      (typeof b.peakMemoryBytes === "number" && Number.isSafeInteger(b.peakMemoryBytes) && b.peakMemoryBytes >= 0),
    "peakMemoryBytes must be an integer of at least 0.",
  );
  return {
    ...(b.cpuSeconds === undefined ? {} : { cpuSeconds: b.cpuSeconds as number }),
    ...(b.peakMemoryBytes === undefined ? {} : { peakMemoryBytes: b.peakMemoryBytes as number }),
  };
}

/** Checks a TranscodeResult and returns only its known fields. */
export function parseTranscodeResult(body: unknown): Checked<TranscodeResult> {
  return checked(() => {
    need(isObject(body), "The result must be a JSON object.");
    need(typeof body.ok === "boolean", "ok must be true or false.");
    if (!body.ok) {
      need(isText(body.error), `error must be a non-empty text of at most ${MAX_TEXT} characters.`);
      need(typeof body.permanent === "boolean", "permanent must be true or false.");
      need(body.encodeSeconds === undefined || isNumberAtLeast(body.encodeSeconds, 0), "encodeSeconds must be a number of at least 0.");
      return {
        ok: false,
        error: body.error,
        permanent: body.permanent,
        ...(body.encodeSeconds === undefined ? {} : { encodeSeconds: body.encodeSeconds as number }),
        ...optionalInstanceType(body),
        ...optionalUsage(body),
      };
    }
    need(isNumberAtLeast(body.durationSec, 0), "durationSec must be a number of at least 0.");
    need(Array.isArray(body.renditions) && body.renditions.length > 0, "renditions must be a non-empty list.");
    const bad = (body.renditions as unknown[]).findIndex((r) => !isRendition(r));
    need(
      bad === -1,
      `renditions[${bad}] must be {name: a tier such as "240p", width, height: positive integers, videoBitrate, bandwidth: positive numbers}.`,
    );
    need(
      typeof body.sourceBytes === "number" && Number.isInteger(body.sourceBytes) && body.sourceBytes >= 0,
      "sourceBytes must be an integer of at least 0.",
    );
    need(
      typeof body.sourceSha256 === "string" && /^[0-9a-f]{64}$/.test(body.sourceSha256),
      "sourceSha256 must be 64 lowercase hexadecimal digits.",
    );
    need(isNumberAtLeast(body.encodeSeconds, 0), "encodeSeconds must be a number of at least 0.");
    need(body.storyboard === undefined || typeof body.storyboard === "boolean", "storyboard must be true or false.");
    need(body.download === undefined || typeof body.download === "boolean", "download must be true or false.");
    return {
      ok: true,
      durationSec: body.durationSec,
      renditions: (body.renditions as Rendition[]).map(({ name, width, height, videoBitrate, bandwidth }) => ({
        name,
        width,
        height,
        videoBitrate,
        bandwidth,
      })),
      sourceBytes: body.sourceBytes,
      sourceSha256: body.sourceSha256,
      encodeSeconds: body.encodeSeconds,
      ...optionalInstanceType(body),
      ...(body.storyboard === undefined ? {} : { storyboard: body.storyboard as boolean }),
      ...(body.download === undefined ? {} : { download: body.download as boolean }),
      ...optionalUsage(body),
    };
  });
}

/** Checks a job message from the queue (a wake-up naming the uploaded video). */
export function parseJobMessage(body: unknown): Checked<TranscodeJobMessage> {
  return checked(() => {
    const videoId = isObject(body) ? body.videoId : undefined;
    need(typeof videoId === "string" && isVideoId(videoId), "A job message must be {videoId: <video id>}.");
    return { videoId: videoId as string };
  });
}

/** Checks a TranscodeProgress and returns only its known fields. */
export function parseTranscodeProgress(body: unknown): Checked<TranscodeProgress> {
  return checked(() => {
    need(isObject(body), "The progress report must be a JSON object.");
    need(isNumberAtLeast(body.progress, 0) && body.progress <= 100, "progress must be a number from 0 to 100.");
    need(typeof body.playable === "boolean", "playable must be true or false.");
    return { progress: body.progress, playable: body.playable };
  });
}
