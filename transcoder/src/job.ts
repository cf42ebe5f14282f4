/**
 * One transcode job: download → probe → master → HLS encode (published while it runs) + poster,
 * then storyboard → final sweep (VOD playlists, I-frame playlists, the finished master) → MP4
 * download (a remux of the top tier) → report. The job's temp
 * dir is removed in every case.
 *
 * How a job ends:
 *   - done: every output in R2, `{ok: true, ...}` POSTed to the Worker and returned;
 *   - failed: `{ok: false, permanent, error}` POSTed and returned. `permanent` only when the file
 *     itself is the problem (not a video, unusable); ffmpeg and network failures are not
 *     permanent, the Worker decides whether to retry;
 *   - stopped: cancelled through `deps.signal`, or the Worker answered 409 to any call (the
 *     attempt was cancelled or superseded). ffmpeg is killed, nothing more is uploaded, NO result
 *     is posted, and runJob resolves null.
 *
 * Progress: download 0-5 %, encode 5-95 % (ffmpeg's own progress), final uploads 95-100 %.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  OUTPUT_FILE,
  durationCapMessage,
  parseTranscodeResult,
  type Rendition,
  type TranscodeRequest,
  type TranscodeResult,
} from "../../contract/transcode.ts";
import { CallbackError, JobCallbacks, JobStoppedError } from "./callback.ts";
import { AbortError, buildHlsArgs, buildPosterArgs, FfmpegError, runFfmpeg, writeMasterPlaylist, type Logger } from "./ffmpeg.ts";
import { chooseLadder } from "./ladder.ts";
import { writeFinishedPlaylists } from "./finish.ts";
import { DOWNLOAD_CONTENT_TYPE, DOWNLOAD_FILE, makeDownload } from "./download.ts";
import { OutputPublisher, PLAYLIST_CONTENT_TYPE, POSTER_CONTENT_TYPE, TIER_PLAYLIST } from "./outputs.ts";
import { NotAVideoError, probe } from "./probe.ts";
import { ProgressReporter } from "./reporter.ts";
import { JobMeter } from "./usage.ts";
import {
  buildStoryboardArgs,
  STORYBOARD_SPRITE,
  STORYBOARD_SPRITE_CONTENT_TYPE,
  STORYBOARD_VTT,
  STORYBOARD_VTT_CONTENT_TYPE,
  storyboardCues,
  storyboardLayout,
  writeStoryboardVtt,
} from "./storyboard.ts";

export interface JobDeps {
  ffmpegPath: string;
  ffprobePath: string;
  /** Parent directory; the job makes (and always removes) its own directory inside. */
  workDir: string;
  logger: Logger;
  /** Cancels the job: ffmpeg is killed, the temp dir removed, no result posted. */
  signal: AbortSignal;
  fetch?: typeof fetch;
  /** Tuning, mostly for tests: output poll interval (400 ms), progress interval (1000 ms), first retry backoff (500 ms). */
  pollMs?: number;
  progressIntervalMs?: number;
  backoffMs?: number;
  /**
   * Called once the work is over, right before the result is posted: the Worker starts its next
   * job as soon as it has the result, so the slot must be free by then.
   */
  onWorkDone?: () => void;
}

/** Progress bands of the three phases, in percent. */
export const PHASES = {
  download: { from: 0, to: 5 },
  encode: { from: 5, to: 95 },
  finish: { from: 95, to: 100 },
} as const;

const band = (phase: { from: number; to: number }, fraction: number): number =>
  phase.from + (phase.to - phase.from) * Math.min(1, Math.max(0, fraction));

/** A logger that adds the job's identity to every line. */
export function withContext(logger: Logger, context: Record<string, unknown>): Logger {
  return {
    debug: (m, meta) => logger.debug(m, { ...context, ...meta }),
    info: (m, meta) => logger.info(m, { ...context, ...meta }),
    warn: (m, meta) => logger.warn(m, { ...context, ...meta }),
    error: (m, meta) => logger.error(m, { ...context, ...meta }),
  };
}

/** The file cannot become a video we publish; reported as a permanent failure. */
export class UnusableSourceError extends Error {
  override name = "UnusableSourceError";
}

const MAX_ERROR_LENGTH = 400;

function clip(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/** The failure as the result reports it: one readable sentence, a creator may see it. */
export function failureResult(err: unknown): Extract<TranscodeResult, { ok: false }> {
  if (err instanceof NotAVideoError || err instanceof UnusableSourceError) {
    return { ok: false, permanent: true, error: err.message };
  }
  if (err instanceof FfmpegError) {
    const how = err.exitCode !== null ? `exited with code ${err.exitCode}` : `was killed by ${err.exitSignal ?? "a signal"}`;
    const lastLine = err.stderrTail.trim().split("\n").pop()?.trim();
    return { ok: false, permanent: false, error: clip(`Transcoding failed: ffmpeg ${how}${lastLine ? ` (${lastLine})` : ""}.`) };
  }
  if (err instanceof CallbackError) {
    return { ok: false, permanent: false, error: clip(`The transcoder could not exchange files with the service: ${err.message}`) };
  }
  return { ok: false, permanent: false, error: clip(`The transcoder failed: ${err instanceof Error ? err.message : String(err)}`) };
}

/** Every output path of the ladder must be one the Worker accepts (OUTPUT_FILE). */
function checkOutputNames(renditions: readonly Rendition[], width: number, height: number): void {
  for (const r of renditions) {
    if (!OUTPUT_FILE.test(`${r.name}/${TIER_PLAYLIST}`)) {
      throw new UnusableSourceError(`This video is too small to publish (${width}x${height} pixels).`);
    }
  }
}

interface StoryboardJob {
  deps: JobDeps;
  source: string;
  outDir: string;
  durationSec: number;
  width: number;
  height: number;
  log: Logger;
  signal: AbortSignal;
  usage: JobMeter;
}

/**
 * Writes storyboard.jpg and storyboard.vtt into the output dir; resolves whether they exist. The
 * storyboard only helps seeking: when ffmpeg fails on it the video is published without one (the
 * player then seeks without pictures). A stopped job still stops.
 */
async function makeStoryboard(job: StoryboardJob): Promise<boolean> {
  const layout = storyboardLayout(job.durationSec, job.width, job.height);
  const startedAt = performance.now();
  try {
    await runFfmpeg({
      ffmpegPath: job.deps.ffmpegPath,
      args: buildStoryboardArgs({ input: job.source, output: join(job.outDir, STORYBOARD_SPRITE), layout }),
      durationSec: job.durationSec,
      logger: job.log,
      signal: job.signal,
      usage: job.usage,
    });
  } catch (err) {
    if (job.signal.aborted || !(err instanceof FfmpegError)) throw err;
    job.log.warn("no storyboard: ffmpeg failed on it; the video is published without one", { error: err.message });
    return false;
  }
  await writeFile(join(job.outDir, STORYBOARD_VTT), writeStoryboardVtt(storyboardCues(layout, job.durationSec)));
  job.log.info("storyboard written", { ...layout, seconds: Math.round(performance.now() - startedAt) / 1000 });
  return true;
}

/**
 * Run one job to its end. Resolves the result that was posted (or attempted: a failed result
 * post is logged), or null when the job was stopped (cancelled or refused with 409). Never rejects.
 */
export async function runJob(request: TranscodeRequest, deps: JobDeps): Promise<TranscodeResult | null> {
  const log = withContext(deps.logger, { videoId: request.videoId, attempt: request.attempt });
  const startedAt = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startedAt) / 1000;
  // CPU and memory of the whole attempt (download and uploads included: the instance bills them too).
  const usage = new JobMeter();

  // `stop` ends the job without a result: external cancel, or a 409 from the Worker.
  const stop = new AbortController();
  const onCancel = (): void => stop.abort(new AbortError("The job was cancelled."));
  if (deps.signal.aborted) onCancel();
  else deps.signal.addEventListener("abort", onCancel, { once: true });
  const stopOn = (err: unknown): void => {
    if (err instanceof JobStoppedError && !stop.signal.aborted) stop.abort(err);
  };

  const callbacks = new JobCallbacks({
    callbackBase: request.callbackBase,
    token: request.token,
    signal: stop.signal,
    fetch: deps.fetch,
    backoffMs: deps.backoffMs,
  });
  const reporter = new ProgressReporter({
    post: (p) => callbacks.postProgress(p),
    logger: log,
    onStop: stopOn,
    intervalMs: deps.progressIntervalMs,
  });

  let jobDir: string | undefined;
  let publisher: OutputPublisher | undefined;
  // Outputs of a stopped encode must not be published (ffmpeg finalizes its playlists on SIGTERM).
  stop.signal.addEventListener("abort", () => publisher?.halt(), { once: true });

  let result: TranscodeResult | null;
  // The first failed upload: what the job reports even if later steps fail because of it (an
  // upload of the poster on a halted publisher, say).
  let publishError: unknown;
  try {
    if (stop.signal.aborted) throw stop.signal.reason;
    log.info("job started", { callbackBase: request.callbackBase, segmentSeconds: request.segmentSeconds });
    reporter.start();
    jobDir = await mkdtemp(join(deps.workDir, `job-${request.videoId}-a${request.attempt}-`));
    const source = join(jobDir, "source");
    const outDir = join(jobDir, "out");
    await mkdir(outDir);

    // a. Download, streamed to disk, hashed on the way.
    const downloaded = await callbacks.downloadSource(source, (got, total) => {
      if (total > 0) reporter.set(band(PHASES.download, got / total));
    });
    reporter.set(PHASES.download.to);
    log.info("source downloaded", { bytes: downloaded.bytes, sha256: downloaded.sha256, seconds: elapsed() });

    // b. Probe. NotAVideoError is permanent.
    const info = await probe(deps.ffprobePath, source);
    // A direct upload's duration cap: refused before any encoding, and never retried.
    if (request.maxDurationSec !== undefined && info.durationSec > request.maxDurationSec) {
      throw new UnusableSourceError(durationCapMessage(info.durationSec, request.maxDurationSec));
    }
    const renditions = chooseLadder(info);
    checkOutputNames(renditions, info.width, info.height);
    log.info("probed", { ...info, renditions: renditions.map((r) => `${r.name} ${r.width}x${r.height}`) });

    // A failed upload stops the encode too; a 409 on an upload stops the whole job.
    const encode = new AbortController();
    let playableLogged = false;
    const activePublisher = new OutputPublisher({
      outputDir: outDir,
      tiers: renditions.map((r) => r.name),
      putFile: (path, body, type) => callbacks.putFile(path, body, type),
      logger: log,
      pollMs: deps.pollMs,
      onError: (err) => {
        stopOn(err);
        publishError = err;
        encode.abort(err);
      },
      onUploaded: () => {
        if (!activePublisher.playable) return;
        reporter.set(reporter.current.progress, true);
        if (!playableLogged) log.info("playable", { seconds: elapsed() });
        playableLogged = true;
      },
    });
    publisher = activePublisher;
    if (stop.signal.aborted) throw stop.signal.reason;

    // c. Our master playlist goes to R2 before the encode; the poster is made alongside the encode
    // (it needs a frame from ~10 % in, and waiting for it would delay the first segments).
    const encodeStartedAt = performance.now();
    await writeFile(join(outDir, "index.m3u8"), writeMasterPlaylist(renditions, info.hasAudio, info.frameRate));
    await activePublisher.uploadFile("index.m3u8", PLAYLIST_CONTENT_TYPE);
    const poster = runFfmpeg({
      ffmpegPath: deps.ffmpegPath,
      args: buildPosterArgs({
        input: source,
        output: join(outDir, "poster.jpg"),
        durationSec: info.durationSec,
        width: info.width,
        height: info.height,
      }),
      durationSec: info.durationSec,
      logger: log,
      signal: stop.signal,
      usage,
    }).then(() => activePublisher.uploadFile("poster.jpg", POSTER_CONTENT_TYPE));
    poster.catch(() => undefined); // awaited below; an early failure must not go unhandled meanwhile
    // The storyboard after the poster, still alongside the encode: one more decode of the source
    // (≈ 1.5 CPU-s for a minute of 720p), kept off the first seconds, when the first segments count.
    const storyboard = poster.then(() =>
      makeStoryboard({
        deps,
        source,
        outDir,
        durationSec: info.durationSec,
        width: info.width,
        height: info.height,
        log,
        signal: stop.signal,
        usage,
      }),
    );
    storyboard.catch(() => undefined);
    log.info("master playlist uploaded", { seconds: elapsed() });

    // d + e. The encode, with its outputs published as they appear.
    activePublisher.start();
    try {
      await runFfmpeg({
        ffmpegPath: deps.ffmpegPath,
        args: buildHlsArgs({
          input: source,
          outputDir: outDir,
          renditions,
          hasAudio: info.hasAudio,
          fps: info.frameRate,
          segmentSeconds: request.segmentSeconds,
        }),
        durationSec: info.durationSec,
        onProgress: (percent) => reporter.set(band(PHASES.encode, percent / 100)),
        logger: log,
        signal: AbortSignal.any([stop.signal, encode.signal]),
        usage,
      });
    } catch (err) {
      activePublisher.halt();
      if (stop.signal.aborted) throw stop.signal.reason;
      throw publishError ?? err;
    }
    await poster;
    log.info("poster uploaded", { seconds: elapsed() });
    const hasStoryboard = await storyboard;
    if (hasStoryboard) {
      await activePublisher.uploadFile(STORYBOARD_SPRITE, STORYBOARD_SPRITE_CONTENT_TYPE);
      await activePublisher.uploadFile(STORYBOARD_VTT, STORYBOARD_VTT_CONTENT_TYPE);
      log.info("storyboard uploaded", { seconds: elapsed() });
    }
    const encodeSeconds = Math.round((performance.now() - encodeStartedAt) / 10) / 100;
    reporter.set(PHASES.encode.to);
    log.info("encode finished", { encodeSeconds });

    // f. Final sweep: the last segments and the final playlists (#EXT-X-ENDLIST), now VOD; then
    // each tier's I-frame playlist and the master that stays (see finish.ts).
    await activePublisher.stopPolling();
    if (publishError) throw publishError;
    if (stop.signal.aborted) throw stop.signal.reason;
    const finished = await writeFinishedPlaylists({
      ffprobePath: deps.ffprobePath,
      outputDir: outDir,
      renditions,
      hasAudio: info.hasAudio,
      fps: info.frameRate,
      logger: log,
    });
    await activePublisher.sweep();
    if (!activePublisher.complete) throw new Error("ffmpeg finished but a tier playlist is not final (no #EXT-X-ENDLIST).");
    // g. The MP4 download, right before the result (which makes the video READY): a READY card's
    // downloadUrl then always finds its file, and the MP4 is in the output bytes the Worker counts
    // at READY for storage. A remux of the finished top tier (download.ts): seconds, not an encode.
    await makeDownload({
      deps,
      outDir,
      renditions,
      hasAudio: info.hasAudio,
      durationSec: info.durationSec,
      log,
      signal: stop.signal,
      usage,
    });
    await activePublisher.uploadFile(DOWNLOAD_FILE, DOWNLOAD_CONTENT_TYPE);
    log.info("download uploaded", { seconds: elapsed() });
    // The finished master goes last, as before: it is what says "this run is complete".
    for (const file of finished.files) await activePublisher.uploadFile(file, PLAYLIST_CONTENT_TYPE);
    reporter.set(PHASES.finish.to, true);
    await reporter.flush(); // a 409 here still stops the job before the result
    result = {
      ok: true,
      durationSec: info.durationSec,
      renditions: finished.renditions,
      sourceBytes: downloaded.bytes,
      sourceSha256: downloaded.sha256,
      encodeSeconds,
      storyboard: hasStoryboard,
      download: true,
      ...usage.finish(),
    };
  } catch (err) {
    stopOn(err);
    if (stop.signal.aborted) {
      log.info("job stopped; no result will be posted", { reason: String((stop.signal.reason as Error)?.message ?? stop.signal.reason) });
      result = null;
    } else {
      // A failed attempt is billed all the same: its wall time so far and what it used.
      result = { ...failureResult(publishError ?? err), encodeSeconds: elapsed(), ...usage.finish() };
      log.warn("job failed", { error: err instanceof Error ? err.message : String(err), permanent: !result.ok && result.permanent });
    }
  } finally {
    usage.finish(); // a stopped job's measurement ends too (it reports nothing)
    reporter.stop();
    publisher?.halt();
    deps.signal.removeEventListener("abort", onCancel);
    if (jobDir)
      await rm(jobDir, { recursive: true, force: true }).catch((err) =>
        log.error("could not remove the job directory", { jobDir, error: String(err) }),
      );
  }

  if (result) {
    // A result that fails the shared schema is a bug here; the Worker still learns that the run
    // failed (and retries it) instead of waiting for the lease to run out.
    const checked = parseTranscodeResult(result);
    if (!checked.ok) {
      log.error("the result is malformed; reporting a failure instead", { error: checked.error });
      result = { ok: false, permanent: false, error: clip(`The transcoder produced a malformed result: ${checked.error}`) };
    }
    deps.onWorkDone?.();
    try {
      await callbacks.postResult(result);
      log.info(result.ok ? "job done" : "failure reported", {
        seconds: elapsed(),
        cpuSeconds: result.cpuSeconds,
        peakMemoryBytes: result.peakMemoryBytes,
      });
    } catch (err) {
      // 409: the attempt was superseded meanwhile. Otherwise the Worker's lease on the job
      // expires and it retries. Nothing more to do here either way.
      const level = err instanceof JobStoppedError ? "info" : "error";
      log[level]("could not post the result", { error: err instanceof Error ? err.message : String(err) });
    }
  }
  return result;
}
