/**
 * Where bytes go inside an upload: R2 multipart needs every part but the last to be the same size,
 * and a Durable Object SQLite row holds at most 2 MB. Pure arithmetic, no storage.
 */

export const MiB = 1024 * 1024;
/** R2's lower bound for every part but the last. */
const R2_MIN_PART = 5 * MiB;
const R2_MAX_PARTS = 10_000;
/** Size of one buffered-tail row in the Durable Object's SQLite (rows are capped at 2 MB). */
export const TAIL_ROW_BYTES = 1 * MiB;

/**
 * One part size per upload, fixed at creation. 8 MiB keeps R2 write operations (class A, billed)
 * few while a part still fits comfortably in memory when it is sent; the 10 000-part limit raises it
 * for very large caps.
 */
export function partSizeFor(maxBytes: number): number {
  const needed = Math.ceil(maxBytes / R2_MAX_PARTS / MiB) * MiB;
  return Math.max(8 * MiB, R2_MIN_PART, needed);
}

/**
 * Cuts `chunk`, which starts at absolute upload position `position`, into pieces that never cross a
 * part boundary and never exceed `maxPiece` bytes. Pieces are views, not copies.
 */
export function cutAtBoundaries(chunk: Uint8Array, position: number, partSize: number, maxPiece: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  while (start < chunk.length) {
    const absolute = position + start;
    const toBoundary = partSize - (absolute % partSize);
    const size = Math.min(chunk.length - start, toBoundary, maxPiece);
    pieces.push(chunk.subarray(start, start + size));
    start += size;
  }
  return pieces;
}

/** Joins byte arrays into one. */
export function concatBytes(chunks: readonly Uint8Array[], total = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A FIFO of byte chunks that hands out exact-size blocks (one copy per block). */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  size = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Removes and returns the first `n` bytes (n <= size). */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = this.chunks[0];
      const used = Math.min(head.length, n - at);
      out.set(head.subarray(0, used), at);
      at += used;
      if (used === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(used);
    }
    this.size -= n;
    return out;
  }

  takeAll(): Uint8Array {
    return this.take(this.size);
  }
}
