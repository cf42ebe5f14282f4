/**
 * One resumable upload (tus-js-client) as a small observable store, kept at module level so that
 * moving between pages does not stop it. Resumes after a reload through fingerprints in
 * localStorage (tus-js-client's urlStorage), and after a lost connection by itself.
 *
 * Chunks: 50 MiB PATCHes (Cloudflare caps a request body at 100 MB). No per-chunk checksum:
 * tus-js-client 4 has no checksum extension, and on a flaky link plain chunks are the better
 * trade anyway — the server keeps every byte of a PATCH that breaks off, while a checksummed
 * chunk that breaks off is thrown away whole. TCP/TLS protect the bytes in transit, and the
 * server records the SHA-256 of the assembled source.
 */
import * as tus from "tus-js-client";
import { SpeedMeter } from "./format.ts";
import { fileType } from "./validate.ts";

export const CHUNK_SIZE = 50 * 1024 * 1024;
/** Retries spread over ~5 minutes of a bad link before the page asks the user. */
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 15_000, 20_000, 30_000, 30_000, 60_000, 60_000, 60_000];

export type UploadPhase = "idle" | "confirm-resume" | "uploading" | "paused" | "offline" | "error" | "done" | "cancelled";

export interface UploadState {
  phase: UploadPhase;
  fileName: string;
  bytesSent: number;
  bytesTotal: number;
  speed: number | null;
  secondsLeft: number | null;
  retrying: boolean;
  /** The video id (tus upload id) once the server created the upload. */
  videoId: string | null;
  /** For confirm-resume: what was already sent (null if unknown) and when it started. */
  previous: { sentBytes: number | null; createdAt: string } | null;
  error: { status: number; message: string } | null;
}

const initial: UploadState = {
  phase: "idle",
  fileName: "",
  bytesSent: 0,
  bytesTotal: 0,
  speed: null,
  secondsLeft: null,
  retrying: false,
  videoId: null,
  previous: null,
  error: null,
};

export const endpoint = () => `${location.origin}/api/video/uploads`;

/** tus-js-client's browser fingerprint plus the user: another account never picks up this one's upload. */
export const fingerprintFor = (userId: string) => (file: File, options: tus.UploadOptions) =>
  Promise.resolve(["tus-br", file.name, file.type, file.size, file.lastModified, options.endpoint, `u:${userId}`].join("-"));

/** Unfinished uploads of this user stored on this device. */
export async function unfinishedUploads(userId: string) {
  const all = await tus.defaultOptions.urlStorage.findAllUploads();
  return all.filter((u) => u.urlStorageKey.includes(`-u:${userId}::`));
}

export async function discardUnfinished(token: string | null, entry: { urlStorageKey: string; uploadUrl: string | null }): Promise<void> {
  await tus.defaultOptions.urlStorage.removeUpload(entry.urlStorageKey);
  if (entry.uploadUrl) {
    await tus.Upload.terminate(entry.uploadUrl, { headers: authHeaders(token), retryDelays: [0, 1000] }).catch(() => {});
  }
}

/** A signed-in user's token; none through a direct upload link, whose URLs are their own credential. */
const authHeaders = (token: string | null): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {});

/** Bytes the server already has for an upload URL (tus HEAD); null if unknown or gone. */
async function serverOffset(url: string, token: string | null): Promise<number | null> {
  try {
    const res = await fetch(url, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", ...authHeaders(token) } });
    if (!res.ok) return null;
    const offset = Number(res.headers.get("Upload-Offset"));
    return Number.isFinite(offset) ? offset : null;
  } catch {
    return null;
  }
}

export class UploadController {
  state: UploadState = initial;
  private listeners = new Set<(s: UploadState) => void>();
  private upload: tus.Upload | null = null;
  private previous: tus.PreviousUpload[] = [];
  private meter = new SpeedMeter();
  private token: string | null = null;
  private onOnline = () => {
    if (this.state.phase === "offline") this.resume();
  };

  subscribe(fn: (s: UploadState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(patch: Partial<UploadState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }

  /**
   * Prepares an upload of `file`; offers to resume if this device has a half-finished one of it.
   * `directUrl`: an upload link made for the creator by another app, used instead of the token.
   */
  async choose(file: File, opts: { token: string | null; userId: string; title: string; directUrl?: string }): Promise<void> {
    this.reset();
    this.token = opts.token;
    this.meter.reset();
    const metadata: Record<string, string> = { filename: file.name, filetype: fileType(file) };
    if (opts.title.trim()) metadata.title = opts.title.trim();
    this.upload = new tus.Upload(file, {
      endpoint: opts.directUrl ?? endpoint(),
      headers: authHeaders(opts.token),
      metadata,
      chunkSize: CHUNK_SIZE,
      retryDelays: RETRY_DELAYS,
      fingerprint: fingerprintFor(opts.userId),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onUploadUrlAvailable: () => this.set({ videoId: this.videoIdOf(this.upload?.url ?? null) }),
      onProgress: (sent, total) => {
        const now = performance.now();
        const speed = this.meter.sample(sent, now);
        this.set({ bytesSent: sent, bytesTotal: total, speed, secondsLeft: this.meter.secondsLeft(sent, total), retrying: false });
      },
      onShouldRetry: (err, attempt, options) => {
        const status = err.originalResponse?.getStatus() ?? 0;
        if ([400, 401, 403, 404, 410, 413, 415].includes(status)) return false;
        if (!navigator.onLine) return false; // resumed by the `online` event instead
        const willRetry = attempt < (options.retryDelays?.length ?? 0);
        if (willRetry) {
          this.meter.reset();
          this.set({ retrying: true, speed: null, secondsLeft: null });
        }
        return willRetry;
      },
      onError: (err) => {
        const status = (err as tus.DetailedError).originalResponse?.getStatus() ?? 0;
        if (!navigator.onLine) {
          this.set({ phase: "offline", retrying: false, speed: null, secondsLeft: null });
          return;
        }
        this.set({ phase: "error", retrying: false, error: { status, message: readableTusError(err, status, this.token === null) } });
      },
      onSuccess: () => {
        this.set({
          phase: "done",
          bytesSent: file.size,
          bytesTotal: file.size,
          videoId: this.videoIdOf(this.upload?.url ?? null),
          retrying: false,
          secondsLeft: 0,
        });
        window.removeEventListener("online", this.onOnline);
      },
    });
    this.set({ ...initial, fileName: file.name, bytesTotal: file.size });
    window.addEventListener("online", this.onOnline);

    this.previous = await this.upload.findPreviousUploads().catch(() => []);
    const latest = this.previous.filter((p) => p.uploadUrl).sort((a, b) => b.creationTime.localeCompare(a.creationTime))[0];
    if (latest?.uploadUrl) {
      const sent = await serverOffset(latest.uploadUrl, opts.token);
      if (sent === null) {
        // Gone on the server (expired, deleted): forget it and start afresh.
        await Promise.all(this.previous.map((p) => tus.defaultOptions.urlStorage.removeUpload(p.urlStorageKey)));
        this.previous = [];
      } else {
        this.previous = [latest, ...this.previous.filter((p) => p !== latest)];
        this.set({
          phase: "confirm-resume",
          previous: { sentBytes: sent, createdAt: latest.creationTime },
          videoId: this.videoIdOf(latest.uploadUrl),
          bytesSent: sent,
        });
        return;
      }
    }
    this.start();
  }

  /** Continue the half-finished upload found for this file. */
  continuePrevious(): void {
    if (!this.upload || this.previous.length === 0) return;
    this.upload.resumeFromPreviousUpload(this.previous[0]);
    this.start();
  }

  /** Forget the half-finished upload (and delete it on the server), then send the file afresh. */
  async startOver(): Promise<void> {
    for (const p of this.previous) await discardUnfinished(this.token, p);
    this.previous = [];
    this.set({ videoId: null, bytesSent: 0, previous: null });
    this.start();
  }

  private start(): void {
    this.meter.reset();
    this.set({ phase: "uploading", previous: null, error: null, speed: null, secondsLeft: null });
    this.upload?.start();
  }

  pause(): void {
    if (this.state.phase !== "uploading") return;
    void this.upload?.abort(false);
    this.set({ phase: "paused", speed: null, secondsLeft: null, retrying: false });
  }

  resume(): void {
    if (!this.upload || !["paused", "offline", "error"].includes(this.state.phase)) return;
    this.start();
  }

  /** Stops and terminates the upload: the server deletes what it received. */
  async cancel(): Promise<void> {
    const upload = this.upload;
    this.set({ phase: "cancelled", speed: null, secondsLeft: null, retrying: false });
    window.removeEventListener("online", this.onOnline);
    if (!upload) return;
    if (upload.url) {
      await upload.abort(true).catch(() => {});
    } else {
      await upload.abort(false).catch(() => {});
    }
  }

  /** Back to an empty form (an ongoing upload is paused, and can be resumed by picking the file again). */
  reset(): void {
    if (this.upload && this.state.phase === "uploading") void this.upload.abort(false);
    window.removeEventListener("online", this.onOnline);
    this.upload = null;
    this.previous = [];
    this.set(initial);
  }

  private videoIdOf(url: string | null): string | null {
    return url ? decodeURIComponent(new URL(url, location.href).pathname.split("/").filter(Boolean).pop() ?? "") || null : null;
  }
}

function readableTusError(err: Error, status: number, direct: boolean): string {
  const body = (err as tus.DetailedError).originalResponse?.getBody()?.trim();
  if (status === 413) return body || "The file is larger than the server accepts (500 MB).";
  // Through an upload link there is no session: the server's sentence says what is wrong with the link.
  if (status === 401 && !(direct && body)) return "Your session has ended. Please sign in again.";
  if (body && body.length < 300) return body;
  return status ? `the server answered ${status}` : "the connection failed";
}

export const uploader = new UploadController();
