/**
 * Publishing the HLS outputs while ffmpeg is still writing them ("playable early").
 *
 * ffmpeg (with -hls_flags temp_file) renames a segment into place complete and only then lists it
 * in its tier playlist, which it also replaces atomically. So a tier playlist read at any moment
 * names only complete segments. One sweep, per tier: read the playlist, upload every segment it
 * lists that is not uploaded yet, and only then upload THAT playlist text. A published playlist
 * therefore never references a segment missing from R2.
 *
 * `planTierUpload` is the pure part; `OutputPublisher` polls the directory (fs.watch is unreliable
 * across platforms and overlay filesystems) and does the uploads with a small concurrency.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "./run-ffmpeg.ts";

export const PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl";
export const SEGMENT_CONTENT_TYPE = "video/mp2t";
export const POSTER_CONTENT_TYPE = "image/jpeg";
export const TIER_PLAYLIST = "index.m3u8";

/** The URIs of a media playlist, in order: every non-empty line that is not a tag or comment. */
export function playlistSegments(playlist: string): string[] {
  return playlist
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/**
 * A finished tier playlist as a VOD playlist. ffmpeg writes EVENT playlists so that the video can
 * be published while it grows, and only appends #EXT-X-ENDLIST at the end; once the video is
 * complete nothing will change any more, which is what VOD says ("the Media Playlist file MUST NOT
 * change", RFC 8216 §4.3.3.5). A playlist without ENDLIST is not finished and is returned as is.
 */
export function toVodPlaylist(playlist: string): string {
  if (!/^#EXT-X-ENDLIST\s*$/m.test(playlist)) return playlist;
  if (/^#EXT-X-PLAYLIST-TYPE:/m.test(playlist)) return playlist.replace(/^#EXT-X-PLAYLIST-TYPE:[^\r\n]*/m, "#EXT-X-PLAYLIST-TYPE:VOD");
  return playlist.replace(/^#EXTM3U[^\S\r\n]*(\r?\n)/, (head, eol: string) => `${head}#EXT-X-PLAYLIST-TYPE:VOD${eol}`);
}

export interface TierPlan {
  /** Segments the playlist lists that are not uploaded yet, in playlist order. */
  segments: string[];
  /** The playlist text differs from the version last uploaded (so it should be uploaded). */
  playlistChanged: boolean;
  /** Segments the playlist lists in all. */
  segmentCount: number;
  /** The playlist is final (#EXT-X-ENDLIST). */
  ended: boolean;
}

/**
 * What to upload for one tier, given its current playlist, the segment names already uploaded
 * and the playlist text last uploaded. Upload `segments` first, then the playlist.
 */
export function planTierUpload(playlist: string, uploaded: ReadonlySet<string>, lastUploadedPlaylist?: string): TierPlan {
  const listed = playlistSegments(playlist);
  return {
    segments: listed.filter((name) => !uploaded.has(name)),
    playlistChanged: playlist !== lastUploadedPlaylist,
    segmentCount: listed.length,
    ended: /^#EXT-X-ENDLIST\s*$/m.test(playlist),
  };
}

/** At most `max` tasks at once, started in call order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** The one thing the publisher needs from the Worker client (JobCallbacks.putFile). */
export type PutFile = (path: string, body: Uint8Array, contentType: string) => Promise<void>;

export interface OutputPublisherOptions {
  outputDir: string;
  /** Tier (rendition) names; each has `<outputDir>/<tier>/index.m3u8`. */
  tiers: readonly string[];
  putFile: PutFile;
  logger: Logger;
  /** Uploads at once (default 2). */
  concurrency?: number;
  /** Poll interval while ffmpeg runs (default 400 ms). */
  pollMs?: number;
  /** Called once, with the first upload error of a background sweep (the job then fails or stops). */
  onError?: (error: unknown) => void;
  /** Called after each background sweep that uploaded something. */
  onUploaded?: () => void;
}

interface TierState {
  uploadedSegments: Set<string>;
  /** The playlist text last uploaded, with the number of segments it lists. */
  playlist?: string;
  playlistSegments: number;
  ended: boolean;
}

export class OutputPublisher {
  private readonly opts: OutputPublisherOptions;
  private readonly limiter: Limiter;
  private readonly tiers = new Map<string, TierState>();
  private timer: NodeJS.Timeout | undefined;
  /** The sweep in progress, if any; sweeps never overlap. */
  private current: Promise<boolean> | undefined;
  private polling = false;
  private halted = false;
  /** Every file PUT so far (paths as given to putFile), for the log and the tests. */
  readonly uploaded: string[] = [];

  constructor(opts: OutputPublisherOptions) {
    this.opts = opts;
    this.limiter = new Limiter(opts.concurrency ?? 2);
    for (const tier of opts.tiers) this.tiers.set(tier, { uploadedSegments: new Set(), playlistSegments: 0, ended: false });
  }

  /** Upload one file of the output dir that is not a tier file (master playlist, poster). */
  async uploadFile(relativePath: string, contentType: string): Promise<void> {
    const body = await readFile(join(this.opts.outputDir, relativePath));
    await this.put(relativePath, body, contentType);
  }

  private async put(path: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.limiter.run(async () => {
      if (this.halted) throw new Error("The output publisher was halted.");
      await this.opts.putFile(path, body, contentType);
      this.uploaded.push(path);
    });
  }

  /** Every tier has a published playlist listing at least one segment. */
  get playable(): boolean {
    return [...this.tiers.values()].every((t) => t.playlistSegments > 0);
  }

  /** Every tier's published playlist is final (#EXT-X-ENDLIST). */
  get complete(): boolean {
    return [...this.tiers.values()].every((t) => t.ended);
  }

  /** Start polling in the background. The first error goes to onError; nothing is uploaded after it. */
  start(): void {
    this.polling = true;
    const tick = (): void => {
      this.timer = undefined;
      this.sweep()
        .then((didUpload) => {
          if (didUpload) this.opts.onUploaded?.();
          if (this.polling && !this.halted) this.timer = setTimeout(tick, this.opts.pollMs ?? 400);
        })
        .catch((err: unknown) => {
          if (this.halted) return; // halted on purpose: the error is a consequence, not news
          this.halt();
          this.opts.onError?.(err);
        });
    };
    this.timer = setTimeout(tick, this.opts.pollMs ?? 400);
  }

  /** Stop polling and wait for the sweep in progress (its error, if any, goes to onError). */
  async stopPolling(): Promise<void> {
    this.polling = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current?.catch(() => undefined);
  }

  /** No more uploads at all: outputs of a stopped or failed encode must never be published. */
  halt(): void {
    this.halted = true;
    this.polling = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One pass over every tier; resolves true if anything was uploaded. Waits for a running pass. */
  async sweep(): Promise<boolean> {
    while (this.current) await this.current.catch(() => undefined);
    if (this.halted) return false;
    const pass = Promise.all(this.opts.tiers.map((tier) => this.sweepTier(tier))).then((done) => done.some(Boolean));
    this.current = pass;
    try {
      return await pass;
    } finally {
      this.current = undefined;
    }
  }

  private async sweepTier(tier: string): Promise<boolean> {
    const state = this.tiers.get(tier)!;
    let playlist: string;
    try {
      playlist = await readFile(join(this.opts.outputDir, tier, TIER_PLAYLIST), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false; // no segment finished yet
      throw err;
    }
    const plan = planTierUpload(playlist, state.uploadedSegments, state.playlist);
    if (!plan.playlistChanged) return false;
    await Promise.all(
      plan.segments.map(async (name) => {
        const body = await readFile(join(this.opts.outputDir, tier, name));
        await this.put(`${tier}/${name}`, body, SEGMENT_CONTENT_TYPE);
        state.uploadedSegments.add(name);
      }),
    );
    await this.put(`${tier}/${TIER_PLAYLIST}`, Buffer.from(playlist, "utf8"), PLAYLIST_CONTENT_TYPE);
    state.playlist = playlist;
    state.playlistSegments = plan.segmentCount;
    state.ended = plan.ended;
    this.opts.logger.debug("tier published", { tier, segments: plan.segmentCount, ended: plan.ended });
    return true;
  }
}
