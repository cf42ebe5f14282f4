import type { UploadedPart } from "../storage/media.ts";
import type { UploadFacts, UploadState } from "./offset-rules.ts";

/**
 * The UploadSession's SQLite: one `upload` row (the committed offset and the upload's facts), the
 * R2 parts already written (`part`), and the `tail` of bytes that do not fill a part yet. Every
 * write that moves the offset happens in the same transaction as the bytes it counts.
 */

export interface UploadInit {
  videoId: string;
  ownerId: string;
  length: number | null;
  metadataHeader: string | null;
  maxBytes: number;
  partSize: number;
  expiresAt: number;
}

export interface UploadRecord extends UploadFacts {
  videoId: string;
  partSize: number;
  metadataHeader: string | null;
  multipartId: string | null;
}

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

export interface TailRow {
  seq: number;
  data: ArrayBuffer;
}

export class SessionStore {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
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

  create(init: UploadInit): UploadRecord {
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
    return this.upload()!;
  }

  upload(): UploadRecord | null {
    const row = this.sql.exec<UploadRow>("SELECT * FROM upload WHERE id = 1").toArray()[0];
    return row ? toRecord(row) : null;
  }

  setLength(length: number): void {
    this.sql.exec("UPDATE upload SET length = ?", length);
  }

  setFinalizing(): void {
    this.sql.exec("UPDATE upload SET state = 'finalizing'");
  }

  setMultipartId(id: string): void {
    this.sql.exec("UPDATE upload SET multipart_id = ?", id);
  }

  // ---- tail ------------------------------------------------------------------------------------

  /** Stores pieces as tail rows; committed ones (not staged) move the offset by `counted` too. */
  appendTail(pieces: Uint8Array[], staged: boolean, counted: number): void {
    this.storage.transactionSync(() => {
      for (const piece of pieces) this.sql.exec("INSERT INTO tail (data, staged) VALUES (?, ?)", piece, staged ? 1 : 0);
      if (!staged) this.sql.exec("UPDATE upload SET offset = offset + ?", counted);
    });
  }

  /** Committed tail rows in order (read lazily: a caller may stop early). */
  committedTail(): Iterable<TailRow> {
    return this.sql.exec<{ seq: number; data: ArrayBuffer }>("SELECT seq, data FROM tail WHERE staged = 0 ORDER BY seq");
  }

  committedTailSeqs(): number[] {
    return this.sql
      .exec<{ seq: number }>("SELECT seq FROM tail WHERE staged = 0 ORDER BY seq")
      .toArray()
      .map((r) => r.seq);
  }

  dropStaged(): void {
    this.sql.exec("DELETE FROM tail WHERE staged = 1");
  }

  /** A verified chunk: its staged rows become committed and count. */
  commitStaged(bytes: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE tail SET staged = 0 WHERE staged = 1");
      this.sql.exec("UPDATE upload SET offset = offset + ?", bytes);
    });
  }

  // ---- parts -----------------------------------------------------------------------------------

  partCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM part").one().n ?? 0;
  }

  parts(): UploadedPart[] {
    return this.sql
      .exec<{ number: number; etag: string }>("SELECT number, etag FROM part ORDER BY number")
      .toArray()
      .map((p) => ({ partNumber: p.number, etag: p.etag }));
  }

  /**
   * A part written to R2: recorded, the tail rows it was made of (`fromTail`, already counted)
   * dropped, and its other bytes (`newBytes`) counted — all at once.
   */
  recordPart(part: UploadedPart, size: number, fromTail: number[], newBytes: number): void {
    this.storage.transactionSync(() => {
      this.sql.exec("INSERT INTO part (number, etag, size) VALUES (?, ?, ?)", part.partNumber, part.etag, size);
      if (fromTail.length) this.sql.exec(`DELETE FROM tail WHERE seq IN (${fromTail.map(() => "?").join(",")})`, ...fromTail);
      this.sql.exec("UPDATE upload SET offset = offset + ?", newBytes);
    });
  }

  markComplete(): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM part");
      this.sql.exec("UPDATE upload SET state = 'complete'");
    });
  }

  /** Forgets the bytes. A small tombstone stays so later requests get 404/410 rather than a fresh, empty object. */
  discard(state: "expired" | "terminated"): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM tail");
      this.sql.exec("DELETE FROM part");
      this.sql.exec("UPDATE upload SET state = ?, multipart_id = NULL", state);
    });
  }
}

function toRecord(row: UploadRow): UploadRecord {
  return {
    videoId: row.video_id,
    ownerId: row.owner_id,
    length: row.length,
    offset: row.offset,
    maxBytes: row.max_bytes,
    partSize: row.part_size,
    metadataHeader: row.metadata,
    expiresAt: row.expires_at,
    multipartId: row.multipart_id,
    state: row.state,
  };
}
