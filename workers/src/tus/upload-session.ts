import { DurableObject } from "cloudflare:workers";
import {
  type PatchRequest,
  type SessionResult,
  type UploadState,
  checkAccess,
  checkPatch,
  fail,
  ok,
  precheckPatch,
} from "./offset-rules.ts";
import { SessionStore, type UploadInit, type UploadRecord } from "./session-store.ts";
import { PartSink } from "./part-sink.ts";
import { receiveStreaming, receiveVerified } from "./receive-body.ts";
import { BodyReader } from "./body-reader.ts";
import { recordReceivedBytes } from "../db/videos.ts";
import { markUploadComplete } from "../videos/transitions.ts";
import { uploadLimits } from "../config.ts";
import { type Media, r2Media } from "../storage/media.ts";
import type { TranscodeJobMessage } from "../../../contract/transcode.ts";
import { meter, pricesFrom } from "../costs/meter.ts";
import type { UsageKind } from "../costs/model.ts";

export type { PatchRequest, SessionResult, UploadState } from "./offset-rules.ts";
export type { UploadInit } from "./session-store.ts";

/**
 * One upload = one UploadSession. The object serializes the upload's requests and keeps their
 * state: the rules are offset-rules.ts, the SQLite rows session-store.ts, the way bytes become R2
 * parts part-sink.ts and receive-body.ts. Every byte that arrived is in SQLite or in R2 before it is counted in
 * Upload-Offset.
 */

export interface UploadInfo {
  videoId: string;
  offset: number;
  length: number | null;
  metadataHeader: string | null;
  expiresAt: number;
  state: UploadState;
}

/** A PATCH that is reading its body right now; a newer PATCH stops it first. */
interface ActivePatch {
  stop: AbortController;
  done: Promise<unknown>;
}

const FINALIZE_RETRY_MS = 5_000;

export class UploadSession extends DurableObject<Env> {
  private active: ActivePatch | null = null;
  private readonly store: SessionStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SessionStore(ctx.storage);
  }

  async create(init: UploadInit): Promise<UploadInfo> {
    return toInfo(this.store.create(init));
  }

  /** HEAD: the state a client resumes from. Answers after completion too (a lost final response must not restart an upload). */
  async info(ownerId: string): Promise<SessionResult<UploadInfo>> {
    const upload = checkAccess(this.store.upload(), ownerId, Date.now());
    return upload.ok ? ok(toInfo(upload.value)) : upload;
  }

  async patch(request: PatchRequest, body: ReadableStream<Uint8Array> | null): Promise<SessionResult<UploadInfo>> {
    // First what no running PATCH can make right: another user (404), an expired upload (410), the
    // length rules, an offset past the committed one. Such a request must not disturb a running PATCH.
    const owned = checkAccess(this.store.upload(), request.ownerId, Date.now());
    const possible = owned.ok ? precheckPatch(owned.value, request) : owned;
    if (!possible.ok) {
      await body?.cancel().catch(() => undefined);
      return possible;
    }
    // Serialize: a newer PATCH wins. The older one is usually from a connection the client already
    // gave up on; it stops reading, keeps what it had, and the newer one then checks its exact offset.
    await this.stopActive();
    const stop = new AbortController();
    const done = this.receive(request, body, stop.signal);
    this.active = { stop, done };
    try {
      return await done;
    } finally {
      if (this.active?.done === done) this.active = null;
    }
  }

  /** Termination: abort the multipart upload and forget the bytes. */
  async terminate(ownerId: string): Promise<SessionResult<null>> {
    const upload = checkAccess(this.store.upload(), ownerId, Date.now(), { allowExpired: true });
    if (!upload.ok) return upload;
    await this.stopActive();
    await this.discardStorage("terminated");
    return ok(null);
  }

  /** Expiry sweep (cron): frees the storage of an unfinished upload whose time is up. */
  async expire(now: number): Promise<boolean> {
    const upload = this.store.upload();
    if (upload?.state !== "receiving" || upload.expiresAt > now) return false;
    await this.stopActive();
    await this.discardStorage("expired");
    return true;
  }

  /** Retries a completion step (R2 complete, D1, queue) that failed. */
  override async alarm(): Promise<void> {
    if (this.store.upload()?.state === "finalizing") await this.finalize();
  }

  private async stopActive(): Promise<void> {
    while (this.active) {
      this.active.stop.abort();
      await this.active.done.catch(() => undefined);
    }
  }

  /** The media bucket. Read from the env at each use, so a test that swaps the env's binding is heard. */
  protected media(): Media {
    return r2Media(this.env.MEDIA);
  }

  private sink(): PartSink {
    return new PartSink(this.store, this.media(), {
      meterUsage: (kind, quantity) => this.meterUsage(kind, quantity),
      onPartStored: () => this.recordReceived(this.store.upload()!),
    });
  }

  // ---- receiving bytes -------------------------------------------------------------------------

  private async receive(
    request: PatchRequest,
    body: ReadableStream<Uint8Array> | null,
    stopped: AbortSignal,
  ): Promise<SessionResult<UploadInfo>> {
    const owned = checkAccess(this.store.upload(), request.ownerId, Date.now());
    const checked = owned.ok ? checkPatch(owned.value, request) : owned;
    if (!checked.ok) {
      await body?.cancel().catch(() => undefined);
      return checked;
    }
    if (checked.value !== null) this.store.setLength(checked.value);
    let upload = this.store.upload()!;
    if (upload.state !== "receiving") return ok(toInfo(upload));

    const { idleTimeoutMs } = uploadLimits(this.env);
    const onBroken = (error: unknown) => console.warn(`upload ${upload.videoId}: body broke off`, String(error));
    const reader = new BodyReader(body, (upload.length ?? upload.maxBytes) - upload.offset, stopped, onBroken, idleTimeoutMs);
    const before = upload.offset;
    const sink = this.sink();
    const received = request.checksum ? await receiveVerified(sink, reader, request.checksum) : ok(await receiveStreaming(sink, reader));
    if (reader.stalled) console.warn(`upload ${upload.videoId}: no byte for ${idleTimeoutMs} ms, the PATCH ends here`);
    upload = this.store.upload()!;
    if (upload.offset !== before || request.length !== null) this.recordReceived(upload);
    if (!received.ok) return received;

    if (upload.length !== null && upload.offset === upload.length) {
      this.store.setFinalizing();
      await this.finalize();
      // The upload is whole (the bytes past its length were never stored): that is a success, and
      // the answer must say so — a 413 here would have the client retry a finished upload.
      return ok(toInfo(this.store.upload()!));
    }
    if (reader.overflow) return fail(upload.length === null ? "TOO_LARGE" : "BODY_PAST_LENGTH");
    if (!received.value) return fail("STORAGE_FAILED");
    // A stalled body ends here too: what arrived is stored and counted, and the 204 tells the client
    // the offset to resume from.
    return ok(toInfo(upload));
  }

  // ---- completion ------------------------------------------------------------------------------

  /**
   * Last part → R2 complete → D1 QUEUED → job message. Each step is idempotent; a failing step is
   * retried by the alarm, so the client's 204 (offset = length) always ends in a queued job.
   */
  private async finalize(): Promise<void> {
    const row = this.store.upload()!;
    try {
      await this.sink().complete();
      await markUploadComplete(this.env, row.videoId, row.length!, Date.now(), this.ctx);
      await this.env.JOBS.send({ videoId: row.videoId } satisfies TranscodeJobMessage);
      // A message is written, read and deleted: three queue operations.
      this.meterUsage("queue_operations", 3);
      this.store.markComplete();
    } catch (error) {
      console.error(`upload ${row.videoId}: finalize failed, retrying`, String(error));
      await this.ctx.storage.setAlarm(Date.now() + FINALIZE_RETRY_MS);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /**
   * Tells D1 how many bytes the upload holds (quota and storage cost of unfinished uploads). Once
   * per R2 part and per PATCH keeps D1 writes few; the write is monotonic, so order does not matter.
   */
  private recordReceived(upload: UploadRecord): void {
    if (upload.state === "expired" || upload.state === "terminated") return;
    this.ctx.waitUntil(
      recordReceivedBytes(this.env.DB, upload.videoId, upload.offset, upload.length).catch((error) =>
        console.warn(`upload ${upload.videoId}: received bytes not recorded`, String(error)),
      ),
    );
  }

  private meterUsage(kind: UsageKind, quantity: number): void {
    const videoId = this.store.upload()?.videoId ?? null;
    this.ctx.waitUntil(meter(this.env.DB, pricesFrom(this.env), [{ videoId, kind, quantity }]));
  }

  private async discardStorage(state: "expired" | "terminated"): Promise<void> {
    await this.sink().abort();
    await this.ctx.storage.deleteAlarm();
    this.store.discard(state);
  }
}

function toInfo(upload: UploadRecord): UploadInfo {
  const { videoId, offset, length, metadataHeader, expiresAt, state } = upload;
  return { videoId, offset, length, metadataHeader, expiresAt, state };
}
