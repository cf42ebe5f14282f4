import type { UsageKind } from "../costs/model.ts";
import type { Media, MultipartUpload } from "../storage/media.ts";
import { sourceKey } from "../storage/keys.ts";
import { TAIL_ROW_BYTES, concatBytes, cutAtBoundaries } from "./part-layout.ts";
import type { SessionStore } from "./session-store.ts";

/**
 * Where an upload's counted bytes go: R2 multipart parts of the upload's one part size, and the
 * SQLite tail for what does not fill a part yet (R2 needs every part but the last to be the same
 * size; a PATCH rarely ends on a part boundary). Every byte is in the tail or in a stored part
 * before it is counted in the offset.
 */

/** Tail rows that begin a part: already stored and counted. */
export interface DurablePrefix {
  seqs: number[];
  bytes: number;
}
export const NO_DURABLE: DurablePrefix = { seqs: [], bytes: 0 };

export interface PartSinkHooks {
  /** Counts a billed storage operation for the upload's video. */
  meterUsage(kind: UsageKind, quantity: number): void;
  /** A part was stored and the offset moved. */
  onPartStored(): void;
}

export class PartSink {
  constructor(
    private readonly store: SessionStore,
    private readonly media: Media,
    private readonly hooks: PartSinkHooks,
  ) {}

  private get upload() {
    return this.store.upload()!;
  }

  /** Bytes counted so far (the offset). */
  get offset(): number {
    return this.upload.offset;
  }

  /** Every part but the last has this size. */
  get partSize(): number {
    return this.upload.partSize;
  }

  committedTailSeqs(): number[] {
    return this.store.committedTailSeqs();
  }

  /** Forgets the staged bytes of a chunk that failed its checksum. */
  dropStaged(): void {
    this.store.dropStaged();
  }

  /** Counts the staged bytes of a verified chunk. */
  commitStaged(bytes: number): void {
    this.store.commitStaged(bytes);
  }

  /**
   * Stores bytes as tail rows that never cross a part boundary. Committed bytes go at the offset
   * (and move it); staged bytes go at `position`, after what is already staged.
   */
  appendTail(bytes: Uint8Array, staged: boolean, position = this.upload.offset): void {
    if (bytes.length === 0) return;
    this.store.appendTail(cutAtBoundaries(bytes, position, this.upload.partSize, TAIL_ROW_BYTES), staged, bytes.length);
  }

  /** The committed tail rows forming the next full part, or with `last` whatever remains. */
  takeTail(last = false): { seqs: number[]; bytes: Uint8Array } | null {
    const partSize = this.upload.partSize;
    const chunks: Uint8Array[] = [];
    const seqs: number[] = [];
    let total = 0;
    for (const r of this.store.committedTail()) {
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
   * Sends every full part of committed tail to R2. Returns false when R2 refused a write: the bytes
   * stay in the tail (already counted) and go out with the next flush.
   */
  async flushFullParts(): Promise<boolean> {
    for (;;) {
      const tail = this.takeTail();
      if (!tail) return true;
      if (!(await this.storePart(tail.bytes, { seqs: tail.seqs, bytes: tail.bytes.length }))) return false;
    }
  }

  /**
   * Writes one part to R2. `durable` says which tail rows hold the part's first bytes (already
   * counted in the offset); the rest of `bytes` is new and gets counted now. If R2 refuses, the new
   * bytes go to the tail instead, so they are kept and counted either way.
   */
  async storePart(bytes: Uint8Array, durable: DurablePrefix): Promise<boolean> {
    try {
      const upload = await this.multipart();
      const part = await upload.uploadPart(this.store.partCount() + 1, bytes);
      this.hooks.meterUsage("r2_class_a", 1);
      this.store.recordPart(part, bytes.length, durable.seqs, bytes.length - durable.bytes);
      this.hooks.onPartStored();
      return true;
    } catch (error) {
      console.error(`upload ${this.upload.videoId}: R2 part write failed`, String(error));
      this.appendTail(bytes.subarray(durable.bytes), false);
      return false;
    }
  }

  /**
   * Stores what is left as the last part and completes the multipart upload. Throws when a part or
   * the completion failed; every step can run again.
   */
  async complete(): Promise<void> {
    if (!(await this.flushFullParts())) throw new Error("a full part was not stored");
    const last = this.takeTail(true);
    if (last && !(await this.storePart(last.bytes, { seqs: last.seqs, bytes: last.bytes.length }))) {
      throw new Error("last part not stored");
    }
    const parts = this.store.parts();
    const upload = await this.multipart();
    try {
      await upload.complete(parts);
      this.hooks.meterUsage("r2_class_a", 1);
    } catch (error) {
      // A retry after a completed-but-unrecorded attempt finds the upload gone and the object there.
      if (!(await this.media.head(sourceKey(this.upload.videoId)))) throw error;
    }
  }

  /** Frees the parts R2 holds for an upload that will not complete. */
  async abort(): Promise<void> {
    const { videoId, multipartId, state } = this.upload;
    if (!multipartId || state === "complete") return;
    await this.media
      .resumeMultipart(sourceKey(videoId), multipartId)
      .abort()
      .catch(() => undefined);
  }

  private async multipart(): Promise<MultipartUpload> {
    const { videoId, ownerId, multipartId } = this.upload;
    const key = sourceKey(videoId);
    if (multipartId) return this.media.resumeMultipart(key, multipartId);
    const created = await this.media.createMultipart(key, { customMetadata: { videoId, ownerId } });
    this.hooks.meterUsage("r2_class_a", 1);
    this.store.setMultipartId(created.uploadId);
    return created;
  }
}
