/**
 * Types that cross the Worker ↔ queue ↔ transcoder boundary. Defined once here and imported by
 * workers/ and transcoder/ alike, so both sides always agree on the wire shape.
 */

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
  /** Video bitrate in bits per second. */
  videoBitrate: number;
  /** Peak BANDWIDTH advertised in the master playlist (video + audio + container overhead). */
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
  /** Attempt number, 1-based; lets the transcoder tag logs and outputs. */
  attempt: number;
  /** Per-job bearer token for the Worker's internal routes. */
  token: string;
  /** Base URL of the Worker's internal routes for this job, e.g. http://127.0.0.1:8787/internal/jobs/<id>. */
  callbackBase: string;
  /** Target HLS segment duration in seconds. */
  segmentSeconds: number;
}

/** Progress report, transcoder → Worker. */
export interface TranscodeProgress {
  /** 0–100. */
  progress: number;
  /** True once every tier has its first segment in R2 and the playlists are there. */
  playable: boolean;
}

/** Final report, transcoder → Worker. */
export type TranscodeResult =
  | {
      ok: true;
      durationSec: number;
      renditions: Rendition[];
      sourceBytes: number;
      sourceSha256: string;
      encodeSeconds: number;
      /** The container instance type the encode ran on (priced by the Worker); absent locally. */
      instanceType?: string;
    }
  | {
      ok: false;
      /** Readable reason for the creator. */
      error: string;
      /** A permanent failure (not a video, unsupported) is not retried. */
      permanent: boolean;
      /** Wall seconds spent encoding before the failure, when any (it is billed all the same). */
      encodeSeconds?: number;
      instanceType?: string;
    };

/**
 * The Worker's internal routes for one job, relative to `TranscodeRequest.callbackBase`. Every
 * call carries `Authorization: Bearer <TranscodeRequest.token>`; the token is scoped to one video
 * and one attempt and expires, so a superseded or cancelled attempt is refused (409).
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

/** Output files a job may write: the master playlist, the poster, a tier's playlist or segment. */
export const OUTPUT_FILE = /^(index\.m3u8|poster\.jpg|[0-9]{1,4}p\/(index\.m3u8|iframes\.m3u8|seg_[0-9]{5}\.ts))$/;

/** Answer of the transcoder's `POST /jobs`: 202 accepted, 503 busy (at capacity, try later). */
export interface TranscoderAccepted {
  accepted: true;
  videoId: string;
}
