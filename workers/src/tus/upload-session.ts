import { DurableObject } from "cloudflare:workers";
import { CHECKSUM_ALGORITHMS, type ParsedChecksum, type TusErrorCode } from "./protocol.ts";
import { ByteQueue, TAIL_ROW_BYTES, concatBytes, cutAtBoundaries } from "./part-layout.ts";
import { BodyReader } from "./body-reader.ts";
import { recordReceivedBytes } from "../db/videos.ts";
import { markUploadComplete } from "../videos/transitions.ts";
import { uploadLimits } from "../config.ts";
import { sourceKey } from "../storage/keys.ts";
import type { TranscodeJobMessage } from "../../../contract/transcode.ts";
import { meter, pricesFrom } from "../costs/meter.ts";
import type { UsageKind } from "../costs/model.ts";

/**
 * One upload = one UploadSession. The object serializes the upload's requests and holds its state in
 * SQLite: the committed offset, the R2 multipart parts already written, and the tail of bytes that do
 * not fill a part yet (R2 needs equal part sizes, a PATCH rarely ends on a part boundary).
 * Every byte that arrived is in SQLite or in R2 before it is counted in Upload-Offset.
 */

export type UploadState = "receiving" | "finalizing" | "complete" | "expired" | "terminated";

export interface UploadInit {
  videoId: string;
  ownerId: string;
  length: number | null;
  metadataHeader: string | null;
  maxBytes: number;
  partSize: number;
  expiresAt: number;
}

export interface UploadInfo {
  videoId: string;
  offset: number;
  length: number | null;
  metadataHeader: string | null;
  expiresAt: number;
  state: UploadState;
}

export interface PatchRequest {
  ownerId: string;
  offset: number;
  /** Upload-Length sent with a PATCH of a deferred-length upload. */
  length: number | null;
  /** Content-Length when the client sent one. */
  contentLength: number | null;
  checksum: ParsedChecksum | null;
}

export type SessionResult<T> = { ok: true; value: T } | { ok: false; code: TusErrorCode; detail?: string };

interface UploadRow extends Record<string, SqlStorageValue> {
  video_id: string;
  owner_id: string;
  length: number | null;
  offset: number;
  max_bytes: number;
  part_size: number;
  metadata: string | null;
  expires_at: number;
  multipart_id: string | null;
  state: UploadState;
}

/** A PATCH that is reading its body right now; a newer PATCH stops it first. */
interface ActivePatch {
  stop: AbortController;
  done: Promise<unknown>;
}

/** Tail rows that begin a part: already stored and counted. */
interface DurablePrefix {
  seqs: number[];
  bytes: number;
}
const NO_DURABLE: DurablePrefix = { seqs: [], bytes: 0 };

const FINALIZE_RETRY_MS = 5_000;
/** Bytes of a slow PATCH wait in memory at most this long before they are written to the tail. */
const PERSIST_AFTER_MS = 2_000;

const fail = (code: TusErrorCode, detail?: string) => ({ ok: false, code, detail }) as const;
const ok = <T>(value: T) => ({ ok: true, value }) as const;

export class UploadSession extends DurableObject<Env> {
  private active: ActivePatch | null = null;
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS upload (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        video_id TEXT NOT NULL, owner_id TEXT NOT NULL, length INTEGER, offset INTEGER NOT NULL,
        max_bytes INTEGER NOT NULL, part_size INTEGER NOT NULL, metadata TEXT, expires_at INTEGER NOT NULL,
        multipart_id TEXT, state TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS part (number INTEGER PRIMARY KEY, etag TEXT NOT NULL, size INTEGER NOT NULL);
      -- staged = 1: bytes of a checksummed PATCH not verified yet; they are not counted in the offset.
      CREATE TABLE IF NOT EXISTS tail (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL, staged INTEGER NOT NULL);
    `);
  }

  async create(init: UploadInit): Promise<UploadInfo> {
    this.sql.exec(
      `INSERT INTO upload (id, video_id, owner_id, length, offset, max_bytes, part_size, metadata, expires_at, state)
       VALUES (1, ?, ?, ?, 0, ?, ?, ?, ?, 'receiving')`,
      init.videoId,
      init.ownerId,
      init.length,
      init.maxBytes,
      init.partSize,
      init.metadataHeader,
      init.expiresAt,
    );
    return toInfo(this.row()!);
  }

  /** HEAD: the state a client resumes from. Answers after completion too (a lost final response must not restart an upload). */
  async info(ownerId: string): Promise<SessionResult<UploadInfo>> {
    const row = this.ownedRow(ownerId);
    if (!row.ok) return row;
    return ok(toInfo(row.value));
  }

  async patch(request: PatchRequest, body: ReadableStream<Uint8Array> | null): Promise<SessionResult<UploadInfo>> {
    // First what no running PATCH can make right: another user (404), an expired upload (410), the
    // length rules, an offset past the committed one. Such a request must not disturb a running PATCH.
    const owned = this.ownedRow(request.ownerId);
    const possible = owned.ok ? this.precheckPatch(owned.value, request) : owned;
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
    const row = this.ownedRow(ownerId, { allowExpired: true });
    if (!row.ok) return row;
    await this.stopActive();
    await this.discardStorage(this.row()!, "terminated");
    return ok(null);
  }

  /** Expiry sweep (cron): frees the storage of an unfinished upload whose time is up. */
  async expire(now: number): Promise<boolean> {
    const row = this.row();
    if (row?.state !== "receiving" || row.expires_at > now) return false;
    await this.stopActive();
    await this.discardStorage(this.row()!, "expired");
    return true;
  }

  /** Retries a completion step (R2 complete, D1, queue) that failed. */
  override async alarm(): Promise<void> {
    const row = this.row();
    if (row?.state === "finalizing") await this.finalize();
  }

  private async stopActive(): Promise<void> {
    while (this.active) {
      this.active.stop.abort();
      await this.active.done.catch(() => undefined);
    }
  }

  // ---- receiving bytes -------------------------------------------------------------------------

  private async receive(
    request: PatchRequest,
    body: ReadableStream<Uint8Array> | null,
    stopped: AbortSignal,
  ): Promise<SessionResult<UploadInfo>> {
    const owned = this.ownedRow(request.ownerId);
    const checked = owned.ok ? this.checkPatch(owned.value, request) : owned;
    if (!checked.ok) {
      await body?.cancel().catch(() => undefined);
      return checked;
    }
    let row = checked.value;
    if (row.state !== "receiving") return ok(toInfo(row));

    const reader = new BodyReader(
      body,
      (row.length ?? row.max_bytes) - row.offset,
      stopped,
      (error) => console.warn(`upload ${row.video_id}: body broke off`, String(error)),
      uploadLimits(this.env).idleTimeoutMs,
    );
    const before = row.offset;
    const received = request.checksum
      ? await this.receiveVerified(row, reader, request.checksum)
      : ok(await this.receiveStreaming(row, reader));
    if (reader.stalled) console.warn(`upload ${row.video_id}: no byte for ${uploadLimits(this.env).idleTimeoutMs} ms, the PATCH ends here`);
    row = this.row()!;
    if (row.offset !== before || request.length !== null) this.recordReceived(row);
    if (!received.ok) return received;

    if (row.length !== null && row.offset === row.length) {
      this.sql.exec("UPDATE upload SET state = 'finalizing'");
      await this.finalize();
      row = this.row()!;
      // The upload is whole (the bytes past its length were never stored): that is a success, and
      // the answer must say so — a 413 here would have the client retry a finished upload.
      return ok(toInfo(row));
    }
    if (reader.overflow) return fail(row.length === null ? "TOO_LARGE" : "BODY_PAST_LENGTH");
    if (!received.value) return fail("STORAGE_FAILED");
    // A stalled body ends here too: what arrived is stored and counted, and the 204 tells the client
    // the offset to resume from.
    return ok(toInfo(row));
  }

  /**
   * The fast path: a part is assembled in memory and sent to R2 as soon as it is full, while the
   * next one is being read (one part in flight at a time). What does not fill a part when the body
   * ends — normally, broken off or stopped — is kept in the SQLite tail. Returns false when R2
   * refused a write; those bytes are kept in the tail too, in order.
   */
  private async receiveStreaming(row: UploadRow, reader: BodyReader): Promise<boolean> {
    let stored = await this.flushFullParts();
    const part = new ByteQueue();
    // The tail left by earlier PATCHes starts the current part; it is already durable and counted.
    const seeded = stored ? this.takeTail(row.part_size, true) : null;
    let durable = seeded ? { seqs: seeded.seqs, bytes: seeded.bytes.length } : NO_DURABLE;
    if (seeded) part.push(seeded.bytes);
    let inflight: Promise<boolean> | null = null;
    /** When the oldest byte held only in memory arrived (null: nothing is). */
    let heldSince: number | null = null;
    const wake = () => (heldSince === null ? undefined : heldSince + PERSIST_AFTER_MS - Date.now());

    for (let chunk = await reader.next(wake()); chunk; chunk = await reader.next(wake())) {
      if (chunk.length > 0) {
        part.push(chunk);
        heldSince ??= Date.now();
      }
      while (stored && part.size >= row.part_size) {
        if (inflight && !(await inflight)) stored = false;
        inflight = null;
        if (!stored) break;
        inflight = this.storePart(row, part.take(row.part_size), durable);
        durable = NO_DURABLE;
        if (part.size === 0) heldSince = null;
      }
      const stale = heldSince !== null && Date.now() - heldSince >= PERSIST_AFTER_MS;
      // A slow body: bytes do not wait in memory for a part to fill. They go to the tail, where they
      // count (HEAD reports them) and survive an eviction; the part is still sent whole from memory.
      if (stored && stale && part.size > durable.bytes) {
        if (inflight && !(await inflight)) stored = false;
        inflight = null;
        if (stored) {
          const all = part.takeAll();
          this.appendTail(all.subarray(durable.bytes), row.part_size, false);
          part.push(all);
          // With no part in flight every committed tail row belongs to the part being assembled.
          const seqs = this.sql
            .exec<{ seq: number }>("SELECT seq FROM tail WHERE staged = 0 ORDER BY seq")
            .toArray()
            .map((r) => r.seq);
          durable = { seqs, bytes: all.length };
          heldSince = null;
        }
      }
      // After a refused write nothing else goes to R2 in this PATCH (parts must stay in order).
      if (!stored && (part.size >= TAIL_ROW_BYTES || stale)) {
        this.appendTail(part.takeAll().subarray(durable.bytes), row.part_size, false);
        durable = NO_DURABLE;
        heldSince = null;
      }
    }
    if (inflight && !(await inflight)) stored = false;
    const rest = part.takeAll();
    this.appendTail(rest.subarray(durable.bytes), row.part_size, false);
    return stored;
  }

  /**
   * Checksum path: the chunk is staged in SQLite (not counted) while its digest is computed, and
   * appended only if the digest matches.
   */
  private async receiveVerified(row: UploadRow, reader: BodyReader, checksum: ParsedChecksum): Promise<SessionResult<boolean>> {
    const digest = new crypto.DigestStream(CHECKSUM_ALGORITHMS[checksum.algorithm]);
    const digestWriter = digest.getWriter();
    const pending = new ByteQueue();
    let stagedBytes = 0;
    const stage = () => {
      const position = row.offset + stagedBytes;
      stagedBytes += pending.size;
      this.appendTail(pending.takeAll(), row.part_size, true, position);
    };
    for (let chunk = await reader.next(); chunk; chunk = await reader.next()) {
      if (chunk.length === 0) continue;
      pending.push(chunk);
      await digestWriter.write(chunk);
      if (pending.size >= TAIL_ROW_BYTES) stage();
    }
    if (pending.size > 0) stage();
    await digestWriter.close();
    const actual = new Uint8Array(await digest.digest);
    // "If the hashes do not match, the Server MUST respond with the 460 Checksum Mismatch status
    // code and MUST NOT append the content to the upload." A broken body cannot be verified either.
    if (reader.broken || !sameBytes(actual, checksum.digest)) {
      this.sql.exec("DELETE FROM tail WHERE staged = 1");
      const why = reader.stalled ? "stalled" : "broke off";
      return fail(
        "CHECKSUM_MISMATCH",
        reader.broken ? `The chunk ${why} before its checksum could be verified; send it again.` : undefined,
      );
    }
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE tail SET staged = 0 WHERE staged = 1");
      this.sql.exec("UPDATE upload SET offset = offset + ?", stagedBytes);
    });
    return ok(await this.flushFullParts());
  }

  /**
   * The rules a running PATCH cannot change the answer to (it only moves the offset up): checked
   * before that PATCH is stopped. An offset past the committed one names bytes nobody was told
   * were stored, so it is wrong whatever the running PATCH still reads.
   */
  private precheckPatch(row: UploadRow, request: PatchRequest): SessionResult<null> {
    if (request.length !== null) {
      if (row.length !== null && row.length !== request.length) return fail("LENGTH_ALREADY_SET");
      if (request.length === 0) return fail("EMPTY_UPLOAD");
      if (request.length > row.max_bytes) return fail("TOO_LARGE");
    }
    if (request.offset > row.offset) return fail("OFFSET_MISMATCH");
    const limit = request.length ?? row.length ?? row.max_bytes;
    if (request.contentLength !== null && request.offset + request.contentLength > limit) {
      return fail((request.length ?? row.length) ? "BODY_PAST_LENGTH" : "TOO_LARGE");
    }
    return ok(null);
  }

  /** Offset, length and expiry rules of a PATCH, once it is the only one. May set a deferred length. */
  private checkPatch(row: UploadRow, request: PatchRequest): SessionResult<UploadRow> {
    const possible = this.precheckPatch(row, request);
    if (!possible.ok) return possible;
    if (request.length !== null && request.length < row.offset) return fail("LENGTH_BELOW_OFFSET");
    // "If the offsets do not match, the Server MUST respond with the 409 Conflict status without modifying the upload resource."
    if (request.offset !== row.offset) return fail("OFFSET_MISMATCH");
    if (request.length !== null && row.length === null) {
      this.sql.exec("UPDATE upload SET length = ?", request.length);
      return ok(this.row()!);
    }
    return ok(row);
  }

  /**
   * Stores bytes as tail rows that never cross a part boundary. Committed bytes go at the offset
   * (and move it); staged bytes go at `position`, after what is already staged.
   */
  private appendTail(bytes: Uint8Array, partSize: number, staged: boolean, position = this.row()!.offset): void {
    if (bytes.length === 0) return;
    const pieces = cutAtBoundaries(bytes, position, partSize, TAIL_ROW_BYTES);
    this.ctx.storage.transactionSync(() => {
      for (const piece of pieces) this.sql.exec("INSERT INTO tail (data, staged) VALUES (?, ?)", piece, staged ? 1 : 0);
      if (!staged) this.sql.exec("UPDATE upload SET offset = offset + ?", bytes.length);
    });
  }

  /**
   * Sends every full part of committed tail to R2. Returns false when R2 refused a write: the bytes
   * stay in the tail (already counted) and go out with the next flush.
   */
  private async flushFullParts(): Promise<boolean> {
    const row = this.row()!;
    for (;;) {
      const tail = this.takeTail(row.part_size);
      if (!tail) return true;
      if (!(await this.storePart(row, tail.bytes, { seqs: tail.seqs, bytes: tail.bytes.length }))) return false;
    }
  }

  /** The committed tail rows forming the next full part, or with `last` whatever remains. */
  private takeTail(partSize: number, last = false): { seqs: number[]; bytes: Uint8Array } | null {
    const chunks: Uint8Array[] = [];
    const seqs: number[] = [];
    let total = 0;
    for (const r of this.sql.exec<{ seq: number; data: ArrayBuffer }>("SELECT seq, data FROM tail WHERE staged = 0 ORDER BY seq")) {
      if (total >= partSize) break;
      chunks.push(new Uint8Array(r.data));
      seqs.push(r.seq);
      total += r.data.byteLength;
    }
    // Rows are cut at part boundaries when written, so a part is always a whole number of rows.
    if (total > partSize) throw new Error(`tail rows cross a part boundary (${total} > ${partSize})`);
    if (total === 0 || (total < partSize && !last)) return null;
    return { seqs, bytes: concatBytes(chunks, total) };
  }

  /**
   * Writes one part to R2. `durable` says which tail rows hold the part's first bytes (already
   * counted in the offset); the rest of `bytes` is new and gets counted now. If R2 refuses, the new
   * bytes go to the tail instead, so they are kept and counted either way.
   */
  private async storePart(row: UploadRow, bytes: Uint8Array, durable: DurablePrefix): Promise<boolean> {
    try {
      const upload = await this.multipart(row);
      const number = (this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM part").one().n ?? 0) + 1;
      const part = await upload.uploadPart(number, bytes);
      this.meterUsage("r2_class_a", 1);
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("INSERT INTO part (number, etag, size) VALUES (?, ?, ?)", part.partNumber, part.etag, bytes.length);
        if (durable.seqs.length) this.sql.exec(`DELETE FROM tail WHERE seq IN (${durable.seqs.map(() => "?").join(",")})`, ...durable.seqs);
        this.sql.exec("UPDATE upload SET offset = offset + ?", bytes.length - durable.bytes);
      });
      this.recordReceived(this.row()!);
      return true;
    } catch (error) {
      console.error(`upload ${row.video_id}: R2 part write failed`, String(error));
      this.appendTail(bytes.subarray(durable.bytes), row.part_size, false);
      return false;
    }
  }

  private async multipart(row: UploadRow): Promise<R2MultipartUpload> {
    const key = sourceKey(row.video_id);
    const id = this.row()!.multipart_id;
    if (id) return this.env.MEDIA.resumeMultipartUpload(key, id);
    const created = await this.env.MEDIA.createMultipartUpload(key, {
      customMetadata: { videoId: row.video_id, ownerId: row.owner_id },
    });
    this.meterUsage("r2_class_a", 1);
    this.sql.exec("UPDATE upload SET multipart_id = ?", created.uploadId);
    return created;
  }

  // ---- completion ------------------------------------------------------------------------------

  /**
   * Last part → R2 complete → D1 QUEUED → job message. Each step is idempotent; a failing step is
   * retried by the alarm, so the client's 204 (offset = length) always ends in a queued job.
   */
  private async finalize(): Promise<void> {
    const row = this.row()!;
    try {
      if (!(await this.flushFullParts())) throw new Error("a full part was not stored");
      const last = this.takeTail(row.part_size, true);
      if (last && !(await this.storePart(row, last.bytes, { seqs: last.seqs, bytes: last.bytes.length }))) {
        throw new Error("last part not stored");
      }
      const parts = [...this.sql.exec<{ number: number; etag: string }>("SELECT number, etag FROM part ORDER BY number")];
      const upload = await this.multipart(row);
      try {
        await upload.complete(parts.map((p) => ({ partNumber: p.number, etag: p.etag })));
        this.meterUsage("r2_class_a", 1);
      } catch (error) {
        // A retry after a completed-but-unrecorded attempt finds the upload gone and the object there.
        if (!(await this.env.MEDIA.head(sourceKey(row.video_id)))) throw error;
      }
      await markUploadComplete(this.env, row.video_id, row.length!, Date.now(), this.ctx);
      await this.env.JOBS.send({ videoId: row.video_id } satisfies TranscodeJobMessage);
      // A message is written, read and deleted: three queue operations.
      this.meterUsage("queue_operations", 3);
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("DELETE FROM part");
        this.sql.exec("UPDATE upload SET state = 'complete'");
      });
    } catch (error) {
      console.error(`upload ${row.video_id}: finalize failed, retrying`, String(error));
      await this.ctx.storage.setAlarm(Date.now() + FINALIZE_RETRY_MS);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /**
   * Tells D1 how many bytes the upload holds (quota and storage cost of unfinished uploads). Once
   * per R2 part and per PATCH keeps D1 writes few; the write is monotonic, so order does not matter.
   */
  private recordReceived(row: UploadRow): void {
    if (row.state === "expired" || row.state === "terminated") return;
    this.ctx.waitUntil(
      recordReceivedBytes(this.env.DB, row.video_id, row.offset, row.length).catch((error) =>
        console.warn(`upload ${row.video_id}: received bytes not recorded`, String(error)),
      ),
    );
  }

  private meterUsage(kind: UsageKind, quantity: number): void {
    const videoId = this.row()?.video_id ?? null;
    this.ctx.waitUntil(meter(this.env.DB, pricesFrom(this.env), [{ videoId, kind, quantity }]));
  }

  private async discardStorage(row: UploadRow, state: "expired" | "terminated"): Promise<void> {
    if (row.multipart_id && row.state !== "complete") {
      await this.env.MEDIA.resumeMultipartUpload(sourceKey(row.video_id), row.multipart_id)
        .abort()
        .catch(() => undefined);
    }
    await this.ctx.storage.deleteAlarm();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM tail");
      this.sql.exec("DELETE FROM part");
      // A small tombstone stays so later requests get 404/410 rather than a fresh, empty object.
      this.sql.exec("UPDATE upload SET state = ?, multipart_id = NULL", state);
    });
  }

  private row(): UploadRow | null {
    return this.sql.exec<UploadRow>("SELECT * FROM upload WHERE id = 1").toArray()[0] ?? null;
  }

  private ownedRow(ownerId: string, opts: { allowExpired?: boolean } = {}): SessionResult<UploadRow> {
    const row = this.row();
    // Another user's upload answers exactly like a missing one.
    if (!row || row.owner_id !== ownerId || row.state === "terminated") return fail("UPLOAD_NOT_FOUND");
    if (opts.allowExpired) return ok(row);
    if (row.state === "expired" || (row.state === "receiving" && row.expires_at <= Date.now())) return fail("UPLOAD_EXPIRED");
    return ok(row);
  }
}

function toInfo(row: UploadRow): UploadInfo {
  return {
    videoId: row.video_id,
    offset: row.offset,
    length: row.length,
    metadataHeader: row.metadata,
    expiresAt: row.expires_at,
    state: row.state,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
